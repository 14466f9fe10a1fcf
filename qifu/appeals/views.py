"""Appeal pages: register walk-ins, the list, one appeal with its actions and its assignment slip (交办单, a Word
document built by `.documents`), an enterprise's online submission.

Thin on purpose: every queryset comes from `accounts.scopes`, input is parsed by `.forms`, and every change
goes through `.workflow` (which decides what is allowed and what it means).
"""

import re
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.lib import exports, inputs, paging

from . import documents, escalation, forms, queries, workflow
from .models import Appeal, AttachmentKind, Category, Channel, FallbackReason, Level, Resolution, Status

ONLINE_CHANNEL = "online"
SLIP_STATUSES = (Status.ASSIGNED, Status.HANDLED, Status.CLOSED)
COLLAPSED_ACTIONS = ("withdraw", "merge", "solve_on_spot")  # rarely used: folded away on the page

ACTION_LABELS = {
    "submit": gettext_lazy("Submitted"),
    "accept": gettext_lazy("Accept"),
    "classify": gettext_lazy("Classify"),
    "assign": gettext_lazy("Assign"),
    "reassign": gettext_lazy("Reassign"),
    "request_input": gettext_lazy("Ask assisting departments"),
    "give_input": gettext_lazy("Give input"),
    "reply": gettext_lazy("Reply"),
    "mark_handled": gettext_lazy("Mark handled"),
    "confirm": gettext_lazy("Solved: confirm"),
    "reject_result": gettext_lazy("Not solved"),
    "withdraw": gettext_lazy("Withdraw"),
    "merge": gettext_lazy("Merge as duplicate"),
    "solve_on_spot": gettext_lazy("Solved on the spot"),
    "escalate": gettext_lazy("Request escalation"),
    "decide_escalation": gettext_lazy("Decide on the escalation"),
    "deliberate": gettext_lazy("Record a deliberation"),
    "revisit_reopen": gettext_lazy("Reopened after a revisit"),
}


def may_register(user) -> bool:
    return scopes.is_admin(user) or user.has_role(*workflow.INTAKE)


def may_submit(user) -> bool:
    return user.has_role(Role.ENTERPRISE) and user.enterprise_id is not None


def enterprise_mode(user) -> bool:
    """An enterprise's own people get cards for a phone, not the back office's table."""
    return user.is_enterprise_user and not (user.roles & scopes.STAFF_ROLES)


def _with_clock(appeals):
    """Attach the working-day clock each row shows: days left, or overdue by (negative)."""
    for appeal in appeals:
        appeal.clock = appeal.clock_state()
    return appeals


# --- register walk-ins ------------------------------------------------------------------------------

class _Undo(Exception):
    """One problem could not be registered: nothing of this intake is kept."""


def _register(user, intake, problems) -> list[Appeal] | None:
    data = intake.cleaned_data
    try:
        enterprise = queries.enterprise_for_intake(user, data["code"])
    except (workflow.WorkflowError, PermissionDenied) as error:
        intake.add_error("enterprise_q", str(error))
        return None
    key = data.get("intake_key") or ""
    created = []
    try:
        with transaction.atomic():
            for i, form in enumerate(problems.forms):
                row = form.cleaned_data
                if not row:  # an added row left blank
                    continue
                section = row.get("section")
                if section is not None and section.region_id != enterprise.region_id:
                    form.add_error("section", _("This section is not of the enterprise's region."))
                    raise _Undo
                try:
                    appeal, _new = workflow.register(
                        actor=user, enterprise=enterprise, channel=data["channel"], title=row["title"],
                        description=row["description"], contact_name=data["contact_name"],
                        contact_phone=data["contact_phone"], category=data["category"] or None,
                        section=section, idempotency_key=f"{key}-{i}" if key else "",
                        request_hash=inputs.request_hash("page", {
                            "enterprise": enterprise.pk, "channel": data["channel"].code, "title": row["title"],
                            "description": row["description"], "contact_name": data["contact_name"],
                            "contact_phone": data["contact_phone"], "category": data["category"],
                            **({"section": section.code} if section else {})}) if key else "",
                    )
                    if row["on_spot"] and appeal.status == Status.ACCEPTED:
                        appeal = workflow.perform(appeal.pk, "solve_on_spot", user, appeal.version,
                                                  resolution=row["resolution"], text=row["answer"],
                                                  rating=row.get("rating") or None)
                except (workflow.WorkflowError, PermissionDenied) as error:
                    form.add_error(None, str(error))
                    raise _Undo from error
                created.append(appeal)
    except _Undo:
        return None
    return created


