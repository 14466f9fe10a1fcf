"""The monthly ranking (每月晾晒) of units, by the region's scheme (config `ranking`, docs/appeals.md "Monthly
ranking"): each unit's inputs (computed by `providers`, or entered by the task force), each indicator's value and
score, the total, the rank within the unit's group (equal totals share a rank) and last month's rank beside it.

    table = ranking.compute(region, "2026-11")           # current at request time
    table = ranking.table(region, "2026-11")             # the published table if the month is published
    table["groups"][0]["rows"][0] == {"rank": 1, "last_rank": 2, "change": 1, "key": "qt-spj", "total": 87.5, …}
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.appeals import stats
from qifu.lib.inputs import InputError
from qifu.rules.expr import Context, Expression
from qifu.rules.values import UNKNOWN, RuleError

from . import providers
from .models import RankingInput, RankingPublication

GROUP_NAMES = {"value", "best", "worst"}  # names a score formula may read besides the inputs
ROW_KEYS = {"rank", "last_rank", "change", "key", "name", "total", "values", "inputs", "unit_id"}
DIRECTIONS = ("higher", "lower")
VALUE_MAX = Decimal("9999999999.99")  # RankingInput.value: DECIMAL(12, 2)


class SchemeError(ValueError):
    """The region's ranking configuration cannot be used as written (the message says where)."""


@dataclass
class Indicator:
    code: str
    name: str
    value: Expression
    score: Expression
    min: float
    max: float
    direction: str = "higher"
    if_missing: float = 0.0
    groups: set | None = None

    def describe(self) -> dict:
        return {"code": self.code, "name": self.name, "value": self.value.source, "score": self.score.source,
                "min": self.min, "max": self.max, "direction": self.direction, "if_missing": self.if_missing}


@dataclass
class Group:
    code: str
    name: str
    kinds: list


@dataclass
class Scheme:
    groups: list[Group]
    manual: dict  # {code: {"name", "default"}}
    indicators: list[Indicator]
    inputs: list[str] = field(default_factory=list)  # every input an indicator reads, in order of first use

    def indicators_of(self, group: Group) -> list[Indicator]:
        return [i for i in self.indicators if i.groups is None or group.code in i.groups]

    def input_name(self, code: str) -> str:
        if code in self.manual:
            return self.manual[code]["name"]
        return str(providers.LABELS.get(code, code))


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemeError(f"ranking: {where} must be a number, got {value!r}")
    return float(value)


def scheme(region) -> Scheme:
    """The region's ranking scheme, checked: unknown inputs, bad formulas and bad bounds are a SchemeError."""
    config = region.rule("ranking")
    try:
        groups = [Group(g["code"], g["name"], list(g["kinds"])) for g in config["groups"]]
        manual = {m["code"]: {"name": m["name"], "default": m.get("default", 0)} for m in config["manual_inputs"]}
        raw = config["indicators"]
    except (KeyError, TypeError) as error:
        raise SchemeError(f"ranking: groups, manual_inputs and indicators are lists of mappings ({error})") from None
    group_codes = {g.code for g in groups}
    indicators, inputs, seen = [], [], set()
    for index, item in enumerate(raw):
        where = f"indicators[{index}]"
        try:
            code = item["code"]
            if code in seen or code in ROW_KEYS:
                raise SchemeError(f"ranking: {where}: the code {code!r} is used twice or reserved")
            seen.add(code)
            indicator = Indicator(
                code=code, name=item["name"], value=Expression(item["value"]), score=Expression(item["score"]),
                min=_number(item.get("min", 0), f"{where}.min"), max=_number(item["max"], f"{where}.max"),
                direction=item.get("direction", "higher"),
                if_missing=_number(item.get("if_missing", 0), f"{where}.if_missing"),
                groups=set(item["groups"]) if item.get("groups") is not None else None)
        except KeyError as error:
            raise SchemeError(f"ranking: {where} needs {error}") from None
        except RuleError as error:
            raise SchemeError(f"ranking: {where} ({item.get('code')}): {error.message % error.params}") from None
        if indicator.direction not in DIRECTIONS:
            raise SchemeError(f"ranking: {where}: direction must be higher or lower")
        if indicator.min > indicator.max:
            raise SchemeError(f"ranking: {where}: min is above max")
        if indicator.groups is not None and indicator.groups - group_codes:
            raise SchemeError(f"ranking: {where}: unknown groups {sorted(indicator.groups - group_codes)}")
        if "value" in indicator.value.names or {"best", "worst"} & indicator.value.names:
            raise SchemeError(f"ranking: {where}: value cannot read value, best or worst")
        for name in sorted(indicator.value.names) + sorted(indicator.score.names - GROUP_NAMES):
            if name not in manual and not providers.provided(name):
                raise SchemeError(f"ranking: {where} ({code}) reads {name!r}: neither a manual input nor a "
                                  f"system input")
            if name not in inputs:
                inputs.append(name)
        indicators.append(indicator)
    return Scheme(groups, manual, indicators, inputs)


