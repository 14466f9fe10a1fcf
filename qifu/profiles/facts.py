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
        "tags": sorted(t.name for t in enterprise.tags.all()) if "tags" in getattr(
            enterprise, "_prefetched_objects_cache", {}) else sorted(enterprise.tags.values_list("name", flat=True)),
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
    """Everything known about `enterprise` (as of `on`). Its values are few: all are read (no window
    function to compile and run) and the latest per indicator (by `as_of`, then id) kept here."""
    from .models import IndicatorValue, typed_value

    facts = base_facts(enterprise)
    rows = IndicatorValue.objects.filter(enterprise_id=enterprise.pk)
    if on is not None:
        rows = rows.filter(as_of__lte=on)
    latest: dict[int, tuple] = {}
    for row in rows.values_list("indicator_id", "as_of", "id", "indicator__code", "indicator__datatype",
                                "value_number", "value_text", "value_date"):
        known = latest.get(row[0])
        if known is None or row[1:3] > known[1:3]:
            latest[row[0]] = row
    for _pk, _as_of, _id, code, datatype, number, text, date in sorted(latest.values()):
        value = typed_value(datatype, number, text, date)
        if value is not None:
            facts[code] = value
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


def _csv_text(column: str, dtype) -> str:
    """SQL for one column as a CSV field (PostgreSQL): text quoted, null empty, booleans t/f."""
    import polars as pl

    if dtype == pl.String:
        return f"""CASE WHEN {column} IS NULL THEN '' ELSE '"' || replace({column}::text, '"', '""') || '"' END"""
    if dtype == pl.Boolean:
        return f"CASE WHEN {column} THEN 't' WHEN NOT {column} THEN 'f' ELSE '' END"
    return f"COALESCE({column}::text, '')"


def query_frame(qs, schema: dict):
    """A Polars frame from a `values_list` queryset, its columns named and typed by `schema` (in order;
    the first a whole number, e.g. an id). The rows' order is not kept (sort the frame).

    On PostgreSQL the database writes the rows as CSV text in a few large values (`string_agg`, one per
    4,096 values of the first column, as a text value may not pass 1 GB) which Polars parses: no Python work
    per row (COPY would send a message per row, ~1.5 µs each in Python, half of the time at a million rows).
    Elsewhere through the cursor. An empty text reads as null."""
    import polars as pl
    from django.db import connections

    from django.core.exceptions import EmptyResultSet

    try:
        sql, params = qs.order_by().query.sql_with_params()
    except EmptyResultSet:
        return pl.DataFrame(schema=schema)
    connection = connections[qs.db]
    names = list(schema)
    if connection.vendor == "postgresql":
        import io

        columns = [f"c{i}" for i in range(len(names))]
        line = ", ".join(_csv_text(c, t) for c, t in zip(columns, schema.values(), strict=True))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT string_agg(concat_ws(',', {line}), E'\\n') FROM ({sql}) AS q({', '.join(columns)}) "
                           f"GROUP BY c0 >> 12", params)
            buffer = io.BytesIO()
            for text, in cursor:  # one copy of the text at a time besides the buffer
                if buffer.tell():
                    buffer.write(b"\n")
                buffer.write(text.encode())
        if not buffer.tell():
            return pl.DataFrame(schema=schema)
        buffer.seek(0)
        read = {n: (pl.String if t == pl.Boolean else t) for n, t in schema.items()}
        frame = pl.read_csv(buffer, has_header=False, new_columns=names, schema=read)
        frame = frame.with_columns(pl.col(n).replace_strict({"t": True, "f": False}, return_dtype=pl.Boolean)
                                   for n, t in schema.items() if t == pl.Boolean)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
        frame = frame.with_columns(pl.col(n).cast(t) for n, t in schema.items())
    return frame.with_columns(pl.when(pl.col(n) != "").then(pl.col(n)).alias(n)
                              for n, t in schema.items() if t == pl.String)


