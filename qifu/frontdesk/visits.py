"""The front desk's domain: register a visit, hand it over, issue the one-time notice and the receipt, accept with
missing materials (容缺受理), mark the station's response, and conclude the visit with exactly one outcome.

Every change is audited (the models are tracked; transitions are recorded with `trail.record`). Problems are
`DeskError` with a Chinese message (pages answer 400 or show it on the form, never 500).
"""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.accounts.models import Role, User
from qifu.audit import trail
from qifu.lib import counters, inputs
from qifu.org.models import ServiceNode

from .models import DeferredMaterial, DeskNotice, DeskVisit, Handover, Outcome, ReceiptCounter

# Who works the front desk: the appeal intake's roles (front desk, dispatchers, liaison officers, specialists).
DESK_ROLES = (Role.FRONT_DESK, Role.DISPATCHER, Role.LIAISON, Role.SPECIALIST, Role.CHIEF_SPECIALIST)
# A 行政办事员 (综合受理 clerk) who takes over a station's non-park issue.
CLERK_ROLES = (Role.FRONT_DESK, Role.DISPATCHER)
# A mainland mobile number or a landline with its area code (spaces and hyphens ignored).


class DeskError(inputs.InputError):
    """The change is not allowed or the input is wrong; the message says why (translated). An `InputError`: the API
    answers it with 400."""


# --- who sees what ----------------------------------------------------------------------------------

def may_use(user) -> bool:
    return scopes.is_admin(user) or bool(user.is_authenticated and user.is_active and user.has_role(*DESK_ROLES))


def visits(user):
    """The visits a user may see: an administrator all; station staff their node's and their own; other desk staff
    their region's."""
    qs = DeskVisit.objects.select_related("region", "node", "enterprise", "item", "owner", "registered_by")
    if scopes.is_admin(user):
        return qs
    if not may_use(user):
        return qs.none()
    region_id = scopes.home_region_id(user)
    if region_id is None:
        return qs.none()
    qs = qs.filter(region_id=region_id)
    if scopes.is_station_staff(user):
        return qs.filter(Q(node_id=user.node_id) | Q(owner=user) | Q(registered_by=user))
    return qs


def flagged(qs):
    """Open visits flagged by their timer, or without an (active) owner."""
    return qs.filter(outcome_kind="").filter(Q(flagged_at__isnull=False) | Q(owner__isnull=True)
                                             | Q(owner__is_active=False))


def staff_of(region):
    """Staff users of the region a visit may be handed to."""
    return (User.objects.filter(is_active=True, role_grants__role__in=list(DESK_ROLES))
            .filter(Q(region=region) | Q(node__region=region)).distinct().order_by("display_name", "username"))


# --- input checks -----------------------------------------------------------------------------------

def clean_phone(value: str | None) -> str:
    try:
        return inputs.phone(value)
    except inputs.InputError as error:
        raise DeskError(str(error)) from None


def _text(value, field: str, *, required: bool = True) -> str:
    model_field = DeskVisit._meta.get_field(field)
    problem = inputs.text_problem(value, max_length=model_field.max_length or inputs.TEXT_MAX, required=required)
    if problem:
        raise DeskError(f"{model_field.verbose_name}: {problem}")
    return (value or "").strip()


def _input(value, label, **kwargs) -> str:
    try:
        return inputs.text(value, label, **kwargs)
    except inputs.InputError as error:
        raise DeskError(str(error)) from error


def _zone(region) -> ZoneInfo:
    return ZoneInfo(region.rule("time_zone"))


def is_station_response(node: ServiceNode) -> bool:
    return node.kind == ServiceNode.Kind.STATION and node.station_type in (
        node.region.rule("station_response_types") or [])


# --- register and hand over -------------------------------------------------------------------------

