"""Stored matches (政策找人): the one place that knows how they are kept.

Matching gives the eligible and unknown (enterprise, clause) pairs — 44 million at a million enterprises ×
a thousand clauses, too many rows to write in a minute on a small machine (docs/decisions.md). They are
kept as one `EnterpriseMatches` row per enterprise (its pairs as compact JSON: clause ids, status, amount in
cents, missing-field mask) and one `ClauseMatches` row per clause (counts, the eligible amounts' total and the
enterprise ids), written together here:

- `store_region`: all of a region's enterprises × all its clauses in force (`qifu policy match`);
- `store_clauses`: all of a region's enterprises × some clauses (publishing, changing, retiring a clause);
- `store_enterprises`: some enterprises × all clauses in force (an enterprise's or an import's change);

each a difference: rows whose text is unchanged are not written. Readers get `Match` values (one pair,
with `clause`, `amount`, `missing`) from `for_enterprise` and `confirmable`, or ids and counts from
`enterprise_ids` and `clause_rows`. Every reader is scoped by its caller, as before: an enterprise reads
only its own row.
"""

from __future__ import annotations

import datetime
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate

import polars as pl
from django.db import connection, transaction

from qifu.enterprises.models import Enterprise
from qifu.rules import clauses as cl

from .models import ClauseMatches, EnterpriseMatches, MatchStatus, PolicyClause, PolicyStatus

ELIGIBLE, UNKNOWN = str(MatchStatus.ELIGIBLE), str(MatchStatus.UNKNOWN)


@dataclass
class Match:
    """One (enterprise, clause) pair, as the readers see it."""

    enterprise_id: int
    clause_id: int
    status: str
    amount: Decimal | None
    missing_mask: int = 0
    computed_at: datetime.datetime | None = None
    notified: bool = False
    clause: PolicyClause | None = None
    enterprise: object = None

    @property
    def missing(self) -> list[str]:
        """The missing field names, sorted (decoded from the mask against the clause's field order)."""
        return cl.decode_missing(self.missing_mask, self.clause.field_order) if self.missing_mask else []

    def get_status_display(self) -> str:
        return str(MatchStatus(self.status).label)


# --- the encoding -------------------------------------------------------------------------------------

# An enterprise's row: {"c": [its clause ids, ascending: the first, then the differences], "a": [amounts in cents
# or null], "m": [the missing-field mask × 2, + 1 when eligible]} — about 15 bytes a pair.
LONG = {"enterprise_id": pl.Int64, "clause_id": pl.Int64, "s": pl.Int8, "a": pl.Int64, "m": pl.Int64}
_PAIRS = pl.Struct({"c": pl.List(pl.Int64), "a": pl.List(pl.Int64), "m": pl.List(pl.UInt64)})


def cents(amount) -> int | None:
    return None if amount is None else int(round(round(float(amount), 2) * 100))


def money(cents_: int | None) -> Decimal | None:
    return None if cents_ is None else Decimal(cents_).scaleb(-2)


def encode_pairs(pairs) -> str:
    """(clause_id, eligible 1/0, cents or None, mask) tuples → the row's text (what Polars writes, byte for byte)."""
    pairs = sorted(pairs)
    clauses = [p[0] for p in pairs]
    return json.dumps({"c": [b - a for a, b in zip([0, *clauses], clauses)], "a": [p[2] for p in pairs],
                       "m": [p[3] * 2 + p[1] for p in pairs]}, separators=(",", ":"))


def decode_pairs(text: str) -> dict[int, tuple[int, int | None, int]]:
    """The row's text → {clause_id: (eligible 1/0, cents or None, mask)}."""
    data = json.loads(text) if text else {"c": []}
    return {c: (m & 1, a, m >> 1) for c, a, m in zip(accumulate(data["c"]), data["a"], data["m"])}


def encode_ids(ids) -> str:
    ids = sorted(ids)
    return "[" + ",".join(str(b - a) for a, b in zip([0, *ids], ids)) + "]"