@login_required
def appeal_new(request):
    user = request.user
    if not may_register(user):
        raise PermissionDenied
    if request.method == "POST":
        intake = forms.IntakeForm(request.POST, user=user)
        problems = forms.ProblemFormSet(request.POST, prefix="problem", form_kwargs={"user": user})
        intake_ok = intake.is_valid()
        if problems.is_valid() and intake_ok:
            created = _register(user, intake, problems)
            if created is not None:
                ids = ",".join(str(a.pk) for a in created)
                return redirect(f"{reverse('appeal_new')}?created={ids}")
    else:
        picked = scopes.enterprises(user).filter(uscc=request.GET.get("enterprise") or "-").first()
        intake = forms.IntakeForm(user=user, initial={
            "intake_key": uuid.uuid4().hex, "channel": "walk_in",
            "enterprise_q": picked.name if picked else "", "enterprise_uscc": picked.uscc if picked else ""})
        problems = forms.ProblemFormSet(prefix="problem", form_kwargs={"user": user})
    created_ids = [int(x) for x in request.GET.get("created", "").split(",") if x.isdigit()]
    created = scopes.appeals(user).filter(pk__in=created_ids).order_by("pk") if created_ids else []
    return render(request, "appeals/new.html", {"intake": intake, "problems": problems, "created": created,
                                                "picked_name": _picked_name(user, intake), "suggest": True})


def _picked_name(user, intake) -> str:
    code = intake["enterprise_uscc"].value()
    if not code:
        return ""
    enterprise = scopes.enterprises(user).filter(uscc=code).first()
    return enterprise.name if enterprise else ""


@login_required
def enterprise_matches(request):
    """Live search for the intake form: enterprises this user may serve, by name or credit code."""
    if not may_register(request.user):
        raise PermissionDenied
    q = (request.GET.get("enterprise_q") or "").strip()
    matches = []
    if q:
        matches = scopes.enterprises(request.user).filter(
            Q(name__icontains=q) | Q(uscc__startswith=q.upper())).order_by("name")[:10]
    return render(request, "appeals/_enterprise_matches.html", {
        "q": q, "matches": matches, "can_create": scopes.can_create_enterprise(request.user)})


_PROBLEM_PREFIX = re.compile(r"problem-\d{1,3}")


@login_required
@require_POST
def appeal_suggest(request):
    """The intake form's routing suggestion for one problem (HTMX): section, lead unit, similar closed cases."""
    from . import routing

    user = request.user
    if not may_register(user):
        raise PermissionDenied
    prefix = request.POST.get("prefix", "")
    if not _PROBLEM_PREFIX.fullmatch(prefix):
        return HttpResponseBadRequest(_("The request is not valid."))
    title = (request.POST.get(f"{prefix}-title") or "").strip()
    description = (request.POST.get(f"{prefix}-description") or "").strip()
    if len(title) > Appeal._meta.get_field("title").max_length or len(description) > inputs.TEXT_MAX or (
            inputs.has_nul(title) or inputs.has_nul(description)):
        return HttpResponseBadRequest(_("The request is not valid."))
    found = routing.suggest(user, title, description) if (title or description) else None
    return render(request, "appeals/_suggestion.html", {"found": found, "prefix": prefix})


# --- the list ---------------------------------------------------------------------------------------

def _name(obj) -> str:
    return obj.name if obj is not None else ""


