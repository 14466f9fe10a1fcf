"""What supervision does to a case: records of fired timers, supervision slips, follow-ups, leader instructions;
who may do it; and the five abnormal lists (Huzhou's 双闭环, seed 001: 预警件, 不满意件, 超期办结件, 二次交办件,
领导批示件).

Who may act (seed 003 lines 1341–1361): the task force (专班) chases, its inspection group inspects, and it issues
the slips (督办单) — so supervisors and members of the region's task force and its groups; the lead unit's handlers
answer a slip; leaders (the leader in charge, the principal leaders) give instructions (领导批示).
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu.accounts import scopes
from qifu.accounts.models import Role, User
from qifu.appeals.errors import NotAllowed, TransitionError
from qifu.appeals.models import CLOCK_STATUSES, DISSATISFIED_STARS, Appeal, AppealEvent, Rating, Status
from qifu.lib import counters, inputs
from qifu.org.models import Body, Department
from qifu.workcal import workdays

from . import people
from .models import Kind, LeaderInstruction, Record, Slip, SlipNumber, Timer

# --- who may do what -----------------------------------------------------------------------------------

TASK_FORCE_KINDS = (Body.Kind.TASK_FORCE,)


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def in_task_force(user, region_id) -> bool:
    """A member of the region's task force or of one of its groups (e.g. the inspection group)."""
    return _active(user) and user.body_memberships.filter(
        Q(body__kind=Body.Kind.TASK_FORCE) | Q(body__parent__kind=Body.Kind.TASK_FORCE),
        body__region_id=region_id).exists()


def may_supervise(user, appeal_or_region) -> bool:
    """Chase, inspect, issue slips, record follow-ups: supervisors and the task force."""
    if not _active(user):
        return False
    region_id = getattr(appeal_or_region, "region_id", None) or getattr(appeal_or_region, "pk", None)
    return user.has_role(Role.SUPERVISOR, Role.ADMIN) or in_task_force(user, region_id)


def may_answer(user, slip: Slip) -> bool:
    return _active(user) and (scopes.is_admin(user) or (
        user.has_role(Role.HANDLER) and user.department_id is not None
        and user.department_id == slip.lead_department_id))


def may_instruct(user, appeal) -> bool:
    """Leaders: the leader role, the chairs of the coordination meetings and the principal leaders."""
    if not _active(user):
        return False
    return user.has_role(Role.LEADER) or user.body_memberships.filter(body__region_id=appeal.region_id).filter(
        Q(body__kind=Body.Kind.PRINCIPAL_LEADERS)
        | Q(body__kind=Body.Kind.COORDINATION_MEETING, role="chair")).exists()


def _visible(user, appeal_id) -> Appeal:
    appeal = scopes.appeals(user).filter(pk=appeal_id).first()
    if appeal is None:
        raise Appeal.DoesNotExist
    return Appeal.objects.select_for_update(of=("self",)).select_related("region", "lead_department").get(pk=appeal.pk)


def _notify(users, event: str, subject: str, body: str, appeal: Appeal) -> None:
    users = list(users)
    if users:
        from qifu.notify import notify

        notify(users, event, subject, body, url=f"/appeals/{appeal.pk}/")


def _local(value, appeal) -> str:
    return value.astimezone(ZoneInfo(appeal.region.rule("time_zone"))).strftime("%Y-%m-%d %H:%M")


# --- timers that fired --------------------------------------------------------------------------------

def fire(appeal: Appeal, timer: Timer) -> Record:
    """A timer fired on the case (called by the engine, once per timer, inside its transaction)."""
    if timer.kind == Kind.INSPECTION:
        users = people.inspectors(appeal.region)
    else:
        users = people.lead_unit_users(appeal)
    record = Record.objects.create(appeal=appeal, kind=timer.kind, at=timer.fire_at, fired_at=timer.fired_at,
                                   deadline=timer.deadline, lead_department_id=appeal.lead_department_id,
                                   told=people.told_list(users), timer=timer)
    values = {"n": appeal.number, "due": _local(appeal.due_at, appeal), "title": appeal.title,
              "unit": appeal.lead_department.name if appeal.lead_department_id else "—"}
    if timer.kind == Kind.WARNING:
        subject = _("Warning: appeal %(n)s is due %(due)s") % values
        body = _("“%(title)s” must be handled by %(due)s.") % values
    elif timer.kind == Kind.CHASE:
        subject = _("Chase: appeal %(n)s is not handled (due %(due)s)") % values
        body = _("The task force chases “%(title)s”: handle it and reply to the enterprise now.") % values
    else:
        subject = _("Inspection: appeal %(n)s (%(unit)s) is not handled") % values
        body = _("Find out from %(unit)s, by phone or on site, why “%(title)s” is not handled (due %(due)s).") % values
    _notify(users, f"supervision.{timer.kind}", subject, body, appeal)
    return record  # audited as it was saved (the model is tracked)


