"""/api/v1/desk-visits — the front desk (综合受理) for integrations and the clerks' apps: the same actions as the pages,
through `qifu.frontdesk.visits` (which checks and audits them). Front-desk staff, dispatchers, liaison officers and
specialists (and administrators); each sees the visits of `visits.visits(user)`. Refusals are 400 with the reason."""


import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from qifu.api.pagination import Paginated, Rows
from qifu.api.schemas import Code, Id, Input, Text, errors
from qifu.lib import filters, inputs

from . import visits
from .models import DeskNotice, DeskVisit

router = Router(tags=["front desk"])


class EnterpriseRef(Schema):
    uscc: str
    name: str


class DeferredOut(Schema):
    name: str
    received_at: datetime.datetime | None


class NoticeOut(Schema):
    id: int
    kind: str = Field(description="one_time (一次性告知书) or receipt (收件通知书)")
    issued_at: datetime.datetime
    issued_by: str
    content: dict = Field(description="what the document says (materials, number, clerk, date…)")
    url: str = Field(description="the .docx (signed-in page)")


class VisitOut(Schema):
    id: int
    node: str
    enterprise: EnterpriseRef | None
    visitor_name: str
    visitor_phone: str
    need: str
    item: str | None = Field(description="service item code")
    section: str | None
    window: str | None
    zone: str | None
    registered_at: datetime.datetime
    registered_by: str
    owner: str | None = Field(description="username of the first-contact owner")
    open_due_at: datetime.datetime
    flagged: bool = Field(description="left without outcome past desk_visit_open_hours, or without an owner")
    tracking_number: str | None
    received_at: datetime.datetime | None
    deferred_due_on: datetime.date | None
    deferred: list[DeferredOut]
    station_response: bool
    park_issue: bool | None
    on_site_at: datetime.datetime | None
    on_site_missed_at: datetime.datetime | None
    handed_to_clerk_at: datetime.datetime | None
    handover_missed_at: datetime.datetime | None
    outcome_kind: str = Field(description="empty while open; consultation, service_request, appeal, agency_case")
    outcome_id: int | None
    outcome_label: str
    outcome_url: str
    answer: str
    concluded_at: datetime.datetime | None
    notices: list[NoticeOut]
    url: str


def _code(obj):
    return obj.code if obj is not None else None


def _notice(n: DeskNotice) -> dict:
    from django.urls import reverse

    return {"id": n.pk, "kind": n.kind, "issued_at": n.issued_at, "issued_by": n.issued_by.username,
            "content": n.content, "url": reverse("desk_notice_download", args=[n.pk])}


def _out(v: DeskVisit) -> dict:
    return {
        "id": v.pk, "node": v.node.code,
        "enterprise": {"uscc": v.enterprise.uscc, "name": v.enterprise.name} if v.enterprise_id else None,
        "visitor_name": v.visitor_name, "visitor_phone": v.visitor_phone, "need": v.need, "item": _code(v.item),
        "section": _code(v.section), "window": _code(v.window), "zone": _code(v.zone),
        "registered_at": v.registered_at, "registered_by": v.registered_by.username,
        "owner": v.owner.username if v.owner_id else None, "open_due_at": v.open_due_at, "flagged": v.is_flagged,
        "tracking_number": v.tracking_number, "received_at": v.received_at, "deferred_due_on": v.deferred_due_on,
        "deferred": [{"name": m.name, "received_at": m.received_at} for m in v.deferred.all()],
        "station_response": v.station_response, "park_issue": v.park_issue, "on_site_at": v.on_site_at,
        "on_site_missed_at": v.on_site_missed_at, "handed_to_clerk_at": v.handed_to_clerk_at,
        "handover_missed_at": v.handover_missed_at, "outcome_kind": v.outcome_kind, "outcome_id": v.outcome_id,
        "outcome_label": v.outcome_label, "outcome_url": v.outcome_url, "answer": v.answer,
        "concluded_at": v.concluded_at,
        "notices": [_notice(n) for n in v.notices.select_related("issued_by")], "url": v.get_absolute_url(),
    }


