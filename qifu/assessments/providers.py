"""Where the ranking's inputs come from: a registry of providers, keyed by input code.

A provider computes one or more inputs for every unit of a month at once:

    @providers.register({"cases_published": gettext_lazy("Typical cases published")})
    def cases(month: providers.Month) -> dict[str, dict[int, float | None]]:
        return {"cases_published": {unit_id: n, ...}}

Units missing from a provider's answer get 0 (counts) — a rate the provider cannot compute is None (unknown).
An input named in the region's `ranking.manual_inputs` is entered by hand (`RankingInput`) even when a provider
exists for it: a module that can compute it (e.g. the case library for 典型案例报送) registers a provider, and the
region drops the input from its manual list (or points the indicator at the new input).

The system's own inputs, per unit and month:
- the appeal statistics of `qifu.appeals.stats` (the same definitions, over the whole region) for the unit as the
  lead unit: received, accepted, handled, handled_on_time, on_time_rate, closed, solved_rate, satisfied,
  satisfaction_rate, overdue_open, escalated, reassigned, dissatisfied, avg_workdays_to_handle; and
  handled_late = handled − handled_on_time;
- dissatisfied_area: the month's 不满意件 of the enterprises in the unit's area (a platform or street), and
  dissatisfied_charged: the 不满意件 charged to the unit — as the lead unit or as the area's unit, each case once
  (seed 003 line 1202: 所在平台、街道及承办单位进行同等扣分);
- chases, inspections, slips: supervision records of the month naming the unit as the lead unit (催办, 督查, 督办单).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Callable

from django.db.models import Count
from django.utils.translation import gettext_lazy

from qifu.appeals import stats

_PROVIDERS: dict[str, Callable] = {}
LABELS: dict[str, object] = {}


@dataclass
class Month:
    region: object
    period: stats.Period
    now: datetime.datetime
    units: dict = field(default_factory=dict)  # {unit id: Department}

    @property
    def label(self) -> str:
        return self.period.label


def register(labels: dict):
    """Register `fn(month) -> {input code: {unit id: value}}` as the provider of the inputs named in `labels`
    ({code: label}). A later registration of the same code replaces the earlier one."""
    def decorate(fn):
        for code, label in labels.items():
            _PROVIDERS[code] = fn
            LABELS[code] = label
        return fn
    return decorate


def provided(code: str) -> bool:
    return code in _PROVIDERS


def collect(codes, month: Month) -> dict[str, dict]:
    """{input code: {unit id: value}} for the system inputs `codes`, each provider called once."""
    called: dict[Callable, dict] = {}
    result = {}
    for code in codes:
        fn = _PROVIDERS[code]
        if fn not in called:
            called[fn] = fn(month)
        result[code] = called[fn].get(code, {})
    return result


# --- area units: where an enterprise sits → the platform/street unit -------------------------------------------

def area_units(region) -> dict[int, int]:
    """{jurisdiction id: department id of the platform or street whose area it is} (config `ranking.area_units`,
    else the platform/street of the same name or short name, else the parent's)."""
    from qifu.org.models import Department, Jurisdiction

    named = region.rule("ranking").get("area_units") or {}
    units = list(Department.objects.filter(region=region, kind__in=(Department.Kind.STREET,
                                                                     Department.Kind.PLATFORM)))
    by_code = {d.code: d.pk for d in units}
    by_name: dict[str, int] = {}
    for unit in units:
        for name in (unit.name, unit.short_name):
            if name:
                by_name.setdefault(name, unit.pk)
    result: dict[int, int] = {}
    for place in Jurisdiction.objects.filter(region=region).order_by("path"):  # parents before children
        unit = by_code.get(named.get(place.code)) if place.code in named else by_name.get(place.name)
        if unit is None and place.parent_id in result:
            unit = result[place.parent_id]
        if unit is not None:
            result[place.pk] = unit
    return result


# --- the system's providers ---------------------------------------------------------------------------------

APPEAL_INPUTS = {**{m: stats.LABELS[m] for m in stats.METRICS},
                 "handled_late": gettext_lazy("Handled late")}
RATES = {"on_time_rate", "solved_rate", "satisfaction_rate", "avg_workdays_to_handle"}


@register(APPEAL_INPUTS)
def appeal_figures(month: Month) -> dict:
    figures = stats.compute_region(month.region, month.period, by="department", now=month.now)
    by_code = {row["key"]: row for row in figures.rows if row["key"]}
    result: dict[str, dict] = {code: {} for code in APPEAL_INPUTS}
    for unit_id, unit in month.units.items():
        row = by_code.get(unit.code)
        for metric in stats.METRICS:
            result[metric][unit_id] = row[metric] if row else (None if metric in RATES else 0)
        result["handled_late"][unit_id] = (row["handled"] - row["handled_on_time"]) if row else 0
    return result


@register({"dissatisfied_area": gettext_lazy("Dissatisfied cases in the unit's area"),
           "dissatisfied_charged": gettext_lazy("Dissatisfied cases charged to the unit")})
def dissatisfied(month: Month) -> dict:
    from qifu.appeals.models import Appeal

    cases = stats.appeal_sets(Appeal.objects.filter(region=month.region), month.period, month.now)["dissatisfied"]
    areas = area_units(month.region)
    area: dict[int, int] = {}
    charged: dict[int, int] = {}
    for _pk, lead, place in cases.order_by().values_list("pk", "lead_department_id", "enterprise__jurisdiction_id"):
        where = areas.get(place)
        if where is not None:
            area[where] = area.get(where, 0) + 1
        for unit in {lead, where} - {None}:  # the same case costs a unit once, even as both lead and area
            charged[unit] = charged.get(unit, 0) + 1
    return {"dissatisfied_area": area, "dissatisfied_charged": charged}


@register({"chases": gettext_lazy("Chases (催办)"), "inspections": gettext_lazy("Inspections (督查)"),
           "slips": gettext_lazy("Supervision slips (督办单)")})
def supervision(month: Month) -> dict:
    from qifu.supervision.models import Kind, Record, Slip

    start, end = month.period.start, month.period.end
    records = (Record.objects.filter(appeal__region=month.region, at__gte=start, at__lt=end,
                                     kind__in=(Kind.CHASE, Kind.INSPECTION), lead_department__isnull=False)
               .order_by().values("kind", "lead_department_id").annotate(n=Count("pk")))
    result: dict[str, dict] = {"chases": {}, "inspections": {}, "slips": {}}
    for row in records:
        result["chases" if row["kind"] == Kind.CHASE else "inspections"][row["lead_department_id"]] = row["n"]
    slips = (Slip.objects.filter(appeal__region=month.region, issued_at__gte=start, issued_at__lt=end,
                                 lead_department__isnull=False)
             .order_by().values("lead_department_id").annotate(n=Count("pk")))
    result["slips"] = {row["lead_department_id"]: row["n"] for row in slips}
    return result