@transaction.atomic
def follow_up(record_id: int, actor, note: str) -> Record:
    """The task force records what it did on a chase or an inspection (the call made, the visit paid)."""
    record = Record.objects.select_for_update().filter(pk=record_id, kind__in=(Kind.CHASE, Kind.INSPECTION)).first()
    if record is None or not scopes.appeals(actor).filter(pk=record.appeal_id).exists():
        raise Record.DoesNotExist
    if not may_supervise(actor, record.appeal):
        raise NotAllowed(_("Only supervisors and the task force follow up chases and inspections."))
    if record.done_at:
        raise TransitionError(_("This has already been followed up."))
    problem = inputs.text_problem(note, max_length=inputs.TEXT_MAX, required=True)
    if problem:
        raise TransitionError(_("%(field)s: %(problem)s") % {"field": _("follow-up"), "problem": problem})
    record.done_at, record.done_by, record.done_note = timezone.now(), actor, note.strip()
    record.save(update_fields=["done_at", "done_by", "done_note"])  # audited (the model is tracked)
    return record


# --- supervision slips (督办单) ------------------------------------------------------------------------

SLIP_TEXT_FIELDS = ("task", "requirements", "cc", "contact_name", "contact_phone", "remarks")


def _slip_number(region, year: int) -> str:
    last = counters.take_next(SlipNumber, region=region, year=year)
    prefix = region.rule("appeal_number_prefix") or region.code[:2].upper()
    return f"{prefix}-DB-{year}-{last:04d}"


def default_reply_due(appeal: Appeal, today: datetime.date | None = None) -> datetime.date:
    return workdays.shift_workdays(today or timezone.localdate(), int(appeal.region.rule("slip_reply_workdays")))


def _units(appeal: Appeal, lead_code, assisting_codes):
    units = Department.objects.filter(region=appeal.region)
    lead = appeal.lead_department
    if lead_code:
        lead = units.filter(code=lead_code).first()
        if lead is None:
            raise TransitionError(_("There is no unit with the code %(code)s in this region.") % {"code": lead_code})
    if lead is None:
        raise TransitionError(_("Say which unit leads (lead_department): the case has no lead unit yet."))
    if assisting_codes is None:
        assisting = [d for d in appeal.assisting_departments.all() if d.pk != lead.pk]
    else:
        assisting = []
        for code in dict.fromkeys(assisting_codes):
            unit = units.filter(code=code).first()
            if unit is None:
                raise TransitionError(_("There is no unit with the code %(code)s in this region.") % {"code": code})
            if unit.pk != lead.pk:
                assisting.append(unit)
    return lead, assisting


