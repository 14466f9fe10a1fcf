"""Writing indicator values, who may write them, dynamic tags from rules, and the profile of one enterprise."""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.audit import trail
from qifu.audit.models import AuditEntry
from qifu.enterprises.models import Enterprise, Tag
from qifu.rules import conditions
from qifu.rules.expr import Context, Expression
from qifu.rules.values import UNKNOWN, RuleError, as_number

from . import facts as facts_module
from .facts import facts_changed
from .models import Dimension, Indicator, IndicatorValue, TagRule, stored_value, typed_value
from .values import display

log = logging.getLogger(__name__)
BATCH = 500
MAX_PASSES = 5  # rules may use other dynamic tags (has_tag); re-evaluate until nothing changes


# --- who may write ---------------------------------------------------------------------------------

def may_write_values(user) -> bool:
    """Administrators, and handlers of a department (who write their own department's data)."""
    if scopes.is_admin(user):
        return True
    return bool(user is not None and user.is_authenticated and user.is_active and user.has_role(Role.HANDLER)
                and user.department_id)


def own_source(user) -> str | None:
    """The source a non-administrator must write under (their department's code); None = any."""
    if scopes.is_admin(user):
        return None
    return user.department.code if user.department_id else ""


def indicator_problem(user, indicator: Indicator) -> str | None:
    """Why `user` may not write `indicator` at all: another department's data (None if they may)."""
    required = own_source(user)
    if required is None or not indicator.source or indicator.source == required:
        return None
    return _("%(indicator)s is %(source)s's data; your department is %(own)s.") % {
        "indicator": indicator.code, "source": indicator.source, "own": required or "-"}


def source_problem(user, indicator: Indicator, source: str) -> str | None:
    """Why `user` may not write `indicator` under `source` (None if they may)."""
    required = own_source(user)
    if required is None:
        return None
    problem = indicator_problem(user, indicator)
    if problem:
        return problem
    if source != required:
        return _("You can only send your own department's data (source %(own)s).") % {"own": required}
    return None


def may_manage_tags(user) -> bool:
    return scopes.is_admin(user) or bool(
        user is not None and user.is_authenticated and user.is_active and user.has_role(Role.HANDLER))


# --- writing values --------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewValue:
    enterprise_id: int
    indicator: Indicator
    value: Any  # cleaned: Decimal / str / date / bool
    as_of: datetime.date
    source: str = ""


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    enterprise_ids: set[int] = field(default_factory=set)  # enterprises whose values changed
    tags: TagChanges | None = None


