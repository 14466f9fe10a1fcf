"""What each user may see. Every page and API endpoint takes its querysets from here.

- administrators: everything;
- enterprise users: their own enterprise only (and the public directory of their region);
- supervisors and leaders: their jurisdiction's subtree (their whole region if none is set);
- station staff (a user placed at a sub-center or station): the enterprises of that node's jurisdiction;
- other staff (front desk, dispatchers, handlers, specialists, liaison officers): their region;
- anyone else (no role, inactive, anonymous): nothing.
"""

from django.db.models import QuerySet

from qifu.enterprises.models import Enterprise
from qifu.org.models import Department, Jurisdiction, Region, Section, ServiceNode

from .models import Role

STAFF_ROLES = {r for r in Role.values if r not in (Role.ENTERPRISE,)}


def active(user) -> bool:
    """A signed-in, active account."""
    return bool(user is not None and user.is_authenticated and user.is_active)


_active = active


def enterprise_only(user) -> bool:
    """An enterprise's account without any staff role: it sees its own enterprise's things only."""
    return user.has_role(Role.ENTERPRISE) and not (user.roles & STAFF_ROLES)


def is_admin(user) -> bool:
    return _active(user) and (user.is_superuser or user.has_role(Role.ADMIN))


def is_station_staff(user) -> bool:
    return bool(user.node_id and user.node.kind != ServiceNode.Kind.CENTER)


def regions(user) -> QuerySet[Region]:
    if is_admin(user):
        return Region.objects.all()
    if not _active(user) or not user.roles:
        return Region.objects.none()
    return Region.objects.filter(pk=home_region_id(user))


def home_region_id(user):
    if user.region_id:
        return user.region_id
    for related in (user.enterprise, user.department, user.node, user.jurisdiction):
        if related is not None:
            return related.region_id
    return None


def enterprises(user) -> QuerySet[Enterprise]:
    qs = Enterprise.objects.all()
    if is_admin(user):
        return qs
    if not _active(user) or not user.roles:
        return qs.none()
    if enterprise_only(user):
        return qs.filter(pk=user.enterprise_id) if user.enterprise_id else qs.none()
    region_id = home_region_id(user)
    if region_id is None:
        return qs.none()
    qs = qs.filter(region_id=region_id)
    if user.has_role(Role.SUPERVISOR, Role.LEADER) and user.jurisdiction_id:
        return qs.filter(jurisdiction__path__startswith=user.jurisdiction.path)
    if is_station_staff(user):
        return qs.filter(jurisdiction__path__startswith=user.node.jurisdiction.path)
    return qs


def sees_enterprise(user, enterprise) -> bool:
    """Whether `enterprise` is one of `enterprises(user)`: decided without a query where that scope is the
    user's own enterprise or a whole region (most staff); by `enterprises(user)` where it is a jurisdiction."""
    if enterprise is None:
        return False
    if is_admin(user):
        return True
    if not _active(user) or not user.roles:
        return False
    if enterprise_only(user):
        return bool(user.enterprise_id) and enterprise.pk == user.enterprise_id
    region_id = home_region_id(user)
    if region_id is None or enterprise.region_id != region_id:
        return False
    if (user.has_role(Role.SUPERVISOR, Role.LEADER) and user.jurisdiction_id) or is_station_staff(user):
        return enterprises(user).filter(pk=enterprise.pk).exists()
    return True


def directory(user, model) -> QuerySet:
    """Organization data (departments, nodes, sections) is public within a region."""
    qs = model.objects.all()
    if is_admin(user):
        return qs
    region_id = home_region_id(user) if _active(user) and user.roles else None
    return qs.filter(region_id=region_id) if region_id else qs.none()


def departments(user) -> QuerySet[Department]:
    return directory(user, Department)


def nodes(user) -> QuerySet[ServiceNode]:
    qs = directory(user, ServiceNode)
    if _active(user) and not is_admin(user) and user.has_role(Role.SUPERVISOR, Role.LEADER) and user.jurisdiction_id:
        qs = qs.filter(jurisdiction__path__startswith=user.jurisdiction.path)
    return qs


def sections(user) -> QuerySet[Section]:
    return directory(user, Section)


def jurisdictions(user) -> QuerySet[Jurisdiction]:
    return directory(user, Jurisdiction)


def can_edit_enterprise(user, enterprise: Enterprise) -> bool:
    if not enterprises(user).filter(pk=enterprise.pk).exists():
        return False
    return is_admin(user) or user.has_role(Role.FRONT_DESK, Role.DISPATCHER, Role.LIAISON, Role.SPECIALIST,
                                           Role.CHIEF_SPECIALIST)


def can_create_enterprise(user) -> bool:
    return is_admin(user) or (_active(user) and user.has_role(Role.FRONT_DESK, Role.DISPATCHER, Role.LIAISON))




