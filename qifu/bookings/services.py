"""Appointments and queue numbers: who may see and do what, slot generation, booking, cancellation, check-in and
no-show, queue numbers. Pages (`.views`) and the API (`.api`) both go through here.

No double booking, whatever the number of requests at once: a place is taken by one conditional UPDATE
(`booked = booked + 1 WHERE booked < capacity`) — on PostgreSQL a second writer waits for the first's row lock and
re-checks the condition, so the last place goes to exactly one of them — and a CHECK constraint (`booked <=
capacity`) refuses anything that would get past it. One person (phone) holds one active booking per slot (partial
UNIQUE). Every state change is in the audit trail."""

from __future__ import annotations

import datetime
import zoneinfo

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu import jobs
from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.audit import trail
from qifu.lib import counters, inputs
from qifu.workcal import workdays

from . import states
from .timers import planned
from .models import Booking, QueueCounter, QueueTicket, Slot, SlotPlan, hours_problem

SUBJECT = states.SUBJECT  # the timer engine's name of a booking (`.timers`)

# Staff who work with appointments at a node: see the node's (a station's staff) or the region's bookings, book for
# a person or an enterprise, check visitors in, mark no-shows and call queue numbers.
DESK_ROLES = (Role.FRONT_DESK, Role.DISPATCHER, Role.SPECIALIST, Role.CHIEF_SPECIALIST)
# Staff who only look on (the bookings of the region or their node, no changes).
WATCH_ROLES = (Role.SUPERVISOR, Role.LEADER)



class BookingError(Exception):
    """A refused request: `status_code` 400 (bad input), 403, 409 (full, already booked, not in that state) or
    422 (an Idempotency-Key reused for another request); the message says why, in the user's language."""

    status_code = 400

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        if status_code is not None:
            self.status_code = status_code


class SlotFull(BookingError):
    status_code = 409


def full_message() -> str:
    return _("This time slot is fully booked: no place is left. Please choose another time.")


# --- who may do what ---------------------------------------------------------------------------------------------

def may_book(user) -> bool:
    """Enterprise users book for their enterprise; desk staff for a person or an enterprise."""
    if not scopes.active(user):
        return False
    if scopes.is_admin(user) or user.has_role(*DESK_ROLES):
        return True
    return scopes.enterprise_only(user) and bool(user.enterprise_id)


def may_work_desk(user) -> bool:
    """Check-in, no-show, calling numbers, booking for others."""
    return scopes.active(user) and (scopes.is_admin(user) or user.has_role(*DESK_ROLES))


def may_watch(user) -> bool:
    return may_work_desk(user) or (scopes.active(user) and user.has_role(*WATCH_ROLES))


def bookings(user):
    """The bookings `user` may see: an enterprise its own (its enterprise's, or booked by the user); desk staff and
    supervisors their region's (a station's staff: their node's); other staff those they booked themselves."""
    qs = Booking.objects.select_related("slot", "slot__node", "slot__window", "slot__section", "slot__service",
                                        "enterprise", "booked_by")
    if scopes.is_admin(user):
        return qs
    if not scopes.active(user) or not user.roles:
        return qs.none()
    if scopes.enterprise_only(user):
        mine = Q(booked_by=user)
        if user.enterprise_id:
            mine |= Q(enterprise_id=user.enterprise_id)
        return qs.filter(mine)
    if not may_watch(user):
        return qs.filter(booked_by=user)
    qs = qs.filter(region_id=scopes.home_region_id(user))
    if scopes.is_station_staff(user):
        return qs.filter(Q(slot__node_id=user.node_id) | Q(booked_by=user))
    return qs


def nodes(user):
    return scopes.nodes(user).order_by("kind", "code")


def targets(node) -> dict[str, list]:
    """What can be booked at `node`: the windows, sections and service items that have slots from today on."""
    from qifu.catalog.models import ServiceItem
    from qifu.org.models import Section, Window

    upcoming = Slot.objects.filter(node=node, start__gte=timezone.now())
    return {
        "window": list(Window.objects.filter(pk__in=upcoming.values("window_id")).order_by("sort_order", "code")),
        "section": list(Section.objects.filter(pk__in=upcoming.values("section_id")).order_by("sort_order", "code")),
        "service": list(ServiceItem.objects.filter(pk__in=upcoming.values("service_id")).order_by("seq", "code")),
    }


