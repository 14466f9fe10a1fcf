"""The life of an appeal: one state machine, every transition an event.

`perform(appeal, action, actor, version, **payload)` checks the version (stale → StaleVersion, 409),
the current state (wrong → TransitionError, 400), the actor's right (NotAllowed, 403), validates the
payload, appends an `AppealEvent` and applies it. `apply()` is the only code that changes the derived
columns of an appeal, and `replay()` rebuilds them from the events — so the state is the events'.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Callable

from django.db import router, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.audit import trail
from qifu.lib import inputs, uploads
from qifu.org.models import Department, Section
from qifu.workcal import workdays

from . import escalation
from .errors import IdempotencyConflict, NotAllowed, StaleVersion, TransitionError, WorkflowError  # noqa: F401
from .models import (
    FALLBACK_CATEGORIES,
    REGULAR_CATEGORIES,
    Appeal,
    AppealEvent,
    AttachmentKind,
    Category,
    Rating,
    Resolution,
    Revisit,
    RevisitOutcome,
    Scope,
    Status,
)
from .ratings import NOT_RATED, rating_answer  # noqa: F401 - the answer closing a case requires (NOT_RATED)


# --- deadlines -------------------------------------------------------------------------------------

def deadline_for(appeal: Appeal, category: str, start: datetime.datetime) -> datetime.datetime:
    known = getattr(appeal, "_service_request", None)  # the item, False (not a request) or not looked up yet
    if known or (known is None and appeal.pk is not None):
        from qifu.catalog import requests  # a service request: the item's own time limit (issue 11 item 4)

        due = requests.deadline(appeal, category, start)
        if due is not None:
            return due
    region = appeal.region  # one rule at a time: merging the whole configuration costs more than the deadline
    days = region.rule("appeal_deadlines")[category]
    return workdays.deadline(start, days, end_of_day=region.rule("deadline_end_of_day"), tz=region.rule("time_zone"))


# --- who may do what -------------------------------------------------------------------------------

DISPATCH = (Role.DISPATCHER, Role.ADMIN)
INTAKE = (Role.FRONT_DESK, Role.DISPATCHER, Role.LIAISON, Role.ADMIN, Role.SPECIALIST, Role.CHIEF_SPECIALIST)


def _is_lead_handler(user, appeal) -> bool:
    return user.has_role(Role.HANDLER) and user.department_id is not None and user.department_id == appeal.lead_department_id


def _is_assisting_handler(user, appeal) -> bool:
    return (user.has_role(Role.HANDLER) and user.department_id is not None
            and appeal.assisting_departments.filter(pk=user.department_id).exists())


def _is_own_enterprise(user, appeal) -> bool:
    return user.has_role(Role.ENTERPRISE) and user.enterprise_id == appeal.enterprise_id


def may_dispatch(user, appeal) -> bool:
    return user.has_role(*DISPATCH)


def may_classify(user, appeal) -> bool:
    """Dispatchers; and the fallback task force, into the fallback lane (escalation.check_classify)."""
    return may_dispatch(user, appeal) or escalation.is_fallback_member(user, appeal.region_id)


def may_assign(user, appeal) -> bool:
    return may_dispatch(user, appeal) or escalation.handles_fallback(user, appeal)


def may_handle(user, appeal) -> bool:
    return scopes.is_admin(user) or _is_lead_handler(user, appeal) or escalation.handles_fallback(user, appeal)


def may_give_input(user, appeal) -> bool:
    return _is_assisting_handler(user, appeal)


def may_confirm(user, appeal) -> bool:
    """The enterprise itself; dispatchers and the front desk may record its answer (e.g. a revisit call)."""
    return _is_own_enterprise(user, appeal) or user.has_role(Role.DISPATCHER, Role.FRONT_DESK, Role.ADMIN)


def may_revisit(user, appeal) -> bool:
    """Those who call enterprises back after closure (front desk, dispatchers, specialists)."""
    return scopes.is_admin(user) or user.has_role(Role.FRONT_DESK, Role.DISPATCHER, Role.SPECIALIST,
                                                  Role.CHIEF_SPECIALIST)


def may_withdraw(user, appeal) -> bool:
    return _is_own_enterprise(user, appeal) or user.has_role(Role.FRONT_DESK, Role.DISPATCHER, Role.ADMIN)


def may_solve_on_spot(user, appeal) -> bool:
    return user.has_role(*INTAKE)


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str | None  # None: the status does not change
    allowed: Callable
    label: str = ""
    fields: tuple[str, ...] = field(default_factory=tuple)
    ready: Callable | None = None  # offered only when the appeal is ready for it (the action checks it again)


ACTIONS: dict[str, Action] = {a.name: a for a in [
    Action("accept", (Status.SUBMITTED,), Status.ACCEPTED, may_dispatch, "Accept", ("category",)),
    Action("classify", (Status.SUBMITTED, Status.ACCEPTED, Status.ASSIGNED), None, may_classify, "Classify",
           ("category", "scope", "section", "fallback_reasons")),
    Action("assign", (Status.ACCEPTED,), Status.ASSIGNED, may_assign, "Assign",
           ("lead_department", "assisting_departments")),
    Action("reassign", (Status.ASSIGNED,), Status.ASSIGNED, may_assign, "Reassign",
           ("lead_department", "assisting_departments", "reason")),
    Action("request_input", (Status.ASSIGNED,), None, may_handle, "Ask assisting departments", ("text",)),
    Action("give_input", (Status.ASSIGNED,), None, may_give_input, "Give input", ("text",)),
    Action("reply", (Status.ASSIGNED,), None, may_handle, "Reply", ("resolution", "text")),
    Action("mark_handled", (Status.ASSIGNED,), Status.HANDLED, may_handle, "Mark handled", ()),
    Action("confirm", (Status.HANDLED,), Status.CLOSED, may_confirm, "Confirm", ("solved", "rating", "comment")),
    Action("reject_result", (Status.HANDLED,), Status.ASSIGNED, may_confirm, "Not satisfied",
           ("rating", "comment")),
    Action("withdraw", (Status.SUBMITTED, Status.ACCEPTED, Status.ASSIGNED), Status.WITHDRAWN, may_withdraw,
           "Withdraw", ("reason",)),
    Action("merge", (Status.SUBMITTED, Status.ACCEPTED, Status.ASSIGNED), Status.MERGED, may_dispatch,
           "Merge as duplicate", ("into", "reason")),
    Action("solve_on_spot", (Status.ACCEPTED,), Status.CLOSED, may_solve_on_spot, "Solved on the spot",
           ("resolution", "text", "rating", "comment")),
    # The escalation ladder and the fallback lane's deliberations (qifu/appeals/escalation.py).
    Action("escalate", (Status.ASSIGNED,), None, escalation.may_escalate, "Request escalation",
           ("reason", "statement"), ready=escalation.can_escalate_now),
    Action("decide_escalation", (Status.ASSIGNED,), None, escalation.may_decide, "Decide on the escalation",
           ("approve", "note", "lead_department", "assisting_departments"),
           ready=lambda appeal: appeal.escalation_pending),
    Action("deliberate", (Status.ASSIGNED,), None, escalation.may_deliberate, "Record a deliberation",
           ("held_on", "participants", "conclusion"),
           ready=lambda appeal: appeal.category == Category.FALLBACK_DELIBERATION),
    # A revisit call (回访) found the enterprise not satisfied: back to the lead unit (or, for a case solved on the
    # spot without one, to the dispatchers). Done through `record_revisit`, never offered as a button.
    Action("revisit_reopen", (Status.CLOSED,), Status.ASSIGNED, may_revisit, "Reopen after a revisit",
           ("revisit", "comment"), ready=lambda appeal: False),
]}


def available_actions(user, appeal) -> list[Action]:
    return [a for a in ACTIONS.values() if appeal.status in a.sources and (a.ready is None or a.ready(appeal))
            and a.allowed(user, appeal)]


# --- payload checks --------------------------------------------------------------------------------

def _department(appeal, code) -> Department:
    if not code:
        raise TransitionError(_("Say which department leads (lead_department)."))
    dept = Department.objects.filter(region=appeal.region, code=code).first()
    if dept is None:
        raise TransitionError(_("There is no department with the code %(code)s in this region.") % {"code": code})
    return dept


def _departments(appeal, codes) -> list[Department]:
    return [_department(appeal, c) for c in dict.fromkeys(codes or [])]


def _category(value, regular_only: bool = False) -> str:
    if value not in Category.values:
        raise TransitionError(_("The class must be one of: %(values)s.") % {"values": ", ".join(Category.values)})
    if regular_only and value not in REGULAR_CATEGORIES:
        raise TransitionError(_("A case enters the fallback lane by classify, with the reasons it qualifies."))
    return value


def _rating_data(payload: dict, required: bool = True) -> dict:
    stars, rated = rating_answer(payload.get("rating"), required=required)
    return {"rating": stars, "rated": rated}


def _text(payload, key="text", required=True) -> str:
    text = (payload.get(key) or "").strip()
    if required and not text:
        raise TransitionError(_("Write the %(what)s.") % {"what": key})
    return text


def check_payload(payload: dict) -> None:
    """Every value of an action's payload: no NUL character, text within TEXT_MAX (pages and API)."""
    for key, value in payload.items():
        if inputs.has_nul(value):
            raise TransitionError(_("%(field)s: %(problem)s") % {"field": key, "problem": inputs.nul_message()})
        texts = value if isinstance(value, (list, tuple)) else [value]
        for text in texts:
            if isinstance(text, str):
                problem = inputs.text_problem(text, max_length=inputs.TEXT_MAX)
                if problem:
                    raise TransitionError(_("%(field)s: %(problem)s") % {"field": key, "problem": problem})


