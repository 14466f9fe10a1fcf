"""A booking's state change: the status and its fields saved, the audit entry, the pending timers cancelled (used by
`.services` and by the timers of `.timers`)."""

from django.utils import timezone

from qifu.audit import trail

from .models import Booking

SUBJECT = "bookings.booking"  # the timer engine's name of a booking


def transition(booking: Booking, status: str, actor, note: str, **fields) -> Booking:
    before = booking.status
    booking.status = status
    for name, value in fields.items():
        setattr(booking, name, value)
    booking.save(update_fields=["status", *fields])
    after = {"status": status}
    for name, value in fields.items():
        value = getattr(value, "pk", value)
        after[name] = value.isoformat() if hasattr(value, "isoformat") else value
    trail.record("transition", booking, {"status": before}, after, note=note, actor=actor)
    drop_timers(booking)
    return booking


def drop_timers(booking: Booking) -> None:
    from qifu.supervision.models import Timer

    Timer.objects.filter(subject=SUBJECT, subject_id=booking.pk, fired_at__isnull=True,
                         cancelled_at__isnull=True).update(cancelled_at=timezone.now())


def no_show_automatically(booking: Booking, at) -> Booking:
    """The no-show timer: the grace after the slot's end is over and nobody checked the visitor in."""
    return transition(booking, Booking.Status.NO_SHOW, None, "no-show (automatic)", no_show_at=at)
