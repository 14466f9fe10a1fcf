"""The facts the policy calculator sees for an enterprise: one flat dict (or one column per field).

Base fields come from the registry; indicator values (rd_expense, employees, revenue, …) come from the
enterprise profile: for each indicator the value with the latest `as_of` (on or before `on` when
given). Tags are all the enterprise's tags, manual and dynamic. A field without a value is absent
from the dict (null in the frame), which the engine reads as unknown.

Types: numbers are floats, yes/no indicators bools, dates `datetime.date`, text `str`, tags a sorted
list of names. `enterprise_facts` and `facts_frame` build the same values through the same code.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.dispatch import Signal

BASE_FIELDS = ("uscc", "name", "industry", "size", "registration_date", "jurisdiction", "region", "tags")

# Sent inside the transaction that changed indicator values or dynamic tags (kwargs: enterprise_ids);
# the policy calculator listens and re-matches those enterprises.
facts_changed = Signal()


def base_facts(enterprise) -> dict:
    facts = {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "region": enterprise.region.code,
        "tags": sorted(t.name for t in enterprise.tags.all()),
    }
    if enterprise.industry:
        facts["industry"] = enterprise.industry
    if enterprise.size:
        facts["size"] = enterprise.size
    if enterprise.registration_date:
        facts["registration_date"] = enterprise.registration_date
    if enterprise.jurisdiction_id:
        facts["jurisdiction"] = enterprise.jurisdiction.code
    return facts


def latest_values(enterprise_ids, on: datetime.date | None = None, codes: Iterable[str] | None = None) -> QuerySet:
    """One query: per enterprise and indicator, the value with the latest `as_of` (≤ `on` if given).

    `enterprise_ids` is a queryset of enterprise pks (or a list). Yields tuples
    (enterprise_id, code, datatype, value_number, value_text, value_date, as_of, source).
    """
    from .models import IndicatorValue

    qs = IndicatorValue.objects.filter(enterprise_id__in=enterprise_ids)
    if on is not None:
        qs = qs.filter(as_of__lte=on)
    if codes is not None:
        qs = qs.filter(indicator__code__in=list(codes))
    qs = qs.annotate(rank=Window(
        RowNumber(), partition_by=[F("enterprise_id"), F("indicator_id")], order_by=[F("as_of").desc(), F("id").desc()],
    )).filter(rank=1)
    return qs.values_list("enterprise_id", "indicator__code", "indicator__datatype", "value_number", "value_text",
                          "value_date", "as_of", "source")


def indicator_facts(enterprise_ids, on: datetime.date | None = None,
                    codes: Iterable[str] | None = None) -> tuple[dict[int, dict], dict[str, str]]:
    """({enterprise id: {code: value}}, {code: datatype}) from one query."""
    from .models import typed_value

    values: dict[int, dict] = {}
    datatypes: dict[str, str] = {}
    for enterprise_id, code, datatype, number, text, date, _as_of, _source in latest_values(enterprise_ids, on, codes):
        value = typed_value(datatype, number, text, date)
        if value is not None:
            values.setdefault(enterprise_id, {})[code] = value
            datatypes[code] = datatype
    return values, datatypes


def enterprise_facts(enterprise, on: datetime.date | None = None) -> dict:
    """Everything known about `enterprise` (as of `on`)."""
    facts = base_facts(enterprise)
    values, _ = indicator_facts([enterprise.pk], on)
    facts.update(values.get(enterprise.pk, {}))
    return facts


def _tag_names(enterprise_ids) -> dict[int, list[str]]:
    from qifu.enterprises.models import Enterprise

    tags: dict[int, list[str]] = {}
    through = Enterprise.tags.through.objects.filter(enterprise_id__in=enterprise_ids)
    for enterprise_id, name in through.values_list("enterprise_id", "tag__name"):
        tags.setdefault(enterprise_id, []).append(name)
    return tags


def bulk_facts(enterprises: QuerySet, on: datetime.date | None = None,
               codes: Iterable[str] | None = None) -> dict[int, dict]:
    """{id: facts} for a whole queryset in three queries (enterprises, tags, latest values)."""
    ids = enterprises.values("pk")
    tags = _tag_names(ids)
    values, _ = indicator_facts(ids, on, codes)
    result: dict[int, dict] = {}
    rows = enterprises.values_list("pk", "uscc", "name", "region__code", "industry", "size", "registration_date",
                                   "jurisdiction__code")
    for pk, uscc, name, region, industry, size, registered, jurisdiction in rows:
        facts = {"uscc": uscc, "name": name, "region": region, "tags": sorted(tags.get(pk, []))}
        if industry:
            facts["industry"] = industry
        if size:
            facts["size"] = size
        if registered:
            facts["registration_date"] = registered
        if jurisdiction:
            facts["jurisdiction"] = jurisdiction
        facts.update(values.get(pk, {}))
        result[pk] = facts
    return result


def _dtype(datatype: str):
    import polars as pl

    return {"number": pl.Float64, "bool": pl.Boolean, "date": pl.Date}.get(datatype, pl.Utf8)


BASE_DTYPES = {"uscc": "text", "name": "text", "industry": "text", "size": "text", "registration_date": "date",
               "jurisdiction": "text", "region": "text"}


def facts_frame(enterprises, fields: set[str] | None = None, on: datetime.date | None = None):
    """A Polars DataFrame with one row per enterprise (column `id`) and one column per field,
    null where unknown — what the batch engine evaluates.

    Always holds `id` and the base fields; indicator columns are those with a value for some
    enterprise (only the ones named in `fields`, when given); every name in `fields` is a column
    (all null when nobody has it). Three queries whatever the number of enterprises.
    """
    import polars as pl

    ids = enterprises.values("pk")
    wanted = set(fields) if fields else None
    codes = None if wanted is None else wanted - set(BASE_FIELDS) - {"id"}
    tags = _tag_names(ids)
    values, datatypes = indicator_facts(ids, on, codes)
    rows = list(enterprises.order_by("pk").values_list(
        "pk", "uscc", "name", "region__code", "industry", "size", "registration_date", "jurisdiction__code"))

    columns: dict[str, list] = {"id": [r[0] for r in rows]}
    columns["uscc"] = [r[1] for r in rows]
    columns["name"] = [r[2] for r in rows]
    columns["industry"] = [r[4] or None for r in rows]
    columns["size"] = [r[5] or None for r in rows]
    columns["registration_date"] = [r[6] for r in rows]
    columns["jurisdiction"] = [r[7] for r in rows]
    columns["region"] = [r[3] for r in rows]
    columns["tags"] = [sorted(tags.get(r[0], [])) for r in rows]
    schema = {"id": pl.Int64, **{name: _dtype(t) for name, t in BASE_DTYPES.items()}, "tags": pl.List(pl.Utf8)}
    for code in sorted(datatypes):
        columns[code] = [values.get(r[0], {}).get(code) for r in rows]
        schema[code] = _dtype(datatypes[code])
    frame = pl.DataFrame(columns, schema=schema)
    if wanted:
        missing = [name for name in sorted(wanted) if name not in frame.columns]
        if missing:
            frame = frame.with_columns([pl.lit(None).alias(name) for name in missing])
    return frame