def resolve(user, node_code: str, kind: str, code: str):
    """(node, target) from codes, within what `user` may see; Http404 for an unknown one."""
    from qifu.catalog.models import ServiceItem
    from qifu.org.models import Section, Window

    node = nodes(user).filter(code=node_code).first()
    if node is None:
        raise Http404
    model = {"window": Window, "section": Section, "service": ServiceItem}[kind]
    target = model.objects.filter(region_id=node.region_id, code=code).first()
    if target is None or (kind == "window" and target.node_id != node.pk):
        raise Http404
    return node, target


def slots_of(node, kind: str, target):
    return Slot.objects.filter(node=node, **{kind: target}).select_related("node", "window", "section", "service")


def find_slot(node, kind: str, target, start: datetime.datetime) -> Slot:
    slot = slots_of(node, kind, target).filter(start=start).first()
    if slot is None:
        raise Http404
    return slot


# --- input --------------------------------------------------------------------------------------------------------

def clean_person(name: str | None, phone: str | None) -> tuple[str, str]:
    """The visitor's name and phone, or BookingError (400) saying what is wrong."""
    name = (name or "").strip()
    if not name:
        raise BookingError(_("Give the visitor's name."))
    problem = inputs.text_problem(name, max_length=64)
    if problem:
        raise BookingError(problem)
    try:
        return name, inputs.phone(phone)
    except inputs.InputError as error:
        raise BookingError(str(error)) from None


def clean_start(start: datetime.datetime, now: datetime.datetime | None = None) -> datetime.datetime:
    if start is None or timezone.is_naive(start):
        raise BookingError(_("Give the time zone, e.g. 2026-11-20T10:00:00+08:00."))
    if start <= (now or timezone.now()):
        raise BookingError(_("This time is in the past: choose a time slot that has not begun."))
    return start


def enterprise_for(user, uscc: str | None):
    """An enterprise user books for its own enterprise; staff may name one they can see (by its credit code)."""
    if scopes.enterprise_only(user):
        if not user.enterprise_id:
            raise BookingError(_("Your account belongs to no enterprise."), 403)
        return user.enterprise
    if not uscc:
        return None
    enterprise = scopes.enterprises(user).filter(uscc=uscc.strip().upper()).first()
    if enterprise is None:
        raise BookingError(_("No enterprise with this unified social credit code is known to you."))
    return enterprise


# --- booking ------------------------------------------------------------------------------------------------------

def earlier_for_key(actor, key: str, digest: str) -> Booking | None:
    if not key:
        return None
    earlier = Booking.objects.filter(booked_by=actor, idempotency_key=key).select_related("slot").first()
    return inputs.earlier_request(earlier, digest, lambda booking: BookingError(_(
        "This Idempotency-Key was already used for a different request: use a new key for a new appointment."), 422))


def book(actor, slot: Slot, *, name: str, phone: str, enterprise=None, note: str = "", key: str = "",
         digest: str = "") -> tuple[Booking, bool]:
    """Take a place in `slot` for the person. Returns (booking, created) — created False for a retry with the same
    Idempotency-Key. SlotFull (409) when no place is left; BookingError 409 when this phone already holds one."""
    if not may_book(actor):
        raise BookingError(_("Your role cannot book appointments."), 403)
    earlier = earlier_for_key(actor, key, digest)
    if earlier is not None:
        return earlier, False
    name, phone = clean_person(name, phone)
    try:
        return _book(actor, slot, name, phone, enterprise, note, key, digest), True
    except IntegrityError:  # a parallel request: the same key (a retry), or the same person in the same slot
        earlier = earlier_for_key(actor, key, digest)
        if earlier is not None:
            return earlier, False
        raise BookingError(_("This person already has an appointment in this time slot."), 409) from None


