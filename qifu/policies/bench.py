"""Synthetic enterprises and clauses of realistic shape, and the `qifu bench policy-match` run.

Everything is generated in memory (no database): enterprises with Polars (pseudo-random numbers from
hashing the row number, so a million rows take well under a second and a seed reproduces them), clauses
with Python's `random` in the same data form as the YAML policies (`yamlio.parse_clause`).
"""

from __future__ import annotations

import datetime
import gc
import random
import resource
import time
from dataclasses import dataclass, field

import polars as pl

from qifu.rules import batch, yamlio
from qifu.rules import clauses as cl

ON = datetime.date(2026, 6, 1)

# GB/T 4754-2017: section → divisions (两位大类)
SECTIONS = {
    "A": range(1, 6), "B": range(6, 13), "C": range(13, 44), "D": range(44, 47), "E": range(47, 51),
    "F": range(51, 53), "G": range(53, 61), "H": range(61, 63), "I": range(63, 66), "J": range(66, 70),
    "K": range(70, 71), "L": range(71, 73), "M": range(73, 76), "N": range(76, 80), "O": range(80, 83),
    "P": range(83, 84), "Q": range(84, 86), "R": range(86, 91),
}
# how the enterprises of a district spread over the sections (manufacturing and trade dominate)
SECTION_WEIGHTS = {"C": 34, "F": 20, "I": 9, "M": 8, "L": 7, "E": 5, "G": 4, "K": 2, "H": 3, "R": 2, "O": 2,
                   "A": 1, "B": 0.5, "D": 0.5, "J": 1, "N": 1, "P": 0.5, "Q": 0.5}
SIZES = [("micro", 0.55, 6), ("small", 0.30, 40), ("medium", 0.12, 200), ("large", 0.03, 1200)]
TAGS = [("规上企业", 0.18), ("科技型中小企业", 0.15), ("高新技术企业", 0.08), ("专精特新", 0.04),
        ("专精特新小巨人", 0.006), ("瞪羚企业", 0.01), ("外贸企业", 0.12), ("失信企业", 0.01), ("上市企业", 0.004),
        ("总部企业", 0.005)]
JURISDICTIONS = [f"330114{n:03d}" for n in range(1, 25)]  # 街道/乡镇 division codes
NULL_SHARE = 0.10


def industry_codes(seed: int = 0) -> list[str]:
    """Four-character class codes (小类) like C2710, I6513: a few per division, weighted by section."""
    rng = random.Random(seed)
    codes = []
    for section, divisions in SECTIONS.items():
        per_division = []
        for div in divisions:
            classes = {f"{section}{div:02d}{rng.randrange(1, 10)}{rng.choice('0123456789')}" for _ in range(4)}
            per_division.extend(sorted(classes))
        weight = SECTION_WEIGHTS[section]
        repeat = max(1, round(weight * 400 / max(1, len(per_division)) / 10))
        codes.extend(per_division * repeat)
    codes.extend(["C2710", "C2720", "I6513", "I6510", "C3511", "M7320"] * 6)
    return codes