@transaction.atomic
def register(*, by, node: ServiceNode, visitor_name: str, visitor_phone: str, need: str, enterprise=None, item=None,
             section=None, window=None, zone=None, on_site: bool = False,
             now: datetime.datetime | None = None) -> DeskVisit:
    """Register a visitor at `node`; the registering clerk owns the visit (首问负责制)."""
    now = now or timezone.now()
    region = node.region
    if not may_use(by):
        raise DeskError(_("You may not register front-desk visits."))
    if not scopes.is_admin(by) and scopes.home_region_id(by) != region.pk:
        raise DeskError(_("This service node is not of your region."))
    if enterprise is not None and enterprise.region_id != region.pk:
        raise DeskError(_("This enterprise is not of the node's region."))
    if item is not None and item.region_id != region.pk:
        raise DeskError(_("This service item is not of the node's region."))
    for place, label in ((section, _("section")), (window, _("window")), (zone, _("zone"))):
        if place is not None and (place.region_id != region.pk or (place.node_id and place.node_id != node.pk)):
            raise DeskError(_("The %(place)s chosen is not at this service node.") % {"place": label})
    station = is_station_response(node)
    visit = DeskVisit.objects.create(
        region=region, node=node, enterprise=enterprise, item=item, section=section, window=window, zone=zone,
        visitor_name=_text(visitor_name, "visitor_name"), visitor_phone=clean_phone(visitor_phone),
        need=_text(need, "need"), registered_at=now, registered_by=by, owner=by,
        open_due_at=now + datetime.timedelta(hours=float(region.rule("desk_visit_open_hours"))),
        station_response=station, on_site_at=now if (station and on_site) else None)
    return visit


@transaction.atomic
def handover(visit: DeskVisit, to_user, *, by, note: str, now: datetime.datetime | None = None) -> Handover:
    """Hand the visit to another staff user (the new owner), with a note. At a park station, a hand-over to a clerk
    (行政办事员, not of the station) is the non-park issue's hand-over of seed 000 line 34."""
    now = now or timezone.now()
    visit = DeskVisit.objects.select_for_update().get(pk=visit.pk)
    if not visit.is_open:
        raise DeskError(_("The visit is concluded: nothing to hand over."))
    if not (scopes.is_admin(by) or by.pk == visit.owner_id or by.has_role(Role.DISPATCHER)
            or visit.owner_id is None or not visit.owner.is_active):
        raise DeskError(_("Only the visit's owner (or a dispatcher) hands it over."))
    if to_user is None or not staff_of(visit.region).filter(pk=to_user.pk).exists():
        raise DeskError(_("Hand the visit to a staff member of the region."))
    if to_user.pk == visit.owner_id:
        raise DeskError(_("This person already owns the visit."))
    note = _input(note, _("note"), required=True)
    record = Handover.objects.create(visit=visit, from_user_id=visit.owner_id, to_user=to_user, by=by, at=now,
                                     note=note)
    before = {"owner": visit.owner_id, "handed_to_clerk_at": trail._jsonable(visit.handed_to_clerk_at)}
    visit.owner = to_user
    fields = ["owner"]
    if (visit.station_response and visit.handed_to_clerk_at is None and to_user.has_role(*CLERK_ROLES)
            and to_user.node_id != visit.node_id):
        visit.handed_to_clerk_at = now
        fields.append("handed_to_clerk_at")
    visit.save(update_fields=fields)
    trail.record("transition", visit, before, {"owner": to_user.pk,
                                               "handed_to_clerk_at": trail._jsonable(visit.handed_to_clerk_at)},
                 note="handed over", actor=by)
    from qifu import notify

    notify.notify([to_user], "frontdesk.handover", _("A front-desk visit was handed to you: %(name)s") % {
        "name": visit.visitor_name}, note, url=visit.get_absolute_url())
    return record


def may_work(user, visit: DeskVisit) -> bool:
    """Whether `user` may act on the visit (issue documents, conclude it): its owner, a dispatcher or administrator,
    and — while the owner is gone — any desk staff who sees it."""
    if scopes.is_admin(user) or user.pk == visit.owner_id or user.has_role(Role.DISPATCHER):
        return True
    return visit.owner_id is None or not visit.owner.is_active


# --- the station's response -------------------------------------------------------------------------

