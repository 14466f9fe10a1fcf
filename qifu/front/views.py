"""Pages. Views stay thin: querysets come from accounts.scopes, validation from the forms."""

import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.audit.models import AuditEntry
from qifu.enterprises.forms import ENTERPRISE_COLUMNS, EnterpriseFilter, EnterpriseForm
from qifu.enterprises.models import Enterprise
from qifu.lib import exports, industry, uploads
from qifu.org.models import Post, Region, Section, ServiceNode, Window, Zone


@login_required
def home(request):
    user = request.user
    role = user.primary_role
    if role is None:
        return render(request, "front/home/none.html", status=403)
    context = {"role": role, "role_label": Role(role).label}
    context.update(HOME_DATA.get(role, lambda u: {})(user))
    if role in STATION_ROLES:
        context.update(_station(user))
    return render(request, f"front/home/{HOME_TEMPLATE.get(role, role)}.html", context)


def _admin_home(user):
    return {
        "regions": Region.objects.annotate(n_enterprises=Count("enterprises", distinct=True)),
        "audit_recent": AuditEntry.objects.all()[:10],
    }


# --- work queues: each count with the appeals list it opens, counted through that list's own filters ------

QUEUES = {"to_dispatch": {"status": "to_dispatch"}, "overdue": {"overdue": "yes"},
          "being_handled": {"status": "assigned"}, "to_confirm": {"status": "handled"}}


def _listed(user, query: dict, name: str = "", label: str = "") -> dict | None:
    """{"name", "label", "n", "url"}: `url` is the appeals list with `query`, `n` how many rows it shows the user —
    counted through the list's own form and `queries.filtered`, so the two cannot differ. None when the list would
    not take the query (a code the user may not filter on)."""
    from qifu.appeals import queries
    from qifu.appeals.forms import FilterForm

    form = FilterForm(query, user=user)
    if not form.is_valid():
        return None
    return {"name": name, "label": label, "n": queries.filtered(scopes.appeals(user), **form.filters()).count(),
            "url": f"{reverse('appeal_list')}?{urlencode(query)}"}


def _queue(user, *names: str) -> dict[str, int]:
    """How many of the user's appeals each home button opens — the same filters as the appeals list it links to."""
    return {name: _listed(user, QUEUES[name])["n"] for name in names}


def today_in(zone: str) -> datetime.date:
    return timezone.localtime(timezone.now(), ZoneInfo(zone)).date()


def _today(user) -> dict:
    """The list's filter for the appeals received today (the user's region's day)."""
    from qifu.appeals import stats

    day = today_in(stats.zone_of(user))
    return {"received_after": day.isoformat(), "received_before": (day + datetime.timedelta(days=1)).isoformat()}


def _counts(*items) -> list[dict]:
    return [item for item in items if item is not None]


def _front_desk_home(user):
    """What the desk registered today, what came in at its node today, what waits for dispatch (at its node)."""
    from qifu.frontdesk import visits as desk

    node = {"node": user.node.code} if user.node_id else {}
    today = _today(user)
    return {"enterprise_count": scopes.enterprises(user).count(),
            "desk_flagged": desk.flagged(desk.visits(user)).count(), "work": _counts(
        _listed(user, {"mine": "yes", **today}, "mine-today", _("Registered by me today")),
        _listed(user, {**node, **today}, "node-today", _("Received at my node today")) if node else None,
        _listed(user, {"status": "to_dispatch", **node}, "to-dispatch", _("Waiting for dispatch")),
    )}


# A staff member of a station (驿站) or sub-center sees the node's name as the heading and the node's cases.
STATION_ROLES = (Role.FRONT_DESK, Role.DISPATCHER, Role.SPECIALIST, Role.CHIEF_SPECIALIST, Role.LIAISON)


def _station(user) -> dict:
    if not scopes.is_station_staff(user):
        return {}
    node = {"node": user.node.code}
    return {"station": {"node": user.node, "all": _listed(user, node, "station-all", _("All the node's cases")),
                        "counts": _counts(
        _listed(user, {**node, "status": "open"}, "station-open", _("Open appeals")),
        _listed(user, {**node, "overdue": "yes"}, "station-overdue", _("Overdue appeals")),
        _listed(user, {**node, "status": "handled"}, "station-to-confirm", _("Waiting for the enterprise")),
    )}}


