"""Agency cases (全程代办 / 帮办代办, glossary: AgencyCase): the rules every page, the API and the front desk use.

    case = cases.start(scenario, enterprise, by=user)             # the checklist copied from the scenario
    cases.set_status(item, "in_progress", by=agent)              # pending → in progress → done
    cases.drop(item, reason, by=agent); cases.add(case, name, stage, by=agent)
    cases.reassign(case, other_agent, by=user); cases.attach(item, upload, by=user)

Who: an enterprise user starts a scenario for its own enterprise; staff who serve enterprises (front desk, dispatcher,
liaison, specialists — `STARTER_ROLES`) start one for an enterprise they may see. The agent (代办员) is a front desk
clerk (行政办事员: seed 000 line 33 — 领办、帮办、代办 … 专属定制办事流程图): the starter when a clerk starts it, else
the region's front desk clerk at the center with the fewest open cases. Agents, the front desk and specialists work
the case (`may_work`); the enterprise follows it and adds documents.

Deadlines: each item's limit in working days is its own (`time_limit_days`, only when the seed states one), else
its catalog item's guide limit in working days, else the region's `agency_item_workdays`. It is counted from when
the case is opened (an item added later: from when it is added) — the case is the commitment made to the enterprise,
as an appeal's clock runs from receipt — to the end of that working day (`qifu.workcal.workdays.deadline`, the
region's `deadline_end_of_day` and time zone). Starting an item does not move its deadline.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.accounts.models import Role, User
from qifu.appeals.errors import NotAllowed, TransitionError
from qifu.audit import trail
from qifu.lib import inputs, uploads
from qifu.workcal import workdays

from .models import OPEN_ITEM_STATUSES, AgencyCase, CaseDocument, CaseItem, ItemStatus, Scenario

STARTER_ROLES = (Role.FRONT_DESK, Role.DISPATCHER, Role.LIAISON, Role.SPECIALIST, Role.CHIEF_SPECIALIST)
AGENT_ROLES = (Role.FRONT_DESK, Role.SPECIALIST, Role.CHIEF_SPECIALIST)
OVERSEER_ROLES = (Role.SUPERVISOR, Role.LEADER)  # follow the cases of their area (read only)
WORKER_ROLES = (Role.FRONT_DESK, Role.SPECIALIST, Role.CHIEF_SPECIALIST, Role.DISPATCHER)
REASON_MAX = 500
NAME_MAX = 300

NEXT = {ItemStatus.PENDING: {ItemStatus.IN_PROGRESS, ItemStatus.DONE},
        ItemStatus.IN_PROGRESS: {ItemStatus.DONE, ItemStatus.PENDING},
        ItemStatus.DONE: {ItemStatus.IN_PROGRESS}, ItemStatus.DROPPED: {ItemStatus.PENDING}}


# --- who sees and does what ------------------------------------------------------------------------------------------

def scenarios(user) -> QuerySet[Scenario]:
    """The region's scenarios: public information for every signed-in user with a role (administrators: all)."""
    qs = Scenario.objects.select_related("region")
    if scopes.is_admin(user):
        return qs
    region_id = scopes.home_region_id(user) if scopes.active(user) and user.roles else None
    return qs.filter(region_id=region_id) if region_id else qs.none()


def visible(user) -> QuerySet[AgencyCase]:
    """The cases the user may see: an enterprise its own; staff who start or oversee cases (front desk, dispatchers,
    liaison officers, specialists, supervisors, leaders) those of the enterprises they may see; everyone the cases
    they are the agent of."""
    qs = AgencyCase.objects.select_related("scenario", "enterprise", "agent", "region")
    if scopes.is_admin(user):
        return qs
    if not scopes.active(user) or not user.roles:
        return qs.none()
    if scopes.enterprise_only(user):
        return qs.filter(enterprise_id=user.enterprise_id) if user.enterprise_id else qs.none()
    if not user.has_role(*STARTER_ROLES, *OVERSEER_ROLES):  # e.g. a department handler: only cases it is agent of
        return qs.filter(agent=user)
    return qs.filter(Q(enterprise__in=scopes.enterprises(user)) | Q(agent=user))


def may_start(user) -> bool:
    return scopes.active(user) and (scopes.is_admin(user) or user.has_role(*STARTER_ROLES)
                              or (scopes.enterprise_only(user) and bool(user.enterprise_id)))


