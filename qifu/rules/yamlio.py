"""The YAML form of policies and of OpenFisca-style test cases.

    policies:
      - code: QT-2026-RD
        title: 研发投入补助
        level: district
        department: qt-kjj
        effective_from: 2026-01-01
        effective_to: 2026-12-31
        clauses:
          - code: QT-2026-RD-1
            title: 研发费用补助
            no_application: true
            conditions: {all: [...]}
            benefit: "min(rd_expense * 0.1, 1000000)"

    cases:
      - name: 中型制造企业
        date: 2026-06-01
        enterprise: {rd_expense: 2000000, industry: C2710, employees: 120, tags: [专精特新]}
        expect:
          QT-2026-RD-1: {eligible: true, amount: 200000}
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import clauses as cl
from . import conditions as cond
from .expr import Expression
from .values import RuleError, _translate, as_date, gettext_noop

POLICY_KEYS = {"code", "title", "level", "department", "effective_from", "effective_to", "source", "clauses",
               "issuer", "document_number", "url", "summary", "contact"}
CLAUSE_KEYS = {"code", "title", "conditions", "benefit", "no_application", "effective_from", "effective_to",
               "apply_from", "apply_to", "contact", "description", "review_days", "materials"}


def _text(source) -> str:
    """A Path is a file to read; a string is always YAML text (never guessed to be a file name, so text
    from a user cannot make the server read one of its files); a stream is read."""
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8")
    if hasattr(source, "read"):
        return source.read()
    return source


def _date(value, where: str):
    if value in (None, ""):
        return None
    try:
        return as_date(value)
    except RuleError as e:
        raise RuleError("%(where)s: %(error)s", where=where, error=e) from None


def parse_policies(source) -> list[cl.PolicySpec]:
    try:
        data = yaml.safe_load(_text(source)) or {}
    except yaml.YAMLError as e:
        raise RuleError(gettext_noop("not valid YAML: %(error)s"), error=e) from None
    items = data.get("policies") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RuleError(gettext_noop("the file needs a top-level list `policies:`"))
    policies, codes = [], set()
    for i, item in enumerate(items):
        where = f"policies[{i}]"
        if not isinstance(item, dict):
            raise RuleError(gettext_noop("%(where)s: a policy is a mapping"), where=where)
        unknown = set(item) - POLICY_KEYS
        if unknown:
            raise RuleError(gettext_noop("%(where)s: unknown keys %(keys)s"), where=where, keys=", ".join(sorted(unknown)))
        for key in ("code", "title", "level"):
            if not item.get(key):
                raise RuleError(gettext_noop("%(where)s: %(key)s is required"), where=where, key=key)
        if item["level"] not in cl.LEVELS:
            raise RuleError(gettext_noop("%(where)s: level must be one of %(levels)s"), where=where, levels=", ".join(cl.LEVELS))
        policy = cl.PolicySpec(
            code=str(item["code"]), title=str(item["title"]), level=item["level"],
            department=str(item.get("department") or ""), source=str(item.get("source") or ""),
            effective_from=_date(item.get("effective_from"), where), effective_to=_date(item.get("effective_to"), where),
            extra={k: item[k] for k in ("issuer", "document_number", "url", "summary", "contact") if k in item},
        )
        for j, c in enumerate(item.get("clauses") or []):
            clause = parse_clause(c, f"{where}.clauses[{j}]", policy)
            if clause.code in codes:
                raise RuleError(gettext_noop("%(where)s: clause code %(code)s is used twice"), where=f"{where}.clauses[{j}]",
                                code=clause.code)
            codes.add(clause.code)
            policy.clauses.append(clause)
        policies.append(policy)
    return policies


def parse_clause(c, where: str, policy: cl.PolicySpec | None = None) -> cl.ClauseSpec:
    if not isinstance(c, dict):
        raise RuleError(gettext_noop("%(where)s: a clause is a mapping"), where=where)
    unknown = set(c) - CLAUSE_KEYS
    if unknown:
        raise RuleError(gettext_noop("%(where)s: unknown keys %(keys)s"), where=where, keys=", ".join(sorted(unknown)))
    if not c.get("code") or not c.get("title"):
        raise RuleError(gettext_noop("%(where)s: code and title are required"), where=where)
    try:
        conditions = (cond.parse(c["conditions"], f"{where} · {_translate(gettext_noop('conditions'))}")
                      if c.get("conditions") else None)
        benefit = Expression(str(c["benefit"])) if c.get("benefit") not in (None, "") else None
    except RuleError as e:
        if str(e).startswith(where):
            raise
        raise RuleError("%(where)s: %(error)s", where=where, error=e) from None
    return cl.ClauseSpec(
        code=str(c["code"]), title=str(c["title"]), conditions=conditions, benefit=benefit,
        no_application=bool(c.get("no_application", False)),
        effective_from=_date(c.get("effective_from"), where) or (policy.effective_from if policy else None),
        effective_to=_date(c.get("effective_to"), where) or (policy.effective_to if policy else None),
        apply_from=_date(c.get("apply_from"), where), apply_to=_date(c.get("apply_to"), where),
        contact=str(c.get("contact") or ""), description=str(c.get("description") or ""),
        extra={k: c[k] for k in ("review_days", "materials") if k in c},
    )


def clause_to_data(clause: cl.ClauseSpec, policy: cl.PolicySpec | None = None) -> dict:
    data: dict = {"code": clause.code, "title": clause.title}
    if clause.no_application:
        data["no_application"] = True
    if clause.conditions is not None:
        data["conditions"] = clause.conditions.to_data()
    if clause.benefit is not None:
        data["benefit"] = clause.benefit.source
    for key in ("effective_from", "effective_to"):
        value = getattr(clause, key)
        if value and (policy is None or value != getattr(policy, key)):
            data[key] = value
    for key in ("apply_from", "apply_to"):
        if getattr(clause, key):
            data[key] = getattr(clause, key)
    if clause.contact:
        data["contact"] = clause.contact
    if clause.description:
        data["description"] = clause.description
    data.update(clause.extra)
    return data


def dump_policies(policies: list[cl.PolicySpec]) -> str:
    items = []
    for p in policies:
        item = {"code": p.code, "title": p.title, "level": p.level}
        if p.department:
            item["department"] = p.department
        for key in ("effective_from", "effective_to"):
            if getattr(p, key):
                item[key] = getattr(p, key)
        if p.source:
            item["source"] = p.source
        item.update(p.extra)
        item["clauses"] = [clause_to_data(c, p) for c in p.clauses]
        items.append(item)
    return yaml.safe_dump({"policies": items}, allow_unicode=True, sort_keys=False, width=100)


# --- test cases ------------------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    on: datetime.date
    enterprise: dict
    expect: dict


def parse_cases(source) -> list[Case]:
    data = yaml.safe_load(_text(source)) or {}
    items = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise RuleError(gettext_noop("the cases file needs a list `cases:`"))
    cases = []
    for i, item in enumerate(items):
        where = f"cases[{i}]"
        if not isinstance(item, dict) or "expect" not in item or "enterprise" not in item:
            raise RuleError(gettext_noop("%(where)s: a case has name, date, enterprise and expect"), where=where)
        facts = dict(item["enterprise"] or {})
        facts.setdefault("tags", [])
        cases.append(Case(name=str(item.get("name") or where), on=_date(item.get("date"), where) or datetime.date.today(),
                          enterprise=facts, expect=item["expect"] or {}))
    return cases


def _eligible_word(value) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return str(value).strip().lower()


def check(policies: list[cl.PolicySpec], cases: list[Case]) -> tuple[list[str], int]:
    """Run the cases; one line per case (PASS/FAIL with the differences) and the number failed."""
    clauses = {c.code: c for p in policies for c in p.clauses}
    lines, failed = [], 0
    for case in cases:
        problems = []
        for code, expected in case.expect.items():
            clause = clauses.get(str(code))
            if clause is None:
                problems.append(f"{code}: no such clause")
                continue
            outcome = cl.evaluate(clause, case.enterprise, case.on)
            if outcome.error:
                problems.append(f"{code}: rule error: {outcome.error}")
                continue
            got = cond.result_word(outcome.eligible)
            if isinstance(expected, dict):
                want_eligible = expected.get("eligible")
                want_amount = expected.get("amount")
            else:
                want_eligible, want_amount = expected, None
            if want_eligible is not None and _eligible_word(want_eligible) != got:
                problems.append(f"{code}: eligible expected {_eligible_word(want_eligible)}, got {got}"
                                + (f" (missing: {', '.join(outcome.missing)})" if outcome.missing else ""))
            if want_amount is not None:
                if outcome.amount is None or abs(float(want_amount) - outcome.amount) > 0.005:
                    shown = "unknown" if outcome.amount is None else f"{outcome.amount:g}"
                    problems.append(f"{code}: amount expected {float(want_amount):g}, got {shown}")
        if problems:
            failed += 1
            lines.append(f"FAIL {case.name}: " + "; ".join(problems))
        else:
            lines.append(f"PASS {case.name}")
    return lines, failed


