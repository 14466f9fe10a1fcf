"""Conditions and explanations in words: field labels from the profile catalog, operators in the user's
language. The engine decides; this module only puts its explanation (`Node.explain`) into words."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from qifu.profiles import catalog
from qifu.rules import clauses as cl
from qifu.rules import conditions as cond
from qifu.rules.expr import FUNCTIONS, Context
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

FUNCTION_HELP = {
    "min": _("min(a, b, …): the smallest — use it for caps, e.g. min(rd_expense * 0.1, 1000000)"),
    "max": _("max(a, b, …): the largest — use it for floors"),
    "round": _("round(x, digits): rounded half up"),
    "floor": _("floor(x): rounded down"),
    "ceil": _("ceil(x): rounded up"),
    "abs": _("abs(x): without sign"),
    "years_since": _("years_since(registration_date): years until today"),
    "bracket": _("bracket(x, [[threshold, amount], …]): the amount of the highest threshold reached (tiers)"),
    "has_tag": _('has_tag("专精特新"): whether the enterprise has the tag'),
}
assert set(FUNCTION_HELP) == FUNCTIONS


def fields(region=None) -> list[catalog.Field]:
    return catalog.fields(region)


def labels(region=None) -> dict[str, str]:
    return {f.code: f.label for f in fields(region)}


def field_label(code: str, region=None, known: dict[str, str] | None = None) -> str:
    known = known if known is not None else labels(region)
    if code == "tags":
        return known.get("tags", str(_("tags")))
    return known.get(code, code)


def missing_words(codes, region=None) -> list[str]:
    known = labels(region)
    return [field_label(c, known=known) for c in codes]


def _value_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(_value_text(v) for v in value)
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
        return node.expression.source
    if node.op == "has_tag":
        return f"{OPERATORS['has_tag']} {node.value}"
    label = field_label(node.field, known=known)
    if node.op == "between":
        return f"{label} {OPERATORS['between']} {_value_text(node.value[0])} – {_value_text(node.value[1])}"
    return f"{label} {OPERATORS[node.op]} {_value_text(node.value)}"


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
                actual = _value_text(line.value) if line.value not in (None, []) else "—"
            rows.append(Row(depth, node_text(node, known), actual, cond.result_word(line.result), leaf))
    return Explained(rows, outcome, [field_label(c, known=known) for c in outcome.missing])
