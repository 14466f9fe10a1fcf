"""A small, safe expression language for conditions and benefit formulas.

    min(rd_expense * 0.1, 1000000)
    years_since(registration_date) >= 3 and employees < 300
    bracket(revenue, [[10000000, 50000], [50000000, 200000]])

Parsed with Python's `ast` and checked against a whitelist when the rule is saved; evaluated by
walking the tree (no `eval`). Names are enterprise fields; a field without a value is unknown, and
unknown flows through arithmetic, comparisons and Kleene `and`/`or`/`not`.
"""

from __future__ import annotations

import ast
import datetime
import math
from dataclasses import dataclass, field
from typing import Any

from .values import UNKNOWN, RuleError, as_date, gettext_noop, as_number, comparable, is_unknown, round_half_up, years_between

MAX_LENGTH = 2000
FUNCTIONS = {"min", "max", "round", "floor", "ceil", "abs", "years_since", "bracket", "has_tag"}
BIN_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
CMP_OPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)


@dataclass
class Context:
    facts: dict
    on: datetime.date
    missing: set[str] = field(default_factory=set)

    def get(self, name: str):
        value = self.facts.get(name, UNKNOWN)
        if is_unknown(value):
            self.missing.add(name)
            return UNKNOWN
        return value


class Expression:
    """A parsed, checked expression. `names` are the fields it reads."""

    def __init__(self, source: str):
        if not isinstance(source, str) or not source.strip():
            raise RuleError(gettext_noop("an expression is empty"))
        if len(source) > MAX_LENGTH:
            raise RuleError(gettext_noop("an expression is longer than %(n)s characters"), n=MAX_LENGTH)
        self.source = source.strip()
        try:
            self.tree = ast.parse(self.source, mode="eval").body
        except SyntaxError as e:
            raise RuleError(gettext_noop("cannot read the expression: a mistake near character %(column)s"),
                            column=e.offset) from None
        self.names: set[str] = set()
        _check(self.tree, self.names)

    def __repr__(self):
        return f"Expression({self.source!r})"

    def evaluate(self, ctx: Context):
        return _eval(self.tree, ctx)


_OP_SIGNS = {ast.Pow: "**", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^",
             ast.BitAnd: "&", ast.Is: "is", ast.IsNot: "is not"}


def _construct(node: ast.AST) -> str:
    """What a disallowed piece of an expression looks like (e.g. `x.y`, `lambda`), for the message."""
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every node ast.parse returns
        text = type(node).__name__
    return text if len(text) <= 40 else text[:40] + "…"


def _check(node: ast.AST, names: set[str]) -> None:
    """Refuse anything outside the language, with a message a policy officer can act on."""
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, str, bool)):
            raise RuleError(gettext_noop("the constant %(value)r is not allowed"), value=node.value)
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise RuleError(gettext_noop("%(name)s is a function: call it as %(name)s(…)"), name=node.id)
        if node.id in ("true", "false", "True", "False", "None", "null"):
            raise RuleError(gettext_noop("write true/false conditions as comparisons, not %(name)s"), name=node.id)
        names.add(node.id)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, BIN_OPS):
            raise RuleError(gettext_noop("the operator %(op)s is not allowed (use + - * / // %%)"), op=_OP_SIGNS.get(type(node.op), "?"))
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            raise RuleError(gettext_noop("only -x, +x and not x are allowed"))
        _check(node.operand, names)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if not isinstance(op, CMP_OPS):
                raise RuleError(gettext_noop("only == != < <= > >= in and not in compare values"))
        for part in (node.left, *node.comparators):
            _check(part, names)
    elif isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, names)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for element in node.elts:
            _check(element, names)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise RuleError(gettext_noop("unknown function; allowed: %(names)s"), names=", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise RuleError(gettext_noop("%(name)s() takes no keyword arguments"), name=node.func.id)
        arity = {"years_since": (1, 1), "bracket": (2, 2), "abs": (1, 1), "floor": (1, 1), "ceil": (1, 1),
                 "round": (1, 2), "has_tag": (1, 1), "min": (1, 99), "max": (1, 99)}[node.func.id]
        if not arity[0] <= len(node.args) <= arity[1]:
            raise RuleError(gettext_noop("%(name)s() takes %(n)s argument(s)"), name=node.func.id,
                            n=f"{arity[0]}" + (f"–{arity[1]}" if arity[1] != arity[0] else ""))
        if node.func.id == "bracket":
            _check_table(node.args[1])
            _check(node.args[0], names)
            return
        if node.func.id == "has_tag":
            if not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                raise RuleError(gettext_noop("has_tag() takes the tag's name in quotes"))
            names.add("tags")
            return
        for arg in node.args:
            _check(arg, names)
    else:
        raise RuleError(gettext_noop("%(what)s is not allowed in an expression"), what=_construct(node))


def _check_table(node: ast.AST) -> None:
    if not isinstance(node, (ast.List, ast.Tuple)) or not node.elts:
        raise RuleError(gettext_noop("bracket() needs a table [[threshold, value], …]"))
    for row in node.elts:
        if not (isinstance(row, (ast.List, ast.Tuple)) and len(row.elts) == 2
                and all(_is_number_literal(x) for x in row.elts)):
            raise RuleError(gettext_noop("each bracket row is [threshold, value] with two numbers"))


def _is_number_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def literal(node: ast.AST):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -literal(node.operand)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e) for e in node.elts]
    raise RuleError(gettext_noop("expected a literal value"))


def bracket_table(node: ast.AST) -> list[tuple[float, float]]:
    return sorted((float(a), float(b)) for a, b in literal(node))