def _uniform(seed: int) -> pl.Expr:
    """Uniform [0, 1) from hashing the row number: reproducible and fast."""
    h = pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed=seed)
    return (h // 2048).cast(pl.Float64) * 2.0 ** -53


def _normal(seed: int) -> pl.Expr:
    u1, u2 = _uniform(seed), _uniform(seed + 7919)
    return (-2.0 * (1.0 - u1).log()).sqrt() * (2 * 3.141592653589793 * u2).cos()


def synthetic_enterprises(n: int, seed: int = 1) -> pl.DataFrame:
    """n enterprises, one row each: industry, size, employees, revenue, rd_expense, tax, patents,
    export_value, registration_date, jurisdiction, listed, tags; about 10% nulls per indicator."""
    s = seed * 1000
    codes = pl.Series("industry", industry_codes(seed))
    base = pl.select(pl.int_range(n, dtype=pl.Int64).alias("id"))
    idx = base.select((_uniform(s + 1) * len(codes)).floor().cast(pl.UInt32).alias("i"))["i"]
    size_u = _uniform(s + 2)
    size, mu = None, None
    acc = 0.0
    for name, share, employees in SIZES:
        acc += share
        size = (pl.when(size_u < acc) if size is None else size.when(size_u < acc)).then(pl.lit(name))
        mu = (pl.when(size_u < acc) if mu is None else mu.when(size_u < acc)).then(pl.lit(employees).log())
    size, mu = size.otherwise(pl.lit("large")), mu.otherwise(pl.lit(1200.0).log())
    employees = (mu + 0.5 * _normal(s + 3)).exp().round(0).clip(1, 50000).cast(pl.Int64)
    frame = base.with_columns(
        industry=codes.gather(idx),
        size=size,
        employees=employees,
        jurisdiction=pl.lit(pl.Series(JURISDICTIONS)).gather((_uniform(s + 4) * len(JURISDICTIONS))
                                                              .floor().cast(pl.UInt32)),
        registration_date=(pl.lit(datetime.date(1992, 1, 1))
                           + pl.duration(days=((1.0 - _uniform(s + 5) ** 1.6) * 12_570).floor().cast(pl.Int64))),
        listed=_uniform(s + 6) < 0.02,
    )
    frame = frame.with_columns(
        revenue=(pl.col("employees").cast(pl.Float64) * (13.3 + 0.8 * _normal(s + 10)).exp()).round(0).cast(pl.Int64),
    ).with_columns(
        rd_expense=pl.when(_uniform(s + 11) < 0.6)
        .then((pl.col("revenue").cast(pl.Float64) * (-3.5 + 0.7 * _normal(s + 12)).exp()).round(0))
        .otherwise(0.0).cast(pl.Int64),
        tax=(pl.col("revenue").cast(pl.Float64) * (-3.2 + 0.5 * _normal(s + 13)).exp() * 100).round(0) / 100,
        patents=((0.5 + 1.2 * _normal(s + 14)).exp() - 1).floor().clip(0, 5000).cast(pl.Int64),
        export_value=pl.when(_uniform(s + 15) < 0.2)
        .then((pl.col("revenue").cast(pl.Float64) * _uniform(s + 16)).round(0)).otherwise(0.0).cast(pl.Int64),
        tags=pl.concat_list([pl.when(_uniform(s + 20 + i) < p).then(pl.lit(tag)) for i, (tag, p) in enumerate(TAGS)])
        .list.drop_nulls(),
    )
    nullable = ["industry", "size", "employees", "revenue", "rd_expense", "tax", "patents", "export_value",
                "registration_date", "jurisdiction", "tags"]
    frame = frame.with_columns(
        pl.when(_uniform(s + 100 + i) >= NULL_SHARE).then(pl.col(name)).alias(name) for i, name in enumerate(nullable))
    return frame.select("id", "industry", "size", "employees", "revenue", "rd_expense", "tax", "patents",
                        "export_value", "registration_date", "jurisdiction", "listed", "tags")


# --- clauses -----------------------------------------------------------------------------------------

PREFIXES = [["C"], ["C27"], ["C26", "C27"], ["C3"], ["C39", "C40"], ["I65"], ["I63", "I64", "I65"], ["M73"],
            ["M7"], ["F51"], ["G54"], ["C1", "C2"], ["L72"], ["E"], ["C35", "C36", "C34"]]


class ClauseGenerator:
    """Clauses shaped like real ones: 2–6 conditions, one selective (industry, place, or a title),
    sometimes a nested any/all, expression leaves with years_since or ratios, fixed, proportional,
    tiered and capped benefits, effective dates mostly covering the bench date."""

    def __init__(self, seed: int = 1):
        self.rng = random.Random(seed)

    def selective(self):
        r = self.rng
        return r.choice([
            lambda: {"field": "industry", "op": "prefix", "value": r.choice(PREFIXES)},
            lambda: {"field": "industry", "op": "prefix", "value": r.choice(PREFIXES)},
            lambda: {"field": "jurisdiction", "op": "in", "value": r.sample(JURISDICTIONS, r.randrange(1, 6))},
            lambda: {"has_tag": r.choice(["专精特新", "高新技术企业", "科技型中小企业", "规上企业", "瞪羚企业",
                                          "外贸企业", "专精特新小巨人"])},
        ])()

    def ordinary(self):
        r = self.rng
        return r.choice([
            lambda: {"field": "size", "op": "in", "value": r.choice([["micro", "small"], ["micro", "small", "medium"]])},
            lambda: {"field": "size", "op": "!=", "value": "large"},
            lambda: {"field": "employees", "op": r.choice(["<", "<=", ">="]), "value": r.choice([20, 50, 100, 300, 1000])},
            lambda: {"field": "employees", "op": "between", "value": r.choice([[10, 300], [20, 1000], [50, 2000]])},
            lambda: {"field": "revenue", "op": ">=", "value": r.choice([5e6, 1e7, 2e7, 5e7, 1e8, 4e8])},
            lambda: {"field": "revenue", "op": "<", "value": r.choice([4e7, 1e8, 4e8])},
            lambda: {"field": "rd_expense", "op": ">=", "value": r.choice([2e5, 5e5, 1e6, 2e6, 5e6])},
            lambda: {"field": "tax", "op": ">=", "value": r.choice([1e5, 5e5, 1e6, 5e6])},
            lambda: {"field": "patents", "op": ">=", "value": r.choice([1, 3, 5, 10])},
            lambda: {"field": "export_value", "op": ">", "value": r.choice([0, 1e6, 1e7])},
            lambda: {"field": "registration_date", "op": r.choice([">=", "<"]),
                     "value": r.choice(["2016-01-01", "2021-01-01", datetime.date(2023, 6, 1)])},
            lambda: {"not": {"has_tag": "失信企业"}},
            lambda: {"field": "listed", "op": "==", "value": False},
            lambda: {"expr": r.choice(["years_since(registration_date) >= 3", "years_since(registration_date) < 5",
                                       "years_since(registration_date) >= 1 and employees >= 10",
                                       "rd_expense / revenue >= 0.03", "rd_expense >= revenue * 0.05 or patents >= 5",
                                       "export_value > revenue * 0.3", "tax / employees > 20000"])},
        ])()

    def conditions(self):
        r = self.rng
        leaves = r.randrange(2, 7)
        items = [self.selective()]
        while len(items) < leaves:
            left = leaves - len(items)
            if left >= 2 and r.random() < 0.3:
                k = r.randrange(2, min(3, left) + 1)
                inner = [self.ordinary() if r.random() < 0.7 else self.selective() for _ in range(k)]
                if k == 3 and r.random() < 0.3:
                    inner = [inner[0], {"all": inner[1:]}]
                items.append({"any": inner})
            else:
                items.append(self.ordinary())
        return {"all": items}

    def benefit(self):
        r = self.rng
        cap = r.choice([300_000, 500_000, 1_000_000, 2_000_000])
        return r.choice([
            None, str(r.choice([50_000, 100_000, 200_000, 500_000])),
            f"min(rd_expense * {r.choice([0.05, 0.1, 0.15, 0.2])}, {cap})",
            "bracket(revenue, [[20000000, 100000], [50000000, 200000], [100000000, 500000]])",
            ("min(bracket(revenue, [[10000000, 50000], [50000000, 100000], [100000000, 200000]])"
             f" + round(rd_expense * 0.015, -3), {cap})"),
            f"min(employees * {r.choice([1000, 2000, 3000])}, {cap})",
            f"min(tax * {r.choice([0.2, 0.3, 0.5])}, {cap})",
            "min(floor(years_since(registration_date)) * 10000, 100000)",
            f"min(export_value * 0.02, {cap})",
        ])

    def clause(self, i: int) -> cl.ClauseSpec:
        return yamlio.parse_clause(self.data(i), f"clauses[{i}]")

    def data(self, i: int) -> dict:
        """Clause i in the YAML data form (what `clause` parses)."""
        r = self.rng
        data = {"code": f"B-{i:05d}", "title": f"synthetic clause {i}", "conditions": self.conditions()}
        benefit = self.benefit()
        if benefit:
            data["benefit"] = benefit
        u = r.random()
        if u < 0.05:
            data["effective_from"] = datetime.date(2026, 7, 1)  # not yet in force
        elif u < 0.10:
            data["effective_to"] = datetime.date(2025, 12, 31)  # expired
        else:
            data["effective_from"] = datetime.date(r.choice([2024, 2025, 2026]), r.choice([1, 3, 4]), 1)
            data["effective_to"] = r.choice([None, datetime.date(2026, 12, 31), datetime.date(2027, 12, 31)])
        return data

    def clauses(self, m: int) -> list[cl.ClauseSpec]:
        return [self.clause(i) for i in range(m)]


# --- the benchmark ----------------------------------------------------------------------------------

TARGET_BATCH_S = 60.0
TARGET_RATIO = 20.0
TARGET_EXPLAIN_MS = 20.0


def _rss_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux: clear_refs 5), to measure one phase's peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@dataclass
class Figures:
    enterprises: int
    clauses: int
    in_force: int
    vectorized: int
    generate_s: float
    batch_s: float
    matches: int
    eligible: int
    unknown: int
    frame_mib: float
    result_mib: float
    rss_before_mib: float | None
    peak_match_mib: float | None
    peak_process_mib: float
    sample: int
    scalar_per_enterprise_ms: float
    batch_per_enterprise_ms: float
    ratio: float
    explain_ms: float
    explain_lines: int
    checks: dict = field(default_factory=dict)
    batch_cpu_s: float = 0.0  # user + system CPU time of the process during the batch match (all threads)


