"""`qifu bench policy-match --duckdb`: the same synthetic clauses run in DuckDB over the same frame.

A small translator from the rules language to SQL, covering exactly the shapes `bench.ClauseGenerator`
produces (it is a benchmark baseline, not a second engine): `all`/`any`/`not` groups, leaves with
==, !=, <, <=, >, >=, in, not_in, between, prefix and has_tag, and expression leaves and benefits with
+ - * /, comparisons, and/or, min, floor, round(x, d), years_since and bracket. Anything else raises
`Untranslatable`. SQL's AND/OR/NOT over NULL are Kleene, as in the rules engine; a comparison or an
arithmetic with a NULL operand is NULL (unknown), `has_tag` on NULL tags is false.

Each clause in force becomes one SELECT (id, clause, status, amount) over the frame, filtered on "the
condition is not false"; the clauses run as UNION ALL statements of `group` clauses. The result is
fetched as Arrow and turned into a Polars frame, as the batch engine returns one.

Not reproduced (none occurs in the generator's output): a rule error (division by zero gives NULL here,
which Kleene logic may then absorb in an `or`, where the scalar engine makes the whole clause unknown);
the `missing` column (it needs the batch engine's per-field analysis of what leaves a pair unknown).
"""

from __future__ import annotations

import ast
import datetime
import resource
import time
from dataclasses import dataclass

import polars as pl

from qifu.rules import clauses as cl
from qifu.rules import conditions as cond
from qifu.rules.expr import bracket_table

SOURCE = "__source__"
INSTALL_HINT = "DuckDB is not installed: pip install -e '.[bench]' (the optional `bench` extra)"