@transaction.atomic
def mark_on_site(visit: DeskVisit, *, by, now: datetime.datetime | None = None) -> DeskVisit:
    now = now or timezone.now()
    visit = DeskVisit.objects.select_for_update().get(pk=visit.pk)
    if not visit.station_response:
        raise DeskError(_("The station response limits do not apply to this visit."))
    if visit.on_site_at is not None:
        raise DeskError(_("Already marked on site."))
    visit.on_site_at = now
    visit.save(update_fields=["on_site_at"])
    trail.record("transition", visit, {"on_site_at": None}, {"on_site_at": now.isoformat()}, note="on site", actor=by)
    return visit


@transaction.atomic
def mark_park_issue(visit: DeskVisit, park: bool, *, by) -> DeskVisit:
    """Say whether the station's issue is a park issue (solved on the spot) or not (handed to a clerk)."""
    visit = DeskVisit.objects.select_for_update().get(pk=visit.pk)
    if not visit.station_response or not visit.is_open:
        raise DeskError(_("The station response limits do not apply to this visit."))
    before = visit.park_issue
    visit.park_issue = bool(park)
    visit.save(update_fields=["park_issue"])
    trail.record("transition", visit, {"park_issue": before}, {"park_issue": visit.park_issue},
                 note="park issue" if park else "not a park issue", actor=by)
    return visit


# --- documents: the one-time notice and the receipt --------------------------------------------------

def guide_materials(visit: DeskVisit) -> list:
    """The materials of the visit's item's guide (empty without an item or a guide)."""
    if visit.item_id is None:
        return []
    from qifu.catalog import services

    guide = services.guide_of(visit.item)
    return list(guide.materials.all()) if guide is not None else []


def _place(visit: DeskVisit) -> str:
    parts = [visit.node.name] + [p.name for p in (visit.section, visit.zone, visit.window) if p is not None]
    address = visit.node.address
    return " ".join(parts) + (f"（{address}）" if address else "")


def _clerk(user) -> dict:
    return {"name": user.display_name or user.username, "phone": user.phone or ""}


@transaction.atomic
def one_time_notice(visit: DeskVisit, material_ids, *, by, return_to: str = "", other: str = "",
                    now: datetime.datetime | None = None) -> DeskNotice:
    """The one-time notice (一次性告知书): every material ticked as missing, in one document, with the item, the clerk,
    the date and where to come back."""
    now = now or timezone.now()
    if not may_work(by, visit):
        raise DeskError(_("Only the visit's owner issues its documents."))
    wanted = {int(pk) for pk in material_ids}
    materials = [m for m in guide_materials(visit) if m.pk in wanted]
    if len(materials) != len(wanted):
        raise DeskError(_("Tick only materials of the item's service guide."))
    other = _input(other, _("other missing materials"), max_length=2000)
    if not materials and not other:
        raise DeskError(_("Tick at least one missing material."))
    listed = [{"name": m.name, "requirements": m.requirements, "copies": m.copies, "source": m.source,
               "mandatory": m.mandatory} for m in materials]
    listed += [{"name": line.strip(), "requirements": "", "copies": None, "source": "", "mandatory": True}
               for line in other.splitlines() if line.strip()]
    content = {
        "item": visit.item.name if visit.item_id else "", "item_code": visit.item.code if visit.item_id else "",
        "visitor": visit.visitor_name, "enterprise": visit.enterprise.name if visit.enterprise_id else "",
        "materials": listed, "clerk": _clerk(by),
        "date": timezone.localtime(now, _zone(visit.region)).date().isoformat(),
        "return_to": _input(return_to, _("where to come back"), max_length=300) or _place(visit),
    }
    return DeskNotice.objects.create(visit=visit, kind=DeskNotice.Kind.ONE_TIME, content=content, issued_at=now,
                                     issued_by=by)


def _tracking_number(region, day: datetime.date) -> str:
    prefix = region.rule("receipt_number_prefix") or region.code[:2].upper()
    n = counters.take_next(ReceiptCounter, region=region, day=day)
    return f"{prefix}-SJ-{day:%Y%m%d}-{n:04d}"


