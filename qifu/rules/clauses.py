"""Policies and their clauses as plain data, and the evaluation of one enterprise."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from . import conditions as cond
from .expr import Context, Expression
from .values import UNKNOWN, RuleError, as_date, as_number

LEVELS = ("national", "provincial", "city", "district")


@dataclass
class ClauseSpec:
    code: str
    title: str
    conditions: cond.Node | None
    benefit: Expression | None
    no_application: bool = False
    effective_from: datetime.date | None = None
    effective_to: datetime.date | None = None
    apply_from: datetime.date | None = None
    apply_to: datetime.date | None = None
    contact: str = ""
    description: str = ""
    extra: dict = field(default_factory=dict)

    def in_force(self, on: datetime.date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to)

    def fields(self) -> set[str]:
        names = self.conditions.fields() if self.conditions else set()
        return names | (self.benefit.names if self.benefit else set())


def field_order(clause: ClauseSpec) -> list[str]:
    """The clause's fields in the order of the bits of a missing-fields mask (the names, sorted)."""
    return sorted(clause.fields())


def encode_missing(names, order: list[str]) -> int:
    """The missing field names as a bit mask over `order` (bit i: order[i] is missing)."""
    position = {n: i for i, n in enumerate(order)}
    return sum(1 << position[n] for n in set(names))


def decode_missing(mask: int, order: list[str]) -> list[str]:
    """The names of a missing-fields mask, sorted like `clauses.evaluate` lists them."""
    return sorted(n for i, n in enumerate(order) if mask >> i & 1) if mask else []


@dataclass
class PolicySpec:
    code: str
    title: str
    level: str
    department: str = ""
    effective_from: datetime.date | None = None
    effective_to: datetime.date | None = None
    source: str = ""
    clauses: list[ClauseSpec] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass
class Outcome:
    clause: str
    eligible: object  # True / False / UNKNOWN
    amount: float | None
    missing: list[str]
    in_force: bool = True
    error: str = ""

    @property
    def status(self) -> str:
        return cond.result_word(self.eligible).replace("true", "eligible").replace("false", "ineligible")

    def as_dict(self) -> dict:
        return {"clause": self.clause, "status": self.status, "eligible": cond.result_word(self.eligible),
                "amount": self.amount, "missing": self.missing, "in_force": self.in_force, "error": self.error}


def amount_of(clause: ClauseSpec, facts: dict, on: datetime.date) -> tuple[float | None, set[str]]:
    """The benefit in yuan (2 decimals, never negative), or None while a needed field is unknown."""
    if clause.benefit is None:
        return 0.0, set()
    ctx = Context(facts=facts, on=on)
    value = clause.benefit.evaluate(ctx)
    if value is UNKNOWN:
        return None, ctx.missing
    return max(0.0, round(float(as_number(value)), 2)), ctx.missing


def evaluate(clause: ClauseSpec, facts: dict, on: datetime.date) -> Outcome:
    on = as_date(on)
    if not clause.in_force(on):
        return Outcome(clause.code, False, 0.0, [], in_force=False)
    try:
        eligible, missing = cond.evaluate(clause.conditions, facts, on)
        if eligible is False:
            return Outcome(clause.code, False, 0.0, [])
        amount, amount_missing = amount_of(clause, facts, on)
    except RuleError as e:
        return Outcome(clause.code, UNKNOWN, None, [], error=str(e))
    # What is missing: for the eligibility while it is unknown, and for the amount while it is.
    return Outcome(clause.code, eligible, amount, sorted(missing | (amount_missing if amount is None else set())))


def explain(clause: ClauseSpec, facts: dict, on: datetime.date) -> list[str]:
    """Each condition with the enterprise's value and result, then the benefit and the outcome.
    The tree is walked once: the outcome is read from the explanation's top line."""
    on = as_date(on)
    lines = [f"{clause.code} {clause.title}"]
    if not clause.in_force(on):
        lines.append(f"  not in force on {on} ({clause.effective_from} – {clause.effective_to or '…'}) → false")
        return lines
    try:
        if clause.conditions is None:
            lines.append("  no conditions → true")
            eligible, missing = True, set()
        else:
            ctx = Context(facts=facts, on=on)
            explanation = clause.conditions.explain(ctx)
            lines.extend("  " + e.line() for e in explanation)
            eligible = explanation[0].result
            missing = set(clause.conditions.assess(Context(facts=facts, on=on))[1]) if eligible is UNKNOWN else set()
        if eligible is False:
            lines.append("  result: ineligible")
            return lines
        amount, amount_missing = amount_of(clause, facts, on)
    except RuleError as e:
        lines.append(f"  rule error: {e} → unknown")
        return lines
    if clause.benefit is not None:
        lines.append(f"  benefit {clause.benefit.source} = {amount if amount is not None else '(unknown)'}")
    if amount is None:
        missing |= amount_missing
    status = "eligible" if eligible is True else "unknown"
    lines.append(f"  result: {status}" + (f"; missing: {', '.join(sorted(missing))}" if missing else ""))
    return lines
