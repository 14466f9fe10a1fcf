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


def query_frame(qs, schema: dict):
    """A Polars frame from a `values_list` queryset, its columns named and typed by `schema` (in order).
    On PostgreSQL the rows come by `COPY … TO STDOUT` as CSV (no Python object per value); elsewhere
    through the cursor. An empty text reads as null."""
    import polars as pl
    from django.db import connections

    from django.core.exceptions import EmptyResultSet

    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:
        return pl.DataFrame(schema=schema)
    connection = connections[qs.db]
    names = list(schema)
    if connection.vendor == "postgresql":
        import io

        buffer = io.BytesIO()
        from psycopg import pq

        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params):
                # libpq directly: psycopg's iterator costs ~2 µs a row, half the time at a million rows.
                # -1 is the end of the data, then the command's own result (read here: psycopg's exit from
                # the block does not when it has not seen the end).
                pgconn = cursor.cursor.connection.pgconn
                while True:
                    nbytes, data = pgconn.get_copy_data(0)
                    if nbytes > 0:
                        buffer.write(data)
                        continue
                    while (result := pgconn.get_result()) is not None:
                        if result.status != pq.ExecStatus.COMMAND_OK:
                            raise RuntimeError(f"COPY failed: {result.error_message.decode(errors='replace')}")
                    break
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
    (all null when nobody has it). Three queries whatever the number of enterprises. With only=True and
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
    base = query_frame(enterprises.order_by("pk").values_list("pk", *(lookups[n] for n in base_names)),
                       {"id": pl.Int64, **{name: _dtype(BASE_DTYPES[name]) for name in base_names}})
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
    from .models import IndicatorValue

    raw = IndicatorValue.objects.filter(enterprise_id__in=ids)
    if on is not None:
        raw = raw.filter(as_of__lte=on)
    if codes is not None:
        raw = raw.filter(indicator__code__in=list(codes))
    values = query_frame(raw.values_list("enterprise_id", "indicator_id", "indicator__code", "indicator__datatype",
                                         "as_of", "id", "value_number", "value_text", "value_date"),
                         {"id": pl.Int64, "indicator": pl.Int64, "code": pl.String, "datatype": pl.String,
                          "as_of": pl.Date, "pk": pl.Int64, "number": pl.Float64, "text": pl.String, "date": pl.Date})
    values = values.sort(["as_of", "pk"], descending=True).unique(["id", "indicator"], keep="first").sort("indicator")
    typed = {Indicator.Datatype.NUMBER: pl.col("number"), Indicator.Datatype.BOOL: pl.col("number") != 0,
             Indicator.Datatype.DATE: pl.col("date")}
    datatypes = dict(values.group_by("code", maintain_order=True).agg(pl.col("datatype").last()).iter_rows())
    for code in sorted(datatypes):
        datatype = datatypes[code]
        value = typed.get(datatype, pl.col("text"))
        column = values.filter((pl.col("code") == code) & value.is_not_null()).select("id", value.alias(code)).unique(
            "id", keep="last", maintain_order=True)
        if column.height == 0:
            continue
        column = column.with_columns(pl.col(code).cast(_dtype(datatype)))
        frame = frame.join(column, on="id", how="left", maintain_order="left")
    if wanted:
        missing = [name for name in sorted(wanted) if name not in frame.columns]
        if missing:
            frame = frame.with_columns([pl.lit(None).alias(name) for name in missing])
    return frame