def _field(name: str, value: str | None, *, required: bool = False) -> str:
    """An appeal's text field checked against its column (length, NUL), named as the user knows it."""
    field = Appeal._meta.get_field(name)
    problem = inputs.text_problem(value, max_length=field.max_length or inputs.TEXT_MAX, required=required)
    if problem:
        raise TransitionError(_("%(field)s: %(problem)s") % {"field": capfirst(field.verbose_name), "problem": problem})
    return (value or "").strip()


def check_intake(*, region, title, description, contact_name="", contact_phone="", received_at=None) -> dict:
    """The fields of a new appeal, checked once for pages, API and Open311; raises TransitionError."""
    if not (title or "").strip():
        raise TransitionError(_("Give the appeal a title."))
    if not (description or "").strip():
        raise TransitionError(_("Describe the problem."))
    data = {"title": _field("title", title), "description": _field("description", description),
            "contact_name": _field("contact_name", contact_name), "contact_phone": _field("contact_phone", contact_phone)}
    if received_at is not None:
        problem = inputs.received_at_problem(received_at, region)
        if problem:
            raise TransitionError(problem)
    return data


def build_data(appeal: Appeal, action: str, payload: dict, now: datetime.datetime, actor=None) -> tuple[dict, str]:
    """Validate the payload of `action` and return the event's data and note (with "_then": an event that
    follows it, for a refused escalation's second assignment)."""
    data: dict = {}
    note = (payload.get("note") or "").strip()
    if action == "accept":
        category = _category(payload.get("category") or appeal.category or appeal.region.rule("appeal_default_category"),
                             regular_only=True)
        data = {"category": category, "accepted_at": now.isoformat(),
                "due_at": deadline_for(appeal, category, now).isoformat()}
    elif action == "classify":
        category = _category(payload.get("category") or appeal.category or appeal.region.rule("appeal_default_category"))
        if actor is not None and not may_dispatch(actor, appeal) and category not in FALLBACK_CATEGORIES:
            raise NotAllowed(_("The fallback task force classifies cases into the fallback lane only."))
        data["category"] = category
        if category in FALLBACK_CATEGORIES:
            data["fallback_reasons"] = escalation.fallback_reasons(appeal, payload.get("fallback_reasons"))
        elif appeal.fallback_reasons:
            data["fallback_reasons"] = []
        if payload.get("scope"):
            if payload["scope"] not in Scope.values:
                raise TransitionError(_("The scope must be point, chain or block."))
            data["scope"] = payload["scope"]
        if payload.get("section"):
            section = Section.objects.filter(region=appeal.region, code=payload["section"]).first()
            if section is None:
                raise TransitionError(_("There is no section with the code %(code)s.") % {"code": payload["section"]})
            data["section"] = section.pk
        if appeal.accepted_at:
            data["due_at"] = deadline_for(appeal, category, appeal.accepted_at).isoformat()
    elif action in ("assign", "reassign"):
        lead = _department(appeal, payload.get("lead_department"))
        if action == "reassign":
            note = _text(payload, "reason")
            if lead.pk == appeal.lead_department_id:
                raise TransitionError(_("The case is already with %(dept)s: choose another lead department.") % {
                    "dept": lead.name})
        assisting = payload.get("assisting_departments")
        if assisting is None and action == "reassign":
            assisting_ids = [d.pk for d in appeal.assisting_departments.all() if d.pk != lead.pk]
        else:
            assisting_ids = [d.pk for d in _departments(appeal, assisting) if d.pk != lead.pk]
        data = {"lead_department": lead.pk, "assisting_departments": assisting_ids}
        leads = appeal.lead_count + (1 if lead.pk != appeal.lead_department_id else 0)
        category = appeal.category
        if (action == "reassign" and category == Category.SINGLE
                and leads >= appeal.region.rule("whistle_after_leads")):
            # Passing the ball does not reset the clock: 5 working days from the original acceptance.
            data["category"] = Category.WHISTLE
            data["converted_to_whistle"] = True
            data["due_at"] = deadline_for(appeal, Category.WHISTLE, appeal.accepted_at).isoformat()
    elif action in ("request_input", "give_input"):
        data = {"text": _text(payload)}
    elif action in ("reply", "solve_on_spot"):
        resolution = payload.get("resolution")
        if resolution not in Resolution.values:
            raise TransitionError(_("The resolution must be one of: %(values)s.") % {
                "values": ", ".join(Resolution.values)})
        data = {"resolution": resolution, "text": _text(payload)}
        if action == "solve_on_spot":  # closed at intake: the enterprise's answer is given at the desk
            data.update({**_rating_data(payload), "comment": (payload.get("comment") or "").strip(), "solved": True})
    elif action == "mark_handled":
        if not appeal.reply:
            raise TransitionError(_("Reply to the enterprise before marking the case handled."))
    elif action == "confirm":
        solved = payload.get("solved", True)
        if solved is False or str(solved).lower() in ("false", "0", "no"):
            raise TransitionError(_("Not solved? Send the case back with reject_result."))
        data = {"solved": True, **_rating_data(payload), "comment": (payload.get("comment") or "").strip()}
    elif action == "reject_result":  # the answer is "not satisfied"; stars optional (none given: not rated)
        data = {"solved": False, **_rating_data(payload, required=False), "comment": _text(payload, "comment")}
        if appeal.region.rule("reopen_resets_deadline") and appeal.category:
            data["due_at"] = deadline_for(appeal, appeal.category, now).isoformat()
    elif action == "revisit_reopen":
        revisit = Revisit.objects.filter(pk=payload.get("revisit") or 0, appeal=appeal,
                                         outcome=RevisitOutcome.DISSATISFIED).first()
        if revisit is None or AppealEvent.objects.filter(appeal=appeal, action="revisit_reopen",
                                                         data__revisit=revisit.pk).exists():
            raise TransitionError(_("A case is reopened by recording a dissatisfied revisit."))
        data = {"revisit": revisit.pk, "comment": _text(payload, "comment", required=False)}
        if not appeal.lead_department_id:
            data["_to"] = Status.ACCEPTED
        category = appeal.category or appeal.region.rule("appeal_default_category")
        if appeal.region.rule("reopen_resets_deadline"):
            data["due_at"] = deadline_for(appeal, category, now).isoformat()
    elif action == "withdraw":
        note = _text(payload, "reason")
    elif action == "merge":
        into = Appeal.objects.filter(region=appeal.region, number=payload.get("into") or "").first()
        if into is None or into.pk == appeal.pk:
            raise TransitionError(_("Say which other appeal (its number) this one duplicates."))
        data = {"into": into.pk}
        note = note or (payload.get("reason") or "").strip()
    elif action == "escalate":
        data, note = escalation.escalate_data(appeal, payload)
    elif action == "decide_escalation":
        data, note = escalation.decision_data(appeal, payload)
        if data["approve"] and payload.get("lead_department"):  # the body may also change the lead unit
            data.update(_units(appeal, payload, keep_assisting=True))
        elif not data["approve"]:  # a second assignment (二次交办) follows the refusal as its own event
            data["_then"] = {"action": "reassign", "data": _second_assignment(appeal, payload, now), "note": note}
    elif action == "deliberate":
        data = escalation.deliberation_data(appeal, payload)
    return data, note