class Untranslatable(Exception):
    """A clause shape the SQL translator does not cover."""


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class Translator:
    def __init__(self, schema, on: datetime.date):
        self.schema = dict(schema)
        self.on = on
        self.derived: dict[str, str] = {}  # column computed once per frame (as the batch engine does) → SQL

    # --- values

    def column(self, name: str) -> tuple[str, object]:
        if name not in self.schema:
            raise Untranslatable(f"unknown field {name}")
        return _ident(name), self.schema[name]

    def literal(self, value, dtype) -> str:
        """A constant compared with a column of type `dtype`."""
        if isinstance(value, bool):
            if dtype != pl.Boolean:
                raise Untranslatable(f"boolean {value!r} against {dtype}")
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            if not dtype.is_numeric():
                raise Untranslatable(f"number {value!r} against {dtype}")
            return repr(value) if isinstance(value, int) else f"CAST({value!r} AS DOUBLE)"
        if isinstance(value, (datetime.date, str)) and dtype == pl.Date:
            day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value[:10])
            return f"DATE '{day.isoformat()}'"
        if isinstance(value, str) and dtype == pl.String:
            return _text(value)
        raise Untranslatable(f"constant {value!r} against {dtype}")

    # --- conditions

    def condition(self, node) -> str:
        if isinstance(node, cond.Group):
            joiner = " AND " if node.kind == "all" else " OR "
            return "(" + joiner.join(self.condition(c) for c in node.children) + ")"
        if isinstance(node, cond.Not):
            return f"(NOT {self.condition(node.child)})"
        if isinstance(node, cond.ExprLeaf):
            return self.expr(node.expression.tree, boolean=True)
        if isinstance(node, cond.Leaf):
            return self.leaf(node)
        raise Untranslatable(f"condition {type(node).__name__}")

    def has_tag(self, tag: str) -> str:
        col, dtype = self.column("tags")
        if dtype != pl.List(pl.String):
            raise Untranslatable("tags is not a list of texts")
        return f"coalesce(list_contains({col}, {_text(tag)}), FALSE)"

    def leaf(self, leaf) -> str:
        op, value = leaf.op, leaf.value
        if op == "has_tag":
            return self.has_tag(value)
        col, dtype = self.column(leaf.field)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return f"({col} {'=' if op == '==' else op} {self.literal(value, dtype)})"
        if op in ("in", "not_in"):
            items = ", ".join(self.literal(v, dtype) for v in value)
            return f"({col} {'IN' if op == 'in' else 'NOT IN'} ({items}))"
        if op == "between":
            low, high = (self.literal(v, dtype) for v in value)
            return f"({low} <= {col} AND {col} <= {high})"
        if op == "prefix":
            if dtype != pl.String:
                raise Untranslatable(f"prefix on {dtype}")
            prefixes = [value] if isinstance(value, str) else list(value)
            return "(" + " OR ".join(f"starts_with({col}, {_text(str(p))})" for p in prefixes) + ")"
        raise Untranslatable(f"operator {op}")

    # --- expressions (expression leaves and benefits)

    def expr(self, node: ast.AST, boolean: bool = False) -> str:
        if isinstance(node, ast.BoolOp):
            joiner = " AND " if isinstance(node.op, ast.And) else " OR "
            return "(" + joiner.join(self.expr(v, boolean=True) for v in node.values) + ")"
        if isinstance(node, ast.Compare):
            parts, left = [], node.left
            for op, right in zip(node.ops, node.comparators):
                sign = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "=", ast.NotEq: "<>"}.get(
                    type(op))
                if sign is None:
                    raise Untranslatable(f"comparison {type(op).__name__}")
                parts.append(f"({self.number(left)} {sign} {self.number(right)})")
                left = right
            return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"
        if boolean:
            raise Untranslatable(f"{type(node).__name__} as a condition")
        return self.number(node)

    def number(self, node: ast.AST) -> str:
        """A numeric expression as a DOUBLE (NULL when unknown)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return f"CAST({node.value!r} AS DOUBLE)"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return f"(-{self.number(node.operand)})"
        if isinstance(node, ast.Name):
            col, dtype = self.column(node.id)
            if not dtype.is_numeric():
                raise Untranslatable(f"{node.id} ({dtype}) in arithmetic")
            return f"CAST({col} AS DOUBLE)"
        if isinstance(node, ast.BinOp):
            a, b = self.number(node.left), self.number(node.right)
            if isinstance(node.op, ast.Add):
                return f"({a} + {b})"
            if isinstance(node.op, ast.Sub):
                return f"({a} - {b})"
            if isinstance(node.op, ast.Mult):
                return f"({a} * {b})"
            if isinstance(node.op, ast.Div):
                return f"({a} / nullif({b}, 0))"  # a rule error in the engine; unknown here (see the docstring)
            raise Untranslatable(f"operator {type(node.op).__name__}")
        if isinstance(node, ast.Call):
            return self.call(node)
        raise Untranslatable(f"expression {type(node).__name__}")

    def call(self, node: ast.Call) -> str:
        name = node.func.id
        if name in ("min", "max"):
            args = [self.number(a) for a in node.args]
            if len(args) == 1:
                raise Untranslatable(f"{name} of a list")
            # least/greatest skip NULLs; the rules engine's min is unknown if any argument is
            nulls = " OR ".join(f"{a} IS NULL" for a in args)
            return f"(CASE WHEN {nulls} THEN NULL ELSE {'least' if name == 'min' else 'greatest'}({', '.join(args)}) END)"
        if name == "floor":
            return f"floor({self.number(node.args[0])})"
        if name == "round":
            digits = 0
            if len(node.args) == 2:
                d = node.args[1]
                if isinstance(d, ast.UnaryOp) and isinstance(d.op, ast.USub) and isinstance(d.operand, ast.Constant):
                    digits = -int(d.operand.value)
                elif isinstance(d, ast.Constant) and isinstance(d.value, int):
                    digits = d.value
                else:
                    raise Untranslatable("round() with digits that are not a constant")
            # 四舍五入 on the shortest decimal form: through a DECIMAL (the float's value to 1e-6), then
            # DuckDB's round of a DECIMAL, which rounds half away from zero
            return f"CAST(round(CAST({self.number(node.args[0])} AS DECIMAL(38, 6)), {digits}) AS DOUBLE)"
        if name == "years_since":
            arg = node.args[0]
            if not isinstance(arg, ast.Name):
                raise Untranslatable("years_since of an expression")
            col, dtype = self.column(arg.id)
            if dtype != pl.Date:
                raise Untranslatable(f"years_since of {dtype}")
            name = f"__years_since__{arg.id}"
            self.derived[name] = f"years_since({col})"
            return _ident(name)
        if name == "bracket":
            x = self.number(node.args[0])
            table = bracket_table(node.args[1])
            whens = " ".join(f"WHEN {x} >= {t!r} THEN CAST({v!r} AS DOUBLE)" for t, v in reversed(table))
            return f"(CASE WHEN {x} IS NULL THEN NULL {whens} ELSE CAST(0 AS DOUBLE) END)"
        raise Untranslatable(f"function {name}")

    # --- clauses

    def clause(self, clause: cl.ClauseSpec) -> str:
        c = "TRUE" if clause.conditions is None else self.condition(clause.conditions)
        if clause.benefit is None:
            amount = "CAST(0 AS DOUBLE)"
        else:
            x = self.number(clause.benefit.tree)
            # max(0, round(x, 2)): half to even like Python's round, but on x·100 as a float where Python
            # rounds the exact binary value (the batch engine reproduces that): a cent apart on rare ties
            amount = f"(CASE WHEN {x} IS NULL THEN NULL WHEN {x} > 0 THEN round_even({x}, 2) ELSE CAST(0 AS DOUBLE) END)"
        return (f"SELECT id, CAST({_text(clause.code)} AS clause_code) AS clause, "
                f"CAST(CASE WHEN ({c}) IS NULL THEN 'unknown' ELSE 'eligible' END AS match_status) AS status, "
                f"{amount} AS amount "
                f"FROM {SOURCE} WHERE ({c}) IS NOT FALSE")

    def years_since_macro(self) -> str:
        """`values.years_between(d, on)`: whole years by anniversary (29 February → 28 February in a common
        year) plus the fraction of the current anniversary year in days; negative when d is after `on`."""
        on = f"DATE '{self.on.isoformat()}'"
        return f"""