def _desk(user) -> None:
    if not visits.may_use(user):
        raise PermissionDenied(_("You may not use the front desk."))


def _visit(request, visit_id: int) -> DeskVisit:
    _desk(request.user)
    visit = visits.visits(request.user).select_related("section", "window", "zone").filter(pk=visit_id).first()
    if visit is None:
        raise Http404
    return visit


@router.get("/desk-visits", response={200: list[VisitOut], **errors(400, 403)},
            summary="Front-desk visits (前台来访) you may see, newest first; status, node and registration days filter")
@paginate(Paginated)
def list_visits(request, status: Literal["open", "concluded", "flagged"] | None = Query(None),
                node: Code = Query("", description="service node code"),
                registered_from: datetime.date | None = Query(None, description="first local day"),
                registered_until: datetime.date | None = Query(None, description="last local day")):
    _desk(request.user)
    qs = visits.visits(request.user).select_related("section", "window", "zone")
    for day in (registered_from, registered_until):
        problem = inputs.date_problem(day, earliest=filters.EARLIEST, latest=filters.LATEST)
        if problem:
            raise inputs.InputError(problem)
    if registered_from:
        qs = qs.filter(registered_at__gte=filters.local_midnight(registered_from))
    if registered_until:
        qs = qs.filter(registered_at__lt=filters.local_midnight(registered_until + datetime.timedelta(days=1)))
    if node:
        qs = qs.filter(node__code=node)
    if status == "open":
        qs = qs.filter(outcome_kind="")
    elif status == "concluded":
        qs = qs.exclude(outcome_kind="")
    elif status == "flagged":
        qs = visits.flagged(qs)
    return Rows(qs.order_by("-registered_at", "-id"), _out)


class VisitIn(Input):
    node: Code = Field(description="service node code (center, sub-center or station)")
    visitor_name: Text(64)
    visitor_phone: Text(32) = Field(description="mobile (11 digits) or landline with its area code")
    need: Text()
    enterprise_uscc: Text(32) | None = Field(None, description="empty: a person without an enterprise")
    item: Code | None = Field(None, description="service item code")
    section: Code | None = None
    window: Code | None = None
    zone: Code | None = None
    on_site: bool = Field(False, description="at a park station: the staff are already on site")


@router.post("/desk-visits", response={201: VisitOut, **errors(400, 403)},
             summary="Register a visitor (the caller owns the visit: 首问负责制)")
def register_visit(request, payload: VisitIn):
    from qifu.accounts import scopes
    from qifu.appeals import queries
    from qifu.appeals.errors import WorkflowError
    from qifu.catalog import services
    from qifu.org.models import Section, Window, Zone

    user = request.user
    _desk(user)
    node = scopes.nodes(user).filter(code=payload.node).first()
    if node is None:
        raise visits.DeskError(_("Unknown service node %(code)s.") % {"code": payload.node})
    enterprise = None
    if payload.enterprise_uscc:
        try:
            enterprise = queries.enterprise_for_intake(user, payload.enterprise_uscc)
        except (WorkflowError, PermissionDenied) as error:  # a wrong or invisible code: the intake's message
            raise visits.DeskError(str(error)) from error

    def find(qs, code, label):
        if not code:
            return None
        found = qs.filter(code=code).first()
        if found is None:
            raise visits.DeskError(_("Unknown %(what)s %(code)s.") % {"what": label, "code": code})
        return found

    item = find(services.items(user), payload.item, _("service item"))
    section = find(scopes.directory(user, Section), payload.section, _("section"))
    window = find(scopes.directory(user, Window), payload.window, _("window"))
    zone = find(scopes.directory(user, Zone), payload.zone, _("zone"))
    visit = visits.register(by=user, node=node, visitor_name=payload.visitor_name, visitor_phone=payload.visitor_phone,
                            need=payload.need, enterprise=enterprise, item=item, section=section, window=window,
                            zone=zone, on_site=payload.on_site)
    return Status(201, _out(_visit(request, visit.pk)))


