"""The escalation ladder (提级协调), its meetings, and the fallback lane (兜底办): the rules.

The ladder (seed 003 lines 1106, 1180–1194, 1311–1333): level 1 the departments, platforms and streets; 2 the task
force (专班); 3 the weekly coordination meeting of the leader in charge (企业服务问题协调周例会); 4 the principal
leaders. A region's bodies (`org.Body`, from its preset) say which body decides an escalation to which level
(`Body.escalation_level`); the body of a case's current level coordinates it.

- `escalate` {reason, statement}: the lead unit's handler, or a member of the body coordinating the case now.
  It needs the form's fields (reason = 主办部门意见, statement = 前期协调情况) and the three required files uploaded
  to the case since it reached its level (handling statement, minutes and sign-in sheet of the coordination
  meeting, seed 003 line 1313) — the files are uploaded first (attachment `kind`), the event lists them.
- `decide_escalation` {approve, note, lead_department, assisting_departments}: the body of the next level — its
  members, or for a coordination meeting its chair. Approve: level + 1. Refuse: a second assignment (二次交办) to
  the lead and assisting units named, recorded as a `reassign` event after the decision (so every list of
  reassigned cases counts it), with a fresh time limit of the case's class when the region's
  `second_assignment_resets_deadline` is on (the default).

The fallback lane (seed 003 lines 1619–1655; "3135"): the classes `fallback_on_spot` 现场办 (1 working day),
`fallback_chief` 局长办 (3) and `fallback_deliberation` 研讨办 (5), given by `classify` with the reasons the case
qualifies (`FallbackReason`), by a dispatcher or a member of the fallback task force (兜底专班), whose members also
assign and handle those cases; `deliberate` records a 一事一议 deliberation (date, participants, conclusion).

The workflow (workflow.py) calls these functions; `pending_escalations(user)` is what a user's desk shows.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.accounts.models import Role, User
from qifu.lib import inputs
from qifu.org.models import Body, BodyMembership, Department

from . import errors
from .models import (
    ESCALATION_ATTACHMENTS,
    FALLBACK_CATEGORIES,
    AgendaItem,
    Appeal,
    AppealTask,
    AttachmentKind,
    Category,
    FallbackReason,
    Level,
    Meeting,
    Status,
)

TOP_LEVEL = max(Level.values)
PARTICIPANTS_MAX = 1000


# --- bodies and who acts for them -----------------------------------------------------------------------

def body_for_level(region, level: int) -> Body | None:
    """The body that decides escalations to `level` — and coordinates the cases at that level."""
    if level < 2:
        return None
    return Body.deciding_level(region, level)


def coordinating_body(appeal: Appeal) -> Body | None:
    return body_for_level(appeal.region, appeal.escalation_level)


def deciding_body(appeal: Appeal) -> Body | None:
    return body_for_level(appeal.region, appeal.escalation_level + 1)


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def may_decide_for(user, body: Body | None) -> bool:
    """A coordination meeting decides through its chair (the leader in charge); other bodies through their
    members (the task force, the principal leaders, a coordination group)."""
    if body is None or not _active(user):
        return False
    members = body.memberships.filter(user=user)
    if body.kind == Body.Kind.COORDINATION_MEETING:
        members = members.filter(role=BodyMembership.Role.CHAIR)
    return members.exists()


def deciders(body: Body):
    members = body.memberships.filter(user__is_active=True)
    if body.kind == Body.Kind.COORDINATION_MEETING:
        members = members.filter(role=BodyMembership.Role.CHAIR)
    return User.objects.filter(pk__in=members.values("user_id"))


def _is_lead_handler(user, appeal) -> bool:
    return user.has_role(Role.HANDLER) and user.department_id is not None and \
        user.department_id == appeal.lead_department_id


def may_escalate(user, appeal: Appeal) -> bool:
    """The lead unit's handler, or a member of the body coordinating the case now."""
    if not _active(user):
        return False
    if _is_lead_handler(user, appeal):
        return True
    body = coordinating_body(appeal)
    return body is not None and body.has_member(user)


def may_decide(user, appeal: Appeal) -> bool:
    return may_decide_for(user, deciding_body(appeal))


def can_escalate_now(appeal: Appeal) -> bool:
    """Shown as an action: nothing pending, a level above, and a body there to decide."""
    return (not appeal.escalation_pending and appeal.escalation_level < TOP_LEVEL
            and deciding_body(appeal) is not None)


def is_fallback_member(user, region_id) -> bool:
    return _active(user) and BodyMembership.objects.filter(
        user=user, body__region_id=region_id, body__kind=Body.Kind.FALLBACK_TASK_FORCE).exists()