def _dispatcher_home(user):
    from qifu.catalog import listing

    return {"sections": scopes.sections(user).select_related("lead_department", "node"),
            "queue": _queue(user, "to_dispatch", "overdue"), "listings_to_review": listing.to_review(user).count()}


def _handler_home(user):
    dept = user.department
    from qifu.supervision import views as supervision

    return {
        "queue": _queue(user, "being_handled", "overdue"),
        "slips": supervision.open_slips(user).filter(lead_department=dept)[:20] if dept else [],
        "department": dept,
        "led_sections": dept.led_sections.all() if dept else [],
        "colleagues": dept.staff.exclude(pk=user.pk) if dept else [],
    }


def _section_staff_home(user):
    sections = Section.objects.filter(
        Q(chief_specialist=user) | Q(specialists=user) | Q(chief_officer=user)
    ).distinct().select_related("lead_department", "chief_specialist", "chief_officer")
    posts = Post.objects.filter(Q(holder=user) | Q(backup=user)).select_related("holder", "backup", "node")
    sections = list(sections)
    for section in sections:  # each section's open and overdue cases
        code = {"section": section.code}
        section.work = _counts(_listed(user, {**code, "status": "open"}, "section-open", _("Open appeals")),
                               _listed(user, {**code, "overdue": "yes"}, "section-overdue", _("Overdue appeals")))
    return {"my_sections": sections, "my_posts": posts}


def _liaison_home(user):
    """The cases the liaison officer registered (still open, waiting for the enterprise's answer) and the closed
    cases of the paired enterprises whose lead unit the officer has still to rate."""
    from qifu.appeals import ratings

    to_rate = ratings.officer_queue(user)
    return {"enterprise_count": scopes.enterprises(user).count(), "work": _counts(
        _listed(user, {"mine": "yes", "status": "open"}, "mine-open", _("Registered by me, still open")),
        _listed(user, {"mine": "yes", "status": "handled"}, "mine-to-confirm",
                _("Registered by me, waiting for the enterprise")),
    ), "officer": getattr(user, "liaison_officer", None), "to_rate_count": to_rate.count(), "to_rate": to_rate[:20]}


def _jurisdiction_overview(user):
    enterprises = scopes.enterprises(user)
    by_jurisdiction = (
        enterprises.values("jurisdiction__name").annotate(n=Count("id")).order_by("-n")
    )
    by_size = enterprises.values("size").annotate(n=Count("id")).order_by("size")
    by_section: dict[str, int] = {}
    for code, n in enterprises.values_list("industry").annotate(n=Count("id")):
        name = industry.section_name(code) or _("unknown")
        by_section[name] = by_section.get(name, 0) + n
    return {
        "jurisdiction": user.jurisdiction,
        "enterprise_count": enterprises.count(),
        "by_jurisdiction": by_jurisdiction,
        "by_size": [{"size": Enterprise.Size(r["size"]).label if r["size"] else _("unknown"), "n": r["n"]}
                    for r in by_size],
        "by_industry": sorted(by_section.items(), key=lambda kv: -kv[1]),
        "nodes": [{"kind": ServiceNode.Kind(r["kind"]).label, "n": r["n"]}
                  for r in scopes.nodes(user).values("kind").annotate(n=Count("id")).order_by("kind")],
    }


HOME_FIGURES = ("received", "handled", "on_time_rate", "satisfaction_rate", "overdue_open")


def _appeal_figures(user) -> dict:
    """This month's key appeal figures (`appeals.stats`, the statistics page's definition) and the overdue open
    cases by lead unit, each bar with the appeals list it opens."""
    from qifu.appeals import stats, stats_views

    zone = stats.zone_of(user)
    period = stats.month_period(stats_views.this_month(zone), zone)
    figures = stats.compute(user, period, by="department")
    overdue = [row for row in figures.rows if row["overdue_open"] and row["key"]]
    overdue.sort(key=lambda row: -row["overdue_open"])
    return {
        "appeal_month": period.label,
        "appeal_cards": [{"metric": m, "label": str(stats.LABELS[m]), "text": stats_views.shown(m, figures.total[m])}
                         for m in HOME_FIGURES],
        "overdue_total": figures.total["overdue_open"],
        "overdue_units": [{"name": row["name"], "n": row["overdue_open"],
                           "url": stats_views.list_url(period, "overdue_open", "department", row["key"])}
                          for row in overdue],
        "overdue_by_unit": {"name": str(stats.LABELS["overdue_open"]),
                            "labels": [row["name"] for row in overdue],
                            "values": [row["overdue_open"] for row in overdue],
                            "links": [stats_views.list_url(period, "overdue_open", "department", row["key"])
                                      for row in overdue]},
    }


