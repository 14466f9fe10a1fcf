"""The same rules, compiled to Polars expressions and evaluated over a whole population at once.

    frame = pl.DataFrame({"id": [...], "rd_expense": [...], "industry": [...], "tags": [[...], ...], ...})
    matches = match_frame(clauses, frame, on=datetime.date(2026, 6, 1))
    # id | clause | status ("eligible"/"unknown") | amount (null while unknown) | missing (list of fields)
    # (clause, status and the missing names are Enums: cheap for tens of millions of rows)

One row per enterprise, one column per field; a null is an unknown value (exactly like a missing key in
the scalar engine's facts); `tags` is a list of strings (null = no tags); dates are `pl.Date` (a
`pl.Datetime` column is read as its date, like `as_date`). `frame_from_records` builds such a frame
from scalar-engine facts.

How it runs: each clause becomes one lazy query — a filter over the whole frame (is the clause not
false for this enterprise?) and, on the rows that pass only, the status, the amount and the missing
fields. The queries run in groups of 16 (`pl.collect_all`, one per core at a time), so memory stays
bounded by the frame plus the result: 1,000,000 × 1,000 never becomes a 1e9-row frame. What several
clauses share is computed once per frame: one boolean column per tag tested, `years_since` of each date
field, and for each text field with few distinct values (industry, jurisdiction, size) a column of small
integer codes — a leaf on such a field is evaluated on the distinct values and becomes `is_in` on codes.
Intermediate values used more than once become temporary columns, so nested rules stay linear in size.
The missing fields are a bit mask per clause looked up in a table of the possible lists.

The compiled expressions follow the scalar engine (`clauses.evaluate`) operator by operator:

- Kleene `and`/`or`/`not` (Polars' `&`, `|`, `~` are Kleene); a comparison, arithmetic or function call
  with an unknown operand is unknown; `has_tag` on unknown tags is false.
- A `RuleError` in the scalar engine (division by zero, a text that is not a number in arithmetic, a
  date compared with a number, a non-boolean condition, …) makes the outcome unknown with an error
  and no missing fields; here every compiled value carries an error mask computed the same way: only
  where the scalar engine would evaluate the failing part (both branches of an `if` whose test is
  unknown, only the taken one otherwise) and only where its operands are known (the scalar engine
  checks for unknown operands first).
- `==` across types that cannot be compared is false, ordering them is an error; a number against a
  text compares as numbers when the text reads as a number (Python's `int()`/`float()` rules,
  re-implemented as regular expressions), else as texts; texts against dates are read as ISO dates.
- `years_since` is anniversary-exact like `values.years_between` (29 February → 28 February in a
  common year); `round()` is 四舍五入 on the shortest decimal representation like `round_half_up`;
  the final amount is Python's `round(x, 2)` (exact half-to-even on the binary value) clamped at 0 —
  both reproduced bit for bit with error-free float arithmetic, not approximated.

Deliberate differences (documented, each needs a rule nobody writes in practice):

- Arithmetic is done in float64: integers beyond 2**53 lose precision (the scalar engine uses Python's
  exact integers); `round(x, d)` is exact while |x|·10^d < 2**48 (2.8e12 yuan to the
  cent; the final 2-decimal rounding of the amount is exact for every value). Divisions are IEEE-exact like
  Python's (Polars divides by a scalar through its reciprocal: see `_column_of`).
- A text read as a number or a date: non-ASCII digits, and ISO week dates (`2026-W01-1`), are not
  recognised here (Python's `int()` and `date.fromisoformat` accept them).
- `==` between a float column and a text that is not a number is false (Python compares `str(x)`,
  which differs only for `inf`/`nan`).
- Clauses the compiler does not handle are evaluated row by row with the scalar engine instead (same
  answers, slower; `compile_clause` raises `NotVectorizable` for them): float `//` and `%` (Polars
  and Python round differently), ordering a float column against a text that is not a number,
  `prefix` on float or list fields, comparisons with a list field other than `'x' in tags`, `in` with
  names inside the list, `round(x, n)` with `n` not a constant, `if` branches of different types.
"""

from __future__ import annotations

import ast
import datetime
from dataclasses import dataclass, field

import polars as pl

from . import clauses as cl
from . import conditions as cond
from .expr import Context, _eval, bracket_table
from .values import RuleError, as_date, as_number

STATUS = pl.Enum(["eligible", "unknown"])
NUM, BOOL, STR, DATE, LIST, NULL, OTHER = "num", "bool", "str", "date", "list", "null", "other"
_NO = object()
ALWAYS = pl.lit(True)  # a conversion that fails for every known value (identity-compared)
_INT_RE = r"^\s*[+-]?[0-9]+(?:_[0-9]+)*\s*$"
_FLOAT_RE = (r"^\s*[+-]?(?:[0-9]+(?:_[0-9]+)*(?:\.(?:[0-9]+(?:_[0-9]+)*)?)?|\.[0-9]+(?:_[0-9]+)*)"
             r"(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?\s*$")
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
        ast.NotIn: "not in"}


class NotVectorizable(Exception):
    """The clause uses something the compiler does not reproduce exactly; evaluate it row by row."""


# --- small helpers over optional boolean masks (None = never / always known) -------------------------

def _any(*masks):
    masks = [m for m in masks if m is not None]
    if not masks:
        return None
    out = masks[0]
    for m in masks[1:]:
        out = out | m
    return out


def _all(*masks):
    masks = [m for m in masks if m is not None]
    if not masks:
        return None
    out = masks[0]
    for m in masks[1:]:
        out = out & m
    return out


def _gate(mask, known):
    """`mask` where `known`, false elsewhere (never null)."""
    if mask is None:
        return None
    return mask if known is None else (known & mask).fill_null(False)


def _merge(*dicts) -> dict:
    out: dict = {}
    for d in dicts:
        for name, m in d.items():
            out[name] = m if name not in out else (out[name] | m)
    return out


@dataclass
class V:
    """A compiled value: its expression, its kind, the rows where computing it raises a RuleError, and
    for each field name the rows where it was read and unknown (the scalar `Context.missing`)."""

    expr: pl.Expr
    kind: str
    const: object = _NO
    is_int: bool = False
    err: pl.Expr | None = None
    miss: dict = field(default_factory=dict)
    nullable: bool = True
    float_col: bool = False
    atom: bool = False  # a column or a constant: cheap to repeat inside a larger expression

    @property
    def is_const(self) -> bool:
        return self.const is not _NO

    def known(self):
        return None if (self.is_const or not self.nullable) else self.expr.is_not_null()


def _known(*values: V):
    return _all(*(v.known() for v in values))


