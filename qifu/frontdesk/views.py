"""Front-desk pages: today's visits (filters, Excel), registering a visitor, one visit with its actions and documents,
the flagged visits, and the public look-up of a receipt's tracking number (`/track/`).

Thin: every change goes through `.visits`, which checks and audits it; a refused change is shown on the visit's page
with status 400.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qifu.accounts import scopes
from qifu.audit import trail
from qifu.lib import exports

from . import documents, visits
from .forms import ConcludeForm, VisitFilter, VisitForm, visit_columns
from .models import DeferredMaterial, DeskNotice, DeskVisit

TRACK_TRIES = 10  # look-ups per address and hour on /track/ (not enumerable: the number AND the phone's last 4)


def _desk(user) -> None:
    if not visits.may_use(user):
        raise PermissionDenied


def _today_range(user) -> dict:
    from zoneinfo import ZoneInfo

    from qifu.org.models import Region

    region = Region.objects.filter(pk=scopes.home_region_id(user)).first()
    zone = ZoneInfo(region.rule("time_zone")) if region else timezone.get_current_timezone()
    day = timezone.localtime(timezone.now(), zone).date().isoformat()
    return {"date_from": day, "date_to": day}


@login_required
def visit_list(request, flagged_only: bool = False):
    """Today's visits by default (the filters widen it); `flagged_only`: every flagged visit, whatever the day."""
    user = request.user
    _desk(user)
    query = request.GET.copy()
    if not flagged_only and not any(k in query for k in ("date_from", "date_to", "status", "q", "page")):
        query.update(_today_range(user))
    if flagged_only:
        query["status"] = "flagged"
    form = VisitFilter(query, user=user)
    qs = form.apply(visits.visits(user)).prefetch_related("deferred").order_by("-registered_at", "-id")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("Front-desk visits"), visit_columns(), qs, name="front-desk-visits")
    return render(request, "frontdesk/list.html", {
        "form": form, "page": Paginator(qs, 30).get_page(request.GET.get("page")), "flagged_only": flagged_only,
        "flagged_count": visits.flagged(visits.visits(user)).count()})


@login_required
def visit_flagged(request):
    return visit_list(request, flagged_only=True)


@login_required
def visit_new(request):
    user = request.user
    _desk(user)
    form = VisitForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = visits.register(by=user, node=data["node"], visitor_name=data["visitor_name"],
                                    visitor_phone=data["visitor_phone"], need=data["need"],
                                    enterprise=data["enterprise"], item=data["item"], section=data["section"],
                                    window=data["window"], zone=data["zone"], on_site=data["on_site"])
        except visits.DeskError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Visit registered: you own it until you hand it over."))
            return redirect(visit)
    status = 400 if request.method == "POST" else 200
    return render(request, "frontdesk/new.html", {"form": form}, status=status)


def _visit(request, pk: int) -> DeskVisit:
    _desk(request.user)
    return get_object_or_404(visits.visits(request.user), pk=pk)


def _detail(request, visit: DeskVisit, *, error: str = "", status: int = 200, conclude_form=None):
    user = request.user
    materials = visits.guide_materials(visit)
    return render(request, "frontdesk/detail.html", {
        "visit": visit, "error": error, "materials": materials, "may_work": visits.may_work(user, visit),
        "notices": visit.notices.select_related("issued_by"), "handovers": visit.handovers.select_related(
            "from_user", "to_user", "by"), "deferred": visit.deferred.all(),
        "staff": visits.staff_of(visit.region).exclude(pk=visit.owner_id),
        "conclude_form": conclude_form or ConcludeForm(initial={"title": visit.need[:60], "description": visit.need}),
        "issued": request.GET.get("issued", ""),
        "timers": _timers(visit),
        "scenarios": _scenarios(user, visit),
    }, status=status)


def _scenarios(user, visit: DeskVisit):
    """The 一类事 scenarios the visit may become an agency case of (none when the user starts no cases)."""
    from qifu.scenarios import cases

    if visit.outcome_kind or visit.enterprise_id is None or not cases.may_start(user):
        return []
    return list(cases.scenarios(user).filter(region=visit.region).order_by("annex", "pk"))


def _timers(visit: DeskVisit) -> list[dict]:
    from . import timers

    rows = []
    for kind, label in ((timers.ON_SITE, _("staff on site")), (timers.HANDOVER, _("handed to a clerk"))):
        if visit.station_response:
            rows.append({"label": label, "due": timers.deadline(visit, kind)})
    return rows


