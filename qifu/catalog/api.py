"""/api/v1/services — the service catalog (涉企服务事项清单). Readable by every signed-in user with a role (token or
session), enterprises included: the catalog is public information for the region's enterprises; each user sees
their region's items (administrators every region's). No anonymous access, like the rest of the API."""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from qifu.api.pagination import Paginated, Rows
from qifu.appeals.api import AppealOut
from qifu.api.schemas import Input, Text, errors
from qifu.lib import inputs

from . import services
from .models import ProviderSide

router = Router(tags=["catalog"])


class CodeName(Schema):
    code: str
    name: str


class UnitOut(Schema):
    name: str = Field(description="the unit as the list writes it")
    code: str | None = Field(description="the code of the department it names (null: not a department of the "
                                         "region, e.g. a bank or 各平台)")


class ServiceOut(Schema):
    code: str
    name: str
    section: CodeName | None
    node: CodeName | None = Field(description="the station or sub-center of a per-node item (个性清单); null: a "
                                              "common item (共性清单)")
    category1: str = Field(description="first-level category (一级类别)")
    category2: str = Field(description="second-level category (二级分类)")
    provider_side: str = Field(description="government (★), market (▲) or society (●)")
    units: list[UnitOut]
    frequency: str = Field(description="high, medium, low or empty")
    listed: bool = Field(description="approved for listing (服务上架审批); enterprises see listed items only")
    url: str


class MaterialOut(Schema):
    name: str
    requirements: str
    copies: int
    source: str
    mandatory: bool


class GuideOut(Schema):
    handling_unit: str
    target: str
    conditions: str
    materials: list[MaterialOut]
    process: str
    time_limit: str
    time_limit_days: int | None = Field(description="working days; null: on the spot or no fixed limit")
    legal_basis: str
    fees: str
    online_channel: str
    offline_channel: str
    enquiry_phone: str
    faq: str
    notes: str
    updated_at: str


class ServiceDetailOut(ServiceOut):
    seq: int
    content: str
    process: str
    units_text: str
    target_users: str
    area: str
    term: str = Field(description="long_term (长期) or yearly (年度更新)")
    online_channel: str
    offline_channel: str
    contact: str
    guide: GuideOut | None = Field(description="the service guide (服务指南); null until one is written")


def _code_name(obj):
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _row(item) -> dict:
    return {"code": item.code, "name": item.name, "section": _code_name(item.section), "node": _code_name(item.node),
            "category1": item.category1, "category2": item.category2, "provider_side": item.provider_side,
            "units": item.unit_list(), "frequency": item.frequency, "listed": item.listed,
            "url": item.get_absolute_url()}


def _check(q: str) -> None:
    if inputs.has_nul(q):
        raise inputs.InputError(_("The request is not valid."))


@router.get("/services", response={200: list[ServiceOut], **errors(400)},
            summary="Service items of your region; q searches name, content, categories, process and units (every "
                    "word, by jieba); section, node (a node code, or common for the common list), category and "
                    "provider_side filter")
@paginate(Paginated)
def list_services(request, q: str = Query("", max_length=100),
                  section: str = Query("", max_length=64, description="section code"),
                  node: str = Query("", max_length=64, description="service node code, or common (共性清单)"),
                  category: str = Query("", max_length=64, description="first-level category, e.g. 人才服务"),
                  provider_side: ProviderSide | None = Query(None),
                  region: str = Query("", max_length=64, description="region code (administrators see every region)")):
    _check(q)
    qs = services.items(request.user)
    qs = qs.filter(region__code=region) if region else qs
    qs = services.narrow(qs, q=q, section=section, node=node, category=category, provider_side=provider_side or "")
    return Rows(qs, _row)


@router.get("/services/{code}", response={200: ServiceDetailOut, **errors(404)},
            summary="One service item with every column and its guide")
def get_service(request, code: str):
    item = services.items(request.user).filter(code=code).first()
    if item is None:
        raise Http404
    return {**_row(item), "seq": item.seq, "content": item.content, "process": item.process,
            "units_text": item.units_text, "target_users": item.target_users, "area": item.area, "term": item.term,
            "online_channel": item.online_channel, "offline_channel": item.offline_channel, "contact": item.contact,
            "guide": services.guide_data(services.guide_of(item))}


class RequestIn(Input):
    description: Text() = Field(description="what the enterprise needs")
    contact_name: Text(64) = ""
    contact_phone: Text(32) = ""
    enterprise_uscc: Text(32) | None = Field(None, description="staff filing for an enterprise (front desk)")
    channel: Text(32) = Field("online", description="intake channel code; enterprises: online")


@router.post("/services/{code}/requests", response={201: AppealOut, **errors(400, 403, 404, 422)},
             summary="Request a service item (服务申请): an appeal routed to the item's responsible unit, due within "
                     "the item's own time limit; answers the appeal (number, due_at…). Idempotency-Key: a retry "
                     "answers with the same appeal")
def request_service(request, code: str, payload: RequestIn):
    from qifu.appeals import queries, workflow
    from qifu.appeals.models import Channel

    from . import filing

    user = request.user
    item = services.items(user).filter(code=code).first()
    if item is None:
        raise Http404
    if not filing.may_request(user):
        raise PermissionDenied(_("Your role cannot request services."))
    key = inputs.idempotency_key(request.headers.get("Idempotency-Key"))
    digest = inputs.request_hash("service-request", {"item": code, **payload.dict()}) if key else ""
    if key:
        earlier = workflow.earlier_for_key(user, key, digest)
        if earlier is not None:
            return Status(201, queries.as_dict(earlier, user))
    enterprise = queries.enterprise_for_intake(user, payload.enterprise_uscc)
    channel = Channel.open_by_code(payload.channel)
    if channel is None:
        raise workflow.TransitionError(_("Unknown channel %(code)s.") % {"code": payload.channel})
    try:
        appeal, _created = filing.file(actor=user, item=item, enterprise=enterprise, channel=channel,
                                         description=payload.description, contact_name=payload.contact_name,
                                         contact_phone=payload.contact_phone, idempotency_key=key,
                                         request_hash=digest, key_checked=True)
    except IntegrityError:  # the same key raced in from a parallel retry
        appeal = workflow.earlier_for_key(user, key, digest)
    return Status(201, queries.as_dict(appeal, user))