def may_work(user, case: AgencyCase) -> bool:
    """The agent, and the center's staff who run agency cases, work a case (statuses, checklist, agent)."""
    if not scopes.active(user):
        return False
    return scopes.is_admin(user) or case.agent_id == user.pk or (
        user.has_role(*WORKER_ROLES) and visible(user).filter(pk=case.pk).exists())


def may_attach(user, case: AgencyCase) -> bool:
    return may_work(user, case) or (scopes.active(user) and user.enterprise_id == case.enterprise_id
                                    and user.has_role(Role.ENTERPRISE))


def agents(region) -> QuerySet:
    """Who may be a case's agent: the region's active front desk clerks and specialists."""
    return (User.objects.filter(is_active=True, region=region, role_grants__role__in=AGENT_ROLES)
            .distinct().order_by("username"))


def pick_agent(region, by=None):
    """The starter when a front desk clerk starts the case; else the region's clerk at the center (or no node) with
    the fewest open cases, then the first by name."""
    if by is not None and getattr(by, "pk", None) and by.has_role(Role.FRONT_DESK) and by.is_active:
        return by
    clerks = (User.objects.filter(is_active=True, region=region, role_grants__role=Role.FRONT_DESK)
              .filter(Q(node__isnull=True) | Q(node__kind="center"))
              .annotate(load=Count("agency_cases", filter=Q(agency_cases__status=AgencyCase.Status.OPEN)))
              .order_by("load", "username"))
    return clerks.first()


# --- deadlines -------------------------------------------------------------------------------------------------------

def time_limit(region, days: int | None, service_item=None) -> tuple[int, str]:
    """(working days, where the limit comes from): the item's own, its catalog item's guide, the region's rule."""
    if days:
        return int(days), CaseItem.LimitSource.ITEM
    guide_days = None
    if service_item is not None:
        guide = getattr(service_item, "guide", None) if _has_guide(service_item) else None
        guide_days = guide.time_limit_days if guide is not None else None
    if guide_days:
        return int(guide_days), CaseItem.LimitSource.GUIDE
    return int(region.rule("agency_item_workdays")), CaseItem.LimitSource.RULE


def _has_guide(service_item) -> bool:
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return service_item.guide is not None
    except ObjectDoesNotExist:
        return False


def deadline(region, start, days: int):
    return workdays.deadline(start, days, end_of_day=region.rule("deadline_end_of_day"), tz=region.rule("time_zone"))


# --- starting a case -------------------------------------------------------------------------------------------------

def earlier_for_key(user, key: str, digest: str = "") -> AgencyCase | None:
    """The case this user already started with `key`; IdempotencyConflict when it came from another request."""
    from qifu.appeals.errors import IdempotencyConflict

    earlier = AgencyCase.objects.filter(started_by=user, idempotency_key=key).first() if key else None
    return inputs.earlier_request(earlier, digest, lambda case: IdempotencyConflict(_(
        "This Idempotency-Key was already used for a different request: use a new key for a new agency case.")))


@transaction.atomic
def start(scenario: Scenario, enterprise, *, by, items=None, agent=None, idempotency_key: str = "",
          request_hash: str = "") -> AgencyCase:
    """Start an agency case of `scenario` for `enterprise` (the front desk turns a visit into one with this).

    `items`: the scenario items (or their ids) to copy onto the checklist — default all of them, in order. `by`: the
    user starting it (an enterprise user for its own enterprise, or staff who may see the enterprise); NotAllowed
    otherwise. The agent is `agent` or `pick_agent`."""
    if not may_start(by):
        raise NotAllowed(_("Your role cannot start agency cases."))
    if enterprise.region_id != scenario.region_id:
        raise TransitionError(_("The enterprise and the scenario are in different regions."))
    if scopes.enterprise_only(by):
        if by.enterprise_id != enterprise.pk:
            raise NotAllowed(_("An enterprise starts agency cases for itself only."))
    elif not scopes.enterprises(by).filter(pk=enterprise.pk).exists():
        raise NotAllowed(_("You may not serve this enterprise."))
    region = scenario.region
    now = timezone.now()
    chosen = agent or pick_agent(region, by)
    case = AgencyCase.objects.create(region=region, scenario=scenario, enterprise=enterprise, agent=chosen,
                                     started_by=by, opened_at=now, idempotency_key=idempotency_key,
                                     idempotency_hash=request_hash)
    source = scenario.items.select_related("service_item__guide").order_by("order")
    if items is not None:
        wanted = {getattr(i, "pk", i) for i in items}
        source = [i for i in source if i.pk in wanted]
    rows = []
    for order, item in enumerate(source, start=1):
        days, origin = time_limit(region, item.time_limit_days, item.service_item)
        rows.append(CaseItem(case=case, order=order, name=item.name, kind=item.kind, sides=item.sides,
                             units_text=item.units_text, stage=item.stage, scenario_item=item,
                             service_item=item.service_item, time_limit_days=days, limit_source=origin,
                             counted_from=now, due_at=deadline(region, now, days)))
    CaseItem.objects.bulk_create(rows)
    trail.record("create", case, None, trail.snapshot(case) | {"items": [r.name for r in rows]},
                 note="agency case started", actor=by)
    if chosen is not None:
        _tell_agent(case, chosen, _("New agency case: %(name)s") % {"name": case},
                    _("You are the agent of this case."))
    return case


def _tell_agent(case, agent, subject, body):
    from qifu import notify

    notify.notify([agent], "scenarios.case", subject, body, url=case.get_absolute_url())


# --- working a case --------------------------------------------------------------------------------------------------

def _check_work(case, by):
    if not may_work(by, case):
        raise NotAllowed(_("Only the agent and the center's staff work this agency case."))


def _refresh_case(case: AgencyCase, by) -> None:
    """A case is completed when every item left on its checklist is done (dropped ones aside); an item reopened or
    added opens it again."""
    statuses = set(case.items.values_list("status", flat=True))
    done = bool(statuses) and statuses <= {ItemStatus.DONE, ItemStatus.DROPPED} and ItemStatus.DONE in statuses
    target = AgencyCase.Status.DONE if done else AgencyCase.Status.OPEN
    if case.status != target:
        before = {"status": case.status}
        case.status = target
        case.closed_at = timezone.now() if done else None
        case.save(update_fields=["status", "closed_at"])
        trail.record("transition", case, before, {"status": target}, note="agency case " + target, actor=by)


@transaction.atomic
def set_status(item: CaseItem, status: str, *, by) -> CaseItem:
    case = item.case
    _check_work(case, by)
    if status not in (ItemStatus.PENDING, ItemStatus.IN_PROGRESS, ItemStatus.DONE):
        raise TransitionError(_("Unknown status %(status)s.") % {"status": status})
    if status == item.status:
        return item
    if status not in NEXT[ItemStatus(item.status)]:
        raise TransitionError(_("An item that is %(now)s cannot become %(then)s.") % {
            "now": item.get_status_display(), "then": ItemStatus(status).label})
    before = {"status": item.status}
    now = timezone.now()
    item.status = status
    if status == ItemStatus.IN_PROGRESS and item.started_at is None:
        item.started_at = now
    item.done_at = now if status == ItemStatus.DONE else None
    item.save(update_fields=["status", "started_at", "done_at"])
    trail.record("transition", item, before, {"status": status}, note=f"agency item {status}", actor=by)
    _refresh_case(case, by)
    return item


@transaction.atomic
def drop(item: CaseItem, reason: str, *, by) -> CaseItem:
    """Drop an item this enterprise does not need (with the reason); its timers are cancelled."""
    _check_work(item.case, by)
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(_("Say why the item is dropped."))
    if len(reason) > REASON_MAX:
        raise TransitionError(_("The reason is at most %(n)d characters.") % {"n": REASON_MAX})
    if not item.is_open:
        raise TransitionError(_("Only a pending or started item can be dropped."))
    before = {"status": item.status}
    item.status, item.dropped_reason = ItemStatus.DROPPED, reason
    item.save(update_fields=["status", "dropped_reason"])
    trail.record("transition", item, before, {"status": item.status, "reason": reason}, note="agency item dropped",
                 actor=by)
    _refresh_case(item.case, by)
    return item


@transaction.atomic
def restore(item: CaseItem, *, by) -> CaseItem:
    """Put a dropped item back on the checklist (pending, its deadline unchanged)."""
    _check_work(item.case, by)
    if item.status != ItemStatus.DROPPED:
        raise TransitionError(_("Only a dropped item can be put back."))
    item.status, item.dropped_reason = ItemStatus.PENDING, ""
    item.save(update_fields=["status", "dropped_reason"])
    trail.record("transition", item, {"status": ItemStatus.DROPPED}, {"status": item.status},
                 note="agency item restored", actor=by)
    _refresh_case(item.case, by)
    return item


@transaction.atomic
def add(case: AgencyCase, name: str, stage: str, *, by, kind: str = "value_added", days: int | None = None,
        units: str = "") -> CaseItem:
    """Add an item to this enterprise's checklist (a stage of the scenario); its deadline counts from now."""
    _check_work(case, by)
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise TransitionError(_("Name the item (at most %(n)d characters).") % {"n": NAME_MAX})
    if stage not in case.scenario.stages:
        raise TransitionError(_("Choose one of the scenario's stages."))
    if kind not in CaseItem.Kind.values:
        raise TransitionError(_("Choose a basic item or a value-added service."))
    if days is not None and not 0 < int(days) < 1000:
        raise TransitionError(_("The time limit is 1 to 999 working days."))
    from qifu.catalog.models import ServiceItem

    service = ServiceItem.objects.filter(region=case.region, name=name).select_related("guide").first()
    limit, origin = time_limit(case.region, days, service)
    now = timezone.now()
    last = case.items.order_by("-order").values_list("order", flat=True).first() or 0
    item = CaseItem.objects.create(case=case, order=last + 1, name=name, kind=kind, stage=stage, added=True,
                                   sides=["government"] if kind == "basic" else [],
                                   units_text=[u for u in (x.strip() for x in units.split("、")) if u],
                                   service_item=service, time_limit_days=limit, limit_source=origin,
                                   counted_from=now, due_at=deadline(case.region, now, limit))
    trail.record("create", item, None, trail.snapshot(item), note="agency item added", actor=by)
    _refresh_case(case, by)
    return item


@transaction.atomic
def reassign(case: AgencyCase, agent, *, by) -> AgencyCase:
    _check_work(case, by)
    if agent is None or not agents(case.region).filter(pk=agent.pk).exists():
        raise TransitionError(_("Choose a front desk clerk or specialist of the region as the agent."))
    if agent.pk == case.agent_id:
        return case
    before = {"agent": case.agent_id}
    case.agent = agent
    case.save(update_fields=["agent"])
    trail.record("transition", case, before, {"agent": agent.pk}, note="agency case reassigned", actor=by)
    _tell_agent(case, agent, _("Agency case handed to you: %(name)s") % {"name": case},
                _("You are now the agent of this case."))
    return case


@transaction.atomic
def attach(item: CaseItem, upload, *, by) -> CaseDocument:
    """Add a document to a checklist item (the one upload check, `qifu.lib.uploads`)."""
    if not may_attach(by, item.case):
        raise NotAllowed(_("You may not add documents to this agency case."))
    try:
        name = uploads.check(upload, uploads.DOCUMENT)
    except uploads.UploadError as error:
        raise TransitionError(str(error)) from None
    document = CaseDocument(item=item, name=name, uploaded_by=by)
    document.file.save(name, upload, save=False)
    document.save()
    return document


# --- the flow chart --------------------------------------------------------------------------------------------------

def flow(case: AgencyCase, items=None) -> list[dict]:
    """The enterprise's own flow chart (专属办事流程图): the scenario's stages in order, each with its items; the
    current stage is the first that still has an open item ("you are here"); `state` of each stage: done, current,
    upcoming (or empty: no item left on it)."""
    items = list(case.items.all()) if items is None else items
    stages = list(case.scenario.stages)
    for item in items:
        if item.stage not in stages:
            stages.append(item.stage)
    current = next((s for s in stages if any(i.stage == s and i.is_open for i in items)), None)
    seen_current = False
    out = []
    for name in stages:
        own = [i for i in items if i.stage == name]
        if name == current:
            state, seen_current = "current", True
        elif not [i for i in own if i.status != ItemStatus.DROPPED]:
            state = "empty"
        else:
            state = "upcoming" if seen_current else "done"
        out.append({"name": name, "items": own, "state": state, "current": name == current})
    return out


def current_stage(case: AgencyCase, items=None) -> str | None:
    return next((s["name"] for s in flow(case, items) if s["current"]), None)


def open_count(items) -> int:
    return sum(1 for i in items if i.status in OPEN_ITEM_STATUSES)
