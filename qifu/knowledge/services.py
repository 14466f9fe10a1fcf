"""Who may do what in the knowledge base and the case library, and the changes themselves (each audited: the models
are tracked by `qifu.audit.trail`, so every save records its before and after).

Seeing:
- staff of a region (every staff role): the region's entries and cases in every state;
- enterprise users: the published entries and cases of their region — a case without its source appeal;
- administrators: everything.

Writing knowledge entries: the staff who answer enterprises (front desk, dispatchers, handlers, specialists, chief
specialists, liaison officers), supervisors and administrators. Editing an entry: its author, the handlers of its unit,
the specialists of its section, supervisors, the task force and administrators.

Publishing a closed, solved appeal as a case (and editing, publishing, withdrawing the case): administrators,
supervisors and the members of the task force (or one of its groups) who see the appeal, and the handlers of the
appeal's lead unit. Leaders read; they do not edit."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.appeals.models import Appeal, Resolution, Status
from qifu.audit.context import acting_as, current_actor
from qifu.lib.inputs import InputError

from . import anonymize
from .models import CaseState, CaseStudy, EntryState, KnowledgeEntry, Promotion

WRITERS = (Role.FRONT_DESK, Role.DISPATCHER, Role.HANDLER, Role.SPECIALIST, Role.CHIEF_SPECIALIST, Role.LIAISON,
           Role.SUPERVISOR)
EXCERPT = 120


class NotAllowed(PermissionDenied):
    """Refused for this user (403 in the API, a forbidden page)."""


def _save(obj, user) -> None:
    """Save as `user` (the audit entry names them even when called outside a request, e.g. the demo or a script)."""
    current = current_actor()
    if current.user is not None and getattr(current.user, "pk", None) == getattr(user, "pk", None):
        obj.save()
        return
    with acting_as(user, current.source):
        obj.save()


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user) -> bool:
    return _active(user) and (scopes.is_admin(user) or bool(user.roles & scopes.STAFF_ROLES))


def in_task_force(user) -> bool:
    from qifu.org.models import Body, BodyMembership

    return _active(user) and BodyMembership.objects.filter(user=user).filter(
        Q(body__kind=Body.Kind.TASK_FORCE) | Q(body__parent__kind=Body.Kind.TASK_FORCE)).exists()


def _region_filter(user, qs: QuerySet) -> QuerySet:
    if scopes.is_admin(user):
        return qs
    if not _active(user) or not user.roles:
        return qs.none()
    region_id = scopes.home_region_id(user)
    return qs.filter(region_id=region_id) if region_id else qs.none()


def entries(user) -> QuerySet[KnowledgeEntry]:
    qs = _region_filter(user, KnowledgeEntry.objects.select_related("department", "section"))
    return qs if is_staff(user) else qs.filter(state=EntryState.PUBLISHED)


def cases(user) -> QuerySet[CaseStudy]:
    qs = _region_filter(user, CaseStudy.objects.select_related("section", "lead_department"))
    return qs if is_staff(user) else qs.filter(state=CaseState.PUBLISHED)


def may_write(user) -> bool:
    return _active(user) and (scopes.is_admin(user) or user.has_role(*WRITERS) or in_task_force(user))


def may_edit_entry(user, entry: KnowledgeEntry) -> bool:
    if not may_write(user) or not entries(user).filter(pk=entry.pk).exists():
        return False
    if scopes.is_admin(user) or user.has_role(Role.SUPERVISOR) or entry.created_by_id == user.pk:
        return True
    if user.has_role(Role.HANDLER) and user.department_id == entry.department_id:
        return True
    if entry.section_id and user.has_role(Role.SPECIALIST, Role.CHIEF_SPECIALIST) and (
            entry.section.chief_specialist_id == user.pk or entry.section.specialists.filter(pk=user.pk).exists()):
        return True
    return in_task_force(user)


def may_publish_case(user, appeal: Appeal) -> bool:
    """Administrators, supervisors and the task force (who see the appeal), the handlers of its lead unit."""
    if not _active(user) or not scopes.appeals(user).filter(pk=appeal.pk).exists():
        return False
    if scopes.is_admin(user) or user.has_role(Role.SUPERVISOR) or in_task_force(user):
        return True
    return user.has_role(Role.HANDLER) and bool(user.department_id) and user.department_id == appeal.lead_department_id


def may_see_source(user, case: CaseStudy) -> bool:
    return is_staff(user) and scopes.appeals(user).filter(pk=case.source_appeal_id).exists()


def may_promote(user) -> bool:
    return may_write(user)


def may_see_promotions(user) -> bool:
    return _active(user) and (scopes.is_admin(user) or user.has_role(Role.SUPERVISOR, Role.LEADER)
                              or in_task_force(user) or may_write(user))


# --- knowledge entries ------------------------------------------------------------------------------

ENTRY_FIELDS = ("question", "answer", "legal_basis", "department", "section", "keywords")


def save_entry(user, data: dict, entry: KnowledgeEntry | None = None, publish: bool | None = None) -> KnowledgeEntry:
    """Create or change an entry (its unit and section must be of the region); `publish` True/False sets the
    state. Each save is one audit entry with the before and after."""
    if entry is None:
        if not may_write(user):
            raise NotAllowed(_("You may not write knowledge entries."))
        region_id = scopes.home_region_id(user) or getattr(data.get("department"), "region_id", None)
        entry = KnowledgeEntry(region_id=region_id, created_by=user)
    elif not may_edit_entry(user, entry):
        raise NotAllowed(_("You may not change this knowledge entry."))
    for name in ENTRY_FIELDS:
        if name in data:
            setattr(entry, name, data[name])
    if entry.department_id is None or entry.department.region_id != entry.region_id:
        raise InputError(_("Choose a unit of the region."))
    if entry.section_id and entry.section.region_id != entry.region_id:
        raise InputError(_("Choose a section of the region."))
    if not (entry.question or "").strip() or not (entry.answer or "").strip():
        raise InputError(_("A knowledge entry needs a question and an answer."))
    now = timezone.now()
    if publish is True and entry.state != EntryState.PUBLISHED:
        entry.state, entry.published_at = EntryState.PUBLISHED, now
    elif publish is False:
        entry.state = EntryState.DRAFT
    entry.updated_by, entry.updated_at = user, now
    _save(entry, user)
    return entry


# --- the case library ----------------------------------------------------------------------------------

def publishable(appeal: Appeal) -> str:
    """Why the appeal cannot become a case ('' when it can): closed and solved only, once."""
    if appeal.status != Status.CLOSED or appeal.resolution != Resolution.SOLVED:
        return _("Only a closed appeal that was solved can be published as a case.")
    if CaseStudy.objects.filter(source_appeal=appeal).exists():
        return _("This appeal is already in the case library.")
    return ""


def draft_from(appeal: Appeal) -> dict:
    """The case's fields proposed from the appeal, anonymized — for the editor to review."""
    return {
        "title": anonymize.anonymize(appeal.title, appeal)[:200],
        "problem": anonymize.anonymize(appeal.description, appeal),
        "solution": anonymize.anonymize(appeal.reply, appeal),
        "legal_basis": "",
        "section": appeal.section, "lead_department": appeal.lead_department,
    }