CREATE OR REPLACE MACRO _anniv(y, m, d) AS make_date(y, m, CASE WHEN m = 2 AND d = 29
    AND NOT (y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0)) THEN 28 ELSE d END);
CREATE OR REPLACE MACRO _yrs(a, b) AS year(b) - year(a) - CASE WHEN month(b) < month(a)
    OR (month(b) = month(a) AND day(b) < day(a)) THEN 1 ELSE 0 END;
CREATE OR REPLACE MACRO _ys(a, b) AS _yrs(a, b)
    + date_diff('day', _anniv(year(a) + _yrs(a, b), month(a), day(a)), b)
    / date_diff('day', _anniv(year(a) + _yrs(a, b), month(a), day(a)),
                _anniv(year(a) + _yrs(a, b) + 1, month(a), day(a)));
CREATE OR REPLACE MACRO years_since(d) AS CASE WHEN d IS NULL THEN NULL WHEN d <= {on} THEN _ys(d, {on})
    ELSE -_ys({on}, d) END;
"""


@dataclass
class DuckFigures:
    wall_s: float
    cpu_s: float
    register_s: float
    plan_s: float
    threads: int
    version: str
    pairs: int
    eligible: int
    unknown: int
    untranslatable: int
    result: pl.DataFrame | None = None


def run(clauses, frame: pl.DataFrame, on: datetime.date, *, group: int = 100, threads: int | None = None) -> DuckFigures:
    """The clauses in force on `on` over `frame` in DuckDB: id, clause, status, amount (like `batch.match_frame`
    with missing=False). Wall and CPU time cover the registration of the frame, the queries and the
    conversion of the result to a Polars frame."""
    import duckdb

    translator = Translator(frame.schema, on)
    selects, skipped = [], 0
    for clause in clauses:
        if not clause.in_force(on):
            continue
        try:
            selects.append(translator.clause(clause))
        except Untranslatable:
            skipped += 1
    if skipped:
        raise Untranslatable(f"{skipped} clause(s) outside the shapes the SQL translator covers")
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}").fetchall()
    for statement in translator.years_since_macro().split(";"):
        if statement.strip():
            con.execute(statement).fetchall()
    # the clause and the status as ENUMs, like the batch engine's result (Polars Enums)
    codes = list(dict.fromkeys(c.code for c in clauses)) or ["-"]
    con.execute(f"CREATE TYPE clause_code AS ENUM ({', '.join(_text(c) for c in codes)})").fetchall()
    con.execute("CREATE TYPE match_status AS ENUM ('eligible', 'unknown')").fetchall()
    n_threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    cpu0, t0 = _cpu(), time.perf_counter()
    con.register("enterprises", frame)
    source = "enterprises"
    if translator.derived:  # years_since of a date field: once per frame, into a copy of the frame in DuckDB
        extra = ", ".join(f"{sql} AS {_ident(name)}" for name, sql in translator.derived.items())
        con.execute(f"CREATE TEMP TABLE enterprises_derived AS SELECT *, {extra} FROM enterprises").fetchall()
        source = "enterprises_derived"
    selects = [q.replace(SOURCE, source) for q in selects]
    register_s = time.perf_counter() - t0
    tables = []
    for i in range(0, len(selects), group):
        tables.append(con.sql("\nUNION ALL\n".join(selects[i:i + group])).to_arrow_table())
    parts = [pl.from_arrow(t) for t in tables]
    result = pl.concat(parts, how="vertical", rechunk=False) if parts else pl.DataFrame(
        schema={"id": pl.Int64, "clause": pl.String, "status": pl.String, "amount": pl.Float64})
    wall_s, cpu_s = time.perf_counter() - t0, _cpu() - cpu0
    t1 = time.perf_counter()  # parsing and planning alone (EXPLAIN), not part of the figures above
    for i in range(0, len(selects), group):
        con.execute("EXPLAIN " + "\nUNION ALL\n".join(selects[i:i + group])).fetchall()
    plan_s = time.perf_counter() - t1
    con.close()
    counts = dict(result.group_by("status").len().iter_rows())
    return DuckFigures(wall_s=wall_s, cpu_s=cpu_s, register_s=register_s, plan_s=plan_s, threads=int(n_threads),
                       version=duckdb.__version__, pairs=result.height, eligible=counts.get("eligible", 0),
                       unknown=counts.get("unknown", 0), untranslatable=skipped, result=result)


def compare(batch_result: pl.DataFrame, duck_result: pl.DataFrame, ids: pl.Series) -> dict:
    """The pairs of the enterprises `ids` in both results: those in one only, those whose status differs, and
    those whose amounts differ by a cent or more (null on one side only counts too)."""
    def pick(df):
        return (df.filter(pl.col("id").is_in(ids.implode()))
                .select("id", pl.col("clause").cast(pl.String), pl.col("status").cast(pl.String), "amount"))

    a, b = pick(batch_result), pick(duck_result)
    joined = a.join(b, on=["id", "clause"], how="full", suffix="_duck", coalesce=True)
    only_batch = joined.filter(pl.col("status_duck").is_null()).height
    only_duck = joined.filter(pl.col("status").is_null()).height
    both = joined.filter(pl.col("status").is_not_null() & pl.col("status_duck").is_not_null())
    status = both.filter(pl.col("status") != pl.col("status_duck")).height
    amount = both.filter(
        (pl.col("amount").is_null() != pl.col("amount_duck").is_null())
        | ((pl.col("amount") - pl.col("amount_duck")).abs() >= 0.005)).height
    return {"pairs": a.height, "only_batch": only_batch, "only_duckdb": only_duck, "status": status,
            "amount": amount, "mismatches": only_batch + only_duck + status + amount}
