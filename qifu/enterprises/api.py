import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from qifu.accounts import scopes
from qifu.api.pagination import Paginated, Rows
from qifu.api.schemas import Code, Input, Text, errors
from qifu.lib.inputs import max_length
from qifu.org.models import Jurisdiction, Region

from .forms import EnterpriseForm
from .models import Enterprise

router = Router(tags=["enterprises"])


class EnterpriseOut(Schema):
    id: int
    uscc: str
    name: str
    registered_address: str
    region: str
    jurisdiction: str | None
    jurisdiction_name: str | None
    industry: str
    size: str
    registration_date: datetime.date | None
    tags: list[str]


class EnterpriseIn(Input):
    uscc: Text(32)
    name: Text(max_length(Enterprise, "name"))
    registered_address: Text(max_length(Enterprise, "registered_address")) = ""
    jurisdiction: Code | None = None
    industry: Text(max_length(Enterprise, "industry")) = ""
    size: Text(max_length(Enterprise, "size")) = ""
    registration_date: datetime.date | None = None
    tags: list[Text(64)] = Field([], max_length=100)
    region: Code | None = None


def out(e: Enterprise) -> dict:
    return {
        "id": e.id, "uscc": e.uscc, "name": e.name, "registered_address": e.registered_address,
        "region": e.region.code, "jurisdiction": e.jurisdiction.code if e.jurisdiction else None,
        "jurisdiction_name": e.jurisdiction.name if e.jurisdiction else None, "industry": e.industry,
        "size": e.size, "registration_date": e.registration_date, "tags": [t.name for t in e.tags.all()],
    }


@router.get("", response={200: list[EnterpriseOut], **errors(400)}, summary="Enterprises you may see")
@paginate(Paginated)
def list_enterprises(request, q: str | None = None, uscc: str | None = None):
    qs = scopes.enterprises(request.user).select_related("region", "jurisdiction").prefetch_related("tags")
    if uscc:
        qs = qs.filter(uscc=uscc.strip().upper())
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(uscc__startswith=q.strip().upper())
    return Rows(qs.order_by("id"), out)


@router.get("/{int:enterprise_id}", response={200: EnterpriseOut, **errors(404)},
            summary="One enterprise (404 outside your scope)")
def get_enterprise(request, enterprise_id: int):
    e = get_object_or_404(scopes.enterprises(request.user).select_related("region", "jurisdiction")
                          .prefetch_related("tags"), pk=enterprise_id)
    return out(e)


def _region_for(user, code: str | None) -> Region:
    allowed = scopes.regions(user)
    if code:
        region = allowed.filter(code=code).first()
        if region is None:
            raise ValidationError({"region": [f"unknown region {code!r}"]})
        return region
    own = scopes.home_region_id(user)
    if own:
        return Region.objects.get(pk=own)
    if allowed.count() == 1:
        return allowed.get()
    raise ValidationError({"region": ["say which region the enterprise belongs to"]})


@router.post("", response={201: EnterpriseOut, **errors(400, 403)}, summary="Register an enterprise")
@transaction.atomic
def create_enterprise(request, payload: EnterpriseIn):
    if not scopes.can_create_enterprise(request.user):
        raise PermissionDenied("your role cannot register enterprises")
    region = _region_for(request.user, payload.region)
    data = payload.dict(exclude={"region", "tags", "jurisdiction"})
    data["tag_names"] = ",".join(payload.tags)
    if payload.jurisdiction:
        j = Jurisdiction.objects.filter(region=region, code=payload.jurisdiction).first()
        if j is None:
            raise ValidationError({"jurisdiction": [f"unknown jurisdiction {payload.jurisdiction!r} in {region.code}"]})
        data["jurisdiction"] = j.pk
    form = EnterpriseForm(data=data, region=region)
    if not form.is_valid():
        raise ValidationError(form.errors)
    return Status(201, out(form.save()))