CASE_TEXTS = ("title", "problem", "solution", "legal_basis")


def _check_text(case: CaseStudy) -> None:
    appeal = case.source_appeal
    found = []
    for name in CASE_TEXTS:
        found += anonymize.leaks(getattr(case, name), appeal)
    if found:
        raise InputError(_("The text still names the enterprise or a person: %(found)s. Replace it (e.g. with "
                           "“某企业”).") % {"found": "、".join(dict.fromkeys(found))})
    for name in ("title", "problem", "solution"):
        if not (getattr(case, name) or "").strip():
            raise InputError(_("A case needs a title, the problem and the solution."))


def create_case(user, appeal: Appeal, data: dict, publish: bool = False) -> CaseStudy:
    """A case from a closed, solved appeal, with the editor's reviewed text (checked again for names)."""
    if not may_publish_case(user, appeal):
        raise NotAllowed(_("You may not publish this appeal as a case."))
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("enterprise").get(pk=appeal.pk)
        reason = publishable(appeal)
        if reason:
            raise InputError(reason)
        case = CaseStudy(region_id=appeal.region_id, source_appeal=appeal, category=appeal.category, created_by=user)
        _fill(case, data, appeal)
        if publish:
            case.state, case.published_by, case.published_at = CaseState.PUBLISHED, user, timezone.now()
        _save(case, user)
    return case


