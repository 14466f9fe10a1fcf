"""Pages of the knowledge base: `/knowledge/` (entries and cases, search, filters, Excel), an entry's page and form, a
case's page and form, "publish as a case" from a closed appeal, and the promotion candidates (从一件事到一类事). The
rules are in `.services`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qifu.accounts import scopes
from qifu.appeals.models import Appeal
from qifu.audit.models import AuditEntry
from qifu.lib import exports
from qifu.lib.inputs import InputError

from . import services
from .forms import CaseForm, EntryForm, PromoteForm, SearchForm
from .models import CaseState, CaseStudy, KnowledgeEntry, Promotion


def _seeing(user) -> None:
    if not user.roles and not scopes.is_admin(user):
        raise PermissionDenied


@login_required
def knowledge_home(request):
    user = request.user
    _seeing(user)
    staff = services.is_staff(user)
    form = SearchForm(request.GET or None, user=user, staff=staff)
    q, kind = form.value("q"), form.value("kind")
    entry_qs = form.narrow(services.entries(user), "department")
    case_qs = form.narrow(services.cases(user), "lead_department")
    if form.is_valid() and form.cleaned_data.get("state") == CaseState.WITHDRAWN:
        entry_qs = entry_qs.none()
    entries = services.search(entry_qs, q, services.ENTRY_SEARCH) if kind != "cases" else []
    cases = services.search(case_qs, q, services.CASE_SEARCH) if kind != "entries" else []
    if request.GET.get("format") == "xlsx":
        exports.refuse_invalid(form)
        return _export(cases if kind == "cases" else entries, kind == "cases")
    return render(request, "knowledge/home.html", {
        "form": form, "q": q, "kind": kind, "staff": staff,
        "entries": Paginator(entries, 20).get_page(request.GET.get("page")) if kind != "cases" else None,
        "cases": Paginator(cases, 10).get_page(request.GET.get("cpage")) if kind != "entries" else None,
        "may_write": services.may_write(user),
        "may_see_promotions": services.may_see_promotions(user) and staff,
    })


def _name(user) -> str:
    return (user.display_name or user.username) if user else ""


def _export(rows, cases: bool):
    if cases:
        return exports.export_list(_("Case studies"), [
            (_("title"), lambda c: c.title), (_("problem"), lambda c: c.problem), (_("solution"), lambda c: c.solution),
            (_("legal basis"), lambda c: c.legal_basis), (_("section"), lambda c: c.section.name if c.section else ""),
            (_("lead department"), lambda c: c.lead_department.name if c.lead_department else ""),
            (_("class"), lambda c: c.category_label()), (_("state"), lambda c: c.get_state_display()),
            (_("published by"), lambda c: _name(c.published_by)), (_("published at"), lambda c: c.published_at),
        ], rows, name="case-studies")
    return exports.export_list(_("Knowledge entries"), [
        (_("question"), lambda e: e.question), (_("answer"), lambda e: e.answer),
        (_("legal basis"), lambda e: e.legal_basis), (_("unit"), lambda e: e.department.name),
        (_("section"), lambda e: e.section.name if e.section else ""), (_("keywords"), lambda e: e.keywords),
        (_("state"), lambda e: e.get_state_display()), (_("written by"), lambda e: _name(e.created_by)),
        (_("last changed"), lambda e: e.updated_at),
    ], rows, name="knowledge")


# --- entries --------------------------------------------------------------------------------------------

def _history(obj) -> list[dict]:
    """Who changed it when, and which fields (from the audit trail)."""
    rows = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
                                     ).select_related("actor").order_by("-at", "-pk")[:50]
    labels = {f.attname: f.verbose_name for f in obj._meta.concrete_fields}
    skip = {"updated_at", "updated_by_id", "published_at", "published_by_id"}
    out = []
    for row in rows:
        before, after = row.before or {}, row.after or {}
        changed = [str(labels.get(k, k)) for k in after if k not in skip and before.get(k) != after.get(k)] \
            if row.action == AuditEntry.Action.UPDATE else []
        out.append({"at": row.at, "actor": row.actor.display_name or row.actor.username if row.actor else
                    row.actor_username, "action": row.get_action_display(), "changed": changed})
    return out


@login_required
def entry_detail(request, pk: int):
    user = request.user
    _seeing(user)
    entry = get_object_or_404(services.entries(user), pk=pk)
    staff = services.is_staff(user)
    return render(request, "knowledge/entry.html", {
        "entry": entry, "staff": staff, "may_edit": services.may_edit_entry(user, entry),
        "history": _history(entry) if staff else [],
        "promotion": entry.promotions.filter(state=Promotion.State.CANDIDATE).first() if staff else None,
        "promote_form": PromoteForm() if staff and services.may_promote(user) else None,
        "promote_target": f"entry:{entry.pk}",
    })


def _entry_form(request, entry=None):
    user = request.user
    form = EntryForm(request.POST or None, instance=entry, user=user)
    if request.method == "POST" and form.is_valid():
        publish = {"publish": True, "draft": False}.get(request.POST.get("state_action"))
        data = {name: form.cleaned_data[name] for name in services.ENTRY_FIELDS}
        try:
            saved = services.save_entry(user, data, entry=entry if entry is not None else None, publish=publish)
        except InputError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Knowledge entry saved."))
            return redirect("knowledge_entry", pk=saved.pk)
    return render(request, "knowledge/entry_form.html", {"form": form, "entry": entry},
                  status=400 if request.method == "POST" else 200)


@login_required
def entry_new(request):
    if not services.may_write(request.user):
        raise PermissionDenied
    return _entry_form(request)


@login_required
def entry_edit(request, pk: int):
    user = request.user
    entry = get_object_or_404(services.entries(user), pk=pk)
    if not services.may_edit_entry(user, entry):
        raise PermissionDenied
    entry = KnowledgeEntry.objects.get(pk=entry.pk)  # a fresh instance for the form (its before for the audit)
    return _entry_form(request, entry)


# --- cases ----------------------------------------------------------------------------------------------

@login_required
def case_detail(request, pk: int):
    user = request.user
    _seeing(user)
    case = get_object_or_404(services.cases(user).select_related("published_by"), pk=pk)
    staff = services.is_staff(user)
    may_edit = services.may_edit_case(user, case) if staff else False
    return render(request, "knowledge/case.html", {
        "case": case, "staff": staff, "may_edit": may_edit,
        "source": case.source_appeal if services.may_see_source(user, case) else None,
        "history": _history(case) if staff else [],
        "promotion": case.promotions.filter(state=Promotion.State.CANDIDATE).first() if staff else None,
        "promote_form": PromoteForm() if staff and services.may_promote(user) else None,
        "states": CaseState, "promote_target": f"case:{case.pk}",
    })


def _appeal(user, pk) -> Appeal:
    return get_object_or_404(scopes.appeals(user).select_related("enterprise", "section", "lead_department"), pk=pk)


@login_required
def case_from_appeal(request, appeal_id: int):
    """The editor reviews the anonymized text proposed from the appeal, then saves a draft or publishes."""
    user = request.user
    appeal = _appeal(user, appeal_id)
    existing = CaseStudy.objects.filter(source_appeal=appeal).first()
    if existing is not None:
        return redirect("knowledge_case", pk=existing.pk)
    if not services.may_publish_case(user, appeal):
        raise PermissionDenied
    reason = services.publishable(appeal)
    if reason:
        messages.error(request, reason)
        return redirect("appeal_detail", pk=appeal.pk)
    form = CaseForm(request.POST or None, initial=services.draft_from(appeal), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.create_case(user, appeal, form.cleaned_data,
                                        publish=request.POST.get("state_action") == "publish")
        except InputError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Case published.") if case.state == CaseState.PUBLISHED
                             else _("Case saved as a draft."))
            return redirect("knowledge_case", pk=case.pk)
    return render(request, "knowledge/case_form.html", {"form": form, "appeal": appeal, "case": None},
                  status=400 if request.method == "POST" else 200)


@login_required
def case_edit(request, pk: int):
    user = request.user
    case = get_object_or_404(services.cases(user), pk=pk)
    if not services.is_staff(user) or not services.may_edit_case(user, case):
        raise PermissionDenied
    case = CaseStudy.objects.select_related("source_appeal__enterprise").get(pk=case.pk)
    form = CaseForm(request.POST or None, instance=case, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_case(user, case, form.cleaned_data)
        except InputError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Case saved."))
            return redirect("knowledge_case", pk=case.pk)
    return render(request, "knowledge/case_form.html", {"form": form, "appeal": case.source_appeal, "case": case},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def case_state(request, pk: int):
    user = request.user
    case = get_object_or_404(services.cases(user), pk=pk)
    if not services.is_staff(user):
        raise PermissionDenied
    try:
        services.set_case_state(user, case, request.POST.get("state", ""))
    except InputError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Case %(state)s.") % {"state": case.get_state_display()})
    return redirect("knowledge_case", pk=case.pk)


# --- promotion candidates -----------------------------------------------------------------------------------

@login_required
@require_POST
def promote(request):
    """Mark an entry, a case or a recurring problem (appeal ids) as a candidate for a service item."""
    user = request.user
    if not services.is_staff(user):
        raise PermissionDenied
    form = PromoteForm(request.POST)
    target = request.POST.get("target", "")
    back = request.POST.get("next", "")
    try:
        if not form.is_valid():
            raise InputError(_("Say why it should become a service item."))
        note = form.cleaned_data["note"]
        kind, _sep, ident = target.partition(":")
        if kind == "entry" and ident.isdigit():
            services.promote(user, note, entry=get_object_or_404(services.entries(user), pk=int(ident)))
        elif kind == "case" and ident.isdigit():
            services.promote(user, note, case=get_object_or_404(services.cases(user), pk=int(ident)))
        elif kind == "appeals" and ident:
            ids = [int(x) for x in ident.split(",") if x.isdigit()][:200]
            appeals = list(scopes.appeals(user).filter(pk__in=ids))
            if not appeals:
                raise Http404
            services.promote(user, note, appeals=appeals, title=request.POST.get("title", ""))
        else:
            raise InputError(_("Choose what to promote."))
    except InputError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Marked: a candidate for a service item."))
    if back.startswith("/knowledge/") and "//" not in back:
        return redirect(back)
    return redirect("knowledge_promotions")


@login_required
@require_POST
def promotion_drop(request, pk: int):
    user = request.user
    promotion = get_object_or_404(services.promotions(user), pk=pk)
    try:
        services.drop_promotion(user, promotion)
    except PermissionDenied:
        raise
    messages.success(request, _("Candidate dropped."))
    return redirect("knowledge_promotions")


@login_required
def promotions(request):
    user = request.user
    if not (services.may_see_promotions(user) and services.is_staff(user)):
        raise PermissionDenied
    rows = services.promotions(user).filter(state=Promotion.State.CANDIDATE).prefetch_related("appeals")
    if request.GET.get("format") == "xlsx":
        kinds = {"entry": _("knowledge entry"), "case": _("case study"), "recurring": _("recurring problem")}
        return exports.export_list(_("Service item candidates"), [
            (_("title"), lambda p: p.title), (_("grew from"), lambda p: kinds[p.kind]), (_("note"), lambda p: p.note),
            (_("appeals"), lambda p: len(p.appeals.all())), (_("marked by"), lambda p: _name(p.marked_by)),
            (_("marked at"), lambda p: p.marked_at),
        ], rows, name="promotions")
    groups = services.recurring(user)
    for group in groups:
        group["ids"] = ",".join(str(pk) for pk in group["appeals"])
    return render(request, "knowledge/promotions.html", {
        "rows": rows, "groups": groups, "may_promote": services.may_promote(user), "promote_form": PromoteForm(),
    })