def _units(appeal: Appeal, payload: dict, keep_assisting: bool = False) -> dict:
    lead = _department(appeal, payload.get("lead_department"))
    assisting = payload.get("assisting_departments")
    if assisting is None and keep_assisting:
        ids = [d.pk for d in appeal.assisting_departments.all()]
    else:
        ids = [d.pk for d in _departments(appeal, assisting)]
    return {"lead_department": lead.pk, "assisting_departments": [i for i in ids if i != lead.pk]}


def _second_assignment(appeal: Appeal, payload: dict, now: datetime.datetime) -> dict:
    """A refused escalation assigns the case again to the lead and assisting units the body names (both required),
    with a fresh time limit of its class when the region's `second_assignment_resets_deadline` is on."""
    if not payload.get("lead_department"):
        raise TransitionError(_("A refused escalation is a second assignment: name the lead unit (lead_department)."))
    data = _units(appeal, payload)
    if not data["assisting_departments"]:
        raise TransitionError(_("A refused escalation is a second assignment: name the assisting units "
                                "(assisting_departments)."))
    data["second_assignment"] = True
    category = appeal.category or appeal.region.rule("appeal_default_category")
    leads = appeal.lead_count + (1 if data["lead_department"] != appeal.lead_department_id else 0)
    if category == Category.SINGLE and leads >= appeal.region.rule("whistle_after_leads"):
        category = Category.WHISTLE
        data.update({"category": category, "converted_to_whistle": True})
    if appeal.region.rule("second_assignment_resets_deadline"):
        data["due_at"] = deadline_for(appeal, category, now).isoformat()
    return data