# --- months ---------------------------------------------------------------------------------------------------

def zone(region) -> str:
    return region.rule("time_zone")


def month_period(region, label: str) -> stats.Period:
    """"2026-11" → the month (400 with a Chinese message when badly written)."""
    return stats.month_period(label, zone(region))


def this_month(region) -> str:
    return f"{timezone.localtime(timezone.now(), ZoneInfo(zone(region))).date():%Y-%m}"


def previous_month(label: str) -> str:
    year, month = (int(p) for p in label.split("-"))
    index = year * 12 + month - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def units(region, group: Group):
    from qifu.org.models import Department

    return list(Department.objects.filter(region=region, kind__in=group.kinds).order_by("code"))


# --- the computation ------------------------------------------------------------------------------------------

def _round(value: float, digits: int = 2) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _known(value):
    return None if value is UNKNOWN or value is None else value


def _evaluate(expression: Expression, facts: dict, on: datetime.date, indicator: Indicator):
    try:
        return _known(expression.evaluate(Context(facts, on)))
    except RuleError as error:
        raise SchemeError(f"ranking: {indicator.code}: {error.message % error.params}") from None


def manual_values(region, label: str, scheme_: Scheme) -> dict[str, dict[int, float]]:
    """{input code: {unit id: value}} as the task force entered them for the month."""
    result: dict[str, dict[int, float]] = {code: {} for code in scheme_.manual}
    for row in RankingInput.objects.filter(region=region, month=label, indicator__in=list(scheme_.manual)):
        result[row.indicator][row.unit_id] = float(row.value)
    return result


def compute(region, label: str, now: datetime.datetime | None = None, with_last: bool = True) -> dict:
    """The month's ranking as it stands now (never the published table; see `table`)."""
    period = month_period(region, label)
    label = period.label
    plan = scheme(region)
    now = now or timezone.now()
    members = {group.code: units(region, group) for group in plan.groups}
    every = {unit.pk: unit for group_units in members.values() for unit in group_units}
    month = providers.Month(region, period, now, every)
    manual = manual_values(region, label, plan)
    system = providers.collect([c for c in plan.inputs if c not in plan.manual], month)
    last = last_ranks(region, previous_month(label), now) if with_last else {}
    groups = []
    for group in plan.groups:
        indicators = plan.indicators_of(group)
        rows = []
        for unit in members[group.code]:
            facts = {}
            for code in plan.inputs:
                if code in plan.manual:
                    facts[code] = manual[code].get(unit.pk, plan.manual[code]["default"])
                else:
                    value = system[code].get(unit.pk)
                    facts[code] = 0 if value is None and code not in providers.RATES else value
            values = {i.code: _evaluate(i.value, facts, period.last, i) for i in indicators}
            values = {code: (_round(v) if isinstance(v, (int, float)) else v) for code, v in values.items()}
            rows.append({"unit_id": unit.pk, "key": unit.code, "name": unit.short_name or unit.name,
                         "values": values, "inputs": facts})
        for indicator in indicators:
            known = [row["values"][indicator.code] for row in rows if row["values"][indicator.code] is not None]
            if indicator.direction == "higher":
                best, worst = (max(known), min(known)) if known else (None, None)
            else:
                best, worst = (min(known), max(known)) if known else (None, None)
            for row in rows:
                value = row["values"][indicator.code]
                score = None
                if value is not None:
                    facts = {**row["inputs"], "value": value, "best": best, "worst": worst}
                    score = _evaluate(indicator.score, facts, period.last, indicator)
                score = indicator.if_missing if score is None else score
                row[indicator.code] = _round(min(indicator.max, max(indicator.min, float(score))))
        for row in rows:
            row["total"] = _round(float(sum(Decimal(repr(row[i.code])) for i in indicators)))
        rank_rows(rows)
        for row in rows:
            row["last_rank"] = last.get((group.code, row["key"]))
            row["change"] = (row["last_rank"] - row["rank"]) if row["last_rank"] is not None else None
        groups.append({"code": group.code, "name": group.name,
                       "indicators": [i.describe() for i in indicators], "rows": rows})
    return {"month": label, "region": region.code, "published": None, "groups": groups,
            "inputs": [{"code": c, "name": plan.input_name(c), "manual": c in plan.manual} for c in plan.inputs]}