COCKPIT_DAYS = 30


def _cockpit(user) -> dict:
    """The leader's cockpit and the supervisor's overview beyond this month's figures: received and closed per day
    (the last 30 days, `appeals.stats.daily`), the escalations, the abnormal lists — every figure, bar and point
    with the list it opens, which shows exactly that many rows."""
    from qifu.appeals import ladder_views, stats, stats_views
    from qifu.appeals.models import Level
    from qifu.supervision import views as supervision

    zone = stats.zone_of(user)
    days = stats.daily(user, COCKPIT_DAYS, today=today_in(zone), zone=zone)

    def link(metric, first, last):
        return stats_views.list_url(stats.range_period(first, last, zone), metric)

    first, last = days[0]["day"], days[-1]["day"]
    escalated = ladder_views.escalated_cases(user)

    def ladder(query, name, label):
        return {"name": name, "label": label, "n": ladder_views.LadderFilter(query).apply(escalated).count(),
                "url": f"{reverse('escalated_list')}?{urlencode(query)}"}

    return {
        "daily_days": COCKPIT_DAYS,
        "daily_chart": {
            "labels": [f"{d['day']:%m-%d}" for d in days],
            "days": [d["day"].isoformat() for d in days],
            "names": {m: str(stats.LABELS[m]) for m in stats.DAILY},
            **{m: [d[m] for d in days] for m in stats.DAILY},
            "series_links": [[link(m, d["day"], d["day"]) for d in days] for m in stats.DAILY],
        },
        "daily_totals": [_listed(user, {"received_after": first.isoformat(),
                                        "received_before": (last + datetime.timedelta(days=1)).isoformat()},
                                 "daily-received", str(stats.LABELS["received"])),
                         _listed(user, {"closed_after": first.isoformat(),
                                        "closed_before": (last + datetime.timedelta(days=1)).isoformat()},
                                 "daily-closed", str(stats.LABELS["closed"]))],
        "escalations": [ladder({"pending": "yes"}, "escalation-pending", _("Escalations awaiting a decision"))] + [
            ladder({"level": str(level), "open": "yes"}, f"escalation-level-{level}", str(Level(level).label))
            for level in (Level.TASK_FORCE, Level.MEETING, Level.PRINCIPAL)],
        "abnormal": supervision.abnormal_counts(user),
    }


def _supervisor_home(user):
    from qifu.supervision import views as supervision

    context = _jurisdiction_overview(user)
    context.update(_appeal_figures(user))
    if supervision.may_use_desk(user):
        context["desk"] = {"followups": supervision.open_followups(user).count(),
                           "slips": supervision.open_slips(user).count()}
    return context


def _leader_home(user):
    """The leader's queue: what is escalated to the meetings they chair, the cases with leader instructions."""
    from qifu.appeals import escalation
    from qifu.supervision import views as supervision

    context = _jurisdiction_overview(user)
    context.update(_appeal_figures(user))
    context["to_decide"] = list(escalation.pending_escalations(user).select_related("lead_department")[:20])
    context["instructed"] = supervision.instructed_cases(user)[:10]
    return context


def _ranking_card(user):
    """This month's ranking, top 5 and last place per group (qifu.assessments)."""
    from qifu.assessments.views import card

    return card(user)


COCKPIT_ROLES = (Role.LEADER, Role.SUPERVISOR)


@login_required
def home_cockpit(request):
    """The leader's and the supervisor's cockpit (per day, escalations, abnormal cases), a fragment their homes load
    after the page with HTMX: at a million appeals it takes seconds (docs/performance.md "Whole pages")."""
    if request.user.primary_role not in COCKPIT_ROLES:
        raise PermissionDenied
    return render(request, "front/home/_cockpit.html", _cockpit(request.user))


@login_required
def home_ranking(request):
    """The leader's and the supervisor's ranking card, a fragment their homes load after the page with HTMX (two
    region-wide months: seconds at a million appeals); empty for whoever may not see the live ranking."""
    return render(request, "assessments/_ranking_card.html", {"ranking": _ranking_card(request.user)})


def _enterprise_home(user):
    return {"enterprise": user.enterprise, "queue": _queue(user, "to_confirm")}


