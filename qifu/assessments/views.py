"""/stats/ranking/ — the monthly ranking (晾晒) as a page, an Excel workbook (?format=xlsx) and a Word 晾晒通报
(?format=docx); the task force enters the manual inputs and publishes a month.

Who sees what: leaders, supervisors, the task force (and its groups) and administrators see any month as it stands
now; other staff (a handler, a dispatcher…) see the published months only, their own unit's row highlighted;
enterprises nothing (403). Supervisors, the task force and administrators enter inputs and publish.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.appeals import stats
from qifu.lib import exports
from qifu.lib.inputs import InputError

from . import documents, ranking
from .models import RankingPublication

CARD_TOP = 5


# --- who may do what ------------------------------------------------------------------------------------------

def region_of(user):
    from qifu.org.models import Region

    region_id = scopes.home_region_id(user) if user.is_authenticated else None
    if region_id is None and scopes.is_admin(user):
        return Region.objects.order_by("code").first()
    return Region.objects.filter(pk=region_id).first() if region_id else None


def _task_force(user, region) -> bool:
    from qifu.supervision.records import in_task_force

    return in_task_force(user, region.pk)


def may_view_live(user, region) -> bool:
    """Any month as it stands now: leaders, supervisors, the task force, administrators."""
    return stats.may_see(user) and (scopes.is_admin(user) or user.has_role(Role.LEADER, Role.SUPERVISOR)
                                    or _task_force(user, region))


def may_manage(user, region) -> bool:
    """Enter inputs and publish: supervisors, the task force, administrators."""
    return stats.may_see(user) and (scopes.is_admin(user) or user.has_role(Role.SUPERVISOR)
                                    or _task_force(user, region))


def allowed(user):
    """The region whose ranking `user` may look at (staff only), or PermissionDenied."""
    if not stats.may_see(user):
        raise PermissionDenied(_("The ranking is for staff."))
    region = region_of(user)
    if region is None:
        raise PermissionDenied(_("The ranking is for staff."))
    return region


def month_table(user, region, label: str) -> dict | None:
    """The table `user` may see for the month (None: not published and not theirs to see live)."""
    label = ranking.month_period(region, label).label
    frozen = ranking.publication(region, label)
    if frozen is not None:
        return frozen.table
    return ranking.compute(region, label) if may_view_live(user, region) else None


# --- links ----------------------------------------------------------------------------------------------------

def appeals_url(unit_code: str, period: stats.Period) -> str:
    """The unit's appeals received in the month (as the lead unit)."""
    query = {"lead_department": unit_code, "received_after": period.first.isoformat(),
             "received_before": (period.last + datetime.timedelta(days=1)).isoformat()}
    return f"{reverse('appeal_list')}?{urlencode(query)}"


def page_url(label: str, **extra) -> str:
    return f"{reverse('ranking_page')}?{urlencode({'month': label, **extra})}"


def download(data: dict, region, fmt: str):
    label = data["month"]
    if fmt == "docx":
        from qifu.supervision.documents import task_force_name

        body = documents.report(data, region.name, task_force_name(region))
        return exports.download(body, exports.DOCX, f"ranking-{label}.docx", f"晾晒通报-{label}.docx")
    body = documents.workbook(data, region.name)
    return exports.download(body, exports.XLSX, f"ranking-{label}.xlsx", f"晾晒排名-{label}.xlsx")


# --- the page -------------------------------------------------------------------------------------------------

_shown = documents.number_text


def _group_view(group: dict, period: stats.Period, mine: str | None) -> dict:
    rows = []
    for row in group["rows"]:
        rows.append({
            **row, "mine": row["key"] == mine, "total_text": _shown(row["total"]), "url": appeals_url(row["key"], period),
            "cells": [{"code": i["code"], "score": _shown(row[i["code"]]),
                       "value": _shown((row.get("values") or {}).get(i["code"]))} for i in group["indicators"]],
            "change_text": documents.change_text(row["change"]),
        })
    chart = {"labels": [r["name"] for r in group["rows"]], "values": [r["total"] for r in group["rows"]],
             "links": [r["url"] for r in rows], "name": _("Total score")}
    return {"code": group["code"], "name": group["name"], "indicators": group["indicators"], "rows": rows,
            "chart": chart, "chart_id": f"ranking-chart-{group['code']}"}


@login_required
def ranking_page(request):
    user = request.user
    region = allowed(user)
    label = (request.GET.get("month") or "").strip()[:32] or ranking.this_month(region)
    return _page(request, region, label, (request.GET.get("format") or "").strip())