# The dispatcher's columns of the appeals list's Excel export.
APPEAL_COLUMNS = [
    (gettext_lazy("number"), lambda a: a.number),
    (gettext_lazy("received at"), lambda a: a.received_at),
    (gettext_lazy("enterprise"), lambda a: a.enterprise.name),
    (gettext_lazy("title"), lambda a: a.title),
    (gettext_lazy("channel"), lambda a: a.channel.label if a.channel_id else ""),
    (gettext_lazy("class"), lambda a: a.get_category_display()),
    (gettext_lazy("section"), lambda a: _name(a.section)),
    (gettext_lazy("lead department"), lambda a: _name(a.lead_department)),
    (gettext_lazy("status"), lambda a: a.get_status_display()),
    (gettext_lazy("due"), lambda a: a.due_at),
    (gettext_lazy("handled at"), lambda a: a.handled_at),
    (gettext_lazy("closed at"), lambda a: a.closed_at),
    (gettext_lazy("overdue?"), lambda a: a.is_overdue() or a.handled_late()),
    (gettext_lazy("escalation level"), lambda a: a.get_escalation_level_display()),
    (gettext_lazy("satisfaction (stars)"), lambda a: a.latest_stars),
]


@login_required
def appeal_list(request):
    user = request.user
    form = forms.FilterForm(request.GET or None, user=user)
    qs = queries.with_related(queries.filtered(scopes.appeals(user), **form.filters()))
    if form.is_bound and not form.is_valid():
        qs = qs.none()  # wrong filters (the form says why) list nothing rather than everything
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("Appeals"), APPEAL_COLUMNS, queries.with_satisfaction(qs), name="appeals")
    page = paging.CappedPaginator(qs, 25).get_page(request.GET.get("page"))  # counts up to 10,000
    _with_clock(page.object_list)
    context = {"form": form, "page": page, "enterprise_mode": enterprise_mode(user),
               "can_register": may_register(user), "can_submit": may_submit(user)}
    template = "appeals/_results.html" if request.headers.get("HX-Request") else "appeals/list.html"
    return render(request, template, context)


# --- one appeal -------------------------------------------------------------------------------------

def _auto_id(action: str) -> str:
    return f"id_{action}_%s"


# What departments and bodies tell each other: an enterprise sees that it happened, not what was said.
INTERNAL_ACTIONS = ("request_input", "give_input", "escalate", "decide_escalation", "deliberate")


def _timeline(appeal, user) -> list[dict]:
    internal_hidden = enterprise_mode(user)
    departments = {d.pk: d.name for d in scopes.departments(user).filter(region_id=appeal.region_id)}
    rows = []
    for event in appeal.events.select_related("actor").order_by("seq"):
        d = event.data or {}
        details = []
        if d.get("category") in Category.values and event.action in ("submit", "accept", "classify", "reassign"):
            details.append(Category(d["category"]).label)
        if "lead_department" in d:
            details.append(_("lead: %(dept)s") % {"dept": departments.get(d["lead_department"], "?")})
            if d.get("assisting_departments"):
                details.append(_("assisting: %(depts)s") % {
                    "depts": "、".join(departments.get(pk, "?") for pk in d["assisting_departments"])})
        if d.get("resolution") in Resolution.values:
            details.append(Resolution(d["resolution"]).label)
        details += _ladder_details(event, d)
        rows.append({
            "event": event, "label": ACTION_LABELS.get(event.action, event.action),
            "actor": (event.actor.display_name or event.actor.username) if event.actor else _("system"),
            "from": Status(event.from_status).label if event.from_status in Status.values else "",
            "to": Status(event.to_status).label if event.to_status in Status.values else event.to_status,
            "details": details,
            "text": "" if internal_hidden and event.action in INTERNAL_ACTIONS else d.get("text") or d.get("statement")
            or d.get("conclusion") or "", "comment": d.get("comment") or "",
            "note": "" if internal_hidden and (event.action in INTERNAL_ACTIONS or d.get("second_assignment"))
            else event.note,
            "stars": d.get("rating") or 0, "not_rated": d.get("rated") is False,
        })
    return rows