def check_due_on(due_on: datetime.date | None, region, now: datetime.datetime) -> datetime.date:
    """A 容缺 due date: after today (the region's day) and a working day."""
    from qifu.workcal import workdays

    if due_on is None:
        raise DeskError(_("Give the day the missing materials are due."))
    today = timezone.localtime(now, _zone(region)).date()
    if due_on <= today:
        raise DeskError(_("The due date must be after today."))
    if due_on > today + datetime.timedelta(days=366):
        raise DeskError(_("The due date must be within a year."))
    if not workdays.is_workday(due_on):
        raise DeskError(_("The due date must be a working day (%(day)s is not).") % {"day": due_on.isoformat()})
    return due_on


@transaction.atomic
def receive(visit: DeskVisit, *, by, deferred: list[str] | None = None, due_on: datetime.date | None = None,
            now: datetime.datetime | None = None) -> DeskNotice:
    """Accept the application (收件): the receipt (收件通知书) with the visit's tracking number; with `deferred`
    materials, accepted under 容缺受理 with the materials promised by `due_on` (a working day after today)."""
    now = now or timezone.now()
    visit = DeskVisit.objects.select_for_update().select_related("region", "node").get(pk=visit.pk)
    if not may_work(by, visit):
        raise DeskError(_("Only the visit's owner issues its documents."))
    if visit.received_at is not None:
        raise DeskError(_("The application was already received (%(number)s).") % {"number": visit.tracking_number})
    names = [_input(n, _("material"), max_length=200) for n in (deferred or []) if (n or "").strip()]
    if names:
        visit.deferred_due_on = check_due_on(due_on, visit.region, now)
    elif due_on is not None:
        raise DeskError(_("Name the missing materials promised by the due date."))
    day = timezone.localtime(now, _zone(visit.region)).date()
    visit.tracking_number = _tracking_number(visit.region, day)
    visit.received_at = now
    visit.save(update_fields=["tracking_number", "received_at", "deferred_due_on"])
    DeferredMaterial.objects.bulk_create([DeferredMaterial(visit=visit, name=n) for n in names])
    for material in visit.deferred.all():
        trail.record("create", material, None, trail.snapshot(material), actor=by)
    trail.record("transition", visit, {"received_at": None},
                 {"received_at": now.isoformat(), "tracking_number": visit.tracking_number,
                  "deferred_due_on": visit.deferred_due_on.isoformat() if visit.deferred_due_on else None},
                 note="received with missing materials" if names else "received", actor=by)
    content = {
        "number": visit.tracking_number, "item": visit.item.name if visit.item_id else "",
        "visitor": visit.visitor_name, "enterprise": visit.enterprise.name if visit.enterprise_id else "",
        "need": visit.need, "deferred": names,
        "due_on": visit.deferred_due_on.isoformat() if visit.deferred_due_on else "",
        "clerk": _clerk(by), "date": day.isoformat(), "place": _place(visit),
        "time_limit": _time_limit(visit),
    }
    return DeskNotice.objects.create(visit=visit, kind=DeskNotice.Kind.RECEIPT, content=content, issued_at=now,
                                     issued_by=by)


def _time_limit(visit) -> str:
    from qifu.catalog import services

    guide = services.guide_of(visit.item) if visit.item_id else None
    return guide.time_limit if guide is not None else ""


@transaction.atomic
def receive_deferred(material: DeferredMaterial, *, by, now: datetime.datetime | None = None) -> DeferredMaterial:
    now = now or timezone.now()
    material = DeferredMaterial.objects.select_for_update().get(pk=material.pk)
    if material.received_at is not None:
        raise DeskError(_("This material was already received."))
    material.received_at, material.received_by = now, by
    material.save(update_fields=["received_at", "received_by"])
    return material