# --- applying events -------------------------------------------------------------------------------

def _dt(value):
    return datetime.datetime.fromisoformat(value) if value else None


def apply(appeal: Appeal, event: AppealEvent) -> list[int] | None:
    """Lay one event over the appeal's derived columns. Returns new assisting department ids, if any."""
    d = event.data or {}
    appeal.status = event.to_status
    if "category" in d:
        appeal.category = d["category"]
    if "scope" in d:
        appeal.scope = d["scope"]
    if "section" in d:
        appeal.section_id = d["section"]
    if "accepted_at" in d:
        appeal.accepted_at = _dt(d["accepted_at"])
    if "due_at" in d:
        appeal.due_at = _dt(d["due_at"])
    if d.get("converted_to_whistle"):
        appeal.converted_to_whistle = True
    assisting = None
    if "lead_department" in d:
        if d["lead_department"] != appeal.lead_department_id:
            appeal.lead_count += 1
        appeal.lead_department_id = d["lead_department"]
        assisting = d.get("assisting_departments", [])
    if event.action in ("reply", "solve_on_spot"):
        appeal.resolution, appeal.reply = d["resolution"], d["text"]
    if event.action == "mark_handled":
        appeal.handled_at = event.at
    if event.action == "solve_on_spot":
        appeal.solved_on_spot = True
        appeal.handled_at = event.at
    if event.to_status == Status.CLOSED:
        appeal.closed_at = event.at
    if event.action == "reject_result":
        appeal.dissatisfied_count += 1
        appeal.handled_at = None
    if event.action == "revisit_reopen":
        appeal.dissatisfied_count += 1
        appeal.handled_at = None
        appeal.closed_at = None
    if event.action == "merge":
        appeal.merged_into_id = d["into"]
    if "fallback_reasons" in d:
        appeal.fallback_reasons = d["fallback_reasons"]
    if event.action == "escalate":
        appeal.escalation_requested_at = event.at
    if event.action == "decide_escalation":
        appeal.escalation_requested_at = None
        if d.get("approve"):
            appeal.escalation_level = d["level"]
    if event.to_status != Status.ASSIGNED:  # handled or closed meanwhile: the request lapses
        appeal.escalation_requested_at = None
    appeal.version = event.seq
    return assisting