@transaction.atomic
def issue_slip(appeal_id: int, actor, *, task: str, requirements: str, reply_due: datetime.date | None = None,
               cc: str = "", contact_name: str = "", contact_phone: str = "", remarks: str = "",
               lead_department: str | None = None, assisting_departments: list[str] | None = None,
               at: datetime.datetime | None = None) -> Slip:
    """A supervisor issues a slip on a slow case; the lead unit (and the assisting units) are told."""
    appeal = _visible(actor, appeal_id)
    if not may_supervise(actor, appeal):
        raise NotAllowed(_("Only supervisors and the task force issue supervision slips."))
    if appeal.status not in CLOCK_STATUSES:
        raise TransitionError(_("A supervision slip is issued on a case still being handled, not on one that is "
                                "%(status)s.") % {"status": appeal.get_status_display()})
    values = {"task": task, "requirements": requirements, "cc": cc, "contact_name": contact_name,
              "contact_phone": contact_phone, "remarks": remarks}
    for name in SLIP_TEXT_FIELDS:
        model_field = Slip._meta.get_field(name)
        problem = inputs.text_problem(values[name], max_length=model_field.max_length or inputs.TEXT_MAX,
                                      required=name in ("task", "requirements"))
        if problem:
            raise TransitionError(_("%(field)s: %(problem)s") % {"field": model_field.verbose_name, "problem": problem})
        values[name] = (values[name] or "").strip()
    now = at or timezone.now()
    today = timezone.localtime(now, ZoneInfo(appeal.region.rule("time_zone"))).date()
    reply_due = reply_due or default_reply_due(appeal, today)
    if reply_due < today:
        raise TransitionError(_("The answer cannot be due before the slip is issued."))
    if reply_due > today + datetime.timedelta(days=366):
        raise TransitionError(_("The answer must be due within a year."))
    lead, assisting = _units(appeal, lead_department, assisting_departments)
    slip = Slip.objects.create(appeal=appeal, number=_slip_number(appeal.region, today.year), issued_on=today,
                               lead_department=lead, reply_due=reply_due, issued_by=actor, issued_at=now, **values)
    slip.assisting_departments.set(assisting)
    users = User.objects.filter(department__in=[lead, *assisting], is_active=True,
                                role_grants__role=Role.HANDLER).distinct()
    Record.objects.create(appeal=appeal, kind=Kind.SLIP, at=now, fired_at=now, deadline=appeal.due_at,
                          lead_department=lead, told=people.told_list(users), slip=slip)
    _notify(users, "supervision.slip", _("Supervision slip %(number)s on appeal %(n)s") % {
        "number": slip.number, "n": appeal.number},
        _("%(task)s — answer by %(due)s.") % {"task": slip.task, "due": slip.reply_due.isoformat()}, appeal)
    return slip


@transaction.atomic
def answer_slip(slip_id: int, actor, answer: str) -> Slip:
    slip = Slip.objects.select_for_update().filter(pk=slip_id).first()
    if slip is None or not scopes.appeals(actor).filter(pk=slip.appeal_id).exists():
        raise Slip.DoesNotExist
    if not may_answer(actor, slip):
        raise NotAllowed(_("The lead unit answers a supervision slip."))
    if slip.answered_at:
        raise TransitionError(_("The slip %(number)s has been answered already.") % {"number": slip.number})
    problem = inputs.text_problem(answer, max_length=inputs.TEXT_MAX, required=True)
    if problem:
        raise TransitionError(_("%(field)s: %(problem)s") % {"field": _("answer"), "problem": problem})
    slip.answer, slip.answered_at, slip.answered_by = answer.strip(), timezone.now(), actor
    slip.save(update_fields=["answer", "answered_at", "answered_by"])
    if slip.issued_by_id:
        _notify(User.objects.filter(pk=slip.issued_by_id), "supervision.slip_answered",
                _("Supervision slip %(number)s answered") % {"number": slip.number}, slip.answer, slip.appeal)
    return slip


# --- leader instructions (领导批示) --------------------------------------------------------------------

@transaction.atomic
def instruct(appeal_id: int, actor, text: str) -> LeaderInstruction:
    appeal = _visible(actor, appeal_id)
    if not may_instruct(actor, appeal):
        raise NotAllowed(_("Only leaders give instructions on a case."))
    if appeal.status in (Status.WITHDRAWN, Status.MERGED):
        raise TransitionError(_("Cannot instruct on an appeal that is %(status)s.") % {
            "status": appeal.get_status_display()})
    problem = inputs.text_problem(text, max_length=inputs.TEXT_MAX, required=True)
    if problem:
        raise TransitionError(_("%(field)s: %(problem)s") % {"field": _("instruction"), "problem": problem})
    instruction = LeaderInstruction.objects.create(appeal=appeal, text=text.strip(), leader=actor)
    users = people.lead_unit_users(appeal) | people.body_members(appeal.region,
                                                                                kind=Body.Kind.TASK_FORCE)
    _notify(users.distinct(), "supervision.instruction",
            _("Leader instruction on appeal %(n)s") % {"n": appeal.number}, instruction.text, appeal)
    return instruction