def _fill(case: CaseStudy, data: dict, appeal: Appeal) -> None:
    for name in CASE_TEXTS:
        if name in data:
            setattr(case, name, (data[name] or "").strip())
    for name in ("section", "lead_department"):
        if name in data:
            value = data[name]
            if value is not None and value.region_id != appeal.region_id:
                raise InputError(_("Choose a section and a unit of the region."))
            setattr(case, name, value)
    _check_text(case)


def may_edit_case(user, case: CaseStudy) -> bool:
    return may_publish_case(user, case.source_appeal)


def edit_case(user, case: CaseStudy, data: dict) -> CaseStudy:
    if not may_edit_case(user, case):
        raise NotAllowed(_("You may not change this case."))
    _fill(case, data, case.source_appeal)
    case.updated_at = timezone.now()
    _save(case, user)
    return case


def set_case_state(user, case: CaseStudy, state: str) -> CaseStudy:
    """Publish a draft or a withdrawn case, withdraw a published one, back to draft."""
    if not may_edit_case(user, case):
        raise NotAllowed(_("You may not change this case."))
    if state not in CaseState.values or state == case.state:
        raise InputError(_("The case is already %(state)s.") % {"state": case.get_state_display()}
                         if state == case.state else _("Unknown state."))
    if state == CaseState.PUBLISHED:
        _check_text(case)
        case.published_by, case.published_at = user, timezone.now()
    case.state, case.updated_at = state, timezone.now()
    _save(case, user)
    return case


def cases_published(unit, period) -> int:
    """The case studies published in `period` whose source appeal's lead unit is `unit` (a Department or its id) —
    典型案例报送 of the monthly ranking. `period`: an object with `start` and `end` datetimes ([start, end), e.g.
    `qifu.appeals.stats.Period`) or a (start, end) pair. Counts the cases published now (a withdrawn one no
    longer counts), by the day they were (last) published."""
    start, end = (period.start, period.end) if hasattr(period, "start") else period
    if isinstance(start, datetime.date) and not isinstance(start, datetime.datetime):
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(start, datetime.time(), zone)
        end = datetime.datetime.combine(end, datetime.time(), zone)
    unit_id = getattr(unit, "pk", unit)
    return CaseStudy.objects.filter(state=CaseState.PUBLISHED, source_appeal__lead_department_id=unit_id,
                                    published_at__gte=start, published_at__lt=end).count()


# --- promotion candidates (从一件事到一类事) ----------------------------------------------------------------

def promote(user, note: str, *, entry: KnowledgeEntry | None = None, case: CaseStudy | None = None,
            appeals: list[Appeal] | None = None, title: str = "") -> Promotion:
    if not may_promote(user):
        raise NotAllowed(_("You may not propose service items."))
    note = (note or "").strip()
    if not note:
        raise InputError(_("Say why it should become a service item."))
    if entry is not None:
        region_id, title = entry.region_id, entry.question
        taken = Promotion.objects.filter(entry=entry, state=Promotion.State.CANDIDATE).exists()
    elif case is not None:
        region_id, title = case.region_id, case.title
        taken = Promotion.objects.filter(case=case, state=Promotion.State.CANDIDATE).exists()
    elif appeals:
        region_id, taken = appeals[0].region_id, False
        title = (title or anonymize.mask(appeals[0].title)).strip()[:300]
        visible = set(scopes.appeals(user).filter(pk__in=[a.pk for a in appeals]).values_list("pk", flat=True))
        if visible != {a.pk for a in appeals}:
            raise NotAllowed(_("You may not propose these appeals."))
    else:
        raise InputError(_("Choose what to promote."))
    if taken:
        raise InputError(_("Already a candidate."))
    promotion = Promotion(region_id=region_id, entry=entry, case=case, title=title, note=note, marked_by=user)
    _save(promotion, user)
    if appeals:
        with acting_as(user, current_actor().source):
            promotion.appeals.set(appeals)
    return promotion