def handles_fallback(user, appeal: Appeal) -> bool:
    """Members of the region's fallback task force assign and handle the fallback lane's cases."""
    return appeal.is_fallback and is_fallback_member(user, appeal.region_id)


def may_deliberate(user, appeal: Appeal) -> bool:
    return _is_lead_handler(user, appeal) or is_fallback_member(user, appeal.region_id)


# --- what each action records -----------------------------------------------------------------------------

def _required_text(payload: dict, key: str, what: str, max_length: int = inputs.TEXT_MAX) -> str:
    value = payload.get(key)
    problem = inputs.text_problem(value if isinstance(value, str) else "", max_length=max_length, required=True)
    if problem:
        raise errors.TransitionError(_("%(field)s: %(problem)s") % {"field": what, "problem": problem})
    return value.strip()


def level_label(level: int) -> str:
    return Level(level).label if level in Level.values else str(level)


def current_level_since(appeal: Appeal) -> datetime.datetime | None:
    """When the case's current escalation round began: the last decision on an escalation, if any."""
    last = appeal.events.filter(action="decide_escalation").order_by("-seq").first()
    return last.at if last else None


def escalation_files(appeal: Appeal) -> dict[str, object]:
    """The newest file of each required kind uploaded since the current round began (kind → attachment or None)."""
    since = current_level_since(appeal)
    files = appeal.attachments.filter(kind__in=ESCALATION_ATTACHMENTS)
    if since is not None:
        files = files.filter(uploaded_at__gte=since)
    newest: dict[str, object] = {kind: None for kind in ESCALATION_ATTACHMENTS}
    for attachment in files.order_by("uploaded_at", "id"):
        newest[attachment.kind] = attachment
    return newest


def escalate_data(appeal: Appeal, payload: dict) -> tuple[dict, str]:
    if appeal.escalation_pending:
        raise errors.TransitionError(_("An escalation of this appeal already awaits a decision."))
    if appeal.escalation_level >= TOP_LEVEL:
        raise errors.TransitionError(_("The case is already at the highest level of the ladder."))
    target = appeal.escalation_level + 1
    body = body_for_level(appeal.region, target)
    if body is None:
        raise errors.TransitionError(_("No body of this region decides escalations to level %(level)s.") % {
            "level": target})
    reason = _required_text(payload, "reason", _("opinion of the lead unit (reason)"))
    statement = _required_text(payload, "statement", _("coordination so far (statement)"))
    files = escalation_files(appeal)
    missing = [str(AttachmentKind(kind).label) for kind, found in files.items() if found is None]
    if missing:
        raise errors.TransitionError(_("Upload to the case first: %(missing)s.") % {"missing": "、".join(missing)})
    data = {"from_level": appeal.escalation_level, "to_level": target, "body": body.pk, "reason": reason,
            "statement": statement, "attachments": [files[kind].pk for kind in ESCALATION_ATTACHMENTS]}
    return data, reason


def _approve(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.lower() in ("true", "yes", "1")
    raise errors.TransitionError(_("Say whether the escalation is approved (approve: true or false)."))


def decision_data(appeal: Appeal, payload: dict) -> tuple[dict, str]:
    """The decision's event data and note. On approval the workflow may add a new lead unit; on refusal it
    appends the second assignment (a `reassign` event) to the units the body names."""
    if not appeal.escalation_pending:
        raise errors.TransitionError(_("No escalation of this appeal awaits a decision."))
    approve = _approve(payload.get("approve"))
    body = deciding_body(appeal)
    note = (payload.get("note") or "").strip()
    target = appeal.escalation_level + 1
    if approve:
        return {"approve": True, "from_level": appeal.escalation_level, "level": target, "body": body.pk,
                "note": note}, note
    if not note:
        raise errors.TransitionError(_("Say why the case does not qualify for escalation (note)."))
    return {"approve": False, "from_level": appeal.escalation_level, "requested_level": target, "body": body.pk,
            "note": note}, note


def fallback_reasons(appeal: Appeal, value) -> list[str]:
    """The reasons a case belongs in the fallback lane: at least one of `FallbackReason` (kept when the case is
    already in the lane and none are given)."""
    if value in (None, "", []) and appeal.fallback_reasons:
        return list(appeal.fallback_reasons)
    reasons = [value] if isinstance(value, str) else list(value or [])
    if not reasons or any(r not in FallbackReason.values for r in reasons):
        raise errors.TransitionError(_("Say why the case belongs in the fallback lane (fallback_reasons: "
                                          "%(values)s).") % {"values": ", ".join(FallbackReason.values)})
    return list(dict.fromkeys(reasons))


def deliberation_data(appeal: Appeal, payload: dict) -> dict:
    if appeal.category != Category.FALLBACK_DELIBERATION:
        raise errors.TransitionError(_("Deliberations (一事一议) are recorded on 研讨办 cases: classify the case "
                                         "as fallback: deliberation first."))
    held_on = payload.get("held_on")
    if isinstance(held_on, str):
        try:
            held_on = datetime.date.fromisoformat(held_on)
        except ValueError:
            held_on = None
    if isinstance(held_on, datetime.datetime):
        held_on = held_on.date()
    if not isinstance(held_on, datetime.date):
        raise errors.TransitionError(_("Give the date of the deliberation (held_on, YYYY-MM-DD)."))
    zone = appeal.region.rule("time_zone")
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(zone))
    received = timezone.localtime(appeal.received_at, zoneinfo.ZoneInfo(zone)).date()
    if not received <= held_on <= today:
        raise errors.TransitionError(_("The deliberation's date lies between the day the appeal was received "
                                         "(%(received)s) and today.") % {"received": received})
    participants = _required_text(payload, "participants", _("participants"), PARTICIPANTS_MAX)
    conclusion = _required_text(payload, "conclusion", _("conclusion"))
    return {"held_on": held_on.isoformat(), "participants": participants, "conclusion": conclusion}


