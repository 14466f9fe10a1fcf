"""Who is told when supervision acts on a case."""

from qifu.accounts.models import Role, User
from qifu.appeals.models import Appeal
from qifu.org.models import Body


def lead_unit_users(appeal: Appeal):
    """The people responsible for the case now: the lead unit's handlers; without a lead unit, for a fallback case
    the fallback task force, else the dispatchers (who owe the case its assignment)."""
    if appeal.lead_department_id:
        return User.objects.filter(department_id=appeal.lead_department_id, is_active=True,
                                   role_grants__role=Role.HANDLER).distinct()
    if appeal.is_fallback:
        users = body_members(appeal.region, kind=Body.Kind.FALLBACK_TASK_FORCE)
        if users.exists():
            return users
    return User.objects.filter(region_id=appeal.region_id, is_active=True,
                               role_grants__role=Role.DISPATCHER).distinct()


def body_members(region, *, kind: str | None = None, function: str | None = None):
    bodies = Body.objects.filter(region=region)
    if kind:
        bodies = bodies.filter(kind=kind)
    if function:
        bodies = bodies.filter(function=function)
    return User.objects.filter(body_memberships__body__in=bodies, is_active=True).distinct()


def inspectors(region):
    """The inspection group (督查考评组); a region without one: its supervisors."""
    users = body_members(region, function="inspection")
    if users.exists():
        return users
    return User.objects.filter(region=region, is_active=True, role_grants__role=Role.SUPERVISOR).distinct()


def told_list(users) -> list[dict]:
    return [{"id": u.pk, "name": u.display_name or u.username} for u in users.order_by("pk")]