def send_receipt_sms(visit: DeskVisit, *, by) -> None:
    """The tracking number by SMS to the visitor's phone, through the notifications outbox. The visitor has no
    account: the message is queued in the clerk's name (`recipient`) to the visitor's number (`address`)."""
    from qifu import jobs
    from qifu.notify.models import Channel, OutboxMessage

    if not visit.tracking_number:
        raise DeskError(_("Receive the application first: the receipt gives the tracking number."))
    text = _("Your application %(number)s was received at %(node)s. Look it up at /track/ with the number and the "
             "last 4 digits of this phone.") % {"number": visit.tracking_number, "node": visit.node.name}
    with transaction.atomic():
        message = OutboxMessage.objects.create(channel=Channel.SMS, recipient=by, address=visit.visitor_phone,
                                               subject=text[:200], body=text)
        trail.record("create", message, None, {"channel": "sms", "visit": visit.pk,
                                               "number": visit.tracking_number}, note="receipt by SMS", actor=by)
        jobs.defer("notify.deliver")


def lookup(number: str, phone_last4: str) -> DeskVisit | None:
    """The visit with this tracking number whose visitor's phone ends with these 4 digits (else None: the caller
    cannot tell a wrong number from a wrong phone)."""
    number = (number or "").strip().upper()
    digits = (phone_last4 or "").strip()
    if not number or len(number) > 32 or not re.fullmatch(r"\d{4}", digits):
        return None
    visit = DeskVisit.objects.select_related("node").filter(tracking_number=number).first()
    if visit is None or not visit.visitor_phone.endswith(digits):
        return None
    return visit


def public_status(visit: DeskVisit) -> str:
    if visit.outcome_kind:
        return _("Handled: %(outcome)s") % {"outcome": visit.get_outcome_kind_display()}
    if visit.deferred_due_on and visit.deferred_open:
        return _("Received; missing materials are due on %(day)s") % {"day": visit.deferred_due_on.isoformat()}
    return _("Received, being handled")


# --- the outcome --------------------------------------------------------------------------------------

def conclude(visit: DeskVisit, kind: str, obj, *, by, now: datetime.datetime | None = None) -> DeskVisit:
    """End the visit with exactly one outcome, once. `kind` is an `Outcome` value; `obj` is what the visit became —
    the answer text for a consultation, else the created object (an appeal for a service request or an appeal, an
    agency case…): its pk, its label (a `number` if it has one, else str()) and its page (`get_absolute_url`) are
    stored. Raises DeskError when the visit already has an outcome (a conditional UPDATE: two clerks at once get one
    outcome). Call it inside the transaction that created `obj`, so a refusal rolls the object back too."""
    now = now or timezone.now()
    if not may_work(by, visit):
        raise DeskError(_("Only the visit's owner concludes it."))
    if kind not in Outcome.values:
        raise DeskError(_("Unknown outcome."))
    fields = {"outcome_kind": kind, "concluded_at": now, "concluded_by": by}
    if kind == Outcome.CONSULTATION:
        fields["answer"] = _input(obj if isinstance(obj, str) else "", _("answer given"), required=True)
    else:
        if obj is None or getattr(obj, "pk", None) is None:
            raise DeskError(_("The outcome names no saved object."))
        fields["outcome_id"] = obj.pk
        fields["outcome_label"] = str(getattr(obj, "number", "") or obj)[:200]
        fields["outcome_url"] = _url_of(obj)
    with transaction.atomic():
        if DeskVisit.objects.filter(pk=visit.pk, outcome_kind="").update(**fields) != 1:
            raise DeskError(_("The visit already has its outcome."))
        visit.refresh_from_db()
        trail.record("transition", visit, {"outcome_kind": ""},
                     {k: (v.pk if hasattr(v, "pk") else trail._jsonable(v)) for k, v in fields.items()},
                     note=f"concluded: {kind}", actor=by)
    return visit


# Pages of outcome objects without `get_absolute_url`, by model label.
URL_NAMES = {"appeals.appeal": "appeal_detail"}


def _url_of(obj) -> str:
    from django.urls import reverse

    url = getattr(obj, "get_absolute_url", None)
    if callable(url):
        return url()
    name = URL_NAMES.get(obj._meta.label_lower)
    return reverse(name, args=[obj.pk]) if name else ""