def _const_kind(value) -> tuple[str, bool]:
    if isinstance(value, bool):
        return BOOL, True
    if isinstance(value, int):
        return NUM, True
    if isinstance(value, float):
        return NUM, False
    if isinstance(value, str):
        return STR, False
    if isinstance(value, (datetime.date, datetime.datetime)):
        return DATE, False
    if isinstance(value, (list, tuple)):
        return LIST, False
    return OTHER, False


def constant(value) -> V:
    kind, is_int = _const_kind(value)
    if kind == DATE:
        value = as_date(value)
    expr = pl.lit(value) if kind in (NUM, BOOL, STR, DATE) else pl.lit(None)
    return V(expr, kind, const=value, is_int=is_int, nullable=False, atom=True)


def _null(kind: str = NULL, **kw) -> V:
    dtype = {BOOL: pl.Boolean, NUM: pl.Float64, STR: pl.String, DATE: pl.Date}.get(kind, pl.Null)
    return V(pl.lit(None, dtype=dtype), kind, atom=True, **kw)


def _column_of(value: float, like: pl.Expr) -> pl.Expr:
    """A constant as a full column shaped like `like`. Polars divides by a scalar as a multiplication by
    its reciprocal (3.0 / 10.0 gives 0.30000000000000004, 2058.0 // 49.0 gives 41), while a column by a
    column is IEEE division, as in Python; so every division by a constant goes through this."""
    return like.is_null().cast(pl.Float64) * 0.0 + value