def rank_rows(rows: list[dict]) -> None:
    """Sort by total, best first, and number the ranks: equal totals share a rank (1, 1, 3)."""
    rows.sort(key=lambda r: (-r["total"], r["key"]))
    for index, row in enumerate(rows):
        row["rank"] = rows[index - 1]["rank"] if index and row["total"] == rows[index - 1]["total"] else index + 1


def last_ranks(region, label: str, now=None) -> dict:
    """{(group code, unit code): rank} of a month: its published table, else computed now."""
    try:
        month_period(region, label)
    except InputError:
        return {}
    frozen = RankingPublication.objects.filter(region=region, month=label).first()
    data = frozen.table if frozen else compute(region, label, now, with_last=False)
    return {(g["code"], row["key"]): row["rank"] for g in data["groups"] for row in g["rows"]}


def publication(region, label: str) -> RankingPublication | None:
    return RankingPublication.objects.filter(region=region, month=label).select_related("published_by").first()


def table(region, label: str, now=None) -> dict:
    """The month's table: frozen if published, else computed now."""
    label = month_period(region, label).label
    frozen = publication(region, label)
    if frozen is not None:
        return frozen.table
    return compute(region, label, now)


# --- what the task force does -----------------------------------------------------------------------------

def _ended(region, label: str) -> bool:
    return month_period(region, label).end <= timezone.now()


@transaction.atomic
def publish(region, label: str, user) -> RankingPublication:
    """Freeze the month's table as it stands (a month that has ended, once)."""
    label = month_period(region, label).label
    if not _ended(region, label):
        raise InputError(_("Only a month that has ended can be published."))
    if RankingPublication.objects.filter(region=region, month=label).exists():
        raise InputError(_("The ranking of %(month)s is already published.") % {"month": label})
    data = compute(region, label)
    now = timezone.now()
    data["published"] = {"by": user.display_name or user.username, "at": now.isoformat()}
    try:
        with transaction.atomic():
            return RankingPublication.objects.create(region=region, month=label, table=data, published_by=user,
                                                     published_at=now)
    except IntegrityError:
        raise InputError(_("The ranking of %(month)s is already published.") % {"month": label}) from None


def enter(region, label: str, unit_code: str, input_code: str, value, user) -> RankingInput:
    """The task force enters (or corrects) one manual input of one unit for the month."""
    from qifu.org.models import Department

    label = month_period(region, label).label
    plan = scheme(region)
    if input_code not in plan.manual:
        raise InputError(_("Choose one of the inputs entered by hand."))
    kinds = {kind for group in plan.groups for kind in group.kinds}
    unit = Department.objects.filter(region=region, code=unit_code, kind__in=kinds).first()
    if unit is None:
        raise InputError(_("Choose a unit that is ranked."))
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise ArithmeticError
    except (ArithmeticError, ValueError):
        raise InputError(_("The value must be a number.")) from None
    if not -VALUE_MAX <= number <= VALUE_MAX:
        raise InputError(_("The value is too large."))
    number = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if publication(region, label):
        raise InputError(_("The ranking of %(month)s is already published.") % {"month": label})
    with transaction.atomic():
        row = RankingInput.objects.select_for_update().filter(region=region, month=label, unit=unit,
                                                              indicator=input_code).first()
        if row is None:
            try:
                with transaction.atomic():
                    return RankingInput.objects.create(region=region, month=label, unit=unit, indicator=input_code,
                                                       value=number, entered_by=user)
            except IntegrityError:  # entered at the same moment by someone else: correct theirs
                row = RankingInput.objects.select_for_update().get(region=region, month=label, unit=unit,
                                                                   indicator=input_code)
        if row.value != number:
            row.value, row.entered_by, row.at = number, user, timezone.now()
            row.save()
        return row
