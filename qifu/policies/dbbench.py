"""`qifu bench policy-match-db`: 政策找人 database to database on the configured database.

Loads the synthetic enterprises of `bench.synthetic_enterprises` (registry rows, tags and profile
indicator values: the tables `facts.facts_frame` reads) and the clauses of `bench.ClauseGenerator` into a
scratch region, by COPY on PostgreSQL (executemany elsewhere), then times the product's own paths:
`services.match_region` (facts from the database, the batch engine, the set-based difference into
`Match`), `services.rematch_clause` (publishing one clause), `services.rematch_enterprise` (the work done
after the commit of one enterprise's change) and `clauses.explain` of one enterprise × every clause.
The scratch region (code `bench-match`) is reused when it holds as many enterprises and clauses as asked
(`--reload` loads it again); its matches are deleted before the match, which is therefore a first one.
"""

from __future__ import annotations

import datetime
import gc
import io
import resource
import statistics
import time
from dataclasses import dataclass, field

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from . import bench

REGION = "bench-match"
TARGET_MATCH_S = 60.0
TARGET_PEAK_MIB = 4096.0
TARGET_CLAUSE_S = 5.0
TARGET_ENTERPRISE_MS = 20.0
TARGET_EXPLAIN_MS = 20.0
INDICATORS = {"employees": "number", "revenue": "number", "rd_expense": "number", "tax": "number",
              "patents": "number", "export_value": "number", "listed": "bool"}


@dataclass
class Figures:
    enterprises: int
    clauses: int
    load_s: float = 0.0
    match_s: float = 0.0
    match_peak_mib: float | None = None
    eligible: int = 0
    unknown: int = 0
    again_s: float | None = None
    clause_s: float = 0.0
    clause_pairs: int = 0
    enterprise_ms: float = 0.0
    enterprise_first_ms: float = 0.0
    explain_ms: float = 0.0
    sample: int = 0
    sample_equal: bool = True
    peak_process_mib: float = 0.0
    checks: dict = field(default_factory=dict)


def _write(table: str, columns: list[str], frame: pl.DataFrame) -> None:
    """Rows of `frame` (its columns in the order of `columns`) into `table`: COPY … FROM STDIN (CSV) on
    PostgreSQL in slices of a million rows, executemany elsewhere."""
    if frame.height == 0:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(table)} ({names}) FROM STDIN (FORMAT csv)") as copy:
                for i in range(0, frame.height, 1_000_000):
                    buffer = io.BytesIO()
                    frame.slice(i, 1_000_000).write_csv(buffer, include_header=False)
                    copy.write(buffer.getvalue())
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {qn(table)} ({names}) VALUES ({marks})", frame.iter_rows())


def _empty(region) -> None:
    """The scratch region's rows, removed by set-based deletes (the ORM would load a million objects)."""
    from qifu.enterprises.models import Enterprise
    from qifu.profiles.models import Indicator, IndicatorValue

    from .models import ClauseMatches, EnterpriseMatches, Policy, PolicyClause

    enterprises = Enterprise.objects.filter(region=region)
    ClauseMatches.objects.filter(clause__policy__region=region)._raw_delete(connection.alias)
    EnterpriseMatches.objects.filter(enterprise__in=enterprises)._raw_delete(connection.alias)
    IndicatorValue.objects.filter(enterprise__in=enterprises)._raw_delete(connection.alias)
    Enterprise.tags.through.objects.filter(enterprise__in=enterprises)._raw_delete(connection.alias)
    enterprises._raw_delete(connection.alias)
    PolicyClause.objects.filter(policy__region=region)._raw_delete(connection.alias)
    Policy.objects.filter(region=region)._raw_delete(connection.alias)
    Indicator.objects.filter(region=region).delete()