def _ladder_details(event, d) -> list[str]:
    """What a ladder or fallback event adds to the timeline line."""
    details = []
    if event.action == "escalate":
        details.append(_("to %(level)s") % {"level": escalation.level_label(d.get("to_level", 0))})
    elif event.action == "decide_escalation":
        details.append(_("approved: %(level)s") % {"level": escalation.level_label(d.get("level", 0))}
                       if d.get("approve") else _("refused: the case is assigned again"))
    elif event.action == "reassign" and d.get("second_assignment"):
        details.append(_("second assignment"))
    elif event.action == "deliberate":
        details.append(_("deliberation on %(day)s; participants: %(who)s") % {
            "day": d.get("held_on", ""), "who": d.get("participants", "")})
    if d.get("fallback_reasons"):
        details.append(_("fallback lane: %(reasons)s") % {"reasons": "、".join(
            str(FallbackReason(r).label) for r in d["fallback_reasons"] if r in FallbackReason.values)})
    return details


def _ladder(appeal, user, actions) -> dict | None:
    """The escalation card: where the case stands on the ladder, what a request needs, what was decided."""
    if enterprise_mode(user):
        return None
    history = escalation.escalation_history(appeal)
    if appeal.escalation_level == 1 and not history and "escalate" not in actions:
        return None
    files = escalation.escalation_files(appeal) if "escalate" in actions or appeal.escalation_pending else {}
    return {
        "levels": [(value, label, value < appeal.escalation_level, value == appeal.escalation_level)
                   for value, label in Level.choices],
        "body": escalation.coordinating_body(appeal),
        "deciding": escalation.deciding_body(appeal) if appeal.escalation_pending else None,
        "files": [(AttachmentKind(kind).label, attachment) for kind, attachment in files.items()],
        "history": [{"event": e, "label": ACTION_LABELS[e.action],
                     "actor": (e.actor.display_name or e.actor.username) if e.actor else _("system"),
                     "details": _ladder_details(e, e.data or {})} for e in history],
        "has_form": any(e.action == "escalate" for e in history),
    }


def _detail(request, appeal, failed: tuple[str, forms.ActionForm] | None = None, error: str = "", status=200,
            supervision_failed=None):
    from qifu.supervision import panel

    user = request.user
    action_forms = []
    for action in workflow.available_actions(user, appeal):
        form_class = forms.ACTION_FORMS.get(action.name)
        if form_class is None:
            continue
        if failed and failed[0] == action.name:
            form = failed[1]
        else:
            form = form_class(appeal=appeal, user=user, auto_id=_auto_id(action.name))
        action_forms.append({"name": action.name, "label": ACTION_LABELS.get(action.name, action.label), "form": form})
    phone = appeal.contact_phone
    if not scopes.can_see_contact_phone(user, appeal):
        phone = scopes.mask_phone(phone)
    _with_clock([appeal])
    names = [item["name"] for item in action_forms]
    tasks = list(queries.tasks_of(appeal))
    for task in tasks:
        task.may_complete = escalation.may_complete_task(user, task)
    from . import rating_views, ratings

    to_rate = ratings.pending(user, appeal)
    officer = ratings.officer_of(appeal) if to_rate else None
    return render(request, "appeals/detail.html", {
        "rating_history": ratings.history(appeal, user),
        "to_rate": to_rate, "rate_form": rating_views.OfficerRatingForm(auto_id="id_officer_%s") if to_rate else None,
        "rate_officer": officer.name if officer else "",
        "ladder": _ladder(appeal, user, names), "tasks": tasks, "today": timezone.localdate(),
        "supervision": panel.case_panel(appeal, user, supervision_failed),
        "deliberations": appeal.events.filter(action="deliberate").order_by("seq") if appeal.is_fallback else [],
        "attachment_kinds": AttachmentKind.choices,
        "appeal": appeal, "contact_phone": phone, "timeline": _timeline(appeal, user),
        "action_forms": action_forms, "action_error": error,
        "show_slip": appeal.status in SLIP_STATUSES, "enterprise_mode": enterprise_mode(user),
        "stars": range(1, 6), "collapsed_actions": COLLAPSED_ACTIONS,
        "attachments": appeal.attachments.order_by("uploaded_at", "id"),
        "may_attach": workflow.may_attach(user, appeal) and appeal.status not in (Status.WITHDRAWN, Status.MERGED),
    }, status=status)


