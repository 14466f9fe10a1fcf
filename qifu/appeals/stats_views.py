"""/stats/appeals/ — the appeal statistics of `qifu.appeals.stats` as a page: a month or a date range, grouped by
unit, section, node, jurisdiction, channel or class; every figure clicks through to the matching appeals list,
the Excel download is the API's (`/api/v1/stats/appeals?…&format=xlsx`, the same workbook)."""

import datetime
import re
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.lib.inputs import InputError

from . import stats

# by= → the appeals list's filter for the group's code (none: the list cannot filter by it)
LIST_FILTERS = {"department": "lead_department", "section": "section", "node": "node", "channel": "channel",
                "category": "category", "jurisdiction": None}
RATES = ("on_time_rate", "solved_rate", "satisfaction_rate")
LINKED = ("received", "closed", "overdue_open")  # the figures that open a list
TREND_MONTHS = 6


def this_month(zone: str) -> str:
    return f"{timezone.localtime(timezone.now(), ZoneInfo(zone)).date():%Y-%m}"


def list_url(period: stats.Period, metric: str, by: str | None = None, key: str | None = None) -> str | None:
    """The appeals list behind one figure (`received`, `closed` or `overdue_open`) of a row (`key` of `by`) or the
    total."""
    query = {}
    if by is not None:
        name = LIST_FILTERS.get(by)
        if not name or not key:
            return None
        query[name] = key
    when = "closed" if metric == "closed" else "received"
    query[f"{when}_after"] = period.first.isoformat()
    query[f"{when}_before"] = (period.last + datetime.timedelta(days=1)).isoformat()
    if metric == "overdue_open":
        query["overdue"] = "yes"
    return f"{reverse('appeal_list')}?{urlencode(query)}"


def shown(metric: str, value) -> str:
    if value is None:
        return "—"
    if metric in RATES:
        return f"{value * 100:.1f}%"
    return str(value)


def cells(period, row: dict, by=None, key=None) -> list[dict]:
    return [{"metric": m, "value": row[m], "text": shown(m, row[m]),
             "url": list_url(period, m, by, key) if m in LINKED else None} for m in stats.METRICS]


def _date(text: str, name: str) -> datetime.date | None:
    if not text:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise InputError(_("%(name)s must be a date written YYYY-MM-DD, e.g. 2026-10-01.") % {"name": name}) from None


def trend_chart(user, period: stats.Period, zone: str, figures: stats.Figures | None = None) -> dict:
    """received/handled/closed and the on-time and satisfaction rates (in %) of the 6 months up to the period's."""
    today = timezone.localtime(timezone.now(), ZoneInfo(zone)).date()
    known = {period.label: figures.total} if figures is not None else None  # the page's own month: computed once
    months = stats.trend(user, TREND_MONTHS, today=min(period.last, today), zone=zone, known=known)

    def percent(value):
        return None if value is None else round(value * 100, 1)

    return {
        "labels": [m["month"] for m in months],
        "names": {m: str(stats.LABELS[m]) for m in ("received", "handled", "closed", "on_time_rate",
                                                    "satisfaction_rate")},
        "received": [m["received"] for m in months], "handled": [m["handled"] for m in months],
        "closed": [m["closed"] for m in months],
        "on_time_rate": [percent(m["on_time_rate"]) for m in months],
        "satisfaction_rate": [percent(m["satisfaction_rate"]) for m in months],
    }


@login_required
def appeal_stats_page(request):
    user = request.user
    if not stats.may_see(user):
        raise PermissionDenied(_("Statistics are for staff."))
    zone = stats.zone_of(user)
    month, first, last, by = ((request.GET.get(k) or "").strip()[:32] for k in ("month", "from", "to", "by"))
    if not (month or first or last):
        month = this_month(zone)  # the landing: this month (by lead unit unless `by` says otherwise)
        if "by" not in request.GET:
            by = "department"
    context = {"month": month, "date_from": first, "date_to": last, "by": by,
               "groups": [(key, str(label)) for key, label in stats.GROUP_LABELS.items()],
               "labels": [(m, str(stats.LABELS[m])) for m in stats.METRICS]}
    try:
        by = stats.check_by(by) if by else None
        period = stats.period_from(month or None, _date(first, _("First day")), _date(last, _("Last day")), zone)
    except InputError as error:
        context["error"] = str(error)
        return render(request, "appeals/stats.html", context, status=400)
    figures = stats.compute(user, period, by)
    query = {"month": month} if month else {"from": period.first.isoformat(), "to": period.last.isoformat()}
    if by:
        query["by"] = by
    context.update({
        "period": period, "figures": figures, "by_label": str(stats.GROUP_LABELS[by]) if by else "",
        "total": cells(period, figures.total),
        "rows": [{"key": r["key"], "name": r["name"], "cells": cells(period, r, by, r["key"])} for r in figures.rows],
        "xlsx_url": f"{reverse('api-v1:appeal_stats')}?{urlencode({**query, 'format': 'xlsx'})}",
        # the six months' trend comes after the page (`appeal_stats_trend`): at a million appeals it is most of the
        # page's time (six month computations; docs/performance.md "Whole pages")
        "trend_url": f"{reverse('appeal_stats_trend')}?{urlencode({k: v for k, v in query.items() if k != 'by'})}",
    })
    return render(request, "appeals/stats.html", context)


@login_required
def appeal_stats_trend(request):
    """The statistics page's trend chart (the six months up to the period's), a fragment the page loads with HTMX;
    `month`, or `from` and `to`, as on the page (none: this month)."""
    user = request.user
    if not stats.may_see(user):
        raise PermissionDenied(_("Statistics are for staff."))
    zone = stats.zone_of(user)
    month, first, last = ((request.GET.get(k) or "").strip()[:32] for k in ("month", "from", "to"))
    if not (month or first or last):
        month = this_month(zone)
    try:
        period = stats.period_from(month or None, _date(first, _("First day")), _date(last, _("Last day")), zone)
    except InputError as error:
        return render(request, "appeals/_stats_trend.html", {"error": str(error)}, status=400)
    return render(request, "appeals/_stats_trend.html", {"trend": trend_chart(user, period, zone)})
