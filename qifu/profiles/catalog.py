"""The fields policy rules can use: the registry's base fields plus the region's profile indicators."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    datatype: str  # number | text | date | bool | tags | code
    unit: str = ""


BASE = [
    Field("industry", "行业代码（GB/T 4754）", "code"),
    Field("size", "企业规模", "text"),
    Field("registration_date", "成立日期", "date"),
    Field("jurisdiction", "所属辖区（代码）", "code"),
    Field("tags", "标签", "tags"),
]


def _region_filter(region) -> dict:
    from qifu.org.models import Region

    if isinstance(region, Region):
        return {"region": region}
    if isinstance(region, int):
        return {"region_id": region}
    return {"region__code": str(region)}


def fields(region=None) -> list[Field]:
    """Base fields, then the region's indicators in profile order.

    `region` is a Region, its pk or its code; None lists the indicators of every region (the first
    of each code).
    """
    from .models import Indicator

    qs = Indicator.objects.all() if region is None else Indicator.objects.filter(**_region_filter(region))
    result = list(BASE)
    seen = {f.code for f in result}
    for code, name, datatype, unit in qs.order_by("region__code", "sort_order", "code").values_list(
            "code", "name", "datatype", "unit"):
        if code not in seen:
            seen.add(code)
            result.append(Field(code, name, datatype, unit))
    return result