def appeals(user):
    """Appeals carry business secrets: each role sees only the cases it works on or oversees."""
    from django.db.models import Q

    from qifu.appeals.models import Appeal

    qs = Appeal.objects.all()
    if is_admin(user):
        return qs
    if not _active(user) or not user.roles:
        return qs.none()
    if enterprise_only(user):
        return qs.filter(enterprise_id=user.enterprise_id) if user.enterprise_id else qs.none()
    region_id = home_region_id(user)
    if region_id is None:
        return qs.none()
    qs = qs.filter(region_id=region_id)
    station = is_station_staff(user)
    if _sees_whole_region(user, station):  # the same rows without an OR the database checks on every one of them
        return qs
    area = _in_area(user.node.jurisdiction.path) if station else Q()
    visible = Q(created_by=user)
    if user.has_role(Role.DISPATCHER, Role.FRONT_DESK):
        visible |= (Q(received_node=user.node) | area) if station else Q(region_id=region_id)
    if user.has_role(Role.HANDLER) and user.department_id:
        through = Appeal.assisting_departments.through
        visible |= Q(lead_department_id=user.department_id) | Q(
            pk__in=through.objects.filter(department_id=user.department_id).values("appeal_id"))
    if user.has_role(Role.SUPERVISOR, Role.LEADER):
        visible |= (_in_area(user.jurisdiction.path)
                    if user.jurisdiction_id else Q(region_id=region_id))
    if user.has_role(Role.SPECIALIST, Role.CHIEF_SPECIALIST):
        from qifu.org.models import Section

        mine = Section.objects.filter(Q(chief_specialist=user) | Q(specialists=user) | Q(chief_officer=user))
        visible |= Q(section__in=mine.values("pk"))
        if user.node_id:
            visible |= Q(received_node_id=user.node_id)
    if user.has_role(Role.LIAISON):
        if user.jurisdiction_id:
            visible |= _in_area(user.jurisdiction.path)
        from qifu.enterprises.models import LiaisonOfficer

        # the cases of the enterprises the officer is paired with (助企员, to follow them up and rate the lead unit)
        visible |= Q(enterprise_id__in=LiaisonOfficer.enterprises.through.objects.filter(
            liaisonofficer__user=user, liaisonofficer__active=True).values("enterprise_id"))
    for extra in _bodies_cases(user, region_id):
        visible |= extra
    from qifu.appeals.models import AppealTask

    owned = Q(owner_user=user) | (Q(owner_department_id=user.department_id) if user.department_id else Q(pk__in=[]))
    visible |= Q(pk__in=AppealTask.objects.filter(owned).values("appeal_id"))  # a meeting's task: its owner sees it
    return qs.filter(visible)


def _in_area(path: str):
    """Appeals of enterprises under a jurisdiction: a set of enterprise ids (read once), not a join per appeal."""
    from django.db.models import Q

    from qifu.enterprises.models import Enterprise

    return Q(enterprise_id__in=Enterprise.objects.filter(jurisdiction__path__startswith=path).values("pk"))


def _sees_whole_region(user, station: bool) -> bool:
    """Whether one of the branches of `appeals` below is the whole region (then the others add nothing)."""
    if user.has_role(Role.DISPATCHER, Role.FRONT_DESK) and not station:
        return True
    return user.has_role(Role.SUPERVISOR, Role.LEADER) and not user.jurisdiction_id


def _bodies_cases(user, region_id):
    """Members of the region's governance bodies see the cases those bodies deal with: the ladder's bodies the
    cases that were ever put up the ladder, the fallback task force the fallback lane's cases, the task force and its
    groups (which supervise every case) all the region's."""
    from django.db.models import Q

    from qifu.org.models import Body

    kinds = set(Body.objects.filter(region_id=region_id, memberships__user=user).values_list(
        "kind", "escalation_level").distinct())
    if any(level is not None for _kind, level in kinds):
        from qifu.appeals.models import AppealEvent

        # escalated, awaiting a decision, or once asked for (a refusal's second assignment is followed up)
        yield Q(escalation_level__gte=2) | Q(escalation_requested_at__isnull=False) | Q(
            pk__in=AppealEvent.objects.filter(action="escalate").values("appeal_id"))
    if any(kind == Body.Kind.FALLBACK_TASK_FORCE for kind, _level in kinds):
        yield Q(category__startswith="fallback_")
    # The task force (专班) and its groups chase, inspect and issue slips on every case of the region (seed 003 三(一)).
    if Body.objects.filter(Q(kind=Body.Kind.TASK_FORCE) | Q(parent__kind=Body.Kind.TASK_FORCE), region_id=region_id,
                           memberships__user=user).exists():
        yield Q(region_id=region_id)


def can_see_contact_phone(user, appeal) -> bool:
    """Contact phones are shown to those who call the enterprise back; masked for everyone else."""
    if is_admin(user) or appeal.created_by_id == user.pk:
        return True
    if user.has_role(Role.ENTERPRISE) and user.enterprise_id == appeal.enterprise_id:
        return True
    if user.has_role(Role.DISPATCHER, Role.FRONT_DESK):
        return True
    if user.has_role(Role.HANDLER) and user.department_id and (
        appeal.lead_department_id == user.department_id
        # .all() so a list page's prefetch is used instead of one query per row
        or any(d.pk == user.department_id for d in appeal.assisting_departments.all())
    ):
        return True
    return False


def mask_phone(phone: str) -> str:
    digits = phone or ""
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else 0
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]