def decode_ids(text: str) -> list[int]:
    return list(accumulate(json.loads(text))) if text and text != "[]" else []


def normalize(frame: pl.DataFrame) -> pl.DataFrame:
    """An outcome frame (enterprise_id, clause_id, status, amount, missing_mask) → LONG, in clause order (the
    engine's when its clauses are given in id order: then nothing is sorted)."""
    long = frame.lazy().select(
        pl.col("enterprise_id").cast(pl.Int64), pl.col("clause_id").cast(pl.Int64),
        (pl.col("status").cast(pl.String) == ELIGIBLE).cast(pl.Int8).alias("s"),
        (pl.col("amount").cast(pl.Float64).round(2) * 100).round().cast(pl.Int64).alias("a"),
        pl.col("missing_mask").cast(pl.Int64).alias("m"),
    ).collect()
    return long if long["clause_id"].is_sorted() else long.sort("clause_id", "enterprise_id")


def _texts(long: pl.DataFrame) -> pl.DataFrame:
    """LONG in clause order → (enterprise_id, pairs): one text per enterprise (the grouping keeps each
    enterprise's pairs in clause order)."""
    return long.lazy().group_by("enterprise_id", maintain_order=True).agg(
        (pl.col("clause_id") - pl.col("clause_id").shift(1, fill_value=0)).alias("c"), "a",
        (pl.col("m").cast(pl.UInt64) * 2 + pl.col("s").cast(pl.UInt64)).alias("m"),
    ).select("enterprise_id", pl.struct("c", "a", "m").struct.json_encode().alias("pairs")).collect()