# --- reading ----------------------------------------------------------------------------------------------

def decidable_bodies(user) -> list[Body]:
    """The ladder's bodies the user decides escalations for (each the deciding body of its level)."""
    if not _active(user):
        return []
    bodies = Body.objects.filter(memberships__user=user, escalation_level__isnull=False).distinct()
    return [b for b in bodies if body_for_level(b.region, b.escalation_level) == b and may_decide_for(user, b)]


def pending_escalations(user):
    """Appeals the user may see whose escalation awaits a decision by a body the user decides for."""
    condition = Q(pk__in=[])
    for body in decidable_bodies(user):
        condition |= Q(region_id=body.region_id, escalation_level=body.escalation_level - 1)
    return scopes.appeals(user).filter(condition, status=Status.ASSIGNED, escalation_requested_at__isnull=False) \
        .order_by("escalation_requested_at", "pk")


def ladder_bodies(user) -> list[Body]:
    """The ladder's bodies the user belongs to (chair or member): the meetings they take part in."""
    if not _active(user):
        return []
    qs = Body.objects.filter(escalation_level__isnull=False)
    if not scopes.is_admin(user):
        qs = qs.filter(memberships__user=user)
    return list(qs.select_related("region").distinct().order_by("region__code", "escalation_level"))


# The cases at the level first, then the requests to decide (oldest first); NULLs first on every database.
AGENDA_ORDER = (F("escalation_requested_at").asc(nulls_first=True), "pk")


def cases_at(body: Body):
    """The cases a body's meeting deals with: those at its level not yet settled (still being handled), and
    those whose escalation to its level awaits its decision."""
    level = body.escalation_level
    return Appeal.objects.filter(region_id=body.region_id, status=Status.ASSIGNED).filter(
        Q(escalation_level=level) | Q(escalation_level=level - 1, escalation_requested_at__isnull=False))


def escalation_history(appeal: Appeal) -> list:
    return list(appeal.events.filter(action__in=("escalate", "decide_escalation")).select_related("actor")
                .order_by("seq"))


# --- meetings ---------------------------------------------------------------------------------------------

def may_run_meeting(user, body: Body) -> bool:
    """Chairs and members of a ladder body prepare its meetings, keep the minutes and record decisions."""
    return body.escalation_level is not None and (scopes.is_admin(user) or body.has_member(user))


def _check_date(day, what: str) -> datetime.date:
    if not isinstance(day, datetime.date):
        raise errors.TransitionError(_("Give the %(what)s as a date (YYYY-MM-DD).") % {"what": what})
    if not datetime.date(2000, 1, 1) <= day <= timezone.localdate() + datetime.timedelta(days=366):
        raise errors.TransitionError(_("The %(what)s must lie between 2000 and a year from now.") % {"what": what})
    return day


