"""/api/v1/appointments — appointments (预约办事) in the time slots of a node's windows and service items.

`POST /appointments` `{service | window, node, start}` books a place in the slot of that service item (or window) at
that node starting at `start` (ISO 8601 with its offset): 201 with the booking, 409 when the slot is full (or the
person already holds a place in it), 404 for an unknown node, window or service or no slot at that start, 400 for
bad input. Enterprise users book for their enterprise (name and phone default to the account's); desk staff name
the visitor (and optionally the enterprise). Idempotency-Key: a retry answers with the same booking."""

import datetime

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import model_validator

from qifu.accounts import scopes
from qifu.api.pagination import Paginated, Rows
from qifu.api.schemas import AwareTime, Code, Id, Input, Text, errors
from qifu.lib import inputs

from . import services
from .models import Booking

router = Router(tags=["appointments"])


class CodeName(Schema):
    code: str
    name: str


class TargetOut(Schema):
    kind: str = Field(description="window, section or service")
    code: str
    name: str


class SlotOut(Schema):
    id: int
    start: datetime.datetime
    end: datetime.datetime
    capacity: int
    left: int = Field(description="places left")


class BookingOut(Schema):
    id: int
    slot: SlotOut
    node: CodeName
    target: TargetOut
    start: datetime.datetime
    end: datetime.datetime
    status: str = Field(description="booked, attended, no_show or cancelled")
    name: str
    phone: str
    enterprise_uscc: str | None
    created_at: datetime.datetime
    cancelled_at: datetime.datetime | None


class BookingIn(Input):
    node: Code = Field(description="service node code")
    service: Code | None = Field(None, description="service item code (give this or window)")
    window: Code | None = Field(None, description="window code (give this or service)")
    start: AwareTime = Field(description="the slot's start, ISO 8601 with its offset, e.g. 2026-12-08T09:00:00+08:00")
    name: Text(64) | None = Field(None, description="the visitor's name (enterprise users: default the account's)")
    phone: Text(32) | None = Field(None, description="the visitor's phone (enterprise users: default the account's)")
    enterprise_uscc: Text(32) | None = Field(None, description="staff booking for an enterprise")
    note: Text(200) = ""

    @model_validator(mode="after")
    def _one_target(self):
        if bool(self.service) == bool(self.window):
            raise ValueError(_("Give either service or window, not both and not neither."))
        return self


def as_dict(booking: Booking) -> dict:
    slot = booking.slot
    target = slot.target
    return {"id": booking.pk, "node": {"code": slot.node.code, "name": slot.node.name},
            "slot": {"id": slot.pk, "start": slot.start, "end": slot.end, "capacity": slot.capacity, "left": slot.left},
            "target": {"kind": slot.target_kind, "code": target.code, "name": target.name},
            "start": slot.start, "end": slot.end, "status": booking.status, "name": booking.name,
            "phone": booking.phone, "enterprise_uscc": booking.enterprise.uscc if booking.enterprise_id else None,
            "created_at": booking.created_at, "cancelled_at": booking.cancelled_at}


def _refuse(error: services.BookingError):
    raise HttpError(error.status_code, str(error))


@router.post("/appointments", response={201: BookingOut, **errors(400, 403, 404, 409, 422)},
             summary="Book an appointment: {service|window, node, start} → 201 with the booking; 409 when the slot "
                     "is full; 404 for an unknown node/window/service or no slot at that start. Idempotency-Key: a "
                     "retry answers with the same booking")
def create_appointment(request, payload: BookingIn):
    user = request.user
    try:
        if not services.may_book(user):
            raise services.BookingError(_("Your role cannot book appointments."), 403)
        key = inputs.idempotency_key(request.headers.get("Idempotency-Key"))
        digest = inputs.request_hash("appointment", payload.dict()) if key else ""
        earlier = services.earlier_for_key(user, key, digest)
        if earlier is not None:
            return Status(201, as_dict(earlier))
        services.clean_start(payload.start)
        kind, code = ("service", payload.service) if payload.service else ("window", payload.window)
        node, target = services.resolve(user, payload.node, kind, code)
        slot = services.find_slot(node, kind, target, payload.start)
        enterprise = services.enterprise_for(user, payload.enterprise_uscc)
        own = scopes.enterprise_only(user)  # an enterprise user's own name and phone by default
        name = payload.name if payload.name is not None else (user.display_name if own else "")
        phone = payload.phone if payload.phone is not None else (user.phone if own else "")
        booking, _created = services.book(user, slot, name=name, phone=phone, enterprise=enterprise,
                                          note=payload.note, key=key, digest=digest)
    except services.BookingError as error:
        _refuse(error)
    booking.slot.refresh_from_db(fields=["booked"])
    return Status(201, as_dict(booking))


@router.get("/appointment-slots", response={200: list[SlotOut], **errors(400, 404)},
            summary="The slots of a service item or window at a node on a local day that have not begun, with their "
                    "places left (the `start` to book)")
def list_slots(request, node: str = Query(..., max_length=64, description="service node code"),
               day: datetime.date = Query(..., description="local day, YYYY-MM-DD"),
               service: str = Query("", max_length=64, description="service item code (or window)"),
               window: str = Query("", max_length=64, description="window code (or service)")):
    from qifu.lib.filters import EARLIEST, LATEST

    if bool(service) == bool(window):
        raise inputs.InputError(_("Give either service or window, not both and not neither."))
    problem = inputs.date_problem(day, earliest=EARLIEST, latest=LATEST)
    if problem:
        raise inputs.InputError(problem)
    kind, code = ("service", service) if service else ("window", window)
    found, target = services.resolve(request.user, node, kind, code)
    return [{"id": s.pk, "start": s.start, "end": s.end, "capacity": s.capacity, "left": s.left}
            for s in services.free_slots(found, kind, target, day)]


@router.get("/appointments", response={200: list[BookingOut], **errors(400)},
            summary="Your appointments (an enterprise: its own; desk staff: their region's or node's), newest first; "
                    "node, status and the day of the slot (date_from, date_to) filter")
@paginate(Paginated)
def list_appointments(request, node: str = Query("", max_length=64, description="service node code"),
                      status: Booking.Status | None = Query(None),
                      date_from: datetime.date | None = Query(None, description="slots from this local day"),
                      date_to: datetime.date | None = Query(None, description="slots until this local day")):
    from qifu.lib.filters import EARLIEST, LATEST, local_midnight

    qs = services.bookings(request.user)
    if node:
        qs = qs.filter(slot__node__code=node)
    if status:
        qs = qs.filter(status=status)
    for day in (date_from, date_to):
        problem = inputs.date_problem(day, earliest=EARLIEST, latest=LATEST) if day else None
        if problem:
            raise inputs.InputError(problem)
    if date_from:
        qs = qs.filter(slot__start__gte=local_midnight(date_from))
    if date_to:
        qs = qs.filter(slot__start__lt=local_midnight(date_to + datetime.timedelta(days=1)))
    return Rows(qs.order_by("-slot__start", "-id"), as_dict)


@router.post("/appointments/{booking_id}/cancel", response={200: BookingOut, **errors(400, 403, 404, 409)},
             summary="Cancel an appointment that has not begun: its place is free again, its reminder cancelled")
def cancel_appointment(request, booking_id: Id):
    booking = services.bookings(request.user).filter(pk=booking_id).first()
    if booking is None:
        raise Http404
    try:
        booking = services.cancel(request.user, booking)
    except services.BookingError as error:
        _refuse(error)
    booking = services.bookings(request.user).get(pk=booking.pk)
    return as_dict(booking)