@router.get("/desk-visits/{visit_id}", response={200: VisitOut, **errors(400, 403, 404)}, summary="One front-desk visit")
def get_visit(request, visit_id: Id):
    return _out(_visit(request, visit_id))


class HandoverIn(Input):
    to: Text(150) = Field(description="username of the staff member who takes the visit over")
    note: Text() = Field(description="why, and what is left to do")


@router.post("/desk-visits/{visit_id}/handover", response={200: VisitOut, **errors(400, 403, 404)},
             summary="Hand the visit over (the owner, a dispatcher or an administrator)")
def handover(request, visit_id: Id, payload: HandoverIn):
    visit = _visit(request, visit_id)
    to = visits.staff_of(visit.region).filter(username=payload.to).first()
    visits.handover(visit, to, by=request.user, note=payload.note)
    return _out(_visit(request, visit_id))


@router.post("/desk-visits/{visit_id}/on-site", response={200: VisitOut, **errors(400, 403, 404)},
             summary="At a park station: the staff are on site (seed 000 line 34: within station_on_site_minutes)")
def on_site(request, visit_id: Id):
    visits.mark_on_site(_visit(request, visit_id), by=request.user)
    return _out(_visit(request, visit_id))


class NoticeIn(Input):
    materials: list[Id] = Field([], max_length=200, description="ids of the guide's materials that are missing")
    other: Text(2000) = Field("", description="other missing materials, one a line")
    return_to: Text(300) = Field("", description="where to come back (empty: the node, section, zone, window)")


@router.post("/desk-visits/{visit_id}/notices", response={201: NoticeOut, **errors(400, 403, 404)},
             summary="Issue the one-time notice (一次性告知书) listing every missing material")
def one_time_notice(request, visit_id: Id, payload: NoticeIn):
    visit = _visit(request, visit_id)
    notice = visits.one_time_notice(visit, payload.materials, by=request.user, return_to=payload.return_to,
                                    other=payload.other)
    return Status(201, _notice(notice))


class ReceiptIn(Input):
    deferred: list[Text(200)] = Field([], max_length=50, description="容缺受理: the materials promised")
    due_on: datetime.date | None = Field(None, description="the day they are due (after today, a working day)")


@router.post("/desk-visits/{visit_id}/receipt", response={201: NoticeOut, **errors(400, 403, 404)},
             summary="Receive the application: the receipt (收件通知书) with the tracking number; with deferred "
                     "materials, accepted under 容缺受理")
def receipt(request, visit_id: Id, payload: ReceiptIn):
    notice = visits.receive(_visit(request, visit_id), by=request.user, deferred=payload.deferred,
                            due_on=payload.due_on)
    return Status(201, _notice(notice))


class OutcomeIn(Input):
    kind: Literal["consultation", "appeal", "service_request", "agency_case"]
    scenario: Text(64) = Field("", description="agency_case: the code of the 一类事 scenario")
    answer: Text() = Field("", description="consultation: the answer given")
    title: Text(200) = Field("", description="appeal: the problem in a few words (default: the need)")
    description: Text() = Field("", description="appeal or service request: details (default: the need)")


@router.post("/desk-visits/{visit_id}/outcome", response={200: VisitOut, **errors(400, 403, 404)},
             summary="Conclude the visit, once: an answered consultation, an appeal, a service request for its item or an "
                     "agency case of a 一类事 scenario")
def outcome(request, visit_id: Id, payload: OutcomeIn):
    visit = _visit(request, visit_id)
    user = request.user
    if payload.kind == "consultation":
        visits.answer(visit, payload.answer, by=user)
    elif payload.kind == "appeal":
        visits.to_appeal(visit, by=user, title=payload.title or visit.need[:60],
                         description=payload.description or visit.need)
    elif payload.kind == "agency_case":
        from qifu.scenarios import cases

        scenario = cases.scenarios(user).filter(region=visit.region, code=payload.scenario).first()
        visits.to_agency_case(visit, scenario, by=user)
    else:
        visits.to_service_request(visit, by=user, description=payload.description or visit.need)
    return _out(_visit(request, visit_id))