@transaction.atomic
def schedule_meeting(body: Body, held_on: datetime.date, user, title: str = "") -> Meeting:
    """A meeting of `body` on `held_on`, its agenda the cases at its level not yet settled (in the order they
    were escalated)."""
    if not may_run_meeting(user, body):
        raise errors.NotAllowed(_("Only the members of %(body)s prepare its meetings.") % {"body": body.name})
    _check_date(held_on, _("date"))
    title = (title or "").strip() or f"{body.name}（{held_on:%Y-%m-%d}）"
    problem = inputs.text_problem(title, max_length=Meeting._meta.get_field("title").max_length)
    if problem:
        raise errors.TransitionError(problem)
    meeting = Meeting.objects.create(body=body, held_on=held_on, title=title,
                                     created_by=user if getattr(user, "pk", None) else None)
    cases = cases_at(body).order_by(*AGENDA_ORDER)
    AgendaItem.objects.bulk_create([AgendaItem(meeting=meeting, appeal=a, order=i) for i, a in enumerate(cases, 1)])
    from qifu.audit import trail

    for item in meeting.agenda.all():  # bulk_create sends no signals: each agenda line on the trail
        trail.record("create", item, None, trail.snapshot(item), actor=user if getattr(user, "pk", None) else None)
    return meeting


def record_minutes(meeting: Meeting, user, minutes: str) -> Meeting:
    if not may_run_meeting(user, meeting.body):
        raise errors.NotAllowed(_("Only the members of %(body)s keep its minutes.") % {"body": meeting.body.name})
    problem = inputs.text_problem(minutes, max_length=inputs.TEXT_MAX)
    if problem:
        raise errors.TransitionError(problem)
    meeting.minutes = minutes.strip()
    meeting.save()
    return meeting


@transaction.atomic
def decide_item(item: AgendaItem, user, *, conclusion: str, task: str = "", owner_department: str = "",
                owner_user: str = "", due_on: datetime.date | None = None) -> AppealTask | None:
    """The meeting's conclusion on one case and, when a task is given, the task with its owner (a unit's code
    or a user's username) and deadline — tracked on the case."""
    meeting = item.meeting
    if not may_run_meeting(user, meeting.body):
        raise errors.NotAllowed(_("Only the members of %(body)s record its decisions.") % {
            "body": meeting.body.name})
    problem = inputs.text_problem(conclusion, max_length=inputs.TEXT_MAX, required=True)
    if problem:
        raise errors.TransitionError(_("%(field)s: %(problem)s") % {"field": _("conclusion"), "problem": problem})
    item.conclusion = conclusion.strip()
    item.save()
    task = (task or "").strip()
    if not task:
        return None
    problem = inputs.text_problem(task, max_length=inputs.TEXT_MAX)
    if problem:
        raise errors.TransitionError(problem)
    region_id = meeting.body.region_id
    department = person = None
    if owner_department:
        department = Department.objects.filter(region_id=region_id, code=owner_department).first()
        if department is None:
            raise errors.TransitionError(_("There is no department with the code %(code)s in this region.") % {
                "code": owner_department})
    if owner_user:
        person = User.objects.filter(username=owner_user, is_active=True).first()
        if person is None or scopes.home_region_id(person) != region_id:
            raise errors.TransitionError(_("There is no active user %(name)s in this region.") % {"name": owner_user})
    if department is None and person is None:
        raise errors.TransitionError(_("Say who owns the task: a unit or a person."))
    if due_on is None:
        raise errors.TransitionError(_("Give the task a deadline."))
    _check_date(due_on, _("deadline"))
    if due_on < meeting.held_on:
        raise errors.TransitionError(_("The deadline cannot be before the meeting."))
    return AppealTask.objects.create(appeal=item.appeal, meeting=meeting, text=task, owner_department=department,
                                     owner_user=person, due_on=due_on,
                                     created_by=user if getattr(user, "pk", None) else None)


def may_complete_task(user, task: AppealTask) -> bool:
    if not _active(user) or task.done_at:
        return False
    if task.owner_user_id == user.pk:
        return True
    if task.owner_department_id and user.department_id == task.owner_department_id and user.has_role(Role.HANDLER):
        return True
    return task.meeting_id is not None and task.meeting.body.has_member(user)


def complete_task(task: AppealTask, user, note: str = "") -> AppealTask:
    if task.done_at:
        raise errors.TransitionError(_("This task is already done."))
    if not may_complete_task(user, task):
        raise errors.NotAllowed(_("Only the task's owner (or the meeting's body) marks it done."))
    problem = inputs.text_problem(note or "", max_length=inputs.TEXT_MAX)
    if problem:
        raise errors.TransitionError(problem)
    task.done_at, task.done_by, task.done_note = timezone.now(), user, (note or "").strip()
    task.save()
    return task