DERIVED = ("status", "category", "scope", "section_id", "accepted_at", "due_at", "converted_to_whistle",
           "lead_department_id", "lead_count", "resolution", "reply", "handled_at", "closed_at",
           "dissatisfied_count", "merged_into_id", "solved_on_spot", "escalation_level", "escalation_requested_at",
           "fallback_reasons", "version")


def replay(appeal: Appeal) -> dict:
    """The derived columns as the events say they are (for checks and repairs)."""
    blank = Appeal(region=appeal.region, category="", scope=Scope.POINT, lead_count=0, dissatisfied_count=0,
                   escalation_level=1, fallback_reasons=[])
    assisting: list[int] = []
    for event in appeal.events.order_by("seq"):
        changed = apply(blank, event)
        if changed is not None:
            assisting = changed
    state = {name: getattr(blank, name) for name in DERIVED}
    state["assisting_departments"] = sorted(assisting)
    return state


def _append(appeal: Appeal, action: str, actor, from_status: str, to_status: str, data: dict, note: str,
            at: datetime.datetime) -> AppealEvent:
    event = AppealEvent.objects.create(
        appeal=appeal, seq=appeal.version + 1, action=action, actor=actor if getattr(actor, "pk", None) else None,
        at=at, from_status=from_status, to_status=to_status, note=note, data=data,
    )
    before = {"status": from_status, "version": appeal.version}
    assisting = apply(appeal, event)
    appeal.save()
    if assisting is not None:
        appeal.assisting_departments.set(assisting)
    trail.record("transition", appeal, before, {"status": to_status, "version": appeal.version, "action": action},
                 note=note, actor=actor if getattr(actor, "pk", None) else None)
    return event


def record_rating(appeal: Appeal, event: AppealEvent, actor) -> None:
    d = event.data
    if d.get("rating") or "solved" in d:
        Rating.objects.create(appeal=appeal, lead_department_id=appeal.lead_department_id, solved=d.get("solved", False),
                              stars=d.get("rating"), rated=d.get("rated", bool(d.get("rating"))),
                              comment=d.get("comment", ""),
                              rated_by=actor if getattr(actor, "pk", None) else None, rated_at=event.at)


