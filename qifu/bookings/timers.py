"""The bookings' timers (a source of the supervision timer engine, `qifu.supervision.timers`, like
`qifu.catalog.listing_timers`).

Each booked appointment has two timers:
- `reminder` at the slot's start less the region's `bookings.reminder_minutes` (none when the booking was made after
  that moment): the visitor is reminded by SMS (to the booking's phone, through the notifications outbox) and the
  account that booked it in its inbox;
- `no_show` at the slot's end plus `bookings.no_show_grace_minutes`: a booking still neither checked in nor cancelled
  is marked no-show.
Cancelling, checking in or marking the booking cancels its pending timers (and `judge` cancels any left: the engine
asks before firing). A timer fires once, whatever the number of sweeps at once (the engine's conditional UPDATE).
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.supervision import timers as engine
from qifu.supervision.models import Timer

from . import states
from .models import Booking

SUBJECT = states.SUBJECT
REMINDER, NO_SHOW = "reminder", "no_show"


def _rule(booking: Booking) -> dict:
    return booking.region.rule("bookings")


def planned(booking: Booking, now: datetime.datetime) -> list[Timer]:
    """The unsaved timers of a booked appointment."""
    rule = _rule(booking)
    slot = booking.slot
    found = []
    remind_at = slot.start - datetime.timedelta(minutes=rule["reminder_minutes"])
    if remind_at > booking.created_at:
        found.append(Timer(subject=SUBJECT, subject_id=booking.pk, region_id=booking.region_id, kind=REMINDER,
                           deadline=slot.start, fire_at=remind_at))
    found.append(Timer(subject=SUBJECT, subject_id=booking.pk, region_id=booking.region_id, kind=NO_SHOW,
                       deadline=slot.end, fire_at=slot.end + datetime.timedelta(minutes=rule["no_show_grace_minutes"])))
    return found


class BookingTimers(engine.ModelSource):
    subject = SUBJECT
    model = Booking
    related = ("slot", "slot__node", "slot__window", "slot__section", "slot__service", "region", "booked_by")

    def plan(self, now, ids=None):
        """Booked appointments without their no-show timer (a booking's timers are created with it; this catches
        any made otherwise, e.g. in the admin)."""
        planned_already = Timer.objects.filter(subject=SUBJECT, subject_id=OuterRef("pk"), kind=NO_SHOW)
        waiting = (Booking.objects.select_related("slot", "region").filter(status=Booking.Status.BOOKED)
                   .filter(~Exists(planned_already)))
        if ids is not None:
            waiting = waiting.filter(pk__in=ids)
        return [timer for booking in waiting.iterator(chunk_size=500) for timer in planned(booking, now)]

    def judge(self, timer, booking):
        if booking.status != Booking.Status.BOOKED:
            return engine.CANCEL
        deadline = booking.slot.start if timer.kind == REMINDER else booking.slot.end
        return engine.FIRE if deadline == timer.deadline else engine.CANCEL

    def fire(self, timer, booking, now):
        start = timezone.localtime(booking.slot.start).strftime("%Y-%m-%d %H:%M")
        if timer.kind == NO_SHOW:
            states.no_show_automatically(booking, timer.fire_at)
            return _("appointment %(name)s at %(start)s marked no-show") % {"name": booking.name, "start": start}
        remind(booking)
        booking.reminded_at = now
        booking.save(update_fields=["reminded_at"])
        return _("appointment %(name)s at %(start)s reminded") % {"name": booking.name, "start": start}


def remind(booking: Booking) -> None:
    """The reminder: in the inbox (and e-mail, 浙政钉) of the account that booked, by SMS to the visitor's phone."""
    from qifu import jobs, notify
    from qifu.notify import adapters
    from qifu.notify.models import Channel, OutboxMessage

    slot = booking.slot
    start = timezone.localtime(slot.start)
    subject = _("Appointment reminder: %(target)s at %(start)s") % {"target": slot.target,
                                                                    "start": start.strftime("%m-%d %H:%M")}
    body = _("%(name)s, your appointment at %(node)s, %(target)s, begins at %(start)s. Please come on time; if you "
             "cannot come, cancel it beforehand.") % {"name": booking.name, "node": slot.node.name,
                                                      "target": slot.target, "start": start.strftime("%Y-%m-%d %H:%M")}
    notify.notify(booking.booked_by, "bookings.reminder", subject, body, url=reverse("booking_home"),
                  channels=[c for c in Channel.values if c != Channel.SMS])
    if adapters.get(Channel.SMS) is not None:
        subject = subject[: OutboxMessage._meta.get_field("subject").max_length]
        OutboxMessage.objects.create(channel=Channel.SMS, recipient=booking.booked_by, address=booking.phone,
                                     subject=subject, body=body)
        jobs.defer("notify.deliver")


engine.register(BookingTimers())