def _page(request, region, label: str, fmt: str = "", failed: str | None = None, form: dict | None = None):
    """The page (or its download); `failed`: an entry or a publication refused — the page again, with 400."""
    user = request.user
    context = {"month": label, "live": may_view_live(user, region), "manage": may_manage(user, region),
               "published_months": list(RankingPublication.objects.filter(region=region)
                                        .values_list("month", flat=True)[:24]),
               "error": failed, "form": form or {}}
    try:
        if fmt not in ("", "html", "xlsx", "docx"):
            raise InputError(_("format must be one of: xlsx, docx."))
        period = ranking.month_period(region, label)
        data = month_table(user, region, label)
    except InputError as error:
        context["error"] = str(error)
        return render(request, "assessments/ranking.html", context, status=400)
    label = period.label
    if fmt in ("xlsx", "docx"):
        if data is None:
            raise Http404(_("The ranking of %(month)s is not published yet.") % {"month": label})
        return download(data, region, fmt)
    mine = user.department.code if user.department_id else None
    frozen = ranking.publication(region, label)
    context.update({
        "month": label, "period": period, "data": data, "publication": frozen,
        "previous": ranking.previous_month(label), "next": _next(label),
        "groups": [_group_view(g, period, mine) for g in data["groups"]] if data else [],
        "indicators": documents.indicators(data) if data else [],
        "xlsx_url": page_url(label, format="xlsx"), "docx_url": page_url(label, format="docx"),
        "api_url": f"{reverse('api-v1:ranking')}?{urlencode({'month': label})}",
    })
    if data and context["manage"] and frozen is None:
        plan = ranking.scheme(region)
        context["entry"] = {
            "units": [(row["key"], row["name"]) for g in data["groups"] for row in g["rows"]],
            "inputs": [(code, spec["name"]) for code, spec in plan.manual.items()],
            "can_publish": ranking._ended(region, label),
        }
        context["entered"] = _entered(region, label, plan)
    return render(request, "assessments/ranking.html", context, status=400 if failed else 200)


def _next(label: str) -> str:
    year, month = (int(p) for p in label.split("-"))
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def _entered(region, label: str, plan) -> list:
    from .models import RankingInput

    names = {code: spec["name"] for code, spec in plan.manual.items()}
    return [{"unit": row.unit.short_name or row.unit.name, "input": names.get(row.indicator, row.indicator),
             "value": _shown(float(row.value)), "by": row.entered_by, "at": row.at}
            for row in RankingInput.objects.filter(region=region, month=label).select_related("unit", "entered_by")
            .order_by("unit__code", "indicator")]


@login_required
@require_POST
def ranking_input(request):
    user = request.user
    region = allowed(user)
    if not may_manage(user, region):
        raise PermissionDenied(_("Only the task force enters the ranking's figures."))
    label = (request.POST.get("month") or "").strip()[:32]
    form = {name: (request.POST.get(name) or "")[:64] for name in ("unit", "input", "value")}
    try:
        ranking.enter(region, label, form["unit"].strip(), form["input"].strip(), form["value"][:32], user)
    except InputError as error:
        return _page(request, region, label, failed=str(error), form=form)
    messages.success(request, _("The figure is saved."))
    return redirect(page_url(label))


@login_required
@require_POST
def ranking_publish(request):
    user = request.user
    region = allowed(user)
    if not may_manage(user, region):
        raise PermissionDenied(_("Only the task force publishes the ranking."))
    label = (request.POST.get("month") or "").strip()[:32]
    try:
        ranking.publish(region, label, user)
    except InputError as error:
        return _page(request, region, label, failed=str(error))
    messages.success(request, _("The ranking of %(month)s is published.") % {"month": label})
    return redirect(page_url(label))


# --- the homes' card ------------------------------------------------------------------------------------------

def card(user) -> dict | None:
    """This month's top 5 and last place per group, for the leader's and the supervisor's homes."""
    region = region_of(user)
    if region is None or not may_view_live(user, region):
        return None
    label = ranking.this_month(region)
    try:
        data = ranking.compute(region, label, with_last=False)
    except ranking.SchemeError:
        return None
    period = ranking.month_period(region, label)
    groups = []
    for group in data["groups"]:
        rows = [{**r, "url": appeals_url(r["key"], period)} for r in group["rows"]]
        groups.append({"name": group["name"], "top": rows[:CARD_TOP],
                       "last": rows[-1] if len(rows) > CARD_TOP else None})
    return {"month": label, "groups": groups, "url": page_url(label)}