@transaction.atomic
def perform(appeal: Appeal | int, action: str, actor, version: int | None = None, **payload) -> Appeal:
    """Carry out `action` on the appeal for `actor`, or raise without changing anything."""
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal
    if not scopes.appeals(actor).filter(pk=pk).exists():
        raise Appeal.DoesNotExist
    # Lock the row itself (the scope query joins nullable relations, which cannot be locked).
    appeal = Appeal.objects.select_for_update().select_related("region").get(pk=pk)
    spec = ACTIONS.get(action)
    if spec is None:
        raise TransitionError(_("Unknown action %(action)s.") % {"action": action})
    check_payload(payload)
    if version is not None and int(version) != appeal.version:
        raise StaleVersion(_("The appeal has changed since you loaded it (version %(now)s, not %(yours)s): "
                             "reload it and try again.") % {"now": appeal.version, "yours": version})
    if appeal.status not in spec.sources:
        raise TransitionError(_("Cannot %(action)s an appeal that is %(status)s.") % {
            "action": action, "status": appeal.get_status_display()})
    if not spec.allowed(actor, appeal):
        raise NotAllowed(_("Your role cannot %(action)s this appeal.") % {"action": action})
    now = payload.pop("at", None) or timezone.now()
    data, note = build_data(appeal, action, payload, now, actor=actor)
    follow = data.pop("_then", None)
    target = data.pop("_to", None) or spec.target or appeal.status
    event = _append(appeal, action, actor, appeal.status, target, data, note, now)
    events = [event]
    if follow:  # e.g. a refused escalation is a second assignment: its own event, right after the decision
        events.append(_append(appeal, follow["action"], actor, appeal.status, appeal.status, follow["data"],
                              follow["note"], now))
    if action in ("confirm", "reject_result", "solve_on_spot"):
        record_rating(appeal, event, actor)
    if event.to_status == Status.CLOSED:  # in the sample? the revisit is stored with the closure
        from . import revisits

        revisits.after_close(appeal, event)
    from . import notifications

    for each in events:
        notifications.after(appeal, each)
    return appeal


# --- revisits (回访) ---------------------------------------------------------------------------------------

@transaction.atomic
def record_revisit(revisit: Revisit | int, actor, outcome: str, note: str = "") -> Revisit:
    """Record a revisit call's outcome (satisfied, dissatisfied, unreachable) for a caller who sees the case; a
    dissatisfied enterprise reopens the case (`revisit_reopen`, in the same transaction). Audited."""
    from . import revisits

    pk = revisit.pk if isinstance(revisit, Revisit) else revisit
    found = revisits.queue(actor).filter(pk=pk).first() if getattr(actor, "pk", None) else None
    if found is None:
        if Revisit.objects.filter(pk=pk, appeal__in=scopes.appeals(actor).values("pk")).exists():
            raise NotAllowed(_("Your role does not record revisits."))
        raise Revisit.DoesNotExist
    revisit = Revisit.objects.select_for_update().get(pk=found.pk)
    if outcome not in RevisitOutcome.values:
        raise TransitionError(_("The outcome must be one of: %(values)s.") % {"values": ", ".join(RevisitOutcome.values)})
    check_payload({"note": note or ""})
    note = (note or "").strip()
    if outcome == RevisitOutcome.DISSATISFIED and not note:
        raise TransitionError(_("Write down what the enterprise is not satisfied with."))
    if revisit.state == Revisit.State.DONE:
        raise TransitionError(_("This revisit was already recorded."))
    before = {"state": revisit.state, "outcome": revisit.outcome}
    revisit.state, revisit.outcome, revisit.note = Revisit.State.DONE, outcome, note
    revisit.done_by, revisit.done_at = actor, timezone.now()
    revisit.save()
    trail.record("update", revisit, before, {"state": revisit.state, "outcome": outcome}, note=note, actor=actor)
    if outcome == RevisitOutcome.DISSATISFIED:
        appeal = Appeal.objects.get(pk=revisit.appeal_id)
        if appeal.status == Status.CLOSED:
            perform(appeal, "revisit_reopen", actor, revisit=revisit.pk, comment=note)
    return revisit


# --- intake ----------------------------------------------------------------------------------------

