"""Condition trees: `all` / `any` / `not` groups over leaves, with Kleene (three-valued) logic.

    all:
      - {field: rd_expense, op: ">=", value: 1000000}
      - {field: industry, op: prefix, value: "C"}
      - any: [{has_tag: 专精特新}, {field: employees, op: "<", value: 300}]
      - {expr: "years_since(registration_date) >= 3"}

A leaf on a field the enterprise has no value for is unknown, not false; `all` is false if any child
is false, else unknown if any is unknown; `any` is true if any child is true, else unknown if any is.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass

from .expr import Context, Expression, compare, kleene_and, kleene_not, kleene_or, truth
from .values import UNKNOWN, RuleError, _translate, comparable, gettext_noop

OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "prefix", "has_tag")
_AST_OPS = {"==": ast.Eq(), "!=": ast.NotEq(), "<": ast.Lt(), "<=": ast.LtE(), ">": ast.Gt(), ">=": ast.GtE()}
_OPERATORS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
              ">=": operator.ge}
_NUMBERS = (int, float)
_NONE: frozenset[str] = frozenset()


def result_word(value) -> str:
    return "unknown" if value is UNKNOWN else ("true" if value else "false")


@dataclass
class Explanation:
    depth: int
    text: str
    value: object
    result: object

    def line(self) -> str:
        shown = "(no data)" if self.value is UNKNOWN else ("" if self.value is None else repr(self.value))
        return f"{'  ' * self.depth}{self.text}{' = ' + shown if shown else ''} → {result_word(self.result)}"


class Node:
    def evaluate(self, ctx: Context):
        return self.assess(ctx)[0]

    def assess(self, ctx: Context) -> tuple[object, frozenset[str]]:
        """(result, the missing fields that leave it unknown — none when the result is known)."""
        raise NotImplementedError

    def explain(self, ctx: Context, depth: int = 0) -> list[Explanation]:
        raise NotImplementedError

    def fields(self) -> set[str]:
        raise NotImplementedError

    def to_data(self):
        raise NotImplementedError


class Group(Node):
    def __init__(self, kind: str, children: list[Node]):
        self.kind, self.children = kind, children

    def assess(self, ctx):
        parts = [c.assess(ctx) for c in self.children]
        decisive = self.kind != "all"  # all: false if any child is; any: true if any child is
        unknown = False
        for result, _missing in parts:
            if result is decisive:
                return decisive, _NONE
            if result is UNKNOWN:
                unknown = True
        if not unknown:
            return not decisive, _NONE
        return UNKNOWN, frozenset().union(*(m for r, m in parts if r is UNKNOWN))

    def explain(self, ctx, depth=0):
        lines: list[Explanation] = []
        values = []
        for child in self.children:
            child_lines = child.explain(ctx, depth + 1)
            values.append(child_lines[0].result)
            lines.extend(child_lines)
        result = kleene_and(values) if self.kind == "all" else kleene_or(values)
        label = "all of" if self.kind == "all" else "any of"
        return [Explanation(depth, label, None, result), *lines]

    def fields(self):
        return set().union(*(c.fields() for c in self.children)) if self.children else set()

    def to_data(self):
        return {self.kind: [c.to_data() for c in self.children]}


class Not(Node):
    def __init__(self, child: Node):
        self.child = child

    def assess(self, ctx):
        result, missing = self.child.assess(ctx)
        return kleene_not(result), missing

    def explain(self, ctx, depth=0):
        inner = self.child.explain(ctx, depth + 1)
        return [Explanation(depth, "not", None, kleene_not(inner[0].result)), *inner]

    def fields(self):
        return self.child.fields()

    def to_data(self):
        return {"not": self.child.to_data()}


class Leaf(Node):
    def __init__(self, field: str, op: str, value):
        if not isinstance(field, str) or not field.strip():
            raise RuleError(gettext_noop("a condition needs a field"))
        if op not in OPS:
            raise RuleError(gettext_noop("unknown operator %(op)r; allowed: %(ops)s"), op=op, ops=" ".join(OPS))
        if op in ("in", "not_in") and not isinstance(value, (list, tuple)):
            raise RuleError(gettext_noop("%(op)s needs a list of values"), op=op)
        if op == "between":
            if not (isinstance(value, (list, tuple)) and len(value) == 2):
                raise RuleError(gettext_noop("between needs [low, high]"))
        if op == "prefix" and not isinstance(value, (str, list, tuple)):
            raise RuleError(gettext_noop("prefix needs a text (or a list of texts)"))
        if op == "has_tag" and not isinstance(value, str):
            raise RuleError(gettext_noop("has_tag needs a tag name"))
        self.field, self.op, self.value = field.strip(), op, value
        self._fast = self._shortcut()
        self._missing = frozenset({self.field})

    def _shortcut(self):
        """What `_value` may do at once for the common types (numbers with numbers, texts with texts),
        giving what the general path (`compare`, `comparable`) gives for them; None: no shortcut."""
        op, value = self.op, self.value
        if op in _OPERATORS:
            if type(value) in _NUMBERS:
                return ("compare", _OPERATORS[op], _NUMBERS)
            if type(value) is str:
                return ("compare", _OPERATORS[op], (str,))
        elif op in ("in", "not_in"):
            if all(type(item) is str for item in value):  # a text is in a list of texts when equal to one
                return ("in", frozenset(value), op == "in")
        elif op == "between":
            if all(type(bound) in _NUMBERS for bound in value):
                return ("between", value[0], value[1])
        elif op == "prefix":
            return ("prefix", tuple(str(p) for p in ([value] if isinstance(value, str) else value)))
        return None

    def assess(self, ctx):
        fast = self._fast
        if fast is not None:  # `_value`'s shortcuts, inline (the engine's innermost step)
            actual = ctx.facts.get(self.field)
            if actual is None or actual is UNKNOWN:
                ctx.missing.add(self.field)
                return UNKNOWN, self._missing
            kind = fast[0]
            if kind == "compare":
                if type(actual) in fast[2]:
                    return fast[1](actual, self.value), _NONE
            elif kind == "in":
                if type(actual) is str:
                    return (actual in fast[1]) == fast[2], _NONE
            elif kind == "between":
                if type(actual) in _NUMBERS:
                    return (fast[1] <= actual and actual <= fast[2]), _NONE
            else:
                return str(actual).startswith(fast[1]), _NONE
        result = self._value(ctx)
        return result, (self._missing if result is UNKNOWN else _NONE)

    def _value(self, ctx):
        if self.op == "has_tag":
            return self.value in (ctx.facts.get(self.field if self.field != "has_tag" else "tags") or [])
        actual = ctx.get(self.field)
        if actual is UNKNOWN:
            return UNKNOWN
        fast = self._fast
        if fast is not None:
            kind = fast[0]
            if kind == "compare":
                if type(actual) in fast[2]:
                    return fast[1](actual, self.value)
            elif kind == "in":
                if type(actual) is str:
                    return (actual in fast[1]) == fast[2]
            elif kind == "between":
                if type(actual) in _NUMBERS:
                    return fast[1] <= actual and actual <= fast[2]
            else:
                return str(actual).startswith(fast[1])
        op, value = self.op, self.value
        if op in _AST_OPS:
            return compare(_AST_OPS[op], actual, value)
        if op == "in":
            return compare(ast.In(), actual, list(value))
        if op == "not_in":
            return compare(ast.NotIn(), actual, list(value))
        if op == "between":
            low, x = comparable(value[0], actual)
            high, y = comparable(value[1], actual)
            return low <= x and y <= high
        prefixes = [value] if isinstance(value, str) else list(value)
        return any(str(actual).startswith(str(p)) for p in prefixes)

    def explain(self, ctx, depth=0):
        if self.op == "has_tag":
            tags = ctx.facts.get("tags") or []
            return [Explanation(depth, f"has tag {self.value}", sorted(tags), self.evaluate(ctx))]
        value = ctx.get(self.field)
        label = self.__dict__.get("_label")
        if label is None:  # the leaf's text, made once
            shown = self.value if not isinstance(self.value, tuple) else list(self.value)
            label = self._label = f"{self.field} {self.op} {shown!r}"
        return [Explanation(depth, label, value, self.evaluate(ctx))]

    def fields(self):
        return {"tags"} if self.op == "has_tag" else {self.field}

    def to_data(self):
        if self.op == "has_tag" and self.field == "tags":
            return {"has_tag": self.value}
        return {"field": self.field, "op": self.op, "value": self.value}


class ExprLeaf(Node):
    def __init__(self, source: str):
        self.expression = Expression(source)

    def assess(self, ctx):
        inner = Context(facts=ctx.facts, on=ctx.on)
        result = truth(self.expression.evaluate(inner))
        ctx.missing |= inner.missing
        return result, (frozenset(inner.missing) if result is UNKNOWN else frozenset())

    def explain(self, ctx, depth=0):
        result = self.evaluate(ctx)
        values = {n: ctx.get(n) for n in sorted(self.expression.names)}
        return [Explanation(depth, f"{self.expression.source}  [{', '.join(f'{k}={v!r}' for k, v in values.items())}]",
                            None, result)]

    def fields(self):
        return set(self.expression.names)

    def to_data(self):
        return {"expr": self.expression.source}


def parse(data, path: str = "") -> Node:
    """Build a condition tree from its data form, naming the place of any mistake."""
    path = path or _translate(gettext_noop("conditions"))
    if not isinstance(data, dict):
        raise RuleError(gettext_noop("%(path)s: a condition is a mapping, got %(data)r"), path=path, data=data)
    keys = set(data)
    if keys in ({"all"}, {"any"}):
        kind = keys.pop()
        children = data[kind]
        if not isinstance(children, list) or not children:
            raise RuleError(gettext_noop("%(path)s: %(kind)s needs a non-empty list"), path=path, kind=kind)
        return Group(kind, [parse(c, f"{path}.{kind}[{i}]") for i, c in enumerate(children)])
    if keys == {"not"}:
        return Not(parse(data["not"], f"{path}.not"))
    try:
        if keys == {"has_tag"}:
            return Leaf("tags", "has_tag", data["has_tag"])
        if keys == {"expr"}:
            return ExprLeaf(data["expr"])
        if keys == {"field", "op", "value"} or (keys == {"field", "op"} and data.get("op") == "has_tag"):
            return Leaf(data["field"], str(data["op"]), data.get("value"))
    except RuleError as e:
        raise RuleError("%(path)s: %(error)s", path=path, error=e) from None
    raise RuleError(gettext_noop("%(path)s: expected all/any/not, has_tag, expr, or field/op/value; got keys %(keys)s"),
                    path=path, keys=", ".join(sorted(map(str, keys))))


def evaluate(node: Node | None, facts: dict, on) -> tuple[object, set[str]]:
    """(true/false/UNKNOWN, the missing fields that leave the result unknown)."""
    if node is None:
        return True, set()
    result, missing = node.assess(Context(facts=facts, on=on))
    return result, set(missing)