def _book(actor, slot, name, phone, enterprise, note, key, digest) -> Booking:
    now = timezone.now()
    if slot.start <= now:
        raise BookingError(_("This time is in the past: choose a time slot that has not begun."))
    with jobs.sqlite_serialized(), transaction.atomic():
        if Booking.objects.filter(slot=slot, phone=phone, status__in=Booking.ACTIVE).exists():
            raise BookingError(_("This person already has an appointment in this time slot."), 409)
        # The place: one conditional UPDATE. Concurrent bookings of the last place wait for each other's row lock;
        # the condition is checked again after it, so exactly one of them gets it.
        if Slot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1) != 1:
            raise SlotFull(full_message())
        booking = Booking.objects.create(region_id=slot.region_id, slot=slot, enterprise=enterprise, name=name,
                                         phone=phone, note=note[:200], booked_by=actor, created_at=now,
                                         idempotency_key=key, idempotency_hash=digest)
        trail.record("create", booking, None, trail.snapshot(booking, exclude=set()), note="booked")
        from qifu.supervision.models import Timer

        Timer.objects.bulk_create(planned(booking, now), ignore_conflicts=True)
    slot.refresh_from_db(fields=["booked"])
    return booking


def _locked(booking_id: int) -> Booking:
    return Booking.objects.select_for_update(of=("self",)).select_related("slot").get(pk=booking_id)


def may_cancel(user, booking: Booking) -> bool:
    if booking.booked_by_id == user.pk or (booking.enterprise_id and booking.enterprise_id == user.enterprise_id):
        return True
    return may_work_desk(user) and bookings(user).filter(pk=booking.pk).exists()


def cancel(actor, booking: Booking, reason: str = "") -> Booking:
    """Cancel a booking that has not begun: its place is free again and its reminder is cancelled. Cancelling a
    cancelled booking changes nothing."""
    if not may_cancel(actor, booking):
        raise BookingError(_("You may not cancel this appointment."), 403)
    with jobs.sqlite_serialized(), transaction.atomic():
        booking = _locked(booking.pk)
        if booking.status == Booking.Status.CANCELLED:
            return booking
        if booking.status != Booking.Status.BOOKED:
            raise BookingError(_("Only an appointment that is still booked can be cancelled."), 409)
        if booking.slot.start <= timezone.now():
            raise BookingError(_("The appointment has begun: it can no longer be cancelled."), 409)
        states.transition(booking, Booking.Status.CANCELLED, actor, reason[:200] or "cancelled",
                    cancelled_at=timezone.now())
        Slot.objects.filter(pk=booking.slot_id, booked__gt=0).update(booked=F("booked") - 1)
    return booking


def mark(actor, booking: Booking, outcome: str) -> Booking:
    """Desk staff check a visitor in (attended) or mark a no-show (only once the slot has begun)."""
    if not (may_work_desk(actor) and bookings(actor).filter(pk=booking.pk).exists()):
        raise BookingError(_("You may not do this."), 403)
    if outcome not in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW):
        raise BookingError(_("Unknown action."))
    with jobs.sqlite_serialized(), transaction.atomic():
        booking = _locked(booking.pk)
        if booking.status == outcome:
            return booking
        if booking.status != Booking.Status.BOOKED:
            raise BookingError(_("Only an appointment that is still booked can be marked."), 409)
        now = timezone.now()
        if outcome == Booking.Status.NO_SHOW:
            if booking.slot.start > now:
                raise BookingError(_("The time slot has not begun yet: a no-show can be marked only after its "
                                     "start."), 409)
            return states.transition(booking, outcome, actor, "no-show", no_show_at=now, marked_by=actor)
        return states.transition(booking, outcome, actor, "checked in", attended_at=now, marked_by=actor)


# --- slots --------------------------------------------------------------------------------------------------------

def _at(day: datetime.date, hhmm: str, zone) -> datetime.datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)