# --- the five abnormal lists ---------------------------------------------------------------------------

ABNORMAL = {
    "warning": gettext_lazy("warned"),
    "dissatisfied": gettext_lazy("dissatisfied"),
    "closed_overdue": gettext_lazy("closed overdue"),
    "reassigned": gettext_lazy("second assignments"),
    "leader_instructed": gettext_lazy("leader-instructed"),
}


def abnormal(qs, name: str):
    """The appeals of `qs` on the abnormal list `name`:

    - warning (预警件): a warning fired on the current deadline and the case is still not handled;
    - dissatisfied (不满意件): the enterprise was not satisfied (sent it back, or rated it 1 or 2 stars: 好差评's
      不满意 and 非常不满意);
    - closed_overdue (超期办结件): closed, but handled after its deadline;
    - reassigned (二次交办件): assigned a second time (a reassignment, or a refused escalation);
    - leader_instructed (领导批示件): a leader gave an instruction on it.
    """
    if name == "warning":
        warned = Record.objects.filter(appeal=OuterRef("pk"), kind=Kind.WARNING, deadline=OuterRef("due_at"))
        return qs.filter(Exists(warned), status__in=CLOCK_STATUSES)
    if name == "dissatisfied":
        # EXISTS, not IN: the list's first page walks the appeals in order and probes the index of low ratings
        # (appeals_rating_low) for each; IN read all 80,000 of them into a hash first, at a million appeals
        low = Rating.objects.filter(appeal=OuterRef("pk"), stars__isnull=False, stars__lte=DISSATISFIED_STARS)
        return qs.filter(Q(dissatisfied_count__gt=0) | Exists(low))
    if name == "closed_overdue":
        return qs.filter(status=Status.CLOSED, handled_at__isnull=False, due_at__isnull=False,
                         handled_at__gt=F("due_at"))
    if name == "reassigned":
        return qs.filter(pk__in=AppealEvent.objects.filter(action="reassign").values("appeal_id"))
    if name == "leader_instructed":
        return qs.filter(Exists(LeaderInstruction.objects.filter(appeal=OuterRef("pk"))))
    raise TransitionError(_("abnormal must be one of: %(values)s.") % {"values": ", ".join(ABNORMAL)})


def counts_by_unit(qs) -> list[dict]:
    """[{"unit": name or None, "count": n}] largest first."""
    rows = qs.order_by().values("lead_department__name").annotate(count=Count("pk", distinct=True))
    return sorted(({"unit": r["lead_department__name"], "count": r["count"]} for r in rows),
                  key=lambda r: (-r["count"], r["unit"] or ""))


# --- what a case shows ---------------------------------------------------------------------------------

def record_dict(record: Record, zone) -> dict:
    return {"id": record.pk, "kind": record.kind, "at": record.at.astimezone(zone), "fired_at": record.fired_at.astimezone(zone),
            "deadline": record.deadline.astimezone(zone) if record.deadline else None,
            "lead_department": record.lead_department.code if record.lead_department_id else None,
            "told": [t.get("name", "") for t in record.told or []],
            "slip": record.slip.number if record.slip_id else None,
            "followed_up_at": record.done_at.astimezone(zone) if record.done_at else None,
            "follow_up": record.done_note}


def of_appeal(appeal: Appeal) -> list[dict]:
    zone = ZoneInfo(appeal.region.rule("time_zone"))
    return [record_dict(r, zone) for r in
            appeal.supervision.select_related("lead_department", "slip").order_by("at", "id")]


def slip_dict(slip: Slip) -> dict:
    return {"id": slip.pk, "number": slip.number, "issued_on": slip.issued_on, "task": slip.task,
            "lead_department": slip.lead_department.code if slip.lead_department_id else None,
            "assisting_departments": [d.code for d in slip.assisting_departments.all()],
            "requirements": slip.requirements, "reply_due": slip.reply_due, "state": slip.state(),
            "answer": slip.answer, "answered_at": slip.answered_at}


def instruction_dict(instruction: LeaderInstruction) -> dict:
    leader = instruction.leader
    return {"text": instruction.text, "leader": leader.display_name or leader.username, "at": instruction.at}