def bracket(x: float, table: list[tuple[float, float]]) -> float:
    """The value of the highest threshold that x reaches (x ≥ threshold); 0 below the first."""
    result = 0.0
    for threshold, value in table:
        if x >= threshold:
            result = value
    return result


# --- Kleene logic ------------------------------------------------------------------------------------

def kleene_and(values) -> Any:
    unknown = False
    for v in values:
        if v is False:
            return False
        if v is UNKNOWN:
            unknown = True
    return UNKNOWN if unknown else True


def kleene_or(values) -> Any:
    unknown = False
    for v in values:
        if v is True:
            return True
        if v is UNKNOWN:
            unknown = True
    return UNKNOWN if unknown else False


def kleene_not(value) -> Any:
    return UNKNOWN if value is UNKNOWN else (not value)


def truth(value) -> Any:
    if value is UNKNOWN or isinstance(value, bool):
        return value
    raise RuleError(gettext_noop("%(value)r is not true or false"), value=value)


_FAST = {ast.Lt: lambda x, y: x < y, ast.LtE: lambda x, y: x <= y, ast.Gt: lambda x, y: x > y,
         ast.GtE: lambda x, y: x >= y, ast.Eq: lambda x, y: x == y, ast.NotEq: lambda x, y: x != y}


def compare(op: ast.cmpop, a, b) -> Any:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    ta, tb = type(a), type(b)
    if (ta in (int, float) and tb in (int, float)) or (ta is str and tb is str):
        fast = _FAST.get(type(op))  # the common case: two numbers or two texts
        if fast is not None:
            return fast(a, b)
    if isinstance(op, (ast.In, ast.NotIn)):
        if not isinstance(b, (list, tuple, set, frozenset, str)):
            raise RuleError(gettext_noop("in needs a list on its right"))
        found = a in b if isinstance(b, str) else any(_equal(a, item) for item in b)
        return found if isinstance(op, ast.In) else not found
    if isinstance(op, ast.Eq):
        return _equal(a, b)
    if isinstance(op, ast.NotEq):
        return not _equal(a, b)
    x, y = comparable(a, b)
    try:
        return {ast.Lt: x < y, ast.LtE: x <= y, ast.Gt: x > y, ast.GtE: x >= y}[type(op)]
    except TypeError:
        raise RuleError(gettext_noop("cannot compare %(a)r with %(b)r"), a=a, b=b) from None


def _equal(a, b) -> bool:
    try:
        x, y = comparable(a, b)
    except RuleError:
        return False
    return x == y


# --- evaluation ------------------------------------------------------------------------------------

def _eval(node: ast.AST, ctx: Context):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return ctx.get(node.id)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, ctx) for e in node.elts]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, ctx)
        if isinstance(node.op, ast.Not):
            return kleene_not(truth(value))
        if value is UNKNOWN:
            return UNKNOWN
        return -as_number(value) if isinstance(node.op, ast.USub) else as_number(value)
    if isinstance(node, ast.BoolOp):
        values = [truth(_eval(v, ctx)) for v in node.values]
        return kleene_and(values) if isinstance(node.op, ast.And) else kleene_or(values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, ctx)
        results = []
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, ctx)
            results.append(compare(op, left, right))
            left = right
        return kleene_and(results)
    if isinstance(node, ast.IfExp):
        test = truth(_eval(node.test, ctx))
        if test is UNKNOWN:
            body, orelse = _eval(node.body, ctx), _eval(node.orelse, ctx)
            return body if body == orelse and body is not UNKNOWN else UNKNOWN
        return _eval(node.body if test else node.orelse, ctx)
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, ctx), _eval(node.right, ctx)
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        a, b = as_number(a), as_number(b)
        op = node.op
        if isinstance(op, (ast.Div, ast.FloorDiv, ast.Mod)) and b == 0:
            raise RuleError(gettext_noop("division by zero"))
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div):
            return a / b
        if isinstance(op, ast.FloorDiv):
            return a // b
        return a % b
    if isinstance(node, ast.Call):
        return _call(node, ctx)
    raise RuleError(gettext_noop("%(what)s is not allowed in an expression"), what=_construct(node))  # unreachable


def _call(node: ast.Call, ctx: Context):
    name = node.func.id
    if name == "has_tag":
        tags = ctx.facts.get("tags") or []
        return node.args[0].value in tags
    if name == "bracket":
        x = _eval(node.args[0], ctx)
        return UNKNOWN if x is UNKNOWN else bracket(as_number(x), bracket_table(node.args[1]))
    args = [_eval(a, ctx) for a in node.args]
    if name in ("min", "max") and len(args) == 1 and isinstance(args[0], list):
        args = args[0]
    if any(a is UNKNOWN for a in args):
        return UNKNOWN
    if name == "years_since":
        return years_between(as_date(args[0]), ctx.on)
    numbers = [as_number(a) for a in args]
    if name == "min":
        return min(numbers)
    if name == "max":
        return max(numbers)
    if name == "abs":
        return abs(numbers[0])
    if name == "floor":
        return math.floor(numbers[0])
    if name == "ceil":
        return math.ceil(numbers[0])
    if name == "round":
        digits = int(numbers[1]) if len(numbers) > 1 else 0
        if not -15 <= digits <= 15:
            raise RuleError(gettext_noop("round() keeps between -15 and 15 digits"))
        return round_half_up(numbers[0], digits)
    raise RuleError(gettext_noop("unknown function; allowed: %(names)s"), names=", ".join(sorted(FUNCTIONS)))
