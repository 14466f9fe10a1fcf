from decimal import Decimal

from ninja import Router, Schema
from ninja.pagination import paginate

from qifu.accounts import scopes
from qifu.api.pagination import Paginated, Rows
from qifu.api.schemas import errors

router = Router(tags=["organization"])


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    kind: str
    category: str
    region: str


class SectionOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    region: str
    node: str | None
    lead_department: str | None
    lead_department_name: str | None
    chief_officer: str | None
    chief_specialist: str | None
    specialists: list[str]


class ZoneOut(Schema):
    """A special zone or hall area with its lead unit and chief reception specialist (首席接待专员)."""

    id: int
    code: str
    name: str
    region: str
    node: str
    lead_department: str | None
    lead_department_name: str | None
    chief_receptionist: str | None

    @staticmethod
    def resolve_region(zone) -> str:
        return zone.region.code

    @staticmethod
    def resolve_node(zone) -> str:
        return zone.node.code

    @staticmethod
    def resolve_lead_department(zone) -> str | None:
        return zone.lead_department.code if zone.lead_department else None

    @staticmethod
    def resolve_lead_department_name(zone) -> str | None:
        return zone.lead_department.name if zone.lead_department else None

    @staticmethod
    def resolve_chief_receptionist(zone) -> str | None:
        return _person(zone.chief_receptionist)


class NodeOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    station_type: str
    region: str
    parent: str | None
    jurisdiction: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    phone: str


def _person(user) -> str | None:
    return (user.display_name or user.username) if user else None


@router.get("/departments", response={200: list[DepartmentOut], **errors(400)},
            summary="Departments (government units and providers)")
@paginate(Paginated)
def departments(request, kind: str | None = None):
    qs = scopes.departments(request.user).select_related("region")
    if kind:
        qs = qs.filter(kind=kind)
    return Rows(qs, lambda d: {
        "id": d.id, "code": d.code, "name": d.name, "short_name": d.short_name, "kind": d.kind,
        "category": d.category, "region": d.region.code})


@router.get("/sections", response={200: list[SectionOut], **errors(400)}, summary="Value-added sections (板块)")
@paginate(Paginated)
def sections(request):
    qs = scopes.sections(request.user).select_related(
        "region", "node", "lead_department", "chief_officer", "chief_specialist"
    ).prefetch_related("specialists")
    return Rows(qs, lambda s: {
        "id": s.id, "code": s.code, "name": s.name, "kind": s.kind, "region": s.region.code,
        "node": s.node.code if s.node else None,
        "lead_department": s.lead_department.code if s.lead_department else None,
        "lead_department_name": s.lead_department.name if s.lead_department else None,
        "chief_officer": _person(s.chief_officer), "chief_specialist": _person(s.chief_specialist),
        "specialists": [_person(u) for u in s.specialists.all()]})


@router.get("/zones", response={200: list[ZoneOut], **errors(400)}, summary="Special zones and hall areas (专区)")
@paginate(Paginated)
def zones(request, node: str | None = None):
    from .models import Zone

    qs = scopes.directory(request.user, Zone).select_related("region", "node", "lead_department", "chief_receptionist")
    if node:
        qs = qs.filter(node__code=node)
    return Rows(qs)  # sliced by the paginator in the database


@router.get("/nodes", response={200: list[NodeOut], **errors(400)},
            summary="Service nodes: center, sub-centers, stations")
@paginate(Paginated)
def nodes(request, kind: str | None = None):
    qs = scopes.nodes(request.user).select_related("region", "parent", "jurisdiction")
    if kind:
        qs = qs.filter(kind=kind)
    return Rows(qs, lambda n: {
        "id": n.id, "code": n.code, "name": n.name, "kind": n.kind, "station_type": n.station_type,
        "region": n.region.code, "parent": n.parent.code if n.parent else None,
        "jurisdiction": n.jurisdiction.code, "address": n.address, "latitude": n.latitude,
        "longitude": n.longitude, "phone": n.phone})