def _no_triggers() -> None:
    """Loading synthetic rows: skip the foreign key triggers for this transaction when the database user may
    (PostgreSQL superuser); each loaded row would otherwise be checked at the commit, one query each."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


def load(enterprises: int, clauses: int, seed: int = 1, reload: bool = False, log=print):
    """The scratch region with its enterprises, profile values and published clauses. Returns the region."""
    from qifu.enterprises.models import Enterprise, Tag
    from qifu.org.models import Jurisdiction, Region
    from qifu.profiles.models import Indicator, IndicatorValue
    from qifu.rules import clauses as cl

    from .models import Policy, PolicyClause, PolicyStatus, jsonable


    t0 = time.perf_counter()
    region, _ = Region.objects.get_or_create(code=REGION, defaults={"name": "政策找人 benchmark"})
    if not reload and (Enterprise.objects.filter(region=region).count() == enterprises
                       and PolicyClause.objects.filter(policy__region=region).count() == clauses):
        log(f"reusing the {enterprises:,} enterprises and {clauses:,} clauses of region {REGION} (--reload to load again)")
        return region
    frame = bench.synthetic_enterprises(enterprises, seed)
    with transaction.atomic():
        _no_triggers()
        _empty(region)
    jurisdictions = {}
    for code in bench.JURISDICTIONS:
        j, _ = Jurisdiction.objects.get_or_create(code=code, defaults={"region": region, "name": code,
                                                                         "level": Jurisdiction.Level.TOWNSHIP})
        jurisdictions[code] = j.pk
    tags = {name: Tag.objects.get_or_create(name=name)[0].pk for name, _ in bench.TAGS}
    indicators = {}
    for code, datatype in INDICATORS.items():
        indicators[code] = Indicator.objects.create(region=region, code=code, name=code, datatype=datatype).pk
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Enterprise._meta.db_table}")
        base = cursor.fetchone()[0] + 1
    now = timezone.now()
    frame = frame.with_columns((pl.col("id") + base).alias("id"))
    rows = frame.select(
        "id", pl.lit(region.pk).alias("region_id"),
        pl.format("BM{}", pl.col("id").cast(pl.String).str.zfill(16)).alias("uscc"),
        pl.format("基准企业{}", pl.col("id")).alias("name"), pl.lit("").alias("registered_address"),
        pl.col("jurisdiction").replace_strict(jurisdictions, default=None, return_dtype=pl.Int64).alias("jid"),
        pl.col("industry").fill_null(""), pl.col("size").fill_null(""), "registration_date",
        pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at"))
    with transaction.atomic():
        _no_triggers()
        _write(Enterprise._meta.db_table, ["id", "region_id", "uscc", "name", "registered_address", "jurisdiction_id",
                                           "industry", "size", "registration_date", "created_at", "updated_at"], rows)
        through = frame.select("id", "tags").explode("tags").drop_nulls().select(
            pl.col("id").alias("enterprise_id"),
            pl.col("tags").replace_strict(tags, return_dtype=pl.Int64).alias("tag_id"))
        _write(Enterprise.tags.through._meta.db_table, ["enterprise_id", "tag_id"], through)
        as_of = datetime.date(2025, 12, 31)
        for code, datatype in INDICATORS.items():
            value = pl.col(code).cast(pl.Int64) if datatype == "bool" else pl.col(code)
            values = frame.select(pl.col("id").alias("enterprise_id"), value.cast(pl.Float64).alias("value_number"))
            values = values.drop_nulls().with_columns(
                pl.lit(indicators[code]).alias("indicator_id"), pl.lit("").alias("value_text"),
                pl.lit(as_of).alias("as_of"), pl.lit("bench").alias("source"), pl.lit(now).alias("imported_at"))
            _write(IndicatorValue._meta.db_table, ["enterprise_id", "value_number", "indicator_id", "value_text",
                                                   "as_of", "source", "imported_at"], values)
        policies = []
        generator = bench.ClauseGenerator(seed)
        per_policy = 10
        for i in range(0, clauses, per_policy):
            policies.append(Policy(region=region, code=f"{REGION}-{i // per_policy:04d}", title=f"基准政策 {i // per_policy}",
                                   status=PolicyStatus.PUBLISHED, published_at=now))
        Policy.objects.bulk_create(policies)
        rows = []
        for i in range(clauses):
            data = generator.data(i)
            spec = generator_spec(data, i)
            rows.append(PolicyClause(
                policy=policies[i // per_policy], code=f"{REGION}-{data['code']}", title=data["title"],
                conditions=jsonable(data["conditions"]), benefit=data.get("benefit") or "",
                effective_from=data.get("effective_from"), effective_to=data.get("effective_to"),
                sort_order=i % per_policy, field_order=cl.field_order(spec)))
        PolicyClause.objects.bulk_create(rows, batch_size=500)
    if connection.vendor == "postgresql":
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Enterprise]):
                cursor.execute(sql)
            cursor.execute("ANALYZE")
    log(f"loaded {enterprises:,} enterprises ({through.height:,} tags, {len(INDICATORS)} indicators) and "
        f"{clauses:,} clauses into region {REGION} in {time.perf_counter() - t0:.1f} s")
    return region


def generator_spec(data: dict, i: int):
    from qifu.rules import yamlio

    return yamlio.parse_clause(data, f"clauses[{i}]")


def _peak_reset() -> bool:
    return bench._reset_peak()


def run(enterprises: int = 1_000_000, clauses: int = 1_000, seed: int = 1, on: datetime.date = bench.ON,
        again: bool = False, sample: int = 50, reload: bool = False, log=print) -> Figures:
    from qifu.enterprises.models import Enterprise
    from qifu.profiles import facts as profile_facts
    from qifu.rules import clauses as cl

    from . import services
    from . import matches
    from .models import ClauseMatches, EnterpriseMatches, PolicyClause

    f = Figures(enterprises, clauses)
    t0 = time.perf_counter()
    region = load(enterprises, clauses, seed, reload=reload, log=log)
    f.load_s = time.perf_counter() - t0
    with transaction.atomic():  # the match below is a first one: no matches to compare with
        _no_triggers()
        ClauseMatches.objects.filter(clause__policy__region=region)._raw_delete(connection.alias)
        EnterpriseMatches.objects.filter(enterprise__region=region)._raw_delete(connection.alias)

    gc.collect()
    reset = _peak_reset()
    t0 = time.perf_counter()
    summary = services.match_region(region.code, on=on)
    f.match_s = time.perf_counter() - t0
    f.match_peak_mib = bench._rss_kib("VmHWM") / 1024 if reset else None
    f.eligible, f.unknown = summary.eligible, summary.unknown
    phases = {**services.OUTCOME_PHASES, **services.PHASES}
    log("  of which: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    log(f"match_region: {f.match_s:.1f} s, {summary}; peak resident "
        f"{'n/a' if f.match_peak_mib is None else f'{f.match_peak_mib:,.0f} MiB'}")
    if again:
        t0 = time.perf_counter()
        services.match_region(region.code, on=on)
        f.again_s = time.perf_counter() - t0
        log(f"match_region again (nothing changed): {f.again_s:.1f} s")

    # publishing one clause: every enterprise of the region against it, the difference applied
    clause = (PolicyClause.objects.filter(policy__region=region, match_summary__isnull=False).order_by("pk").first()
              or PolicyClause.objects.filter(policy__region=region).first())
    t0 = time.perf_counter()
    result = services.rematch_clause(clause, on=on)
    f.clause_s = time.perf_counter() - t0
    f.clause_pairs = result.eligible + result.unknown
    phases = {**services.OUTCOME_PHASES, **services.PHASES}
    log(f"rematch_clause {clause.code}: {f.clause_s:.2f} s ({f.clause_pairs:,} pairs); of which: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))

    # one enterprise's change, the work after the commit: the first call and the median of five after
    ids = list(Enterprise.objects.filter(region=region).order_by("pk").values_list("pk", flat=True)[:sample])
    enterprise = Enterprise.objects.select_related("region").get(pk=ids[0])
    times = []
    for _ in range(6):
        t0 = time.perf_counter()
        services.rematch_enterprise(enterprise, on=on)
        times.append((time.perf_counter() - t0) * 1000)
    f.enterprise_first_ms, f.enterprise_ms = times[0], statistics.median(times[1:])
    log(f"rematch_enterprise: {f.enterprise_ms:.1f} ms (median of 5; first {f.enterprise_first_ms:.1f} ms)")

    specs = [spec for _, spec in services.clauses_in_force(region, on)]
    facts = profile_facts.enterprise_facts(enterprise, on=on)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for spec in specs:
            cl.explain(spec, facts, on)
        best = min(best, time.perf_counter() - t0)
    f.explain_ms = best * 1000
    log(f"explain: one enterprise × {len(specs):,} clauses in force in {f.explain_ms:.1f} ms")

    # the stored matches (decoded) equal the scalar engine on a sample of enterprises
    stored = {(m.enterprise_id, m.clause_id): (m.status, None if m.amount is None else float(m.amount), m.missing)
              for m in matches.pairs(ids)}
    expected = {}
    by_pk = {c.pk: s for c, s in services.clauses_in_force(region, on)}
    for e in Enterprise.objects.filter(pk__in=ids).select_related("region", "jurisdiction"):
        facts = profile_facts.enterprise_facts(e, on=on)
        for pk, spec in by_pk.items():
            o = cl.evaluate(spec, facts, on)
            if o.eligible is not False:
                expected[(e.pk, pk)] = ("eligible" if o.eligible is True else "unknown", o.amount, o.missing)
    f.sample, f.sample_equal = len(ids), stored == expected
    log(f"stored matches of {len(ids)} enterprises equal the scalar engine: {f.sample_equal} "
        f"({len(expected):,} pairs)")

    f.peak_process_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = f.match_peak_mib if f.match_peak_mib is not None else f.peak_process_mib
    f.checks = {
        f"qifu policy match of {enterprises:,} × {clauses:,} under {TARGET_MATCH_S:.0f} s": f.match_s < TARGET_MATCH_S,
        f"peak memory of the match under {TARGET_PEAK_MIB / 1024:.0f} GB": peak < TARGET_PEAK_MIB,
        f"publishing one clause re-matches every enterprise under {TARGET_CLAUSE_S:.0f} s": f.clause_s < TARGET_CLAUSE_S,
        f"one enterprise re-matched after its change under {TARGET_ENTERPRISE_MS:.0f} ms":
            f.enterprise_ms < TARGET_ENTERPRISE_MS,
        f"one enterprise × all clauses explained under {TARGET_EXPLAIN_MS:.0f} ms": f.explain_ms < TARGET_EXPLAIN_MS,
        "stored matches equal the scalar engine on the sample": f.sample_equal,
    }
    return f