def _long(texts: pl.DataFrame) -> pl.DataFrame:
    """(enterprise_id, pairs) → LONG."""
    if texts.height == 0:
        return pl.DataFrame(schema=LONG)
    return texts.lazy().with_columns(pl.col("pairs").str.json_decode(_PAIRS)).unnest("pairs").with_columns(
        pl.col("c").list.eval(pl.element().cum_sum())).explode(["c", "a", "m"]).drop_nulls("c").select(
        pl.col("enterprise_id").cast(pl.Int64), pl.col("c").alias("clause_id"), (pl.col("m") % 2).cast(pl.Int8).alias("s"),
        "a", (pl.col("m") // 2).cast(pl.Int64).alias("m")).collect()


def _clause_parts(long: pl.DataFrame) -> pl.DataFrame:
    """Per clause and status of one part of the outcome: the enterprise ids (in the part's order) and the cents."""
    return long.lazy().group_by("clause_id", "s").agg(
        pl.col("enterprise_id").alias("ids"), pl.col("a").sum().alias("total")).collect()


def _clause_rows(parts: list[pl.DataFrame], now) -> pl.DataFrame:
    """The clause rows (the columns of `ClauseMatches`) from the parts of an outcome."""
    if not parts:
        parts = [_clause_parts(pl.DataFrame(schema=LONG))]
    merged = pl.concat(parts).lazy().group_by("clause_id", "s").agg(
        pl.col("ids").list.explode(keep_nulls=False, empty_as_null=False).sort(), pl.col("total").sum()).with_columns(
        pl.col("ids").list.len().alias("n"),
        ("[" + pl.concat_list(pl.col("ids").list.first(), pl.col("ids").list.diff().list.slice(1))
         .cast(pl.List(pl.String)).list.join(",") + "]").alias("text")).collect()
    eligible = merged.filter(pl.col("s") == 1).select(
        "clause_id", pl.col("n").alias("eligible"), (pl.col("total").fill_null(0) / 100).alias("amount"),
        pl.col("text").alias("eligible_ids"))
    unknown = merged.filter(pl.col("s") == 0).select("clause_id", pl.col("n").alias("unknown"),
                                                      pl.col("text").alias("unknown_ids"))
    return eligible.join(unknown, on="clause_id", how="full", coalesce=True).select(
        "clause_id", pl.col("eligible").fill_null(0), pl.col("unknown").fill_null(0),
        pl.col("amount").fill_null(0).round(2), pl.col("eligible_ids").fill_null("[]"),
        pl.col("unknown_ids").fill_null("[]"), pl.lit(now.isoformat()).alias("computed_at"))


def _write_clause_rows(frame: pl.DataFrame) -> None:
    if _pg():
        with connection.cursor() as cursor:
            _copy(cursor, f"COPY {ClauseMatches._meta.db_table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)",
                  [frame])
    else:
        ClauseMatches.objects.bulk_create(
            [ClauseMatches(clause_id=c, eligible=e, unknown=u, amount=money(cents(a)), eligible_ids=ei,
                           unknown_ids=ui, computed_at=datetime.datetime.fromisoformat(t))
             for c, e, u, a, ei, ui, t in frame.iter_rows()], batch_size=100)


# --- writing ------------------------------------------------------------------------------------------

_STAGE = "qifu_match_stage"  # a region's rows, compared in SQL
_CHANGES = "qifu_match_changes"  # changed rows, applied in one UPDATE
PHASES: dict[str, float] = {}  # seconds per step of the last store (the benchmark prints them)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False)
    return buffer.getvalue()


def _copy(cursor, sql: str, frames) -> None:
    with cursor.cursor.copy(sql) as copy:
        for frame in frames:
            for i in range(0, frame.height, 100_000):
                copy.write(_csv(frame.slice(i, 100_000)))


def _read_texts(ids: list[int] | None = None, region=None) -> pl.DataFrame:
    """(enterprise_id, pairs) of the given enterprises (or all of the region's)."""
    rows: list[tuple] = []
    table = EnterpriseMatches._meta.db_table
    if region is not None:
        rows = list(EnterpriseMatches.objects.filter(enterprise__region=region).values_list("enterprise_id", "pairs"))
    elif ids and _pg():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT enterprise_id, pairs FROM {table} WHERE enterprise_id = ANY(%s)", [list(ids)])
            rows = cursor.fetchall()
    elif ids:
        for i in range(0, len(ids), 500):
            rows += EnterpriseMatches.objects.filter(pk__in=ids[i:i + 500]).values_list("enterprise_id", "pairs")
    return pl.DataFrame(rows, schema={"enterprise_id": pl.Int64, "pairs": pl.String}, orient="row")


def _write_changes(old: pl.DataFrame, new: pl.DataFrame, now) -> None:
    """Make the rows of `old` (enterprise_id, pairs) those of `new`: gone ones deleted, changed ones updated
    (keeping `notified`), new ones inserted. Rows outside `old` must not be in `new` unless they do not exist."""
    joined = old.join(new, on="enterprise_id", how="full", suffix="_new", coalesce=True)
    gone = joined.filter(pl.col("pairs_new").is_null())["enterprise_id"].to_list()
    changed = joined.filter(pl.col("pairs").is_not_null() & pl.col("pairs_new").is_not_null()
                            & (pl.col("pairs") != pl.col("pairs_new"))).select("enterprise_id", pl.col("pairs_new"))
    added = joined.filter(pl.col("pairs").is_null()).select("enterprise_id", pl.col("pairs_new"))
    table = EnterpriseMatches._meta.db_table
    with connection.cursor() as cursor:
        if gone:
            if _pg():
                cursor.execute(f"DELETE FROM {table} WHERE enterprise_id = ANY(%s)", [gone])
            else:
                for i in range(0, len(gone), 500):
                    EnterpriseMatches.objects.filter(pk__in=gone[i:i + 500])._raw_delete(connection.alias)
        if changed.height > 1000 and _pg():
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_CHANGES} (enterprise_id bigint, pairs text) ON COMMIT DROP")
            cursor.execute(f"TRUNCATE {_CHANGES}")
            _copy(cursor, f"COPY {_CHANGES} FROM STDIN (FORMAT csv)", [changed])
            cursor.execute(f"UPDATE {table} m SET pairs = s.pairs, computed_at = %s FROM {_CHANGES} s "
                           "WHERE m.enterprise_id = s.enterprise_id", [now])
        elif changed.height:
            cursor.executemany(f"UPDATE {table} SET pairs = %s, computed_at = %s WHERE enterprise_id = %s",
                               [(p, now, e) for e, p in changed.iter_rows()])
        if added.height > 1000 and _pg():
            _copy(cursor, f"COPY {table} (enterprise_id, pairs, computed_at) FROM STDIN (FORMAT csv)",
                  [added.with_columns(pl.lit(now.isoformat()).alias("computed_at"))])
        elif added.height:
            EnterpriseMatches.objects.bulk_create(
                [EnterpriseMatches(enterprise_id=e, pairs=p, computed_at=now) for e, p in added.iter_rows()],
                batch_size=500)


def _count(counts: dict, long: pl.DataFrame) -> None:
    eligible = int(long["s"].sum() or 0)
    counts[ELIGIBLE] = counts.get(ELIGIBLE, 0) + eligible
    counts[UNKNOWN] = counts.get(UNKNOWN, 0) + long.height - eligible


def store_region(outcome, region, now) -> dict:
    """All of the region's enterprises × all its clauses in force: `outcome` (outcome frames, each sorted by
    enterprise, the parts in ascending enterprise order) replaces the region's matches. Returns the pairs per status."""
    import time

    PHASES.clear()
    clock = time.perf_counter()
    counts: dict = {}
    parts: list[pl.DataFrame] = []
    texts: list[pl.DataFrame] = []
    table = EnterpriseMatches._meta.db_table
    existing = EnterpriseMatches.objects.filter(enterprise__region=region)
    with transaction.atomic(), connection.cursor() as cursor:
        first = _pg() and not existing.exists()
        if _pg():
            from psycopg.copy import QueuedLibpqWriter

            target = (f"COPY {table} (enterprise_id, pairs, computed_at) FROM STDIN (FORMAT csv)" if first else
                      f"COPY {_STAGE} FROM STDIN (FORMAT csv)")
            if not first:
                cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (enterprise_id bigint, pairs text, "
                               "computed_at timestamptz) ON COMMIT DROP")
                cursor.execute(f"TRUNCATE {_STAGE}")
            stamp = pl.lit(now.isoformat()).alias("computed_at")
            # The engine runs as the parts are consumed; a worker thread sends each part's texts while the
            # engine computes the next one, so the database writes while Polars computes.
            encode = 0.0
            with cursor.cursor.copy(target, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
                for frame in outcome:
                    started = time.perf_counter()
                    long = normalize(frame)
                    del frame
                    _count(counts, long)
                    parts.append(_clause_parts(long))
                    texts_part = _texts(long).with_columns(stamp)
                    del long
                    for i in range(0, texts_part.height, 50_000):
                        copy.write(_csv(texts_part.slice(i, 50_000)))
                    del texts_part
                    encode += time.perf_counter() - started
                PHASES["encode"] = encode
                waiting = time.perf_counter()
            PHASES["copy end"] = time.perf_counter() - waiting  # the database finishing what was sent
            PHASES["copy"] = time.perf_counter() - clock
            if not first:
                cursor.execute(f"ANALYZE {_STAGE}")  # a million rows: the planner must see them to hash them
                cursor.execute(f"DELETE FROM {table} m USING {Enterprise._meta.db_table} e WHERE e.id = m.enterprise_id "
                               f"AND e.region_id = %s AND NOT EXISTS (SELECT 1 FROM {_STAGE} s "
                               "WHERE s.enterprise_id = m.enterprise_id)", [region.pk])
                cursor.execute(f"UPDATE {table} m SET pairs = s.pairs, computed_at = s.computed_at FROM {_STAGE} s "
                               "WHERE m.enterprise_id = s.enterprise_id AND m.pairs <> s.pairs")
                cursor.execute(f"INSERT INTO {table} (enterprise_id, pairs, computed_at) SELECT s.enterprise_id, "
                               f"s.pairs, s.computed_at FROM {_STAGE} s WHERE NOT EXISTS "
                               f"(SELECT 1 FROM {table} m WHERE m.enterprise_id = s.enterprise_id)")
                PHASES["difference"] = time.perf_counter() - clock - PHASES["copy"]
        else:
            for frame in outcome:
                long = normalize(frame)
                _count(counts, long)
                parts.append(_clause_parts(long))
                texts.append(_texts(long))
            _write_changes(_read_texts(region=region), pl.concat(texts) if texts else _texts(pl.DataFrame(schema=LONG)),
                           now)
        clock = time.perf_counter()
        ClauseMatches.objects.filter(clause__policy__region=region)._raw_delete(connection.alias)
        _write_clause_rows(_clause_rows(parts, now))
        PHASES["clauses"] = time.perf_counter() - clock
    return counts


def store_clauses(outcome, region, clause_ids: list[int], now) -> dict:
    """All of the region's enterprises × the clauses `clause_ids`: their pairs in the enterprises' rows
    replaced by the outcome's (an empty outcome removes them: a retired policy), their clause rows rebuilt."""
    import time

    PHASES.clear()
    clock = time.perf_counter()
    new = pl.concat([normalize(f) for f in outcome] or [pl.DataFrame(schema=LONG)])
    counts: dict = {}
    _count(counts, new)
    with transaction.atomic():
        before = ClauseMatches.objects.select_for_update().filter(clause_id__in=clause_ids)
        holders = set()
        for row in before:
            holders.update(decode_ids(row.eligible_ids))
            holders.update(decode_ids(row.unknown_ids))
        holders.update(new["enterprise_id"].unique().to_list())
        old = _read_texts(sorted(holders))
        PHASES["read"] = time.perf_counter() - clock
        old_long = _long(old)
        before = old_long.filter(pl.col("clause_id").is_in(clause_ids))
        keys = list(LONG)  # an enterprise is rewritten only when one of its pairs of these clauses changed
        changed = pl.concat([before.join(new, on=keys, how="anti", nulls_equal=True),
                             new.join(before, on=keys, how="anti", nulls_equal=True)])["enterprise_id"].unique().to_list()
        if len(changed):
            kept = old_long.filter(pl.col("enterprise_id").is_in(changed) & ~pl.col("clause_id").is_in(clause_ids))
            merged = _texts(pl.concat([kept, new.filter(pl.col("enterprise_id").is_in(changed))])
                            .sort("clause_id", "enterprise_id"))
            _write_changes(old.filter(pl.col("enterprise_id").is_in(changed)), merged, now)
        PHASES["enterprises"] = time.perf_counter() - clock - PHASES["read"]
        ClauseMatches.objects.filter(clause_id__in=clause_ids)._raw_delete(connection.alias)
        _write_clause_rows(_clause_rows([_clause_parts(new)], now))
    return counts


def store_enterprises(outcome, enterprise_ids: list[int], now) -> dict:
    """The enterprises `enterprise_ids` × all their region's clauses in force: their rows replaced by the
    outcome's; the clause rows of every pair that changed adjusted."""
    new = pl.concat([normalize(f) for f in outcome] or [pl.DataFrame(schema=LONG)])
    counts: dict = {}
    _count(counts, new)
    with transaction.atomic():
        old = _read_texts(sorted(set(enterprise_ids)))
        _write_changes(old, _texts(new), now)
        before = _long(old)
        diff = before.join(new, on=["enterprise_id", "clause_id"], how="full", suffix="_new", coalesce=True).filter(
            pl.col("s").ne_missing(pl.col("s_new")) | pl.col("a").ne_missing(pl.col("a_new")))
        _adjust_clauses([(e, c, None if s is None else (s, a), None if sn is None else (sn, an))
                         for e, c, s, a, _m, sn, an, _mn in diff.select(
                             "enterprise_id", "clause_id", "s", "a", "m", "s_new", "a_new", "m_new").iter_rows()], now)
    return counts


def store_enterprise(enterprise_id: int, pairs: list[tuple], now) -> tuple[dict, bool]:
    """One enterprise × all its region's clauses in force (`pairs`: (clause_id, status, amount, mask)), in
    Python: one query when nothing changed. Returns the pairs per status and whether an eligible pair
    has not been notified (when none has, there is nobody to notify)."""
    new = {c: (1 if status == ELIGIBLE else 0, cents(amount), mask) for c, status, amount, mask in pairs}
    row = EnterpriseMatches.objects.filter(pk=enterprise_id).only("pairs", "notified").first()
    old = decode_pairs(row.pairs) if row else {}
    told = _ids(row.notified) if row else set()
    counts = {ELIGIBLE: sum(v[0] for v in new.values())}
    counts[UNKNOWN] = len(new) - counts[ELIGIBLE]
    fresh = any(v[0] == 1 and c not in told for c, v in new.items())
    if old == new:
        return counts, fresh
    with transaction.atomic():
        if row is not None:  # changed: read it again, locked, so that two re-matches adjust the clause rows once
            row = EnterpriseMatches.objects.select_for_update().filter(pk=enterprise_id).only("pairs").first()
            old = decode_pairs(row.pairs) if row else {}
        if not new:
            EnterpriseMatches.objects.filter(pk=enterprise_id).delete()
        elif row is None:
            EnterpriseMatches.objects.create(enterprise_id=enterprise_id, pairs=encode_pairs(
                (c, *v) for c, v in new.items()), computed_at=now)
        else:
            EnterpriseMatches.objects.filter(pk=enterprise_id).update(
                pairs=encode_pairs((c, *v) for c, v in new.items()), computed_at=now)
        changes = []
        for c in old.keys() | new.keys():
            o, n = old.get(c), new.get(c)
            if (o and o[:2]) != (n and n[:2]):
                changes.append((enterprise_id, c, o and o[:2], n and n[:2]))
        _adjust_clauses(changes, now)
    return counts, fresh


def _adjust_clauses(changes: list[tuple], now) -> None:
    """(enterprise_id, clause_id, (eligible, cents) before or None, after or None) → the clause rows adjusted."""
    if not changes:
        return
    by_clause: dict[int, list] = {}
    for change in changes:
        by_clause.setdefault(change[1], []).append(change)
    existing = {r.pk: r for r in ClauseMatches.objects.select_for_update().filter(clause_id__in=list(by_clause))}
    live = set(PolicyClause.objects.filter(pk__in=list(by_clause)).values_list("pk", flat=True))
    for clause_id, items in by_clause.items():
        if clause_id not in live:
            continue
        row = existing.get(clause_id) or ClauseMatches(clause_id=clause_id)
        eligible, unknown = set(decode_ids(row.eligible_ids)), set(decode_ids(row.unknown_ids))
        total = cents(row.amount) or 0
        for enterprise_id, _c, before, after in items:
            if before is not None:
                (eligible if before[0] else unknown).discard(enterprise_id)
                total -= (before[1] or 0) if before[0] else 0
            if after is not None:
                (eligible if after[0] else unknown).add(enterprise_id)
                total += (after[1] or 0) if after[0] else 0
        row.eligible, row.unknown, row.amount = len(eligible), len(unknown), money(total)
        row.eligible_ids, row.unknown_ids, row.computed_at = encode_ids(eligible), encode_ids(unknown), now
        row.save()


def _ids(text: str) -> set[int]:
    return {int(x) for x in text.split(",") if x} if text else set()


def fresh_eligible(rows) -> list[Match]:
    """The eligible pairs of `rows` (EnterpriseMatches) nobody was told about yet, with their clauses."""
    found = []
    for row in rows:
        told = _ids(row.notified)
        for c, (s, a, m) in decode_pairs(row.pairs).items():
            if s == 1 and c not in told:
                found.append(Match(row.enterprise_id, c, ELIGIBLE, money(a), m, row.computed_at))
    clauses = PolicyClause.objects.select_related("policy").in_bulk({m.clause_id for m in found})
    for match in found:
        match.clause = clauses.get(match.clause_id)
    return [m for m in found if m.clause is not None]


def mark_notified(rows, told: dict[int, set[int]]) -> None:
    """Record the clauses each enterprise was told about (dropping those no longer among its pairs)."""
    for row in rows:
        present = set(decode_pairs(row.pairs))
        notified = (_ids(row.notified) | told.get(row.enterprise_id, set())) & present
        text = ",".join(str(c) for c in sorted(notified))
        if text != row.notified:
            EnterpriseMatches.objects.filter(pk=row.pk).update(notified=text)


# --- reading ------------------------------------------------------------------------------------------

def for_enterprise(enterprise, status: str | None = None, published: bool = True) -> list[Match]:
    """The enterprise's matches (of published policies), highest amount first, with their clauses."""
    enterprise_id = getattr(enterprise, "pk", enterprise)
    row = EnterpriseMatches.objects.filter(pk=enterprise_id).first()
    if row is None:
        return []
    told = _ids(row.notified)
    found = [Match(enterprise_id, c, ELIGIBLE if s else UNKNOWN, money(a), m, row.computed_at, c in told)
             for c, (s, a, m) in decode_pairs(row.pairs).items()]
    if status:
        found = [m for m in found if m.status == status]
    clauses = PolicyClause.objects.select_related("policy", "policy__department").filter(
        pk__in=[m.clause_id for m in found])
    if published:
        clauses = clauses.filter(policy__status=PolicyStatus.PUBLISHED)
    by_pk = {c.pk: c for c in clauses}
    found = [m for m in found if m.clause_id in by_pk]
    for m in found:
        m.clause = by_pk[m.clause_id]
        if hasattr(enterprise, "pk"):
            m.enterprise = enterprise
    return sorted(found, key=lambda m: (-(m.amount or 0), m.clause.code))


def pairs(enterprise_ids) -> list[Match]:
    """Every stored pair of the given enterprises, with its clause (whatever the policy's state)."""
    found = []
    for row in EnterpriseMatches.objects.filter(pk__in=list(enterprise_ids)):
        told = _ids(row.notified)
        found += [Match(row.enterprise_id, c, ELIGIBLE if s else UNKNOWN, money(a), m, row.computed_at, c in told)
                  for c, (s, a, m) in decode_pairs(row.pairs).items()]
    clauses = PolicyClause.objects.in_bulk({m.clause_id for m in found})
    for m in found:
        m.clause = clauses.get(m.clause_id)
    return [m for m in found if m.clause is not None]


def clause_rows(clauses) -> dict[int, ClauseMatches]:
    """The clause rows (counts, total, ids) of the given clauses (a queryset or ids), by clause id."""
    return {r.clause_id: r for r in ClauseMatches.objects.filter(clause__in=clauses)}


def enterprise_ids(clauses, status: str = ELIGIBLE) -> set[int]:
    """The enterprises that qualify (status eligible) or may qualify (unknown) for any of the clauses."""
    found: set[int] = set()
    field = "eligible_ids" if status == ELIGIBLE else "unknown_ids"
    for text in ClauseMatches.objects.filter(clause__in=clauses).values_list(field, flat=True):
        found.update(decode_ids(text))
    return found


def amounts(clause_id: int, enterprise_ids) -> dict[int, Decimal | None]:
    """Each enterprise's amount for the clause (from the enterprises' rows)."""
    found = {}
    ids = sorted(enterprise_ids)
    for i in range(0, len(ids), 5000):
        for enterprise_id, text in EnterpriseMatches.objects.filter(pk__in=ids[i:i + 5000]).values_list(
                "enterprise_id", "pairs"):
            pair = decode_pairs(text).get(clause_id)
            if pair is not None:
                found[enterprise_id] = money(pair[1])
    return found
