"""Conditions, formulas and explanations in words: field labels from the profile catalog, operators in the
user's language, coded values (size, industry, jurisdiction) by their names. The engine decides; this module
only puts its rules and its explanation (`Node.explain`) into words. Enterprises read only these words — never
a field code or a raw formula (staff who edit clauses see the formula too, next to these words)."""

from __future__ import annotations

import ast
import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from qifu.profiles import catalog
from qifu.rules import clauses as cl
from qifu.rules import conditions as cond
from qifu.rules.expr import FUNCTIONS, Context, bracket_table
from qifu.rules.values import UNKNOWN

OPERATORS = {
    "==": _("equals"),
    "!=": _("does not equal"),
    "<": _("less than"),
    "<=": _("at most"),
    ">": _("more than"),
    ">=": _("at least"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "between": _("between"),
    "prefix": _("starts with"),
    "has_tag": _("has the tag"),
}

# function → (how it is written, what it gives): the writing is the rules language's, the words translated
FUNCTION_HELP = {
    "min": ("min(rd_expense * 0.1, 1000000)", _("the smallest of its values — use it for caps")),
    "max": ("max(a, b, …)", _("the largest of its values — use it for floors")),
    "round": ("round(x, 2)", _("rounded half up to the given decimal places")),
    "floor": ("floor(x)", _("rounded down")),
    "ceil": ("ceil(x)", _("rounded up")),
    "abs": ("abs(x)", _("without sign")),
    "years_since": ("years_since(registration_date)", _("whole years from that date until today")),
    "bracket": ("bracket(x, [[threshold, amount], …])", _("the amount of the highest threshold reached (tiers)")),
    "has_tag": ('has_tag("专精特新")', _("whether the enterprise has the tag")),
}
assert set(FUNCTION_HELP) == FUNCTIONS


def fields(region=None) -> list[catalog.Field]:
    return catalog.fields(region)


def labels(region=None) -> dict[str, str]:
    return {f.code: f.label for f in fields(region)}


def field_label(code: str, region=None, known: dict[str, str] | None = None) -> str:
    """The field's label; a field outside the catalog (no enterprise has data for it) by a generic name."""
    known = known if known is not None else labels(region)
    if code == "tags":
        return known.get("tags", str(_("tags")))
    return known.get(code) or str(_("a data item not yet collected"))


def missing_words(codes, region=None) -> list[str]:
    known = labels(region)
    return [field_label(c, known=known) for c in codes]


def _coded_value(field: str, value) -> str | None:
    """A coded value by its name: enterprise size, industry section, jurisdiction."""
    if not isinstance(value, str) or not value:
        return None
    if field == "size":
        from qifu.enterprises.models import Enterprise

        return str(Enterprise.Size(value).label) if value in Enterprise.Size.values else None
    if field == "industry":
        from qifu.lib import industry

        name = industry.section_name(value)
        return f"{value}（{name}）" if name else None
    if field == "jurisdiction":
        from qifu.org.models import Jurisdiction

        name = Jurisdiction.objects.filter(code=value).values_list("name", flat=True).first()
        return name or None
    return None


def _value_text(value, field: str = "") -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(_value_text(v, field) for v in value)
    named = _coded_value(field, value) if field else None
    if named:
        return named
    if isinstance(value, bool):
        return str(_("yes")) if value else str(_("no"))
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    return str(value)


def node_text(node: cond.Node, known: dict[str, str]) -> str:
    """One condition in words (Chinese by default)."""
    if isinstance(node, cond.Group):
        return str(_("all of the following")) if node.kind == "all" else str(_("any of the following"))
    if isinstance(node, cond.Not):
        return str(_("none of the following holds"))
    if isinstance(node, cond.ExprLeaf):
        return formula_text(node.expression, known)
    if node.op == "has_tag":
        return f"{OPERATORS['has_tag']} {node.value}"
    label = field_label(node.field, known=known)
    if node.op == "between":
        return (f"{label} {OPERATORS['between']} {_value_text(node.value[0], node.field)} – "
                f"{_value_text(node.value[1], node.field)}")
    return f"{label} {OPERATORS[node.op]} {_value_text(node.value, node.field)}"


# --- formulas in words -----------------------------------------------------------------------------------

_SIGNS = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷"}
_COMPARE = {ast.Eq: "=", ast.NotEq: "≠", ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">", ast.GtE: "≥"}
_PRECEDENCE = {ast.BoolOp: 1, ast.UnaryOp: 2, ast.Compare: 3, ast.BinOp: 4}


def _number(value) -> str:
    text = f"{value:,.6f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    return text


def _words(node: ast.AST, known: dict[str, str], money: bool, parent: int = 0) -> str:
    """One piece of a formula in words; `money` marks the amounts that are yuan."""
    if isinstance(node, ast.Name):
        return field_label(node.id, known=known)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return str(_("yes")) if node.value else str(_("no"))
        if isinstance(node.value, (int, float)):
            return _number(node.value) + (" " + str(_("yuan")) if money else "")
        return f"“{node.value}”"
    if isinstance(node, (ast.List, ast.Tuple)):
        return "、".join(_words(e, known, money) for e in node.elts)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            text = str(_("not (%(x)s)")) % {"x": _words(node.operand, known, False)}
        elif isinstance(node.operand, ast.Constant):
            text = ("−" if isinstance(node.op, ast.USub) else "") + _words(node.operand, known, money)
        else:
            text = ("−" if isinstance(node.op, ast.USub) else "") + _words(node.operand, known, money, 5)
        return _wrap(text, _PRECEDENCE[ast.UnaryOp], parent)
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        left, right = node.left, node.right
        if op is ast.Mult and isinstance(right, ast.Constant) and isinstance(right.value, float) and 0 < right.value < 1:
            text = f"{_words(left, known, False, 4)} × {_number(right.value * 100)}%"
        elif op is ast.Mult and isinstance(left, ast.Constant) and isinstance(left.value, float) and 0 < left.value < 1:
            text = f"{_words(right, known, False, 4)} × {_number(left.value * 100)}%"
        elif op in _SIGNS:
            text = f"{_words(left, known, False, 4)} {_SIGNS[op]} {_words(right, known, False, 5)}"
        elif op is ast.FloorDiv:
            text = str(_("%(a)s ÷ %(b)s, rounded down")) % {"a": _words(left, known, False, 4),
                                                             "b": _words(right, known, False, 5)}
        else:  # Mod
            text = str(_("the remainder of %(a)s ÷ %(b)s")) % {"a": _words(left, known, False, 4),
                                                                "b": _words(right, known, False, 5)}
        return _wrap(text, _PRECEDENCE[ast.BinOp], parent)
    if isinstance(node, ast.Compare):
        parts = [_words(node.left, known, False, 4)]
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                word = OPERATORS["in"] if isinstance(op, ast.In) else OPERATORS["not_in"]
                parts.append(f"{word} {_words(right, known, False, 4)}")
            else:
                parts.append(f"{_COMPARE[type(op)]} {_words(right, known, False, 4)}")
        return _wrap(" ".join(parts), _PRECEDENCE[ast.Compare], parent)
    if isinstance(node, ast.BoolOp):
        joiner = " %s " % (_("and") if isinstance(node.op, ast.And) else _("or"))
        return _wrap(joiner.join(_words(v, known, False, 2) for v in node.values), _PRECEDENCE[ast.BoolOp], parent)
    if isinstance(node, ast.IfExp):
        return str(_("if %(test)s then %(body)s, otherwise %(orelse)s")) % {
            "test": _words(node.test, known, False), "body": _words(node.body, known, money),
            "orelse": _words(node.orelse, known, money)}
    if isinstance(node, ast.Call):
        return _call_words(node, known, money)
    return ast.unparse(node)  # unreachable: the engine refuses anything else


def _wrap(text: str, own: int, parent: int) -> str:
    return f"（{text}）" if parent > own else text


def _call_words(node: ast.Call, known: dict[str, str], money: bool) -> str:
    name, args = node.func.id, node.args
    if name in ("min", "max"):
        constants = [a for a in args if isinstance(a, ast.Constant)]
        others = [a for a in args if not isinstance(a, ast.Constant)]
        if len(args) == 2 and len(constants) == 1 and others:
            message = _("%(x)s, at most %(limit)s") if name == "min" else _("%(x)s, at least %(limit)s")
            return str(message) % {"x": _words(others[0], known, money, 1),
                                   "limit": _words(constants[0], known, money)}
        message = _("the smaller of %(items)s") if name == "min" else _("the larger of %(items)s")
        return str(message) % {"items": "、".join(_words(a, known, money) for a in args)}
    if name == "round":
        digits = args[1].value if len(args) > 1 and isinstance(args[1], ast.Constant) else 0
        if digits:
            return str(_("%(x)s rounded to %(n)s decimal places")) % {"x": _words(args[0], known, money, 5), "n": digits}
        return str(_("%(x)s rounded")) % {"x": _words(args[0], known, money, 5)}
    if name == "floor":
        return str(_("%(x)s rounded down")) % {"x": _words(args[0], known, money, 5)}
    if name == "ceil":
        return str(_("%(x)s rounded up")) % {"x": _words(args[0], known, money, 5)}
    if name == "abs":
        return str(_("the absolute value of %(x)s")) % {"x": _words(args[0], known, money, 5)}
    if name == "years_since":
        return str(_("years since %(x)s")) % {"x": _words(args[0], known, False, 5)}
    if name == "has_tag":
        return f"{OPERATORS['has_tag']} “{args[0].value}”"
    if name == "bracket":
        steps = "；".join(str(_("from %(threshold)s: %(amount)s")) % {
            "threshold": _number(threshold), "amount": _number(amount) + (" " + str(_("yuan")) if money else "")}
            for threshold, amount in bracket_table(args[1]))
        return str(_("by %(x)s in tiers (%(steps)s)")) % {"x": _words(args[0], known, False), "steps": steps}
    return ast.unparse(node)  # unreachable: the engine knows no other function


def formula_text(expression, known: dict[str, str] | None = None, *, money: bool = False, region=None) -> str:
    """A formula or expression condition in words with the fields' labels, e.g. `min(rd_expense * 0.1,
    1000000)` → "研发费用 × 10%，最高 1,000,000 元" (`money`: its numbers are amounts in yuan)."""
    known = known if known is not None else labels(region)
    return _words(expression.tree, known, money)


def benefit_text(spec: cl.ClauseSpec, region=None, known: dict[str, str] | None = None) -> str:
    """The clause's benefit formula in words ("" when it gives no money)."""
    if spec.benefit is None:
        return ""
    return formula_text(spec.benefit, known, money=True, region=region)


def _walk(node: cond.Node, depth: int = 0):
    """The nodes in the order `Node.explain` lists them."""
    yield node, depth
    if isinstance(node, cond.Group):
        for child in node.children:
            yield from _walk(child, depth + 1)
    elif isinstance(node, cond.Not):
        yield from _walk(node.child, depth + 1)


def outline(spec: cl.ClauseSpec, region=None) -> list[tuple[int, str]]:
    """The clause's conditions in words, one (depth, text) per node — for reading without an enterprise."""
    if spec.conditions is None:
        return []
    known = labels(region)
    return [(depth, node_text(node, known)) for node, depth in _walk(spec.conditions)]


@dataclass
class Row:
    depth: int
    text: str
    actual: str  # the enterprise's value in words ("" for groups)
    result: str  # true | false | unknown
    is_leaf: bool


@dataclass
class Explained:
    rows: list[Row]
    outcome: cl.Outcome
    missing: list[str]  # labels of the fields whose data is missing

    @property
    def reasons(self) -> list[str]:
        """The conditions the enterprise meets (leaves), in words."""
        return [r.text for r in self.rows if r.is_leaf and r.result == "true"]

    @property
    def failed(self) -> list[str]:
        return [r.text for r in self.rows if r.is_leaf and r.result == "false"]


def explain(spec: cl.ClauseSpec, facts: dict, on: datetime.date, region=None) -> Explained:
    """The engine's explanation of one clause for one enterprise, row by row, in words."""
    known = labels(region)
    outcome = cl.evaluate(spec, facts, on)
    rows: list[Row] = []
    if spec.conditions is not None:
        lines = spec.conditions.explain(Context(facts=facts, on=on))
        for (node, depth), line in zip(_walk(spec.conditions), lines):
            leaf = not isinstance(node, (cond.Group, cond.Not))
            if not leaf:
                actual = ""
            elif isinstance(node, cond.ExprLeaf):
                values = {n: facts.get(n, UNKNOWN) for n in sorted(node.expression.names)}
                actual = "; ".join(f"{field_label(k, known=known)} = "
                                   + (str(_("no data")) if v is UNKNOWN or v is None else _value_text(v))
                                   for k, v in values.items())
            elif line.value is UNKNOWN:
                actual = str(_("no data"))
            else:
                actual = _value_text(line.value, node.field) if line.value not in (None, []) else "—"
            rows.append(Row(depth, node_text(node, known), actual, cond.result_word(line.result), leaf))
    return Explained(rows, outcome, [field_label(c, known=known) for c in outcome.missing])