def _visible(user, pk):
    return get_object_or_404(queries.with_related(scopes.appeals(user)), pk=pk)


@login_required
def appeal_detail(request, pk: int):
    return _detail(request, _visible(request.user, pk))


@login_required
@require_POST
def appeal_act(request, pk: int, action: str):
    user = request.user
    appeal = _visible(user, pk)
    form_class = forms.ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404
    form = form_class(request.POST, request.FILES, appeal=appeal, user=user, auto_id=_auto_id(action))
    version = request.POST.get("version", "")
    version = int(version) if version.isdigit() else -1  # no version: treat the page as stale
    if not form.is_valid():
        return _detail(request, appeal, failed=(action, form), status=400)
    saved = []
    try:
        with transaction.atomic():  # files sent with the action (an escalation's) are kept only if it succeeds
            for kind, upload in getattr(form, "files_to_attach", list)():
                saved.append(workflow.attach(appeal.pk, user, upload, kind=kind))
            workflow.perform(appeal.pk, action, user, version, **form.payload())
    except Appeal.DoesNotExist:
        raise Http404 from None
    except workflow.StaleVersion:
        _discard(saved)
        messages.warning(request, _("This appeal changed meanwhile — reloaded. Check it and try again."))
        return redirect("appeal_detail", pk=appeal.pk)
    except (workflow.WorkflowError, workflow.NotAllowed) as error:
        _discard(saved)
        form.add_error(None, str(error))
        return _detail(request, _visible(user, pk), failed=(action, form), error=str(error),
                       status=getattr(error, "status_code", 400))
    messages.success(request, _("Done: %(action)s.") % {"action": ACTION_LABELS.get(action, action)})
    return redirect("appeal_detail", pk=appeal.pk)


def _discard(attachments) -> None:
    """Files stored for an action that was then refused (their rows were rolled back)."""
    for attachment in attachments:
        attachment.file.delete(save=False)


@login_required
@require_POST
def appeal_attach(request, pk: int):
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file."))
        return redirect("appeal_detail", pk=pk)
    try:
        attachment = workflow.attach(pk, request.user, upload, kind=request.POST.get("kind") or "")
    except Appeal.DoesNotExist:
        raise Http404 from None
    except (workflow.WorkflowError, workflow.NotAllowed) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Added %(name)s.") % {"name": attachment.name})
    return redirect("appeal_detail", pk=pk)


@login_required
def appeal_attachment(request, pk: int, attachment_id: int):
    """Files are served only to those who may see the appeal (no public media URL)."""
    from django.http import FileResponse

    appeal = _visible(request.user, pk)
    attachment = get_object_or_404(appeal.attachments, pk=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=attachment.name)


@require_GET
@login_required
def assignment_slip_view(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(scopes.appeals(request.user).select_related("region", "enterprise", "lead_department"),
                               pk=pk)
    if appeal.status not in SLIP_STATUSES or appeal.lead_department_id is None:
        return HttpResponseBadRequest(_("Only an appeal assigned to a lead department has an assignment slip."))
    return exports.download(documents.assignment_slip(appeal, request.user), exports.DOCX,
                            f"assignment-slip-{appeal.number}.docx", f"交办单-{appeal.number}.docx")


# --- an enterprise's own online appeal ----------------------------------------------------------------

@login_required
def appeal_submit(request):
    user = request.user
    if not may_submit(user):
        raise PermissionDenied
    form = forms.SubmitForm(request.POST or None, initial={
        "contact_name": user.display_name, "contact_phone": user.phone})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            channel = Channel.open_by_code(ONLINE_CHANNEL)
            if channel is None:
                raise workflow.TransitionError(_("Online appeals are not open: please call the center."))
            appeal, _new = workflow.register(
                actor=user, enterprise=queries.enterprise_for_intake(user, None), channel=channel,
                title=data["title"], description=data["description"], contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
            )
        except (workflow.WorkflowError, PermissionDenied) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your appeal was submitted as %(number)s. The center will accept it and "
                                        "tell you who handles it.") % {"number": appeal.number})
            return redirect("appeal_detail", pk=appeal.pk)
    return render(request, "appeals/submit.html", {"form": form})