def run_policy_match(enterprises: int = 1_000_000, clauses: int = 1_000, sample: int = 200, seed: int = 1,
                     on: datetime.date = ON, missing: bool = True, log=print, after_batch=None) -> Figures:
    """`after_batch(frame, clauses, result, batch_s, batch_cpu_s)`, if given, runs right after the batch
    match, before the result is dropped (`qifu bench policy-match --duckdb` runs DuckDB there)."""
    t0 = time.perf_counter()
    frame = synthetic_enterprises(enterprises, seed)
    clause_list = ClauseGenerator(seed).clauses(clauses)
    generate_s = time.perf_counter() - t0
    in_force = [c for c in clause_list if c.in_force(on)]
    compiler = batch.Compiler(frame.schema, on)
    vectorized = 0
    for c in in_force:
        try:
            compiler.clause(c)
            vectorized += 1
        except batch.NotVectorizable:
            pass
    log(f"generated {enterprises:,} enterprises × {clauses:,} clauses ({len(in_force):,} in force on {on}, "
        f"{vectorized:,} compiled to Polars) in {generate_s:.1f} s; frame {frame.estimated_size() / 2**20:,.0f} MiB")

    gc.collect()
    rss_before = _rss_kib("VmRSS")
    peak_reset = _reset_peak()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    result = batch.match_frame(clause_list, frame, on, missing=missing)
    batch_s = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    batch_cpu_s = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
    peak_match = _rss_kib("VmHWM") if peak_reset else None
    counts = dict(result.group_by("status").len().iter_rows())
    eligible, unknown = counts.get("eligible", 0), counts.get("unknown", 0)
    result_mib = result.estimated_size() / 2**20
    log(f"batch: {batch_s:.2f} s, {result.height:,} pairs ({eligible:,} eligible, {unknown:,} unknown; "
        f"{result.height / max(1, enterprises):.1f} per enterprise), result {result_mib:,.0f} MiB; "
        f"CPU {batch_cpu_s:.2f} s")
    if after_batch is not None:
        after_batch(frame, clause_list, result, batch_s, batch_cpu_s)
    del result
    gc.collect()

    rows = frame.head(sample).drop("id").to_dicts()
    t0 = time.perf_counter()
    for facts in rows:
        for c in clause_list:
            cl.evaluate(c, facts, on)
    scalar_s = time.perf_counter() - t0
    scalar_per = scalar_s / max(1, len(rows)) * 1000
    batch_per = batch_s / max(1, enterprises) * 1000
    ratio = scalar_per / batch_per if batch_per else float("inf")
    log(f"scalar: {scalar_s:.2f} s for {len(rows)} enterprises × {clauses:,} clauses = {scalar_per:.2f} ms per "
        f"enterprise; batch {batch_per * 1000:.2f} µs per enterprise; ratio {ratio:,.0f}×")

    # one enterprise × all clauses with explanations (the enterprise page): a well-filled row, best of 5
    facts = next((r for r in rows if all(v is not None for v in r.values())), rows[0] if rows else {})
    best, lines = float("inf"), 0
    for _ in range(5):
        t0 = time.perf_counter()
        lines = sum(len(cl.explain(c, facts, on)) for c in clause_list)
        best = min(best, time.perf_counter() - t0)
    explain_ms = best * 1000
    log(f"explain: one enterprise × {clauses:,} clauses with explanations in {explain_ms:.1f} ms ({lines:,} lines)")

    figures = Figures(
        enterprises=enterprises, clauses=clauses, in_force=len(in_force), vectorized=vectorized,
        generate_s=generate_s, batch_s=batch_s, matches=eligible + unknown, eligible=eligible, unknown=unknown,
        frame_mib=frame.estimated_size() / 2**20, result_mib=result_mib,
        rss_before_mib=rss_before / 1024 if rss_before else None,
        peak_match_mib=peak_match / 1024 if peak_match else None,
        peak_process_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        sample=len(rows), scalar_per_enterprise_ms=scalar_per, batch_per_enterprise_ms=batch_per, ratio=ratio,
        explain_ms=explain_ms, explain_lines=lines, batch_cpu_s=batch_cpu_s)
    figures.checks = {
        f"full batch under {TARGET_BATCH_S:.0f} s": batch_s < TARGET_BATCH_S,
        f"at least {TARGET_RATIO:.0f}× faster per enterprise than one at a time": ratio >= TARGET_RATIO,
        f"one enterprise × all clauses with explanations under {TARGET_EXPLAIN_MS:.0f} ms": explain_ms < TARGET_EXPLAIN_MS,
    }
    return figures