def drop_promotion(user, promotion: Promotion) -> Promotion:
    if not (scopes.is_admin(user) or user.has_role(Role.SUPERVISOR) or in_task_force(user)
            or promotion.marked_by_id == user.pk):
        raise NotAllowed(_("You may not drop this candidate."))
    promotion.state = Promotion.State.DROPPED
    _save(promotion, user)
    return promotion


def promotions(user) -> QuerySet[Promotion]:
    if not may_see_promotions(user):
        return Promotion.objects.none()
    return _region_filter(user, Promotion.objects.select_related("entry", "case", "marked_by"))


def recurring(user, days: int = 180, least: int = 3, threshold: float = 0.6, limit: int = 20) -> list[dict]:
    """Recurring problems: groups of at least `least` appeals of the last `days` the user sees whose texts are alike
    (cosine ≥ `threshold` with the group's first case, by the routing model's words), largest first."""
    from qifu.appeals import routing

    region_id = scopes.home_region_id(user)
    if region_id is None or not is_staff(user):
        return []
    since = timezone.now() - datetime.timedelta(days=days)
    rows = list(scopes.appeals(user).filter(received_at__gte=since).exclude(
        status__in=(Status.WITHDRAWN, Status.MERGED)).order_by("-pk").values_list("pk", "title", "description")[:2000])
    model = routing.model_for(region_id)
    vectors = {pk: model.vector(routing.words(f"{title} {description}")) for pk, title, description in rows}
    titles = {pk: title for pk, title, _d in rows}
    taken = set(Promotion.objects.filter(state=Promotion.State.CANDIDATE, region_id=region_id)
                .values_list("appeals", flat=True))
    postings: dict[str, list[tuple[int, float]]] = {}  # word → [(appeal, weight)]: only cases sharing a word meet
    for pk, vector in vectors.items():
        for word, weight in vector.items():
            postings.setdefault(word, []).append((pk, weight))
    seen: set[int] = set()
    groups = []
    for pk, _title, _description in rows:
        if pk in seen or not vectors[pk]:
            continue
        scores: dict[int, float] = {}
        for word, weight in vectors[pk].items():
            for other, other_weight in postings[word]:
                if other not in seen:
                    scores[other] = scores.get(other, 0.0) + weight * other_weight
        members = sorted(other for other, score in scores.items() if score >= threshold)
        if len(members) >= least:
            seen.update(members)
            groups.append({"title": titles[pk], "appeals": members, "count": len(members),
                           "proposed": bool(taken & set(members))})
    groups.sort(key=lambda g: -g["count"])
    return groups[:limit]


# --- search ---------------------------------------------------------------------------------------------

def terms(q: str) -> list[str]:
    """The words of a search (jieba), or the whole search when it has none that count."""
    from qifu.appeals import routing

    q = (q or "").strip()
    if not q:
        return []
    return list(dict.fromkeys(routing.words(q))) or [q[:50]]


def search(qs: QuerySet, q: str, fields: tuple[str, ...]) -> list:
    """The rows of `qs` containing any word of `q` in `fields`, those with the most words first (at most the export
    limit)."""
    from qifu.lib import exports

    words = terms(q)
    if not words:
        return list(qs[:exports.EXPORT_MAX])
    condition = Q()
    for word in words:
        for name in fields:
            condition |= Q(**{f"{name}__icontains": word})
    rows = list(qs.filter(condition)[:exports.EXPORT_MAX])

    def score(row):
        text = " ".join(str(getattr(row, name) or "") for name in fields).lower()
        return sum(word.lower() in text for word in words)

    return sorted(rows, key=lambda row: -score(row))


ENTRY_SEARCH = ("question", "answer", "keywords", "legal_basis")
CASE_SEARCH = ("title", "problem", "solution", "legal_basis")


def excerpt(text: str, length: int = EXCERPT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[:length - 1] + "…"


def hit(item, score: float | None = None) -> dict:
    """One entry or case as the suggestion and the API show it."""
    if isinstance(item, KnowledgeEntry):
        out = {"kind": "entry", "id": item.pk, "question": item.question, "title": item.question,
               "answer": excerpt(item.answer), "url": item.get_absolute_url()}
    else:
        out = {"kind": "case", "id": item.pk, "question": item.title, "title": item.title,
               "answer": excerpt(item.solution), "url": item.get_absolute_url()}
    if score is not None:
        out["score"] = round(score, 4)
    return out
