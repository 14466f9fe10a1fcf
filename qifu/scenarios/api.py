"""/api/v1/scenarios and /api/v1/agency-cases — 一类事 scenarios and agency cases (全程代办). Scenarios are readable by
every signed-in user with a role (their region's); cases only by those who may see them (`cases.visible`: an
enterprise its own — any other case answers 404)."""

from zoneinfo import ZoneInfo

from django.db import IntegrityError
from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from qifu.api.pagination import Paginated, Rows
from qifu.api.schemas import Input, Text, errors
from qifu.lib import inputs
from qifu.lib import uscc as uscc_lib

from . import cases
from .models import Origin

router = Router(tags=["scenarios"])


class ScenarioOut(Schema):
    code: str
    name: str
    origin: str = Field(description="lifecycle (one of the ten B-READY stages), chain_node (an industry-chain node) "
                                    "or high_frequency (high-frequency appeals)")
    lifecycle_stage: str = Field(description="when origin is lifecycle, e.g. market_entry; else empty")
    chain: str = Field(description="when origin is chain_node, e.g. biomedicine; else empty")
    chain_node: str = Field(description="when origin is chain_node: 开办, 研发, 临床, 生产 or 销售; else empty")
    annex: int = Field(description="the seed's annex: 6 (附件6) or 7 (附件7)")
    stages: list[str]
    items: int = Field(description="how many items (basic and value-added)")
    basic_items: int
    value_added_items: int
    url: str


class StartIn(Input):
    enterprise_uscc: Text(32) = Field(description="the enterprise's unified social credit code (an enterprise user: "
                                                  "its own)")


class DocumentOut(Schema):
    name: str
    uploaded_at: str


class CaseItemOut(Schema):
    id: int
    order: int
    name: str
    kind: str = Field(description="basic or value_added")
    sides: list[str] = Field(description="government, market, social, enterprise")
    units: list[str]
    stage: str
    status: str = Field(description="pending, in_progress, done or dropped")
    added: bool = Field(description="added to this enterprise's checklist (not in the scenario)")
    dropped_reason: str
    service_item: str | None = Field(description="the code of the catalog item it is")
    time_limit_days: int = Field(description="working days")
    limit_source: str = Field(description="item (the scenario's), guide (the catalog item's guide) or rule (the "
                                          "region's agency_item_workdays)")
    due_at: str = Field(description="counted from when the case was opened (an added item: from its addition)")
    overdue: bool
    documents: list[DocumentOut]


class AgentOut(Schema):
    username: str
    name: str


class CaseOut(Schema):
    id: int
    scenario: dict = Field(description="{code, name}")
    enterprise_uscc: str
    enterprise_name: str
    status: str = Field(description="open or done")
    agent: AgentOut | None
    opened_at: str
    closed_at: str | None
    stages: list[str]
    current_stage: str | None = Field(description="the first stage with an open item (\"you are here\")")
    items: list[CaseItemOut]
    url: str


def counted(qs):
    return qs.annotate(n_items=Count("items"), n_basic=Count("items", filter=Q(items__kind="basic")),
                       n_value_added=Count("items", filter=Q(items__kind="value_added")))


def scenario_row(s) -> dict:
    return {"code": s.code, "name": s.name, "origin": s.origin, "lifecycle_stage": s.lifecycle_stage,
            "chain": s.chain, "chain_node": s.chain_node, "annex": s.annex, "stages": list(s.stages),
            "items": s.n_items, "basic_items": s.n_basic, "value_added_items": s.n_value_added,
            "url": s.get_absolute_url()}