def facts_frame(enterprises, fields: set[str] | None = None, on: datetime.date | None = None, *,
                only: bool = False):
    """A Polars DataFrame with one row per enterprise (column `id`) and one column per field,
    null where unknown — what the batch engine evaluates.

    Always holds `id` and the base fields; indicator columns are those with a value for some
    enterprise (only the ones named in `fields`, when given); every name in `fields` is a column
    (all null when nobody has it). Four queries whatever the number of enterprises (the indicators, the
    enterprises, their tags, their values). With only=True and
    `fields`, the base fields (and tags) not named are left out too: what re-matching a clause reads.
    """
    import polars as pl

    from .models import Indicator

    ids = enterprises.values("pk")
    wanted = set(fields) if fields else None
    codes = None if wanted is None else wanted - set(BASE_FIELDS) - {"id"}
    lookups = {"uscc": "uscc", "name": "name", "industry": "industry", "size": "size",
               "registration_date": "registration_date", "jurisdiction": "jurisdiction__code",
               "region": "region__code"}
    base_names = [n for n in BASE_DTYPES if not (only and wanted) or n in wanted]
    base = query_frame(enterprises.values_list("pk", *(lookups[n] for n in base_names)),
                       {"id": pl.Int64, **{name: _dtype(BASE_DTYPES[name]) for name in base_names}}).sort("id")
    from qifu.enterprises.models import Enterprise

    frame = base
    if not (only and wanted) or "tags" in wanted:
        tags = query_frame(Enterprise.tags.through.objects.filter(enterprise_id__in=ids).values_list(
            "enterprise_id", "tag__name"), {"id": pl.Int64, "tags": pl.String})
        tags = tags.group_by("id").agg(pl.col("tags").sort())
        frame = base.join(tags, on="id", how="left", maintain_order="left").with_columns(
            pl.col("tags").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    # Every value (as of `on`), the latest per enterprise and indicator chosen here: sorting millions of
    # rows in Polars takes a second, the window function of `latest_values` in the database most of a minute.
    # The indicators (code, datatype) are read first, so the values are read without a join and with only
    # the value columns their datatypes use.
    from .models import IndicatorValue

    indicators = Indicator.objects.all() if codes is None else Indicator.objects.filter(code__in=list(codes))
    indicators = {pk: (code, datatype) for pk, code, datatype in indicators.values_list("pk", "code", "datatype")}
    kinds = {datatype for _code, datatype in indicators.values()}
    value_columns = {"number": ("value_number", pl.Float64), "text": ("value_text", pl.String),
                     "date": ("value_date", pl.Date)}
    used = [name for name, needed in (("number", kinds & {Indicator.Datatype.NUMBER, Indicator.Datatype.BOOL}),
                                      ("text", kinds - {Indicator.Datatype.NUMBER, Indicator.Datatype.BOOL,
                                                        Indicator.Datatype.DATE}),
                                      ("date", kinds & {Indicator.Datatype.DATE})) if needed]
    schema = {"id": pl.Int64, "indicator": pl.Int64, "as_of": pl.Date, "pk": pl.Int64,
              **{name: value_columns[name][1] for name in used}}
    if indicators:
        raw = IndicatorValue.objects.filter(enterprise_id__in=ids, indicator_id__in=list(indicators))
        if on is not None:
            raw = raw.filter(as_of__lte=on)
        values = query_frame(raw.values_list("enterprise_id", "indicator_id", "as_of", "id",
                                             *(value_columns[name][0] for name in used)), schema)
    else:
        values = pl.DataFrame(schema=schema)
    values = values.with_columns(pl.lit(None, dtype=dtype).alias(name) for name, (_c, dtype) in value_columns.items()
                                 if name not in used)
    typed = {Indicator.Datatype.NUMBER: pl.col("number"), Indicator.Datatype.BOOL: pl.col("number") != 0,
             Indicator.Datatype.DATE: pl.col("date")}
    # one part per indicator, its latest value per enterprise (sorted only when some enterprise has several)
    parts = {}
    for (pk,), part in values.partition_by("indicator", as_dict=True).items():
        if part["id"].is_duplicated().any():
            part = part.sort(["as_of", "pk"], descending=True).unique("id", keep="first")
        parts[pk] = part
    # per code the indicators with values; the datatype of a code is its last (highest pk) indicator's
    by_code: dict[str, list[int]] = {}
    for pk in sorted(parts):
        by_code.setdefault(indicators[pk][0], []).append(pk)
    for code in sorted(by_code):
        pks = by_code[code]
        datatype = indicators[pks[-1]][1]
        value = typed.get(datatype, pl.col("text"))
        # an enterprise with values of several indicators of the code: the last indicator's
        column = pl.concat([parts[pk] for pk in pks]).filter(value.is_not_null()).select("id", value.alias(code))
        if len(pks) > 1:
            column = column.unique("id", keep="last", maintain_order=True)
        if column.height == 0:
            continue
        column = column.with_columns(pl.col(code).cast(_dtype(datatype)))
        frame = frame.join(column, on="id", how="left", maintain_order="left")
    if wanted:
        missing = [name for name in sorted(wanted) if name not in frame.columns]
        if missing:
            frame = frame.with_columns([pl.lit(None).alias(name) for name in missing])
    return frame