def generate(region, days: int | None = None, first: datetime.date | None = None, plans=None) -> int:
    """Create the slots of the region's active plans on the working days from `first` (default today) for `days`
    days (default: the region's `bookable_days`). Slots that exist are left alone (UNIQUE per node, target and
    start), so running it every day only adds the new day. Returns how many slots were created."""
    rule = region.rule("bookings")
    zone = zoneinfo.ZoneInfo(region.rule("time_zone"))
    days = rule["bookable_days"] if days is None else days
    first = first or timezone.localdate(timezone=zone)
    plans = list((plans if plans is not None else SlotPlan.objects.filter(region=region)).filter(active=True))
    now = timezone.now()
    slots = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        if not workdays.is_workday(day):
            continue
        for plan in plans:
            if plan.weekdays and day.isoweekday() not in plan.weekdays:
                continue
            length = datetime.timedelta(minutes=plan.slot_minutes or rule["slot_minutes"])
            hours = plan.hours or rule["hours"]
            problem = hours_problem(hours)
            if problem or length.total_seconds() < 300:
                raise BookingError(_("The slot plan of %(target)s is not valid: %(problem)s") % {
                    "target": plan.target, "problem": problem or _("A slot lasts 5 to 480 minutes.")})
            for begin, finish in hours:
                start, close = _at(day, begin, zone), _at(day, finish, zone)
                while start + length <= close:
                    if start > now:  # today's hours already begun are not offered
                        slots.append(Slot(region_id=region.pk, node_id=plan.node_id, window_id=plan.window_id,
                                          section_id=plan.section_id, service_id=plan.service_id, start=start,
                                          end=start + length, capacity=plan.capacity or rule["capacity"]))
                    start += length
    before = Slot.objects.filter(region=region).count()
    with jobs.sqlite_serialized(), transaction.atomic():
        Slot.objects.bulk_create(slots, ignore_conflicts=True, batch_size=500)
    return Slot.objects.filter(region=region).count() - before


def free_slots(node, kind: str, target, day: datetime.date):
    """The slots of a target on a local day that have not begun, with their places left."""
    from qifu.lib.filters import local_midnight

    zone = zoneinfo.ZoneInfo(node.region.rule("time_zone"))
    start = local_midnight(day, zone)
    return (slots_of(node, kind, target).filter(start__gte=max(start, timezone.now()),
                                                start__lt=start + datetime.timedelta(days=1)).order_by("start"))


# --- queue numbers --------------------------------------------------------------------------------------------------

def take_ticket(actor, window, booking: Booking | None = None) -> QueueTicket:
    """The next number at `window` today (numbers run from 1 each day; UNIQUE per node, window and day)."""
    day = timezone.localdate()
    with jobs.sqlite_serialized(), transaction.atomic():
        number = counters.take_next(QueueCounter, window=window, day=day)
        ticket = QueueTicket.objects.create(region_id=window.region_id, node_id=window.node_id, window=window, day=day,
                                            number=number, booking=booking,
                                            taken_by=actor if scopes.active(actor) else None)
        trail.record("create", ticket, None, trail.snapshot(ticket, exclude=set()), note="queue number taken")
    return ticket


def waiting_before(ticket: QueueTicket) -> int:
    return QueueTicket.objects.filter(window_id=ticket.window_id, day=ticket.day, status=QueueTicket.Status.WAITING,
                                      number__lt=ticket.number).count()


def call_next(actor, window) -> QueueTicket | None:
    """Call the lowest waiting number of today at `window` (two callers at once never call the same one)."""
    if not may_work_desk(actor):
        raise BookingError(_("You may not do this."), 403)
    day = timezone.localdate()
    while True:
        with jobs.sqlite_serialized(), transaction.atomic():
            ticket = (QueueTicket.objects.filter(window=window, day=day, status=QueueTicket.Status.WAITING)
                      .order_by("number").first())
            if ticket is None:
                return None
            now = timezone.now()
            claimed = QueueTicket.objects.filter(pk=ticket.pk, status=QueueTicket.Status.WAITING).update(
                status=QueueTicket.Status.CALLED, called_at=now, called_by=actor)
            if claimed:
                ticket.status, ticket.called_at, ticket.called_by = QueueTicket.Status.CALLED, now, actor
                trail.record("transition", ticket, {"status": "waiting"}, {"status": "called"}, note="called",
                             actor=actor)
                return ticket


def board(node, day: datetime.date | None = None) -> list[dict]:
    """Per window of `node`: how many wait today, and the number called last."""
    day = day or timezone.localdate()
    counts = {row["window_id"]: row for row in QueueTicket.objects.filter(node=node, day=day).values("window_id")
              .annotate(waiting=Count("pk", filter=Q(status=QueueTicket.Status.WAITING)),
                        called=Max("number", filter=Q(status=QueueTicket.Status.CALLED)))}
    rows = []
    for window in node.windows.order_by("sort_order", "code"):
        row = counts.get(window.pk, {})
        rows.append({"window": window, "waiting": row.get("waiting", 0), "called": row.get("called")})
    return rows
