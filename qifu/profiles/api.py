"""Profile endpoints: departments' systems push indicator values; anyone reads the profiles they may see."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from qifu.accounts import scopes
from qifu.api.schemas import ErrorOut, Input, errors
from qifu.audit.context import set_actor
from qifu.lib import uscc as uscc_lib

from . import services
from .models import Indicator
from .values import as_of_problem, clean_json, parse_iso_date
from .values import source_problem as value_source_problem

router = Router(tags=["profiles"])
MAX_ITEMS = 5000


class ValueIn(Input):
    uscc: Any = Field(None, description="unified social credit code of the enterprise")
    indicator: Any = Field(None, description="indicator code (e.g. employees) or its Chinese name")
    value: Any = Field(None, description="a number, true/false, \"YYYY-MM-DD\" or text, by the indicator's type")
    as_of: Any = Field(None, description="YYYY-MM-DD the value is as of")
    source: Any = Field(None, description="department code; a handler's own department by default")


class PushOut(Schema):
    created: int
    updated: int
    unchanged: int
    tags_added: int
    tags_removed: int


class IndicatorOut(Schema):
    code: str
    name: str
    dimension: str | None
    unit: str
    datatype: str
    value: Any
    source: str
    as_of: datetime.date | None
    score: float | None


class DimensionOut(Schema):
    code: str
    name: str
    weight: float
    score: float | None


class TagOut(Schema):
    name: str
    kind: str


class ProfileOut(Schema):
    id: int
    uscc: str
    name: str
    on: datetime.date | None
    overall: float | None
    dimensions: list[DimensionOut]
    indicators: list[IndicatorOut]
    tags: list[TagOut]


@router.post("/profiles/values", response={200: PushOut, 400: ErrorOut, **errors(403)},
             summary="Push indicator values (all or nothing; at most 5000; each problem by the item's `index`)")
def push_values(request, payload: list[ValueIn]):
    """Administrators, or handlers sending their own department's indicators. Every item is checked
    first; any bad item stores nothing and the answer lists each problem by the item's index."""
    user = request.user
    if not services.may_write_values(user):
        raise PermissionDenied(_("Only administrators and departments' handlers can send profile data."))
    set_actor(user, "api")
    problems: list[dict] = []
    if len(payload) > MAX_ITEMS:
        return Status(400, {"detail": _("At most %(n)d values per request.") % {"n": MAX_ITEMS}, "errors": []})
    visible = scopes.enterprises(user)
    codes = {uscc_lib.normalize(i.uscc) for i in payload if isinstance(i.uscc, str)}
    enterprises = {e.uscc: e for e in visible.filter(uscc__in=sorted(codes)).only("pk", "uscc", "region_id")}
    region_ids = {e.region_id for e in enterprises.values()}
    indicators: dict[tuple[int, str], Indicator] = {}
    for indicator in Indicator.objects.filter(region_id__in=region_ids):
        indicators[(indicator.region_id, indicator.code)] = indicator
        indicators.setdefault((indicator.region_id, indicator.name), indicator)
    own = services.own_source(user)
    items: list[services.NewValue] = []
    seen: dict[tuple, int] = {}
    for index, item in enumerate(payload):
        def fail(field: str, message: str) -> None:
            problems.append({"index": index, "field": field, "message": message})

        before = len(problems)
        code = uscc_lib.normalize(item.uscc) if isinstance(item.uscc, str) else ""
        enterprise = None
        problem = uscc_lib.problem(code) if code else _("The unified social credit code is required.")
        if problem:
            fail("uscc", problem)
        else:
            enterprise = enterprises.get(code)
            if enterprise is None:
                fail("uscc", _("No enterprise with the code %(code)s is registered here.") % {"code": code})
        indicator = None
        if not isinstance(item.indicator, str) or not item.indicator.strip():
            fail("indicator", _("The indicator is required."))
        elif enterprise is not None:
            indicator = indicators.get((enterprise.region_id, item.indicator.strip()))
            if indicator is None:
                fail("indicator", _("There is no indicator %(code)s in the enterprise's region.") % {
                    "code": item.indicator})
        as_of = parse_iso_date(item.as_of)
        if as_of is None:
            fail("as_of", _("Expected a date as YYYY-MM-DD, got %(value)r.") % {"value": item.as_of})
        elif as_of_problem(as_of):
            fail("as_of", as_of_problem(as_of))
        if item.source is not None and not isinstance(item.source, str):
            fail("source", _("Expected text, got %(value)r.") % {"value": item.source})
        elif isinstance(item.source, str) and value_source_problem(item.source.strip()):
            fail("source", value_source_problem(item.source.strip()))
        source = (item.source.strip() if isinstance(item.source, str) else "") or own or (
            indicator.source if indicator else "")
        if indicator is not None:
            value, problem = clean_json(indicator.datatype, item.value)
            if problem:
                fail("value", problem)
            problem = services.source_problem(user, indicator, source)
            if problem:
                fail("source", problem)
            key = (enterprise.pk, indicator.pk, as_of)
            if key in seen:
                fail("indicator", _("Item %(other)d already gives this indicator for this date.") % {
                    "other": seen[key]})
            seen.setdefault(key, index)
            if len(problems) == before:
                items.append(services.NewValue(enterprise.pk, indicator, value, as_of, source))
    if problems:
        return Status(400, {"detail": _("%(n)d item(s) have problems; nothing was stored.") % {
            "n": len({e["index"] for e in problems})}, "errors": problems})
    result = services.write_values(items, user=user, note="API")
    tags = result.tags
    return Status(200, {"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                        "tags_added": tags.added if tags else 0, "tags_removed": tags.removed if tags else 0})


@router.get("/enterprises/{int:enterprise_id}/profile", response={200: ProfileOut, **errors(400, 404)},
            summary="An enterprise's profile (404 outside your scope)")
def get_profile(request, enterprise_id: int, on: datetime.date | None = None):
    enterprise = get_object_or_404(scopes.enterprises(request.user).select_related("region", "jurisdiction"),
                                   pk=enterprise_id)
    profile = services.enterprise_profile(enterprise, on)
    return {
        "id": enterprise.pk, "uscc": enterprise.uscc, "name": enterprise.name, "on": on,
        "overall": profile["overall"], "dimensions": profile["dimensions"], "tags": profile["tags"],
        "indicators": [{**row, "value": row["value"].isoformat() if isinstance(row["value"], datetime.date)
                        else row["value"]} for row in profile["indicators"]],
    }