HOME_TEMPLATE = {Role.CHIEF_SPECIALIST: "specialist"}  # same page, the heading names the role

HOME_DATA = {
    Role.ADMIN: _admin_home,
    Role.FRONT_DESK: _front_desk_home,
    Role.DISPATCHER: _dispatcher_home,
    Role.HANDLER: _handler_home,
    Role.CHIEF_SPECIALIST: _section_staff_home,
    Role.SPECIALIST: _section_staff_home,
    Role.LIAISON: _liaison_home,
    Role.SUPERVISOR: _supervisor_home,
    Role.LEADER: _leader_home,
    Role.ENTERPRISE: _enterprise_home,
}


@login_required
def my_enterprise(request):
    if not request.user.enterprise_id:
        raise PermissionDenied
    return redirect("enterprise_detail", pk=request.user.enterprise_id)


@login_required
def enterprise_list(request):
    if request.user.is_enterprise_user:
        return redirect("my_enterprise")
    form = EnterpriseFilter(request.GET or None)
    qs = form.apply(scopes.enterprises(request.user).select_related("jurisdiction")).order_by("name", "pk")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("Enterprises"), ENTERPRISE_COLUMNS, qs, name="enterprises")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    template = "front/enterprise_rows.html" if request.headers.get("HX-Request") else "front/enterprise_list.html"
    return render(request, template, {
        "page": page, "form": form, "can_create": scopes.can_create_enterprise(request.user),
    })


@login_required
def enterprise_detail(request, pk: int):
    enterprise = get_object_or_404(
        scopes.enterprises(request.user).select_related("jurisdiction", "region"), pk=pk
    )
    return render(request, "front/enterprise_detail.html", {
        "enterprise": enterprise,
        "industry_name": industry.section_name(enterprise.industry),
        "can_edit": scopes.can_edit_enterprise(request.user, enterprise),
    })


def _form_region(user):
    region_id = scopes.home_region_id(user)
    if region_id:
        return Region.objects.get(pk=region_id)
    regions = scopes.regions(user)
    return regions.first() if regions.count() == 1 else None


@login_required
def enterprise_new(request):
    if not scopes.can_create_enterprise(request.user):
        raise PermissionDenied
    region = _form_region(request.user)
    form = EnterpriseForm(request.POST or None, region=region)
    if request.method == "POST" and form.is_valid():
        enterprise = form.save()
        messages.success(request, _("Registered %(name)s.") % {"name": enterprise.name})
        return redirect("enterprise_detail", pk=enterprise.pk)
    return render(request, "front/enterprise_form.html", {"form": form, "title": _("Register an enterprise")})


@login_required
def enterprise_edit(request, pk: int):
    enterprise = get_object_or_404(scopes.enterprises(request.user), pk=pk)
    if not scopes.can_edit_enterprise(request.user, enterprise):
        raise PermissionDenied
    form = EnterpriseForm(request.POST or None, instance=enterprise)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("enterprise_detail", pk=enterprise.pk)
    return render(request, "front/enterprise_form.html", {"form": form, "title": enterprise.name})


@login_required
def enterprise_import(request):
    if not scopes.can_create_enterprise(request.user):
        raise PermissionDenied
    from qifu.enterprises.importer import import_enterprises

    region = _form_region(request.user)
    report = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        problem = None
        if upload is not None:
            try:
                upload.name = uploads.check(upload, uploads.SPREADSHEET)
            except uploads.UploadError as error:
                problem = str(error)
        if upload is None or region is None:
            messages.error(request, _("Choose a CSV or Excel file."))
        elif problem:
            messages.error(request, problem)
        else:
            report = import_enterprises(
                upload, region, filename=upload.name,
                skip_bad_rows=bool(request.POST.get("skip_bad_rows")),
            )
    return render(request, "front/enterprise_import.html", {"report": report, "region": region})


@login_required
def org_directory(request):
    user = request.user
    return render(request, "front/org_directory.html", {
        "sections": scopes.sections(user).select_related("lead_department", "chief_specialist", "chief_officer", "node")
                    .prefetch_related("specialists"),
        "nodes": scopes.nodes(user).select_related("parent", "jurisdiction").order_by("kind", "code"),
        "departments": scopes.departments(user),
        "zones": scopes.directory(user, Zone).select_related("node", "lead_department", "chief_receptionist"),
        "windows": scopes.directory(user, Window).select_related("node", "zone"),
    })