@login_required
def visit_detail(request, pk: int):
    return _detail(request, _visit(request, pk))


@login_required
@require_POST
def visit_action(request, pk: int, action: str):
    """Every action on a visit: a form posted from its page."""
    user = request.user
    visit = _visit(request, pk)
    post = request.POST
    conclude_form = None
    try:
        if action == "handover":
            to = visits.staff_of(visit.region).filter(pk=post.get("to") if (post.get("to") or "").isdigit() else 0)
            visits.handover(visit, to.first(), by=user, note=post.get("note", ""))
            messages.success(request, _("Handed over."))
        elif action == "notice":
            notice = visits.one_time_notice(visit, [v for v in post.getlist("material") if v.isdigit()], by=user,
                                            return_to=post.get("return_to", ""), other=post.get("other", ""))
            return redirect(f"{visit.get_absolute_url()}?issued={notice.pk}")
        elif action == "receive":
            due = post.get("due_on") or ""
            try:
                due_on = datetime.date.fromisoformat(due) if due else None
            except ValueError as error:
                raise visits.DeskError(_("Give the due date as YYYY-MM-DD.")) from error
            notice = visits.receive(visit, by=user, deferred=post.get("deferred", "").splitlines(), due_on=due_on)
            return redirect(f"{visit.get_absolute_url()}?issued={notice.pk}")
        elif action == "sms":
            visits.send_receipt_sms(visit, by=user)
            messages.success(request, _("The tracking number is being sent by SMS."))
        elif action == "deferred":
            material = get_object_or_404(DeferredMaterial, visit=visit, pk=post.get("material") or 0)
            visits.receive_deferred(material, by=user)
            messages.success(request, _("Material received."))
        elif action == "on_site":
            visits.mark_on_site(visit, by=user)
        elif action == "park":
            visits.mark_park_issue(visit, post.get("park") == "yes", by=user)
        elif action == "answer":
            visits.answer(visit, post.get("answer", ""), by=user)
            messages.success(request, _("Consultation answered: the visit is concluded."))
        elif action in ("appeal", "request"):
            conclude_form = ConcludeForm(post)
            if not conclude_form.is_valid():
                raise visits.DeskError(_("Check the appeal's fields."))
            data = conclude_form.cleaned_data
            if action == "appeal":
                visits.to_appeal(visit, by=user, title=data["title"] or visit.need[:60],
                                 description=data["description"] or visit.need)
                messages.success(request, _("The visit became an appeal."))
            else:
                visits.to_service_request(visit, by=user, description=data["description"] or visit.need)
                messages.success(request, _("The visit became a service request."))
        elif action == "agency":
            from qifu.scenarios import cases

            code = post.get("scenario") or ""
            scenario = cases.scenarios(user).filter(region=visit.region, code=code).first() if code else None
            case = visits.to_agency_case(visit, scenario, by=user)
            messages.success(request, _("The visit became an agency case."))
            return redirect(case)
        else:
            raise visits.DeskError(_("Unknown action."))
    except visits.DeskError as error:
        visit.refresh_from_db()
        return _detail(request, visit, error=str(error), status=400, conclude_form=conclude_form)
    return redirect(visit)


@login_required
def notice_download(request, pk: int):
    _desk(request.user)
    notice = get_object_or_404(DeskNotice.objects.select_related("visit"),
                               pk=pk, visit__in=visits.visits(request.user))
    trail.record("download", notice, None, None, note=notice.kind, actor=request.user)
    ascii_name, name = documents.filename(notice)
    return exports.download(documents.build(notice), exports.DOCX, ascii_name, name)


def _client(request) -> str:
    from qifu.accounts.lockout import client_address

    return client_address(request) or "unknown"


def track(request):
    """Public: a receipt's status by its tracking number and the last 4 digits of the visitor's phone. At most
    TRACK_TRIES look-ups per address and hour; a wrong number and a wrong phone get the same answer."""
    found, error, status = None, "", 200
    number = (request.POST.get("number") or "").strip()[:32]
    if request.method == "POST":
        key = f"qifu-track-{_client(request)}"
        tries = cache.get(key, 0)
        if tries >= TRACK_TRIES:
            error, status = _("Too many look-ups: try again in an hour."), 429
        else:
            cache.set(key, tries + 1, 3600)
            found = visits.lookup(number, request.POST.get("phone4", ""))
            if found is None:
                error, status = _("No application matches this number and phone."), 404
    return render(request, "frontdesk/track.html", {
        "found": found, "error": error, "number": number,
        "status_text": visits.public_status(found) if found else ""}, status=status)