def _parse_number(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Python's `as_number` on a text column: (float value or null, the text reads as a number)."""
    floaty = s.str.contains(r"[.eE]")
    valid = pl.when(floaty).then(s.str.contains(_FLOAT_RE)).otherwise(s.str.contains(_INT_RE))
    value = pl.when(valid).then(s.str.strip_chars().str.replace_all("_", "", literal=True)
                                .cast(pl.Float64, strict=False))
    return value, valid.fill_null(False)


def _parse_date(s: pl.Expr) -> pl.Expr:
    """`date.fromisoformat(value[:10])` on a text column: the date, or null where it fails."""
    head = s.str.slice(0, 10)
    return (pl.when(head.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
            .then(head.str.to_date("%Y-%m-%d", strict=False))
            .when(head.str.contains(r"^[0-9]{8}$"))
            .then(head.str.to_date("%Y%m%d", strict=False)))


def _days_from_civil(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """Days since 1970-01-01 of a proleptic Gregorian date, in integer arithmetic (H. Hinnant's
    days_from_civil) — building dates with `pl.date` costs a second per million rows."""
    y = y - (m <= 2).cast(pl.Int64)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _leap(y: pl.Expr) -> pl.Expr:
    return ((y % 4) == 0) & (((y % 100) != 0) | ((y % 400) == 0))


def years_since_expr(start: pl.Expr, on: datetime.date, bind=None) -> pl.Expr:
    """`values.years_between(start, on)` for a date column (negative when `start` is after `on`): whole
    years by anniversary (`add_years`: 29 February → 28 February in a common year) plus the fraction of
    the current anniversary year, in days.

    `bind(expr) -> expr` turns an intermediate into a column (an expression is a tree: without it the
    intermediates are recomputed wherever they are used, ~1.5 s per million rows instead of ~0.1 s)."""
    bind = bind or (lambda e: e)
    end = pl.lit(on, dtype=pl.Date)
    forward = bind(start <= end)
    a = pl.when(forward).then(start).otherwise(end)
    b = pl.when(forward).then(end).otherwise(start)
    ay, am, ad = (bind(a.dt.year().cast(pl.Int64)), bind(a.dt.month().cast(pl.Int64)),
                  bind(a.dt.day().cast(pl.Int64)))
    by, bm, bd = (b.dt.year().cast(pl.Int64), b.dt.month().cast(pl.Int64), b.dt.day().cast(pl.Int64))
    before = (bm < am) | ((bm == am) & (bd < ad))
    years = bind(by - ay - before.cast(pl.Int64))
    feb29 = bind((am == 2) & (ad == 29))
    last_y, next_y = bind(ay + years), bind(ay + years + 1)
    last = bind(_days_from_civil(last_y, am, pl.when(feb29 & ~_leap(last_y)).then(28).otherwise(ad)))
    following = bind(_days_from_civil(next_y, am, pl.when(feb29 & ~_leap(next_y)).then(28).otherwise(ad)))
    days = b.cast(pl.Int64)
    value = years.cast(pl.Float64) + ((days - last).cast(pl.Float64) / (following - last).cast(pl.Float64))
    return pl.when(forward).then(value).otherwise(-value)


def round_half_up_expr(x: pl.Expr, digits: int, like: pl.Expr | None = None) -> pl.Expr:
    """`values.round_half_up`: 四舍五入 of the shortest decimal form of x (what `repr` shows).

    With k = ⌊|x|·10^d⌋ and m the float nearest the decimal midpoint (k + ½)/10^d, the shortest decimal
    of |x| is at or above that midpoint exactly when |x| ≥ m (float rounding is monotonic and the midpoint
    itself round-trips to m), so no decimal string is needed; an off-by-one k corrects itself. Exact while
    |x|·10^d < 2**48 — beyond it the float grid gets coarser than the decimals (and from |x| ≥ 2**52 on
    with d ≥ 0, where x is whole).
    `like`: a full-length column, in case x is a broadcast scalar (see `_column_of`)."""
    like = x if like is None else like
    ax = x.abs()
    if digits >= 0:
        scale = float(10 ** digits)
        k = (ax * scale).floor()
        mid = (2.0 * k + 1.0) / _column_of(2.0 * scale, like)
        result = (k + (ax >= mid).cast(pl.Float64)) / _column_of(scale, like)
    else:
        scale = float(10 ** -digits)
        k = (ax / _column_of(scale, like)).floor()
        mid = (2.0 * k + 1.0) * scale / 2.0
        result = (k + (ax >= mid).cast(pl.Float64)) * scale
        return pl.when(x < 0).then(-result).otherwise(result)
    result = pl.when(ax >= 2.0 ** 52).then(ax).otherwise(result)  # a whole number already
    return pl.when(x < 0).then(-result).otherwise(result)


def amount_expr(x: pl.Expr, like: pl.Expr | None = None) -> pl.Expr:
    """`max(0.0, round(x, 2))` with Python's round: half to even on the exact binary value of x·100.

    x·100 = p + e exactly (Dekker's product with a Veltkamp split; 100 has 7 bits); the fraction of p is
    a multiple of ulp(p) like ½, so it decides alone unless it is exactly ½, when the sign of e does.
    From 2**40 on, only the fraction of x is rounded that way and added back to its whole part: the cents
    of such an x are never a tie of the float grid, so the one addition rounds like Python's strtod."""
    like = x if like is None else like
    whole = pl.when(x >= 2.0 ** 40).then(x.floor()).otherwise(0.0)
    y = x - whole
    p = y * 100.0
    c = y * 134217729.0
    hi = c - (c - y)
    lo = y - hi
    e = (hi * 100.0 - p) + lo * 100.0
    f = p.floor()
    d = p - f
    up = (d > 0.5) | ((d == 0.5) & ((e > 0) | ((e == 0) & ((f % 2.0) == 1.0))))
    cents = (f + up.cast(pl.Float64)) / _column_of(100.0, like)
    return pl.when(x > 0).then(whole + cents).when(x.is_not_null()).then(0.0)


def _has_names(node: ast.AST) -> bool:
    """Whether the value depends on the enterprise (a field, or has_tag); if not, it is folded."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Call):
        return node.func.id == "has_tag" or any(_has_names(a) for a in node.args)
    return any(_has_names(child) for child in ast.iter_child_nodes(node))


# --- the compiler ---------------------------------------------------------------------------------

@dataclass
class CNode:
    """A compiled condition: Kleene value, error mask, and the names it reports while unknown."""

    value: pl.Expr
    err: pl.Expr | None
    miss: dict


@dataclass
class CompiledClause:
    clause: cl.ClauseSpec
    lets: list         # (temporary column, expression) to add first, in order
    post_lets: list    # the same, needed only on the kept rows (added after the filter)
    keep: pl.Expr      # the clause is not false here (eligible, unknown, or a rule error)
    status: pl.Expr    # "eligible" / "unknown" (on kept rows)
    amount: pl.Expr    # float, null while unknown
    missing: pl.Expr   # list of field names
    fields: set[str]
    mask: pl.Expr | None = None  # the missing fields as a bit mask over `clauses.field_order(clause)`


class Compiler:
    """Compiles clauses against one frame schema and one evaluation date. Shared derived columns
    (years_since of a date field) are collected in `derived`, to be added to the frame once."""

    def __init__(self, schema, on: datetime.date, names_dtype: pl.DataType | None = None,
                 dictionaries: dict[str, list[str]] | None = None):
        self.schema = dict(schema)
        # text fields with few distinct values (industry, jurisdiction, size…): field → its sorted values.
        # A leaf on such a field is evaluated once per distinct value and becomes a test on small codes.
        self.dictionaries = dictionaries or {}
        self._tables: dict[tuple, tuple[list[int], list[int]]] = {}
        self.on = as_date(on)
        self.names_dtype = names_dtype or pl.String
        self.derived: dict[str, pl.Expr] = {}
        self.lets: list[tuple[str, pl.Expr]] = []
        self.temps = 0
        # a full-length column: Polars evaluates expressions of literals only as broadcast scalars
        self.anchor = pl.col(next(iter(self.schema))) if self.schema else pl.lit(0)

    def bind(self, expr: pl.Expr) -> pl.Expr:
        """A temporary column for an expression used more than once, so that nested rules stay linear in
        size (an expression is a tree: without this, each level of nesting would copy its operands)."""
        self.temps += 1
        name = f"__t{self.temps}"
        self.lets.append((name, expr))
        return pl.col(name)

    def _derive(self, expr: pl.Expr) -> pl.Expr:
        """Like `bind`, for columns shared by all clauses (added to the frame once)."""
        name = f"__d{len(self.derived)}"
        self.derived[name] = expr
        return pl.col(name)

    def share(self, v: V) -> V:
        if v.atom:
            return v
        return V(self.bind(v.expr), v.kind, is_int=v.is_int, err=v.err, miss=v.miss, nullable=v.nullable,
                 float_col=v.float_col, atom=True)
    # --- values

    def column(self, name: str) -> V:
        miss = {name: pl.col(name).is_null()} if name in self.schema else {name: pl.lit(True)}
        if name not in self.schema:
            return _null(NULL, miss=miss)
        dtype = self.schema[name]
        col = pl.col(name)
        if dtype == pl.Boolean:
            return V(col, BOOL, is_int=True, miss=miss, atom=True)
        if dtype.is_integer():
            return V(col, NUM, is_int=True, miss=miss, atom=True)
        if dtype.is_float():
            return V(col, NUM, miss=miss, float_col=True, atom=True)
        if dtype == pl.String:
            return V(col, STR, miss=miss, atom=True)
        if isinstance(dtype, (pl.Categorical, pl.Enum)):
            return V(col.cast(pl.String), STR, miss=miss, atom=True)
        if dtype == pl.Date:
            return V(col, DATE, miss=miss, atom=True)
        if isinstance(dtype, pl.Datetime):
            return V(col.dt.date(), DATE, miss=miss, atom=True)
        if isinstance(dtype, pl.List) and (dtype.inner == pl.String or isinstance(dtype.inner, pl.Categorical)):
            return V(col if dtype.inner == pl.String else col.cast(pl.List(pl.String)), LIST, miss=miss, atom=True)
        if dtype == pl.Null:
            return _null(NULL, miss=miss)
        raise NotVectorizable(f"field {name} has the type {dtype}")

    def as_number(self, v: V) -> tuple[V, pl.Expr | None]:
        """(the value as float, where the conversion fails given the value is known)."""
        if v.kind in (NUM, BOOL):
            if v.is_const:
                return constant(float(as_number(v.const))), None
            expr = v.expr if (v.kind == NUM and not v.is_int) else v.expr.cast(pl.Float64)
            return V(expr, NUM, is_int=v.is_int, nullable=v.nullable), None
        if v.kind == NULL:
            return _null(NUM), None
        if v.kind == STR:
            if v.is_const:
                try:
                    return constant(float(as_number(v.const))), None
                except RuleError:
                    return _null(NUM), ALWAYS
            value, valid = _parse_number(v.expr)
            return V(value, NUM), ~valid
        return _null(NUM), ALWAYS

    def as_date(self, v: V) -> tuple[V, pl.Expr | None]:
        if v.kind == DATE:
            return v, None
        if v.kind == NULL:
            return _null(DATE), None
        if v.kind == STR:
            if v.is_const:
                try:
                    return constant(as_date(v.const)), None
                except RuleError:
                    return _null(DATE), ALWAYS
            parsed = _parse_date(v.expr)
            return V(parsed, DATE), parsed.is_null()
        return _null(DATE), ALWAYS

    def truth(self, v: V) -> V:
        if v.kind == BOOL:
            return v
        if v.kind == NULL:
            return V(pl.lit(None, dtype=pl.Boolean), BOOL, err=v.err, miss=v.miss)
        if v.is_const:  # a constant that is not true or false: an error wherever it is evaluated
            return V(pl.lit(None, dtype=pl.Boolean), BOOL, err=_any(v.err, pl.lit(True)), miss=v.miss)
        return V(pl.lit(None, dtype=pl.Boolean), BOOL, err=_any(v.err, v.expr.is_not_null()), miss=v.miss)

    def _str_of_number(self, v: V):
        """`str(x)` for a number or boolean column, when Polars writes it as Python does."""
        if v.kind == BOOL:
            return pl.when(v.expr).then(pl.lit("True")).otherwise(pl.lit("False"))
        if v.kind == NUM and v.is_int and not v.float_col and not v.is_const:
            return v.expr.cast(pl.String)
        return None

    # --- comparisons

    def _coerce(self, a: V, b: V):
        """How `values.comparable(a, b)` brings two known values together, as one of:
        ("fail",)                     it raises (== is false, ordering is an error)
        ("direct", x, y, fail)        compare x with y; `fail` (or None) where it raises
        ("numstr", n, t, parsed, valid, flip)   a number n against a text column t: numerically where t
                                      reads as a number, else str(n) against t
        ("strnum", xs, ys)            both as texts (a number against a text constant that is no number);
                                      xs/ys None when Polars cannot write the number like Python"""
        ka, kb = a.kind, b.kind
        if (ka == LIST and not a.is_const) or (kb == LIST and not b.is_const):
            raise NotVectorizable("comparing a list field")
        if DATE in (ka, kb):
            (x, fx), (y, fy) = self.as_date(a), self.as_date(b)
            if fx is ALWAYS or fy is ALWAYS:
                return ("fail",)
            return ("direct", x.expr, y.expr, _any(fx, fy))
        if ka in (NUM, BOOL) or kb in (NUM, BOOL):
            flip = ka not in (NUM, BOOL)
            n, other = (b, a) if flip else (a, b)
            if other.kind in (NUM, BOOL):
                return ("direct", self._numeric(a), self._numeric(b), None)
            if other.kind == STR:
                if other.is_const:
                    try:
                        number = as_number(other.const)
                    except RuleError:
                        ns = pl.lit(str(n.const)) if n.is_const else self._str_of_number(n)
                        xs, ys = (pl.lit(other.const), ns) if flip else (ns, pl.lit(other.const))
                        return ("strnum", None if ns is None else xs, None if ns is None else ys,
                                n.kind == BOOL)
                    x, y = (pl.lit(number), self._numeric(n)) if flip else (self._numeric(n), pl.lit(number))
                    return ("direct", x, y, None)
                parsed, valid = _parse_number(other.expr)
                return ("numstr", n, other, parsed, valid, flip)
            return ("fail",)  # a number against a list, None, a mapping: as_number raises
        if ka == STR and kb == STR:
            return ("direct", a.expr, b.expr, None)
        return ("fail",)  # a text against a list/None/mapping: == is false, ordering raises TypeError

    def _numeric(self, v: V) -> pl.Expr:
        if v.is_const:
            return pl.lit(as_number(v.const))
        return v.expr.cast(pl.Int64) if v.kind == BOOL else v.expr

    @staticmethod
    def _op(op: str, x: pl.Expr, y: pl.Expr) -> pl.Expr:
        return {"==": x.eq, "!=": x.ne, "<": x.lt, "<=": x.le, ">": x.gt, ">=": x.ge}[op](y)

    def _equal(self, a: V, b: V) -> pl.Expr:
        """`expr._equal` where both are known (callers gate with the known mask)."""
        how = self._coerce(a, b)
        if how[0] == "fail":
            return pl.lit(False)
        if how[0] == "direct":
            _, x, y, fail = how
            return x.eq(y) if fail is None else pl.when(fail).then(False).otherwise(x.eq(y))
        if how[0] == "strnum":
            _, xs, ys, is_bool = how
            return xs.eq(ys) if (xs is not None and is_bool) else pl.lit(False)
        _, n, t, parsed, valid, _flip = how
        ns = self._str_of_number(n) if n.kind == BOOL else None
        text_branch = t.expr.eq(ns) if ns is not None else pl.lit(False)
        return pl.when(valid).then(self._numeric_const_or(n).eq(parsed)).otherwise(text_branch)

    def _numeric_const_or(self, n: V) -> pl.Expr:
        return pl.lit(float(as_number(n.const))) if n.is_const else self._numeric(n).cast(pl.Float64)

    def _order(self, op: str, a: V, b: V) -> tuple[pl.Expr, pl.Expr | None]:
        how = self._coerce(a, b)
        if how[0] == "fail":
            return pl.lit(None, dtype=pl.Boolean), pl.lit(True)
        if how[0] == "direct":
            _, x, y, fail = how
            return self._op(op, x, y), fail
        if how[0] == "strnum":
            _, xs, ys, _b = how
            if xs is None:
                raise NotVectorizable("ordering a float field against a text")
            return self._op(op, xs, ys), None
        _, n, t, parsed, valid, flip = how
        ns = pl.lit(str(n.const)) if n.is_const else self._str_of_number(n)
        if ns is None:
            raise NotVectorizable("ordering a float field against a text field")
        num = self._numeric_const_or(n)
        numeric = self._op(op, parsed, num) if flip else self._op(op, num, parsed)
        textual = self._op(op, t.expr, ns) if flip else self._op(op, ns, t.expr)
        return pl.when(valid).then(numeric).otherwise(textual), None

    def _in_list(self, a: V, items: list) -> pl.Expr:
        """`any(_equal(a, item) for item in items)` where a is known."""
        fast, rest = [], []
        for item in items:
            kind, _ = _const_kind(item)
            if a.kind == STR and kind == STR:
                fast.append(item)
            elif a.kind == NUM and kind in (NUM, BOOL, STR):
                try:
                    fast.append(as_number(item))
                except RuleError:
                    pass  # str(number) never equals a text that is not a number
            elif a.kind == DATE and kind in (DATE, STR):
                try:
                    fast.append(as_date(item))
                except RuleError:
                    pass
            else:
                rest.append(item)
        parts = []
        if fast:
            if a.kind == STR:
                parts.append(a.expr.is_in(pl.Series(fast, dtype=pl.String).implode()))
            elif a.kind == DATE:
                parts.append(a.expr.is_in(pl.Series(fast, dtype=pl.Date).implode()))
            elif a.is_int:
                whole = sorted({int(x) for x in fast if float(x).is_integer()})
                if whole:
                    parts.append(a.expr.cast(pl.Int64).is_in(pl.Series(whole, dtype=pl.Int64).implode()))
            else:
                parts.append(a.expr.is_in(pl.Series([float(x) for x in fast], dtype=pl.Float64).implode()))
        for item in rest:
            parts.append(self._equal(a, constant(item)))
        return _any(*parts) if parts else pl.lit(False)

    def compare(self, op: str, a: V, b: V) -> V:
        """`expr.compare(op, a, b)`: unknown if either is unknown; RuleError where it raises."""
        err0, miss = _any(a.err, b.err), _merge(a.miss, b.miss)
        if a.is_const and b.is_const:
            return self._fold(lambda: _compare_consts(op, a.const, b.const), err0, miss)
        a, b = self.share(a), self.share(b)
        if a.kind == NULL or b.kind == NULL:
            return V(pl.lit(None, dtype=pl.Boolean), BOOL, err=err0, miss=miss)
        known = _known(a, b)
        fail = None
        if op in ("in", "not in"):
            if b.kind == LIST and b.is_const:
                if a.kind == LIST:
                    raise NotVectorizable("a list in a list")
                res = self._in_list(a, list(b.const))
            elif b.kind == LIST and a.is_const and a.kind == STR:
                res = b.expr.list.contains(pl.lit(a.const))
            elif b.kind == STR and a.is_const and a.kind == STR:
                res = b.expr.str.contains(a.const, literal=True)
            elif b.kind in (NUM, BOOL, DATE) or (b.kind == OTHER):
                res, fail = pl.lit(None, dtype=pl.Boolean), pl.lit(True)  # "in needs a list on its right"
            else:
                raise NotVectorizable("in with a field on its right")
            if op == "not in":
                res = ~res
        elif op in ("==", "!="):
            res = self._equal(a, b)
            if op == "!=":
                res = ~res
        else:
            res, fail = self._order(op, a, b)
        if known is not None:
            res = pl.when(known).then(res)
        return V(res, BOOL, err=_any(err0, _gate(fail, known)), miss=miss)

    def _fold(self, compute, err, miss, kind=None) -> V:
        try:
            value = compute()
        except RuleError:
            return V(pl.lit(None, dtype=pl.Boolean), kind or BOOL, err=pl.lit(True), miss=miss)
        except Exception as e:  # noqa: BLE001 — the scalar engine would crash: let it, row by row
            raise NotVectorizable(str(e)) from None
        v = constant(value)
        v.err, v.miss = err, miss
        return v

    # --- expressions

    def expr(self, node: ast.AST) -> V:
        if not _has_names(node):
            try:
                value = _eval(node, Context(facts={}, on=self.on))
            except RuleError:
                return V(pl.lit(None), NULL, err=pl.lit(True))
            except Exception as e:  # noqa: BLE001 — the scalar engine would crash: let it, row by row
                raise NotVectorizable(str(e)) from None
            return constant(value)
        if isinstance(node, ast.Name):
            return self.column(node.id)
        if isinstance(node, ast.UnaryOp):
            v = self.expr(node.operand)
            if isinstance(node.op, ast.Not):
                t = self.truth(v)
                return V(~t.expr, BOOL, err=t.err, miss=t.miss, nullable=t.nullable)
            n, fail = self.as_number(v)
            expr = -n.expr if isinstance(node.op, ast.USub) else n.expr
            return V(expr, NUM, is_int=v.is_int and v.kind != STR, err=_any(v.err, _gate(fail, v.known())),
                     miss=v.miss)
        if isinstance(node, ast.BoolOp):
            values = [self.truth(self.expr(x)) for x in node.values]
            out = values[0].expr
            for x in values[1:]:
                out = (out & x.expr) if isinstance(node.op, ast.And) else (out | x.expr)
            return V(out, BOOL, err=_any(*(x.err for x in values)), miss=_merge(*(x.miss for x in values)))
        if isinstance(node, ast.Compare):
            left = self.expr(node.left)
            results = []
            for op, right_node in zip(node.ops, node.comparators):
                right = self.expr(right_node)
                results.append(self.compare(_CMP[type(op)], left, right))
                left = right
            out = results[0].expr
            for r in results[1:]:
                out = out & r.expr
            return V(out, BOOL, err=_any(*(r.err for r in results)), miss=_merge(*(r.miss for r in results)))
        if isinstance(node, ast.IfExp):
            return self._if(node)
        if isinstance(node, ast.BinOp):
            return self._binop(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise NotVectorizable(f"{type(node).__name__} with fields in it")

    def _if(self, node: ast.IfExp) -> V:
        t = self.share(self.truth(self.expr(node.test)))
        body, orelse = self.share(self.expr(node.body)), self.share(self.expr(node.orelse))
        kinds = {body.kind, orelse.kind} - {NULL}
        body_e, orelse_e = body.expr, orelse.expr
        if kinds == {NUM}:
            body_e, orelse_e = body_e.cast(pl.Float64), orelse_e.cast(pl.Float64)
        if len(kinds) > 1 or kinds & {LIST, OTHER}:
            raise NotVectorizable("if-else with branches of different types")
        kind = kinds.pop() if kinds else NULL
        if body.kind == NULL or orelse.kind == NULL:
            dtype = {BOOL: pl.Boolean, NUM: pl.Float64, STR: pl.String, DATE: pl.Date}.get(kind, pl.Null)
            body_e = pl.lit(None, dtype=dtype) if body.kind == NULL else body_e
            orelse_e = pl.lit(None, dtype=dtype) if orelse.kind == NULL else orelse_e
        cond_t, cond_f = t.expr.fill_null(False), (~t.expr).fill_null(False)
        value = pl.when(cond_t).then(body_e).when(cond_f).then(orelse_e).otherwise(
            pl.when(body_e.eq(orelse_e)).then(body_e))

        def branch(x, y):
            if x is None and y is None:
                return None
            x = pl.lit(False) if x is None else x
            y = pl.lit(False) if y is None else y
            x, y = self.bind(x), self.bind(y)
            return pl.when(cond_t).then(x).when(cond_f).then(y).otherwise(x | y)

        err = _any(t.err, branch(body.err, orelse.err))
        names = set(body.miss) | set(orelse.miss)
        miss = _merge(t.miss, {n: branch(body.miss.get(n), orelse.miss.get(n)) for n in names})
        return V(value, kind, is_int=body.is_int and orelse.is_int, err=err, miss=miss)

    def _binop(self, node: ast.BinOp) -> V:
        a, b = self.share(self.expr(node.left)), self.share(self.expr(node.right))
        err0, miss = _any(a.err, b.err), _merge(a.miss, b.miss)
        if a.kind == NULL or b.kind == NULL:
            return V(pl.lit(None, dtype=pl.Float64), NUM, err=err0, miss=miss)
        known = _known(a, b)
        (x, fx), (y, fy) = self.as_number(a), self.as_number(b)
        op = node.op
        is_int = a.is_int and b.is_int and a.kind != STR and b.kind != STR
        fail = _any(fx, fy)
        if isinstance(op, (ast.Div, ast.FloorDiv, ast.Mod)):
            if isinstance(op, (ast.FloorDiv, ast.Mod)) and not is_int:
                raise NotVectorizable("// and % on non-integers")
            if y.is_const:
                if y.const == 0:
                    fail = _any(fail, pl.lit(True))
            else:
                fail = _any(fail, y.expr.eq(0.0))
        xe, ye = x.expr.cast(pl.Float64), y.expr.cast(pl.Float64)
        if isinstance(op, (ast.Div, ast.FloorDiv, ast.Mod)) and not (y.atom and not y.is_const):
            # IEEE division needs a column on the right (see `_column_of`)
            ye = _column_of(float(y.const), self.anchor) if y.is_const else ye + _column_of(0.0, self.anchor)
        if isinstance(op, ast.Add):
            out = xe + ye
        elif isinstance(op, ast.Sub):
            out = xe - ye
        elif isinstance(op, ast.Mult):
            out = xe * ye
        elif isinstance(op, ast.Div):
            out, is_int = xe / ye, False
        elif isinstance(op, ast.FloorDiv):
            out = xe // ye
        else:
            out = xe % ye
        return V(out, NUM, is_int=is_int, err=_any(err0, _gate(fail, known)), miss=miss)

    def _call(self, node: ast.Call) -> V:
        name = node.func.id
        if name == "has_tag":
            return self.has_tag("tags", node.args[0].value)
        if name == "bracket":
            v = self.share(self.expr(node.args[0]))
            if v.kind == NULL:
                return V(pl.lit(None, dtype=pl.Float64), NUM, err=v.err, miss=v.miss)
            x, fail = self.as_number(v)
            x = self.share(x)
            table = bracket_table(node.args[1])
            out = None
            for threshold, value in reversed(table):
                out = (pl.when(x.expr >= threshold) if out is None else out.when(x.expr >= threshold)).then(value)
            out = out.otherwise(0.0) if out is not None else pl.lit(0.0)
            known = v.known()
            if known is not None:
                out = pl.when(known).then(out)
            return V(out, NUM, err=_any(v.err, _gate(fail, known)), miss=v.miss)
        arg_nodes = node.args
        if name in ("min", "max") and len(arg_nodes) == 1 and isinstance(arg_nodes[0], (ast.List, ast.Tuple)):
            arg_nodes = arg_nodes[0].elts
        args = [self.share(self.expr(a)) for a in arg_nodes]
        err0, miss = _any(*(a.err for a in args)), _merge(*(a.miss for a in args))
        if any(a.kind == NULL for a in args):
            return V(pl.lit(None, dtype=pl.Float64), NUM, err=err0, miss=miss)
        known = _known(*args)
        if name in ("min", "max") and any(a.kind == LIST and not a.is_const for a in args):
            raise NotVectorizable("min/max over a list field")
        if name == "years_since":
            d, fail = self.as_date(args[0])
            if isinstance(arg_nodes[0], ast.Name) and args[0].kind == DATE:
                key = f"__years_since__{arg_nodes[0].id}"
                if key not in self.derived:
                    self.derived[key] = years_since_expr(d.expr, self.on, self._derive)
                out = pl.col(key)
            else:
                out = years_since_expr(self.share(d).expr, self.on, self.bind)
            return V(out, NUM, err=_any(err0, _gate(fail, known)), miss=miss)
        if name == "round" and len(args) == 2 and not args[1].is_const:
            raise NotVectorizable("round(x, n) with n not a constant")
        converted = [self.as_number(a) for a in args]
        fail = _any(*(f for _, f in converted))
        numbers = [self.share(n) for n, _ in converted]
        err = _any(err0, _gate(fail, known))
        xs = [n.expr for n in numbers]
        if name in ("min", "max"):
            out = pl.min_horizontal(*xs) if name == "min" else pl.max_horizontal(*xs)
            if known is not None:
                out = pl.when(known).then(out)
            return V(out, NUM, is_int=all(a.is_int for a in args), err=err, miss=miss)
        x = xs[0]
        if name == "abs":
            return V(x.abs(), NUM, is_int=args[0].is_int, err=err, miss=miss)
        if name == "floor":
            return V(x.floor(), NUM, is_int=True, err=err, miss=miss)
        if name == "ceil":
            return V(x.ceil(), NUM, is_int=True, err=err, miss=miss)
        if name == "round":
            digits = 0
            if len(args) == 2:
                try:
                    digits = int(as_number(args[1].const))
                except RuleError:  # already in `err` through the conversion of the arguments
                    return V(pl.lit(None, dtype=pl.Float64), NUM, err=err, miss=miss)
            if abs(digits) > 15:
                raise NotVectorizable("round() to more than 15 digits")
            return V(round_half_up_expr(x, digits, self.anchor), NUM, err=err, miss=miss)
        raise NotVectorizable(f"function {name}")

    def has_tag(self, field_name: str, tag: str) -> V:
        """`tag in (facts.get(field) or [])`: never unknown; no tags is an empty list."""
        if field_name not in self.schema:
            return V(pl.lit(False), BOOL, nullable=False)
        v = self.column(field_name)
        if v.kind == LIST:  # one shared column per tag: list.contains costs ~10 ms per million rows
            key = f"__has_tag__{field_name}__{tag}"
            if key not in self.derived:
                self.derived[key] = v.expr.list.contains(pl.lit(tag, dtype=pl.String)).fill_null(False)
            return V(pl.col(key), BOOL, nullable=False, atom=True)
        elif v.kind == STR:
            out = v.expr.str.contains(tag, literal=True)
        elif v.kind == NULL:
            out = pl.lit(False)
        else:
            raise NotVectorizable(f"has_tag on {field_name}")
        return V(out.fill_null(False), BOOL, nullable=False)

    # --- conditions

    def condition(self, node: cond.Node) -> CNode:
        if isinstance(node, cond.Group):
            parts = [self.condition(c) for c in node.children]
            parts = [p if isinstance(c, cond.Leaf) else CNode(self.bind(p.value), p.err, p.miss)
                     for c, p in zip(node.children, parts)]
            out = parts[0].value
            for p in parts[1:]:
                out = (out & p.value) if node.kind == "all" else (out | p.value)
            names = set().union(*(p.miss for p in parts))
            miss = {n: _any(*((p.value.is_null() & p.miss[n]) for p in parts if n in p.miss)) for n in names}
            return CNode(out, _any(*(p.err for p in parts)), miss)
        if isinstance(node, cond.Not):
            inner = self.condition(node.child)
            return CNode(~inner.value, inner.err, inner.miss)
        if isinstance(node, cond.ExprLeaf):
            t = self.truth(self.expr(node.expression.tree))
            return CNode(t.expr, t.err, t.miss)
        if isinstance(node, cond.Leaf):
            return self.leaf(node)
        raise NotVectorizable(f"condition {type(node).__name__}")

    def leaf(self, leaf: cond.Leaf) -> CNode:
        if leaf.op != "has_tag" and leaf.field in self.dictionaries and self.schema.get(leaf.field) == pl.String:
            return self._dictionary_leaf(leaf)
        return self._leaf(leaf)

    def _dictionary_leaf(self, leaf: cond.Leaf) -> CNode:
        """The leaf evaluated by the scalar engine itself on each distinct value of its field, then looked
        up by code: `is_in` on small integers costs ~0.2 ms per million rows where `starts_with` or
        `is_in` on texts cost 4–7 ms. (A leaf reads one field only, so this is exact.)"""
        values = self.dictionaries[leaf.field]
        key = (leaf.field, leaf.op, repr(leaf.value))
        if key not in self._tables:
            true_codes, err_codes = [], []
            for code, text in enumerate(values):
                try:
                    result = leaf.evaluate(Context(facts={leaf.field: text}, on=self.on))
                except RuleError:
                    err_codes.append(code)
                    continue
                except Exception as e:  # noqa: BLE001 — the scalar engine would crash: let it, row by row
                    raise NotVectorizable(str(e)) from None
                if result is True:
                    true_codes.append(code)
            self._tables[key] = (true_codes, err_codes)
        true_codes, err_codes = self._tables[key]
        name = f"__code__{leaf.field}"
        if name not in self.derived:
            self.derived[name] = pl.col(leaf.field).cast(pl.Enum(values)).to_physical().cast(pl.UInt32)
        codes = pl.col(name)
        if not true_codes:
            value = pl.when(codes.is_not_null()).then(False)
        elif len(true_codes) == len(values):
            value = pl.when(codes.is_not_null()).then(True)
        else:
            value = codes.is_in(pl.Series(true_codes, dtype=pl.UInt32).implode())
        err = codes.is_in(pl.Series(err_codes, dtype=pl.UInt32).implode()).fill_null(False) if err_codes else None
        return CNode(value, err, {leaf.field: pl.lit(True)})

    def _leaf(self, leaf: cond.Leaf) -> CNode:
        op, value = leaf.op, leaf.value
        if op == "has_tag":
            v = self.has_tag(leaf.field if leaf.field != "has_tag" else "tags", value)
            return CNode(v.expr, None, {})
        actual = self.column(leaf.field)
        miss = {leaf.field: pl.lit(True)}
        if actual.kind == NULL:
            return CNode(pl.lit(None, dtype=pl.Boolean), None, miss)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            v = self.compare(op, actual, constant(value))
        elif op in ("in", "not_in"):
            v = self.compare("in" if op == "in" else "not in", actual, constant(list(value)))
        elif op == "between":
            low = self.compare("<=", constant(value[0]), actual)
            high = self.compare("<=", actual, constant(value[1]))
            v = V(low.expr & high.expr, BOOL, err=_any(low.err, high.err))
        elif op == "prefix":
            text = self._text_of(actual)
            prefixes = [str(p) for p in ([value] if isinstance(value, str) else list(value))]
            out = None
            for p in prefixes:
                part = text.str.starts_with(p)
                out = part if out is None else (out | part)
            v = V(out if out is not None else pl.when(actual.known()).then(False), BOOL)
        else:
            raise NotVectorizable(f"operator {op}")
        return CNode(v.expr, v.err, miss)

    def _text_of(self, v: V) -> pl.Expr:
        """`str(actual)` for the prefix operator."""
        if v.kind == STR:
            return v.expr
        if v.kind == DATE:
            return v.expr.cast(pl.String)
        s = self._str_of_number(v)
        if s is None:
            raise NotVectorizable("prefix on a float or list field")
        return pl.when(v.expr.is_not_null()).then(s) if v.kind == BOOL else s

    # --- clauses

    def clause(self, clause: cl.ClauseSpec) -> CompiledClause:
        """The clause as expressions: `keep` (not false) over all rows, the rest only on the kept rows —
        temporary columns needed by `keep` are `lets`, those only needed afterwards `post_lets`."""
        self.lets = []
        if clause.conditions is None:
            c = CNode(pl.lit(True), None, {})
        else:
            c = self.condition(clause.conditions)
        simple = isinstance(clause.conditions, (cond.Leaf, type(None)))
        value = c.value if simple else self.bind(c.value)
        c_err = None if c.err is None else self.bind(c.err)
        keep = value.fill_null(True) if c_err is None else (value.fill_null(True) | c_err)
        lets, self.lets = self.lets, []
        if clause.benefit is None:
            amount, b_err, b_miss, b_null = pl.lit(0.0), None, {}, None
        else:
            v = self.expr(clause.benefit.tree)
            if v.kind == NULL:
                number, fail = _null(NUM), None
            else:
                number, fail = self.as_number(v)
            b_err = _any(v.err, _gate(fail, v.known()))
            if number.is_const:
                amount = pl.lit(max(0.0, round(float(number.const), 2)))
            elif number.is_int:  # a whole number: round(x, 2) is x
                amount = pl.when(number.expr > 0).then(number.expr.cast(pl.Float64)).when(
                    number.expr.is_not_null()).then(0.0)
            else:
                number = self.share(number)
                amount = amount_expr(number.expr.cast(pl.Float64), self.anchor)
            b_miss, b_null = v.miss, (None if (v.is_const or not v.nullable) else v.expr.is_null())
            if v.kind == NULL:
                b_null = pl.lit(True)
        err = _any(c_err, b_err)
        err = None if err is None else self.bind(err)
        unknown = value.is_null() if err is None else (value.is_null() | err)
        status = pl.when(unknown).then(pl.lit("unknown", dtype=STATUS)).otherwise(pl.lit("eligible", dtype=STATUS))
        amount_out = amount if err is None else pl.when(~err).then(amount)
        flags = {}
        for n in sorted(set(c.miss) | set(b_miss)):
            parts = []
            if n in c.miss:
                parts.append(value.is_null() & c.miss[n])
            if n in b_miss and b_null is not None:
                parts.append(b_null & b_miss[n])
            m = _any(*parts)
            if m is not None:
                flags[n] = m if err is None else (m & ~err)
        missing = self._name_lists(flags)
        order = {n: i for i, n in enumerate(cl.field_order(clause))}
        mask = pl.lit(0, dtype=pl.Int64)
        for n, flag in flags.items():
            if order.get(n, 63) >= 63:  # not representable: the scalar engine handles the clause (match_frame)
                mask = None
                break
            mask = mask + flag.cast(pl.Int64) * (1 << order[n])
        post_lets, self.lets = self.lets, []
        return CompiledClause(clause, lets, post_lets, keep, status, amount_out, missing, clause.fields(), mask)

    def _name_lists(self, flags: dict[str, pl.Expr]) -> pl.Expr:
        """The sorted list of the names whose flag is set. Built as a bit mask per group of 8 names and
        looked up in a table of the 256 possible lists (`concat_list` + `drop_nulls` is ~100× slower)."""
        dtype = pl.List(self.names_dtype)
        names = list(flags)
        if not names:
            return pl.lit([], dtype=dtype)
        lists = []
        for i in range(0, len(names), 8):
            group = names[i:i + 8]
            mask = pl.lit(0, dtype=pl.UInt32)
            for bit, n in enumerate(group):
                mask = mask + flags[n].cast(pl.UInt32) * (1 << bit)
            table = pl.Series([[n for bit, n in enumerate(group) if m >> bit & 1] for m in range(1 << len(group))],
                              dtype=dtype)
            lists.append(pl.lit(table).gather(mask))
        return lists[0] if len(lists) == 1 else pl.concat_list(lists)


def _compare_consts(op, a, b):
    from .expr import compare

    node = {"==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "in": ast.In,
            "not in": ast.NotIn}[op]()
    return compare(node, a, b)


def compile_clause(clause: cl.ClauseSpec, schema, on: datetime.date) -> tuple[CompiledClause, dict[str, pl.Expr]]:
    """One clause compiled against a frame schema: (the compiled clause, derived columns it needs)."""
    compiler = Compiler(schema, on)
    return compiler.clause(clause), compiler.derived


# --- matching ---------------------------------------------------------------------------------------

RESULT_SCHEMA_TAIL = {"status": STATUS, "amount": pl.Float64}


def match_frame(clauses, frame: pl.DataFrame, on, *, id_column: str = "id", missing: bool | str = True,
                group: int = 16, fallback: bool = True) -> pl.DataFrame:
    """Match every enterprise (row) against every clause in force on `on`.

    Returns the eligible and unknown pairs only: id, clause (code, an Enum of the clauses' codes),
    status ("eligible"/"unknown"), amount (null while unknown), missing (the fields whose absence leaves
    the pair unknown, as `clauses.evaluate` lists them; omitted with missing=False; with missing="mask" a
    column missing_mask instead, Int64, the same names as bits over `clauses.field_order`). A rule error is
    "unknown" with nothing missing, as in the scalar engine (`clauses.evaluate` gives the message).
    Clauses the compiler does not handle are evaluated row by row with the scalar engine, or with
    fallback=False raise `NotVectorizable` (at a million rows the scalar engine takes ~10 s a clause)."""
    on = as_date(on)
    clauses = list(clauses)
    codes = list(dict.fromkeys(c.code for c in clauses))
    clause_dtype = pl.Enum(codes or ["-"])
    used = set().union(*(c.fields() for c in clauses))
    names_dtype = pl.Enum(sorted(used) or ["-"])
    compiler = Compiler(frame.schema, on, names_dtype, dictionaries(frame, used))
    compiled, slow = [], []
    for clause in clauses:
        if not clause.in_force(on):
            continue
        try:
            compiled.append(compiler.clause(clause))
            if missing == "mask" and compiled[-1].mask is None:
                compiled.pop()
                raise NotVectorizable(f"{clause.code}: a missing field outside the mask")
        except NotVectorizable:
            if not fallback:
                raise
            slow.append(clause)
    lazy = frame.lazy()
    if compiler.derived:
        for name, expr in compiler.derived.items():  # in order: each may use the ones before it
            lazy = lazy.with_columns(expr.alias(name))
        lazy = lazy.collect().lazy()
    id_dtype = frame.schema[id_column]
    schema = {"id": id_dtype, "clause": clause_dtype, **RESULT_SCHEMA_TAIL, "missing": pl.List(names_dtype)}
    if missing == "mask":
        schema.pop("missing")
        schema["missing_mask"] = pl.Int64
    elif not missing:
        schema.pop("missing")
    parts = []
    queries = []
    for cc in compiled:
        columns = [pl.col(id_column).alias("id"), pl.lit(cc.clause.code, dtype=clause_dtype).alias("clause"),
                   cc.status.alias("status"), cc.amount.cast(pl.Float64).alias("amount")]
        if missing == "mask":
            columns.append(cc.mask.alias("missing_mask"))
        elif missing:
            columns.append(cc.missing.alias("missing"))
        query = lazy
        for name, expr in cc.lets:
            query = query.with_columns(expr.alias(name))
        query = query.filter(cc.keep)
        for name, expr in cc.post_lets:
            query = query.with_columns(expr.alias(name))
        queries.append(query.select(columns))
    for i in range(0, len(queries), group):
        parts.extend(pl.collect_all(queries[i:i + group]))
    for clause in slow:
        parts.append(_scalar_rows(clause, frame, on, id_column, clause_dtype, schema))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts, how="vertical", rechunk=False)


def dictionaries(frame: pl.DataFrame, fields, *, max_values: int = 100_000) -> dict[str, list[str]]:
    """The distinct values of the text fields that have few of them (see `Compiler.dictionaries`)."""
    out = {}
    for name in fields:
        if frame.schema.get(name) != pl.String:
            continue
        values = frame.get_column(name).drop_nulls().unique()
        if 0 < len(values) <= min(max_values, max(16, frame.height // 4)):
            out[name] = values.sort().to_list()
    return out


def _scalar_rows(clause, frame, on, id_column, clause_dtype, schema) -> pl.DataFrame:
    """A clause the compiler does not handle: the scalar engine, row by row."""
    rows = {k: [] for k in schema}
    for record in frame.iter_rows(named=True):
        ident = record.pop(id_column)
        outcome = cl.evaluate(clause, record, on)
        if outcome.eligible is False:
            continue
        rows["id"].append(ident)
        rows["clause"].append(clause.code)
        rows["status"].append(outcome.status)
        rows["amount"].append(outcome.amount)
        if "missing" in rows:
            rows["missing"].append(outcome.missing)
        if "missing_mask" in rows:
            rows["missing_mask"].append(cl.encode_missing(outcome.missing, cl.field_order(clause)))
    return pl.DataFrame(rows, schema=schema)


def frame_from_records(records: list[dict], *, id_column: str = "id", schema: dict | None = None) -> pl.DataFrame:
    """A frame from scalar-engine facts (one dict per enterprise, with an id). Each field takes one type
    from its values: ints → Int64, floats → Float64, booleans, texts, dates, lists of texts."""
    names = list(dict.fromkeys(k for r in records for k in r))
    types = dict(schema or {})
    for name in names:
        if name in types:
            continue
        seen = {type(r[name]) for r in records if r.get(name) is not None}
        if seen <= {bool} and seen:
            types[name] = pl.Boolean
        elif seen and seen <= {int}:
            types[name] = pl.Int64
        elif seen and seen <= {int, float}:
            types[name] = pl.Float64
        elif seen and seen <= {datetime.date}:
            types[name] = pl.Date
        elif seen and seen <= {datetime.datetime, datetime.date}:
            types[name] = pl.Datetime
        elif seen and seen <= {list, tuple}:
            types[name] = pl.List(pl.String)
        elif not seen:
            types[name] = pl.List(pl.String) if name == "tags" else pl.Null
        elif seen <= {str}:
            types[name] = pl.String
        else:
            raise ValueError(f"field {name} mixes types {sorted(t.__name__ for t in seen)}")
    data = {n: [r.get(n) for r in records] for n in names}
    return pl.DataFrame(data, schema={n: types[n] for n in names})