def _chunks(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def write_values(items: Iterable[NewValue], *, user=None, note: str = "", apply_rules: bool = True) -> WriteResult:
    """Store values in one transaction: a new (enterprise, indicator, as_of) is added to the history, an
    existing one is replaced when it differs. Then re-applies the tag rules to the enterprises that changed."""
    latest: dict[tuple[int, int, datetime.date], NewValue] = {}
    for item in items:
        latest[(item.enterprise_id, item.indicator.pk, item.as_of)] = item
    result = WriteResult()
    if not latest:
        return result
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    now = timezone.now()
    with transaction.atomic():
        existing: dict[tuple[int, int, datetime.date], IndicatorValue] = {}
        enterprise_ids = sorted({k[0] for k in latest})
        indicator_ids = {k[1] for k in latest}
        dates = {k[2] for k in latest}
        for chunk in _chunks(enterprise_ids):
            for row in IndicatorValue.objects.filter(enterprise_id__in=chunk, indicator_id__in=indicator_ids,
                                                     as_of__in=dates).select_related("indicator"):
                existing[(row.enterprise_id, row.indicator_id, row.as_of)] = row
        new_rows, changed, entries = [], [], []
        for key, item in latest.items():
            number, text, day = stored_value(item.indicator.datatype, item.value)
            row = existing.get(key)
            if row is None:
                new_rows.append(IndicatorValue(
                    enterprise_id=item.enterprise_id, indicator=item.indicator, value_number=number, value_text=text,
                    value_date=day, as_of=item.as_of, source=item.source, imported_at=now, imported_by=actor))
                continue
            if (row.value_number, row.value_text, row.value_date, row.source) == (number, text, day, item.source):
                result.unchanged += 1
                continue
            before = trail.snapshot(row)
            row.value_number, row.value_text, row.value_date, row.source = number, text, day, item.source
            row.imported_at, row.imported_by = now, actor
            changed.append(row)
            entries.append(trail.build(AuditEntry.Action.UPDATE, row, before, trail.snapshot(row), note=note,
                                       actor=actor))
        IndicatorValue.objects.bulk_create(new_rows, batch_size=BATCH)
        entries += [trail.build(AuditEntry.Action.CREATE, row, None, trail.snapshot(row), note=note, actor=actor)
                    for row in new_rows]
        IndicatorValue.objects.bulk_update(
            changed, ["value_number", "value_text", "value_date", "source", "imported_at", "imported_by"],
            batch_size=BATCH)
        AuditEntry.objects.bulk_create(entries, batch_size=BATCH)
        result.created, result.updated = len(new_rows), len(changed)
        result.enterprise_ids = {r.enterprise_id for r in new_rows} | {r.enterprise_id for r in changed}
        if apply_rules and result.enterprise_ids:
            result.tags = apply_tag_rules(Enterprise.objects.filter(pk__in=sorted(result.enterprise_ids)),
                                          announce=False)
        if result.enterprise_ids:
            facts_changed.send(sender=IndicatorValue, enterprise_ids=sorted(result.enterprise_ids))
    return result


# --- dynamic tags ----------------------------------------------------------------------------------

@dataclass
class TagChanges:
    added: int = 0
    removed: int = 0
    enterprises: int = 0  # enterprises evaluated


def _evaluate(node, facts: dict, on: datetime.date, rule: TagRule) -> bool:
    try:
        result, _missing = conditions.evaluate(node, facts, on)
    except RuleError as exc:
        log.warning("tag rule %s (%s) cannot be evaluated for %s: %s", rule.pk, rule.tag, facts.get("uscc"), exc)
        return False
    return result is True  # unknown (data missing) does not give the tag


def apply_tag_rules(enterprises: QuerySet | Iterable[int] | None = None,
                    on: datetime.date | None = None, announce: bool = True) -> TagChanges:
    """Evaluate every active rule for `enterprises` (a queryset or pks; None = all) and add or remove
    the dynamic tags the rules give. Manual tags, and dynamic tags without an active rule in the
    enterprise's region, are never touched."""
    on = on or timezone.localdate()
    rules: dict[str, dict[int, tuple[TagRule, Any]]] = {}
    for rule in TagRule.objects.filter(active=True, tag__kind=Tag.Kind.DYNAMIC).select_related("tag", "region"):
        try:
            node = rule.node()
        except RuleError as exc:
            log.warning("tag rule %s (%s) is invalid: %s", rule.pk, rule.tag, exc)
            node = None  # an invalid rule gives its tag to nobody
        rules.setdefault(rule.region.code, {})[rule.tag_id] = (rule, node)
    changes = TagChanges()
    if not rules:
        return changes
    if enterprises is None:
        qs = Enterprise.objects.all()
    elif isinstance(enterprises, QuerySet):
        qs = enterprises
    else:
        qs = Enterprise.objects.filter(pk__in=[getattr(e, "pk", e) for e in enterprises])
    qs = qs.filter(region__code__in=list(rules))
    with transaction.atomic():
        all_facts = facts_module.bulk_facts(qs)
        current: dict[int, set[int]] = {pk: set() for pk in all_facts}
        through = Enterprise.tags.through
        for chunk in _chunks(list(all_facts)):
            for enterprise_id, tag_id in through.objects.filter(enterprise_id__in=chunk).values_list(
                    "enterprise_id", "tag_id"):
                current[enterprise_id].add(tag_id)
        additions, removals, entries, changed_ids = [], {}, [], []
        for pk, facts in all_facts.items():
            region_rules = rules[facts["region"]]
            names = {tag_id: rule.tag.name for tag_id, (rule, _node) in region_rules.items()}
            base = [t for t in facts["tags"] if t not in set(names.values())]
            want: set[int] = set()
            for _pass in range(MAX_PASSES):
                view = dict(facts, tags=sorted(base + [names[t] for t in want]))
                new = {tag_id for tag_id, (rule, node) in region_rules.items()
                       if node is not None and _evaluate(node, view, on, rule)}
                if new == want:
                    break
                want = new
            have = current[pk] & set(region_rules)
            add, remove = want - have, have - want
            changes.enterprises += 1
            if not add and not remove:
                continue
            additions += [through(enterprise_id=pk, tag_id=t) for t in sorted(add)]
            for t in remove:
                removals.setdefault(t, []).append(pk)
            changes.added += len(add)
            changes.removed += len(remove)
            changed_ids.append(pk)
            after = (current[pk] | add) - remove
            entries.append(trail.build(
                AuditEntry.Action.UPDATE, Enterprise(pk=pk, name=facts["name"]),
                {"tags": sorted(str(t) for t in current[pk])}, {"tags": sorted(str(t) for t in after)},
                note="tag rules"))
        through.objects.bulk_create(additions, batch_size=BATCH, ignore_conflicts=True)
        for tag_id, pks in removals.items():
            for chunk in _chunks(pks):
                through.objects.filter(tag_id=tag_id, enterprise_id__in=chunk).delete()
        AuditEntry.objects.bulk_create(entries, batch_size=BATCH)
        if announce and changed_ids:
            facts_changed.send(sender=TagRule, enterprise_ids=changed_ids)
    return changes


# --- scores and the profile ------------------------------------------------------------------------

@functools.lru_cache(maxsize=512)
def _expression(source: str):
    return Expression(source)


def indicator_score(indicator: Indicator, facts: dict, on: datetime.date | None = None) -> float | None:
    """0–100 from the indicator's score expression (100 − it when lower values are better), or None
    when the value is unknown, the indicator has no expression, or the expression cannot be evaluated."""
    value = facts.get(indicator.code)
    if value is None or not indicator.score:
        return None
    ctx = Context(facts={**facts, "value": value}, on=on or timezone.localdate())
    try:
        result = _expression(indicator.score).evaluate(ctx)
        if result is UNKNOWN:
            return None
        number = float(100 if result is True else 0 if result is False else as_number(result))
    except RuleError as exc:
        log.warning("score of indicator %s cannot be evaluated: %s", indicator.code, exc)
        return None
    number = min(100.0, max(0.0, number))
    if not indicator.higher_is_better:
        number = 100.0 - number
    return round(number, 1)


def _weighted_mean(pairs: list[tuple[float, float]]) -> float | None:
    total = sum(w for _s, w in pairs)
    if not pairs or total <= 0:
        return None
    return round(sum(s * w for s, w in pairs) / total, 1)


def dimension_scores(dimensions: list[Dimension], indicators: list[Indicator], facts: dict,
                     on: datetime.date | None = None) -> dict[int, float | None]:
    """{dimension pk: weighted mean of its known indicator scores, or None if none is known}."""
    pairs: dict[int, list[tuple[float, float]]] = {d.pk: [] for d in dimensions}
    for indicator in indicators:
        if indicator.dimension_id not in pairs:
            continue
        score = indicator_score(indicator, facts, on)
        if score is not None:
            pairs[indicator.dimension_id].append((score, indicator.weight))
    return {pk: _weighted_mean(p) for pk, p in pairs.items()}


def enterprise_profile(enterprise: Enterprise, on: datetime.date | None = None) -> dict:
    """Indicators with value, source and as-of date, dimension scores, the overall score and tags."""
    indicators = list(Indicator.objects.filter(region_id=enterprise.region_id).select_related("dimension"))
    dimensions = list(Dimension.objects.filter(region_id=enterprise.region_id))
    latest = {}
    for _eid, code, datatype, number, text, day, as_of, source in facts_module.latest_values([enterprise.pk], on):
        value = typed_value(datatype, number, text, day)
        if value is not None:
            latest[code] = (value, as_of, source)
    tags = list(enterprise.tags.all())
    facts = facts_module.base_facts(enterprise) | {code: v[0] for code, v in latest.items()}
    scores = dimension_scores(dimensions, indicators, facts, on)
    rows = []
    for indicator in indicators:
        value, as_of, source = latest.get(indicator.code, (None, None, ""))
        rows.append({
            "code": indicator.code, "name": indicator.name, "unit": indicator.unit, "datatype": indicator.datatype,
            "dimension": indicator.dimension.code if indicator.dimension else None,
            "dimension_name": indicator.dimension.name if indicator.dimension else "",
            "value": value, "display": display(indicator.datatype, value), "as_of": as_of,
            "source": source or "", "score": indicator_score(indicator, facts, on),
        })
    dims = [{"code": d.code, "name": d.name, "weight": d.weight, "score": scores[d.pk]} for d in dimensions]
    overall = _weighted_mean([(d["score"], d["weight"]) for d in dims if d["score"] is not None])
    return {
        "enterprise": enterprise, "on": on, "indicators": rows, "dimensions": dims, "overall": overall,
        "known": sum(1 for r in rows if r["value"] is not None),
        "tags": [{"name": t.name, "kind": t.kind} for t in tags],
    }