@transaction.atomic
def register(*, actor, enterprise, channel, title: str, description: str, contact_name: str = "",
             contact_phone: str = "", category: str | None = None, received_at: datetime.datetime | None = None,
             received_node=None, idempotency_key: str = "", request_hash: str = "",
             by_enterprise: bool | None = None, section=None, key_checked: bool = False,
             service_item=None) -> tuple[Appeal, bool]:
    """Register one appeal. Staff registrations are accepted at once (the clock starts at received_at);
    an enterprise's own online submission waits as `submitted` for a dispatcher.
    Returns (appeal, created); with an idempotency key already used by this actor for the same request
    (`request_hash`), the earlier appeal — for another request, IdempotencyConflict (422). `key_checked`: the
    caller has just looked the key up (`earlier_for_key`) and found nothing; a parallel retry that got there first
    still fails on the unique key (IntegrityError), and the caller answers with the earlier appeal.

    A few statements (issue 10): the appeal is inserted once with the columns its events give (on PostgreSQL its
    number taken by that INSERT, `AppealNumber.IN_INSERT`; elsewhere by one upsert after the events), its events in
    one INSERT (sealed here: the second links to the first in memory), then the notifications and the audit entries
    (which name the numbered appeal) in one INSERT.

    `service_item`: a service request for that catalog item (`qifu.catalog.requests`): named by an `AppealItem`,
    filed under the item's section, accepted and assigned at once to the item's responsible units (lead and
    assisting) when it has any, with the item's own time limit."""
    if idempotency_key and getattr(actor, "pk", None) and not key_checked:
        earlier = earlier_for_key(actor, idempotency_key, request_hash)
        if earlier is not None:
            return earlier, False
    region = enterprise.region
    fields = check_intake(region=region, title=title, description=description, contact_name=contact_name,
                          contact_phone=contact_phone, received_at=received_at)
    if category not in (None, ""):
        _category(category, regular_only=True)
    now = timezone.now()
    received_at = received_at or now
    if by_enterprise is None:
        by_enterprise = actor.has_role(Role.ENTERPRISE) and not (actor.roles & scopes.STAFF_ROLES)
    from qifu.audit.models import AuditEntry
    from qifu.lib import fastinsert

    from .models import AppealNumber

    person = actor if getattr(actor, "pk", None) else None
    day = timezone.localtime(received_at).date()
    number = AppealNumber.taken_in_insert(region, day)  # PostgreSQL: numbered by the INSERT itself
    appeal = Appeal(
        region=region, number=_provisional_number() if number is None else "", enterprise=enterprise,
        channel=channel, received_at=received_at, **fields,
        received_node=received_node if received_node is not None else getattr(actor, "node", None),
        created_by=person, idempotency_key=idempotency_key or "",
        idempotency_hash=request_hash if idempotency_key else "", category=category or "", status="", version=0,
    )
    lead, assisting = None, []
    if service_item is not None:
        from qifu.catalog import requests

        appeal._service_request = service_item
        section = section if section is not None else service_item.section
        lead, assisting = requests.units_of(service_item)
        if lead is not None and not category:
            category = Category.SINGLE if not assisting else Category.WHISTLE
            appeal.category = category
    submitted = {"category": category} if category else {}
    if section is not None:  # the intake already names the section (e.g. an Open311 service)
        submitted["section"] = section.pk
    if service_item is not None:
        submitted["service_item"] = service_item.code
    steps = [("submit", "", Status.SUBMITTED, submitted)]
    if not by_enterprise or lead is not None:  # a request with a responsible unit is routed without a dispatcher
        steps.append(("accept", Status.SUBMITTED, Status.ACCEPTED, None))
    if lead is not None:
        steps.append(("assign", Status.ACCEPTED, Status.ASSIGNED,
                      {"lead_department": lead.pk, "assisting_departments": [d.pk for d in assisting]}))
    events, changes = [], []
    assisting_ids = None
    for action, source, target, data in steps:
        if data is None:  # the accept's data depend on what the submit set (its category)
            data, _note = build_data(appeal, action, {"category": category}, received_at)
        # Routing a request by its item is the system's doing, not the enterprise's.
        by = person if not (by_enterprise and action != "submit") else None
        event = AppealEvent(seq=appeal.version + 1, action=action, actor=by, at=received_at,
                            from_status=source, to_status=target, note="", data=data)
        changes.append((action, {"status": source, "version": appeal.version}))
        assisting_ids = apply(appeal, event) or assisting_ids
        changes[-1] += ({"status": target, "version": appeal.version, "action": action},)
        events.append(event)
    using = router.db_for_write(AppealEvent)
    from . import notifications

    # a routed request: the enterprise (accepted) and the units (assigned); else the last step's audience
    told = events[1:] if service_item is not None and len(events) > 1 else events[-1:]
    audiences = [None] * len(told)
    if number is None:
        appeal.save()
    else:
        # PostgreSQL: the day's number row stays locked from the appeal's INSERT to the commit, and every other
        # intake of the region that day waits for it: what does not need the number goes before — the audience
        # read, the ids of the appeal, of its inbox rows and of its outgoing messages (email, SMS, 浙政钉) drawn
        # (those rows are written with the audit entries that name them, in one statement, below), the events
        # sealed and written (their foreign key is checked at the commit).
        from qifu.notify import outbox
        from qifu.notify.models import Notification, OutboxMessage

        audiences = [notifications.audience(appeal, event) for event in told]
        (appeal.pk,), note_ids, message_ids = fastinsert.next_ids([
            (Appeal, 1), (Notification, sum(map(len, audiences))),
            (OutboxMessage, sum(len(outbox.external(users)) for users in audiences))], using)
        _write_events(appeal, events, using)
        # one INSERT built once (qifu.lib.fastinsert), the number taken and returned by it
        fastinsert.insert(Appeal, [appeal], using, sql={"number": (AppealNumber.IN_INSERT, number)},
                          returning=("number",), with_pk=True)
    if assisting_ids:
        appeal.assisting_departments.set(assisting_ids)
    else:  # known to have none: the answer (queries.as_dict) need not read them back, nor compile a query for it
        none = Department.objects.none()
        none._result_cache, none._prefetch_done = [], True
        appeal._prefetched_objects_cache = {"assisting_departments": none}
    if service_item is not None:
        from qifu.catalog.models import AppealItem

        AppealItem.objects.create(appeal=appeal, item=service_item, request=True)
    if number is None:
        _write_events(appeal, events, using)
        AppealNumber.assign(appeal, day)
    entries = [trail.build("transition", appeal, before, after, note="", actor=person)
               for _action, before, after in changes]
    # The inbox rows' and outgoing messages' audit entries join the transitions'; on PostgreSQL all are written in
    # one statement.
    rows = [] if number is not None else None
    ids = {Notification: iter(note_ids), OutboxMessage: iter(message_ids)} if number is not None else None
    for event, users in zip(told, audiences, strict=True):
        notifications.after(appeal, event, audit=entries, users=users, ids=ids, rows=rows)
    AuditEntry.objects.bulk_create_with(entries, rows or [])
    return appeal, True