def case_dict(case) -> dict:
    zone = ZoneInfo(case.region.rule("time_zone"))
    items = list(case.items.select_related("service_item").prefetch_related("documents"))

    def at(value):
        return value.astimezone(zone).isoformat() if value else None

    return {
        "id": case.pk, "scenario": {"code": case.scenario.code, "name": case.scenario.name},
        "enterprise_uscc": case.enterprise.uscc, "enterprise_name": case.enterprise.name, "status": case.status,
        "agent": ({"username": case.agent.username, "name": case.agent.display_name or case.agent.username}
                  if case.agent else None),
        "opened_at": at(case.opened_at), "closed_at": at(case.closed_at), "stages": list(case.scenario.stages),
        "current_stage": cases.current_stage(case, items),
        "items": [{"id": i.pk, "order": i.order, "name": i.name, "kind": i.kind, "sides": list(i.sides),
                   "units": list(i.units_text), "stage": i.stage, "status": i.status, "added": i.added,
                   "dropped_reason": i.dropped_reason,
                   "service_item": i.service_item.code if i.service_item else None,
                   "time_limit_days": i.time_limit_days, "limit_source": i.limit_source, "due_at": at(i.due_at),
                   "overdue": i.is_overdue,
                   "documents": [{"name": d.name, "uploaded_at": at(d.uploaded_at)} for d in i.documents.all()]}
                  for i in items],
        "url": case.get_absolute_url(),
    }


@router.get("/scenarios", response={200: list[ScenarioOut], **errors(400)},
            summary="一类事 scenarios of your region with their item counts; origin and lifecycle_stage filter")
@paginate(Paginated)
def list_scenarios(request, origin: Origin | None = Query(None),
                   lifecycle_stage: str = Query("", max_length=32, description="e.g. market_entry")):
    qs = cases.scenarios(request.user)
    if origin:
        qs = qs.filter(origin=origin)
    if lifecycle_stage:
        qs = qs.filter(lifecycle_stage=lifecycle_stage)
    return Rows(counted(qs).order_by("region", "sort_order", "code"), scenario_row)


def _enterprise(user, code: str):
    from qifu.accounts import scopes

    problem = uscc_lib.problem(code)
    if problem:
        raise inputs.InputError(_("enterprise_uscc: %(problem)s") % {"problem": problem})
    enterprise = scopes.enterprises(user).select_related("region").filter(uscc=uscc_lib.normalize(code)).first()
    if enterprise is None:
        if scopes.enterprise_only(user):
            raise cases.NotAllowed(_("An enterprise starts agency cases for itself only."))
        raise HttpError(404, _("No registered enterprise you may serve has the code %(code)s.") % {
            "code": uscc_lib.normalize(code)})
    return enterprise


@router.post("/scenarios/{code}/cases", response={201: CaseOut, **errors(400, 403, 404, 422)},
             summary="Start an agency case (全程代办) of the scenario for an enterprise: its checklist copied from the "
                     "scenario, each item due within its time limit in working days, an agent assigned. An enterprise "
                     "starts one for itself only. Idempotency-Key: a retry answers with the same case")
def start_case(request, code: str, payload: StartIn):
    user = request.user
    scenario = cases.scenarios(user).filter(code=code).first()
    if scenario is None:
        raise Http404
    if not cases.may_start(user):
        raise cases.NotAllowed(_("Your role cannot start agency cases."))
    key = inputs.idempotency_key(request.headers.get("Idempotency-Key"))
    digest = inputs.request_hash("agency-case", {"scenario": scenario.pk, **payload.dict()}) if key else ""
    if key:
        earlier = cases.earlier_for_key(user, key, digest)
        if earlier is not None:
            return Status(201, case_dict(earlier))
    enterprise = _enterprise(user, payload.enterprise_uscc)
    try:
        case = cases.start(scenario, enterprise, by=user, idempotency_key=key, request_hash=digest)
    except IntegrityError:  # the same key raced in from a parallel retry
        case = cases.earlier_for_key(user, key, digest)
    return Status(201, case_dict(case))


@router.get("/agency-cases/{int:case_id}", response={200: CaseOut, **errors(404)},
            summary="One agency case with its checklist (only a case you may see: an enterprise its own)")
def get_case(request, case_id: int):
    case = cases.visible(request.user).filter(pk=case_id).first() if 0 < case_id < 2**63 else None
    if case is None:
        raise Http404
    return case_dict(case)