def _channel(visit: DeskVisit):
    from qifu.appeals.channels import ensure_default_channels
    from qifu.appeals.models import Channel

    code = "station" if visit.node.kind == ServiceNode.Kind.STATION else "walk_in"
    found = Channel.objects.filter(code=code).first()
    if found is None:
        ensure_default_channels()
        found = Channel.objects.get(code=code)
    return found


def _check_open(visit: DeskVisit, by) -> None:
    if not visit.is_open:
        raise DeskError(_("The visit already has its outcome."))
    if not may_work(by, visit):
        raise DeskError(_("Only the visit's owner concludes it."))


def answer(visit: DeskVisit, text: str, *, by) -> DeskVisit:
    """An answered consultation."""
    _check_open(visit, by)
    return conclude(visit, Outcome.CONSULTATION, text, by=by)


def to_appeal(visit: DeskVisit, *, by, title: str, description: str):
    """The visit becomes an appeal (诉求), registered as the front desk's appeal form registers one."""
    from qifu.appeals import workflow

    _check_open(visit, by)
    if visit.enterprise_id is None:
        raise DeskError(_("An appeal is filed for an enterprise: register the visitor's enterprise first."))
    with transaction.atomic():
        locked = DeskVisit.objects.select_for_update().get(pk=visit.pk)
        _check_open(locked, by)
        try:
            appeal, _new = workflow.register(
                actor=by, enterprise=visit.enterprise, channel=_channel(visit), title=title, description=description,
                contact_name=visit.visitor_name, contact_phone=visit.visitor_phone, received_node=visit.node,
                section=visit.section)
        except workflow.WorkflowError as error:
            raise DeskError(str(error)) from error
        conclude(locked, Outcome.APPEAL, appeal, by=by)
    visit.refresh_from_db()
    return appeal


def to_service_request(visit: DeskVisit, *, by, description: str):
    """The visit becomes a service request for its catalog item (`qifu.catalog.filing`)."""
    from qifu.appeals import workflow
    from qifu.catalog import filing, services

    _check_open(visit, by)
    if visit.item_id is None or visit.enterprise_id is None:
        raise DeskError(_("A service request needs the visit's service item and enterprise."))
    if not filing.may_request(by) or not services.items(by).filter(pk=visit.item_id).exists():
        raise DeskError(_("You may not file a request for this item."))
    with transaction.atomic():
        locked = DeskVisit.objects.select_for_update().get(pk=visit.pk)
        _check_open(locked, by)
        try:
            appeal, _new = filing.file(actor=by, item=visit.item, enterprise=visit.enterprise, channel=_channel(visit),
                                       description=description, contact_name=visit.visitor_name,
                                       contact_phone=visit.visitor_phone)
        except workflow.WorkflowError as error:
            raise DeskError(str(error)) from error
        conclude(locked, Outcome.SERVICE_REQUEST, appeal, by=by)
    visit.refresh_from_db()
    return appeal


def to_agency_case(visit: DeskVisit, scenario, *, by):
    """The visit becomes an agency case (全程代办) of a 一类事 scenario for the visitor's enterprise
    (`qifu.scenarios.cases.start`): its checklist, agent and timers start at once."""
    from qifu.appeals.errors import NotAllowed, TransitionError
    from qifu.scenarios import cases

    _check_open(visit, by)
    if visit.enterprise_id is None:
        raise DeskError(_("An agency case is started for an enterprise: register the visitor's enterprise first."))
    if scenario is None or not cases.scenarios(by).filter(pk=scenario.pk).exists():
        raise DeskError(_("Choose a 一类事 scenario."))
    with transaction.atomic():
        locked = DeskVisit.objects.select_for_update().get(pk=visit.pk)
        _check_open(locked, by)
        try:
            case = cases.start(scenario, visit.enterprise, by=by)
        except (NotAllowed, TransitionError) as error:
            raise DeskError(str(error)) from error
        conclude(locked, Outcome.AGENCY_CASE, case, by=by)
    visit.refresh_from_db()
    return case