def _write_events(appeal, events: list, using: str) -> None:
    """The new appeal's events, sealed into its chain and written by one INSERT built once."""
    from qifu.audit.chain import seal_events
    from qifu.lib import fastinsert

    for event in events:
        event.appeal = appeal
    seal_events(events, using)
    fastinsert.insert(AppealEvent, events, using)


def _provisional_number() -> str:
    """A unique placeholder for the few statements before `AppealNumber.assign` (never committed)."""
    return "~" + uuid.uuid4().hex[:31]  # the column holds 32


def earlier_for_key(actor, key: str, request_hash: str = "") -> Appeal | None:
    """The appeal this actor already filed with `key`, if any; IdempotencyConflict when it was filed from
    another request (keys stored before hashes were kept match any request)."""
    found = (Appeal.objects.filter(created_by=actor, idempotency_key=key).order_by()
             .values_list("pk", flat=True)[:1])  # most keys are new: the id alone, the appeal only for a retry
    earlier = Appeal.objects.select_related("region").filter(pk=found[0]).first() if found else None
    return inputs.earlier_request(earlier, request_hash, lambda appeal: IdempotencyConflict(_(
        "This Idempotency-Key was already used for a different request (appeal %(number)s): use a new key for a new "
        "appeal.") % {"number": appeal.number}))


# --- attachments -----------------------------------------------------------------------------------


def may_attach(user, appeal) -> bool:
    """Those who take part in the case add documents: the enterprise, intake staff, dispatchers, handlers, and
    the members of the bodies that coordinate it (ladder, fallback task force)."""
    return (_is_own_enterprise(user, appeal) or user.has_role(*INTAKE) or user.has_role(Role.DISPATCHER)
            or _is_lead_handler(user, appeal) or _is_assisting_handler(user, appeal) or scopes.is_admin(user)
            or escalation.may_escalate(user, appeal) or escalation.handles_fallback(user, appeal))


@transaction.atomic
def attach(appeal: Appeal | int, actor, upload, kind: str = ""):
    """Add a file to an appeal the actor may see and work on; refused files change nothing. `kind` says what it
    is for (e.g. the files an escalation request needs)."""
    from .models import AppealAttachment

    pk = appeal.pk if isinstance(appeal, Appeal) else appeal
    appeal = scopes.appeals(actor).filter(pk=pk).first()
    if appeal is None:
        raise Appeal.DoesNotExist
    if not may_attach(actor, appeal):
        raise NotAllowed(_("Your role cannot add files to this appeal."))
    if (kind or "") not in AttachmentKind.values:
        raise TransitionError(_("The kind of file must be one of: %(values)s.") % {
            "values": ", ".join(v for v in AttachmentKind.values if v)})
    if appeal.status in (Status.WITHDRAWN, Status.MERGED):
        raise TransitionError(_("Cannot add files to an appeal that is %(status)s.") % {
            "status": appeal.get_status_display()})
    try:
        name = uploads.check(upload, uploads.DOCUMENT)
    except uploads.UploadError as error:
        raise TransitionError(str(error)) from None
    attachment = AppealAttachment(appeal=appeal, name=name, kind=kind or "",
                                  uploaded_by=actor if getattr(actor, "pk", None) else None)
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment
