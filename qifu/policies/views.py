"""Policy pages: the library, the clause builder, 政策找人 for enterprises, 免申即享 lists, applications,
payouts and performance. Thin: querysets come from `.access`, rules from the engine, changes from `.services`
and `.applications`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qifu.accounts import scopes
from qifu.enterprises.models import Tag
from qifu.lib import exports
from qifu.org.models import Region
from qifu.profiles import facts as profile_facts
from qifu.rules import clauses as cl
from qifu.rules import yamlio
from qifu.rules.expr import FUNCTIONS
from qifu.rules.values import RuleError

from . import access, applications, explanations, forms, matches, performance, services, wording
from .models import (
    Application,
    ApplicationStatus,
    MatchStatus,
    Payout,
    PayoutStatus,
    Policy,
    PolicyClause,
    PolicyStatus,
)


def _policy(user, pk) -> Policy:
    return get_object_or_404(access.policies(user), pk=pk)


def _maintained(user, pk) -> Policy:
    policy = _policy(user, pk)
    if not access.may_maintain(user, policy):
        raise PermissionDenied
    return policy


def _region_of(user) -> Region | None:
    region_id = scopes.home_region_id(user)
    if region_id:
        return Region.objects.filter(pk=region_id).first()
    regions = scopes.regions(user)
    return regions.first() if regions.count() == 1 else None


# --- the library ----------------------------------------------------------------------------------

def _name(obj) -> str:
    return obj.name if obj is not None else ""


POLICY_COLUMNS = [
    (gettext_lazy("code"), lambda p: p.code), (gettext_lazy("title"), lambda p: p.title),
    (gettext_lazy("level"), lambda p: p.get_level_display()), (gettext_lazy("department"), lambda p: _name(p.department)),
    (gettext_lazy("document number"), lambda p: p.document_number), (gettext_lazy("status"), lambda p: p.get_status_display()),
    (gettext_lazy("effective from"), lambda p: p.effective_from), (gettext_lazy("effective to"), lambda p: p.effective_to),
    (gettext_lazy("clauses"), lambda p: p.n_clauses),
]
CANDIDATE_COLUMNS = [
    (gettext_lazy("enterprise"), lambda m: m.enterprise.name), (gettext_lazy("credit code"), lambda m: m.enterprise.uscc),
    (gettext_lazy("jurisdiction"), lambda m: _name(m.enterprise.jurisdiction)),
    (gettext_lazy("amount (yuan)"), lambda m: m.amount),
]
PAYOUT_COLUMNS = [
    (gettext_lazy("enterprise"), lambda p: p.enterprise.name), (gettext_lazy("credit code"), lambda p: p.enterprise.uscc),
    (gettext_lazy("policy"), lambda p: p.clause.policy.title), (gettext_lazy("clause"), lambda p: p.clause.title),
    (gettext_lazy("status"), lambda p: p.get_status_display()),
    (gettext_lazy("approved amount"), lambda p: p.amount), (gettext_lazy("approved at"), lambda p: p.approved_at),
    (gettext_lazy("amount paid"), lambda p: p.paid_amount), (gettext_lazy("paid on"), lambda p: p.paid_on),
    (gettext_lazy("payment reference"), lambda p: p.reference),
]
APPLICATION_COLUMNS = [
    (gettext_lazy("enterprise"), lambda a: a.enterprise.name), (gettext_lazy("credit code"), lambda a: a.enterprise.uscc),
    (gettext_lazy("policy"), lambda a: a.clause.policy.title), (gettext_lazy("clause"), lambda a: a.clause.title),
    (gettext_lazy("status"), lambda a: a.get_status_display()), (gettext_lazy("submitted at"), lambda a: a.submitted_at),
    (gettext_lazy("review due"), lambda a: a.review_due), (gettext_lazy("decided at"), lambda a: a.decided_at),
    (gettext_lazy("granted amount"), lambda a: a.amount),
]


@login_required
def policy_list(request):
    user = request.user
    qs = access.policies(user).annotate(n_clauses=Count("clauses"))
    q = (request.GET.get("q") or "").strip()
    if q:
        found = Policy.objects.filter(Q(title__icontains=q) | Q(code__icontains=q) | Q(document_number__icontains=q)
                                      | Q(clauses__title__icontains=q))
        qs = qs.filter(pk__in=found.values("pk"))
    level = request.GET.get("level") or ""
    if level:
        qs = qs.filter(level=level)
    status = request.GET.get("status") or ""
    if status and not access.enterprise_only(user):
        qs = qs.filter(status=status)
    qs = qs.order_by("status", "-effective_from", "code")
    if exports.wants_xlsx(request):
        return exports.export_list(_("Policies"), POLICY_COLUMNS, qs, name="policies")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    region = _region_of(user)
    return render(request, "policies/list.html", {
        "page": page, "q": q, "level": level, "status": status, "levels": forms.LEVEL_CHOICES,
        "statuses": PolicyStatus.choices, "enterprise_mode": access.enterprise_only(user),
        "can_create": access.may_create(user, region), "region": region,
        "can_export": not access.enterprise_only(user) and region is not None,
    })


@login_required
def policy_new(request):
    region = _region_of(request.user)
    if not access.may_create(request.user, region):
        raise PermissionDenied
    form = forms.PolicyForm(request.POST or None, user=request.user, region=region)
    if request.method == "POST" and form.is_valid():
        policy = form.save()
        messages.success(request, _("Policy saved as a draft. Now add its clauses."))
        return redirect("policy_detail", pk=policy.pk)
    return render(request, "policies/policy_form.html", {"form": form, "policy": None})


@login_required
def policy_edit(request, pk: int):
    policy = _maintained(request.user, pk)
    form = forms.PolicyForm(request.POST or None, instance=policy, user=request.user, region=policy.region)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            policy = form.save()
            if policy.is_published:
                services.after_policy_change(policy)
        messages.success(request, _("Policy saved."))
        return redirect("policy_detail", pk=policy.pk)
    return render(request, "policies/policy_form.html", {"form": form, "policy": policy})


def _clause_rows(policy: Policy, user) -> list[dict]:
    """Each clause with its conditions in words; for an enterprise, its own result and whether it may apply."""
    enterprise = user.enterprise if access.enterprise_only(user) and user.enterprise_id else None
    facts = profile_facts.enterprise_facts(enterprise) if enterprise else None
    policy_spec = policy.spec(with_clauses=False)
    rows = []
    for clause in policy.clauses.all():
        spec = clause.spec(policy_spec)
        row = {"clause": clause, "outline": wording.outline(spec, policy.region), "spec": spec,
               "benefit_text": wording.benefit_text(spec, policy.region)}
        if enterprise is not None:
            row["explained"] = wording.explain(spec, facts, services.today(), policy.region)
            row["apply_problem"] = applications.check_can_apply(
                clause, enterprise, eligible=row["explained"].outcome.eligible) if clause.needs_application else ""
        rows.append(row)
    return rows


@login_required
def policy_detail(request, pk: int):
    policy = _policy(request.user, pk)
    can_maintain = access.may_maintain(request.user, policy)
    stats = {}
    if not access.enterprise_only(request.user):
        stats = {pk: {"eligible": row.eligible, "unknown": row.unknown}
                 for pk, row in matches.clause_rows(policy.clauses.all()).items()}
    rows = _clause_rows(policy, request.user)
    for row in rows:
        row["stats"] = stats.get(row["clause"].pk, {})
    return render(request, "policies/detail.html", {
        "policy": policy, "rows": rows, "can_maintain": can_maintain,
        "enterprise_mode": access.enterprise_only(request.user),
    })


@login_required
@require_POST
def policy_publish(request, pk: int):
    policy = _maintained(request.user, pk)
    if not policy.clauses.exists():
        messages.error(request, _("Add at least one clause before publishing."))
        return redirect("policy_detail", pk=pk)
    try:
        summary = services.publish(policy, request.user)
    except (RuleError, ValidationError) as e:
        messages.error(request, str(e))
        return redirect("policy_detail", pk=pk)
    messages.success(request, _("Published. %(eligible)s enterprises qualify, %(unknown)s may qualify.") % {
        "eligible": summary.eligible, "unknown": summary.unknown})
    return redirect("policy_detail", pk=pk)


@login_required
@require_POST
def policy_retire(request, pk: int):
    policy = _maintained(request.user, pk)
    services.retire(policy, request.user)
    messages.success(request, _("Retired: enterprises no longer see this policy."))
    return redirect("policy_detail", pk=pk)


# --- the clause builder -----------------------------------------------------------------------------

def _builder_config(region) -> dict:
    fields = [{"code": f.code, "label": f.label, "type": f.datatype, "unit": f.unit} for f in wording.fields(region)]
    return {
        "fields": fields,
        "operators": {op: str(label) for op, label in wording.OPERATORS.items()},
        "opsByType": forms.OPS_BY_TYPE,
        "tags": list(Tag.objects.order_by("name").values_list("name", flat=True)[:500]),
        "text": {
            "all": _("all of"), "any": _("any of"), "not": _("not"), "remove": _("remove"),
            "addCondition": _("+ condition"), "addGroup": _("+ group"), "addExpression": _("+ expression"),
            "expression": _("expression (for experts)"), "listHint": _("comma-separated"),
            "from": _("from"), "to": _("to"), "noConditions": _("No conditions: every enterprise qualifies."),
            "otherField": _("(field not in the catalog)"), "yes": _("yes"), "no": _("no"),
        },
    }


def _clause_form_page(request, policy: Policy, clause: PolicyClause | None):
    instance = clause or PolicyClause(policy=policy, sort_order=policy.clauses.count())
    form = forms.ClauseForm(request.POST or None, instance=instance, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                clause = form.save()
                services.after_clause_change(clause)
        except ValidationError as e:
            form.add_error(None, e)
        else:
            messages.success(request, _("Clause saved."))
            return redirect(reverse("policy_detail", args=[policy.pk]) + f"#clause-{clause.pk}")
    region = policy.region
    return render(request, "policies/clause_form.html", {
        "form": form, "policy": policy, "clause": clause,
        "config": _builder_config(region),
        "functions": [(name, wording.FUNCTION_HELP[name]) for name in sorted(FUNCTIONS)],
        "fields": wording.fields(region),
        "enterprises": scopes.enterprises(request.user).filter(region=region).order_by("name")[:50],
    })


@login_required
def clause_new(request, pk: int):
    return _clause_form_page(request, _maintained(request.user, pk), None)


@login_required
def clause_edit(request, pk: int):
    clause = get_object_or_404(access.clauses(request.user), pk=pk)
    if not access.may_maintain(request.user, clause.policy):
        raise PermissionDenied
    return _clause_form_page(request, clause.policy, clause)


@login_required
@require_POST
def clause_delete(request, pk: int):
    clause = get_object_or_404(access.clauses(request.user), pk=pk)
    policy = clause.policy
    if not access.may_maintain(request.user, policy):
        raise PermissionDenied
    if clause.payouts.exists() or clause.applications.exists():
        messages.error(request, _("This clause has applications or payouts and cannot be deleted."))
    else:
        clause.delete()
        messages.success(request, _("Clause deleted."))
    return redirect("policy_detail", pk=policy.pk)


def _builder_region(request):
    region = _region_of(request.user)
    if region is None:
        raise PermissionDenied
    return region


@login_required
@require_POST
def builder_check(request):
    """HTMX: validate the benefit formula (and the conditions) while the user types."""
    if access.enterprise_only(request.user):
        raise PermissionDenied
    region = _builder_region(request)
    expression, error, unknown = forms.check_benefit(request.POST.get("benefit"), region)
    _data, conditions_error = forms.parse_conditions(request.POST.get("conditions_json"), region)
    known = wording.labels(region)
    return render(request, "policies/_builder_check.html", {
        "expression": expression, "error": error, "unknown": unknown, "conditions_error": conditions_error,
        "names": [(n, wording.field_label(n, known=known)) for n in sorted(expression.names)] if expression else [],
        "words": wording.formula_text(expression, known, money=True) if expression else "",
        "benefit": (request.POST.get("benefit") or "").strip(),
    })


@login_required
@require_POST
def builder_try(request):
    """HTMX: evaluate the draft clause against one enterprise, with the explanation."""
    if access.enterprise_only(request.user):
        raise PermissionDenied
    region = _builder_region(request)
    enterprise = scopes.enterprises(request.user).filter(pk=request.POST.get("try_enterprise") or 0).first()
    context: dict = {"enterprise": enterprise}
    data, error = forms.parse_conditions(request.POST.get("conditions_json"), region)
    _expr, benefit_error, _unknown = forms.check_benefit(request.POST.get("benefit"), region)
    error = error or benefit_error
    if enterprise is None:
        error = error or _("Choose an enterprise to try the clause on.")
    if not error:
        raw = {"code": request.POST.get("code") or "DRAFT", "title": request.POST.get("title") or "—"}
        if data:
            raw["conditions"] = data
        if (request.POST.get("benefit") or "").strip():
            raw["benefit"] = request.POST["benefit"].strip()
        try:
            spec = yamlio.parse_clause(raw, _("draft"))
        except RuleError as e:
            error = str(e)
        else:
            on = services.today()
            facts = profile_facts.enterprise_facts(enterprise, on=on)
            context["explained"] = wording.explain(spec, facts, on, region)
            context["lines"] = cl.explain(spec, facts, on)
    context["error"] = error
    return render(request, "policies/_builder_try.html", context)


@login_required
def builder_enterprises(request):
    """HTMX: enterprises to try the draft on (name or credit code)."""
    if access.enterprise_only(request.user):
        raise PermissionDenied
    q = (request.GET.get("try_q") or "").strip()
    qs = scopes.enterprises(request.user)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(uscc__startswith=q.upper()))
    return render(request, "policies/_enterprise_options.html", {"enterprises": qs.order_by("name")[:50]})


# --- YAML -----------------------------------------------------------------------------------------

@login_required
def policy_import(request):
    user = request.user
    if access.enterprise_only(user):
        raise PermissionDenied
    regions = scopes.regions(user)
    form = forms.ImportForm(request.POST or None, request.FILES or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        try:
            counts = services.import_yaml(form.cleaned_data["yaml"], form.cleaned_data["region"], actor=user,
                                          allowed=lambda region, depts: access.may_import(user, region, depts))
        except PermissionError as e:
            raise PermissionDenied(str(e)) from None
        except (RuleError, LookupError, ValidationError) as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Imported %(policies)s policies with %(clauses)s clauses "
                                        "(%(created)s new, %(updated)s updated).") % counts)
            return redirect("policy_list")
    return render(request, "policies/import.html", {"form": form})


@login_required
def policy_export(request):
    if access.enterprise_only(request.user):
        raise PermissionDenied
    code = request.GET.get("region") or ""
    region = scopes.regions(request.user).filter(code=code).first() if code else _region_of(request.user)
    if region is None:
        raise Http404
    response = HttpResponse(services.export_yaml(region.code), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="policies-{region.code}.yaml"'
    return response


# --- the enterprise's space (千企千面) --------------------------------------------------------------------

def my_summary(user) -> dict | None:
    """Counts for the enterprise home card: eligible clauses and their estimated total."""
    if not user.enterprise_id:
        return None
    found = matches.for_enterprise(user.enterprise_id)
    eligible = [m for m in found if m.status == MatchStatus.ELIGIBLE]
    return {"eligible": len(eligible), "total": sum((m.amount or 0) for m in eligible),
            "unknown": len(found) - len(eligible)}


@login_required
def my_policies(request):
    user = request.user
    if not user.enterprise_id:
        raise PermissionDenied
    enterprise = user.enterprise
    on = services.today()
    facts = profile_facts.enterprise_facts(enterprise, on=on)
    applied = {a.clause_id: a for a in Application.objects.filter(enterprise=enterprise).exclude(
        status=ApplicationStatus.REJECTED)}
    paid_clauses = set(Payout.objects.filter(enterprise=enterprise).values_list("clause_id", flat=True))
    eligible, maybe = [], []
    for match in matches.for_enterprise(enterprise):
        item = {"match": match, "clause": match.clause,
                "explained": wording.explain(match.clause.spec(), facts, on, enterprise.region),
                "missing": wording.missing_words(match.missing, enterprise.region),
                "application": applied.get(match.clause_id), "granted": match.clause_id in paid_clauses}
        if match.clause.needs_application and not item["application"] and not item["granted"]:
            item["apply_problem"] = applications.check_can_apply(match.clause, enterprise, on,
                                                                 eligible=item["explained"].outcome.eligible)
        (eligible if match.status == MatchStatus.ELIGIBLE else maybe).append(item)
    total = sum((i["match"].amount or 0) for i in eligible)
    return render(request, "policies/mine.html", {
        "enterprise": enterprise, "eligible": eligible, "maybe": maybe, "total": total,
        "payouts": Payout.objects.filter(enterprise=enterprise).select_related("clause", "clause__policy"),
        "applications": Application.objects.filter(enterprise=enterprise).select_related("clause", "clause__policy"),
    })


@login_required
def clause_apply(request, pk: int):
    user = request.user
    clause = get_object_or_404(access.clauses(user), pk=pk)
    if not user.enterprise_id or not access.enterprise_only(user):
        raise PermissionDenied
    enterprise = user.enterprise
    problem = applications.check_can_apply(clause, enterprise)
    form = forms.ApplyForm(request.POST or None, request.FILES or None, clause=clause)
    if request.method == "POST" and not problem and form.is_valid():
        try:
            application = applications.submit(clause, enterprise, user, form.files_by_material(),
                                              note=form.cleaned_data["note"])
        except applications.ApplicationError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Application submitted. The department reviews it by %(due)s.") % {
                "due": timezone.localtime(application.review_due).strftime("%Y-%m-%d")})
            return redirect("policy_application_detail", pk=application.pk)
    explained = explanations.explain_for(clause, enterprise)
    return render(request, "policies/apply.html", {
        "clause": clause, "form": form, "problem": problem, "explained": explained,
    })


# --- 免申即享: the department's list to confirm -----------------------------------------------------------

@login_required
def clause_confirm(request, pk: int):
    clause = get_object_or_404(access.clauses(request.user), pk=pk)
    if not access.may_maintain(request.user, clause.policy):
        raise PermissionDenied
    if not clause.no_application:
        raise Http404
    candidates = services.confirmable(clause)
    if request.method == "GET" and exports.wants_xlsx(request):
        return exports.export_list(f"{_('Granted without application')} {clause.code}", CANDIDATE_COLUMNS, candidates,
                                   name=f"candidates-{clause.code}")
    if request.method == "POST":
        try:
            payouts = services.confirm_payouts(clause, request.POST.getlist("enterprise"), request.user)
        except services.PayoutError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("%(n)s payouts approved.") % {"n": len(payouts)})
            return redirect(reverse("policy_payouts") + f"?clause={clause.pk}")
    return render(request, "policies/confirm.html", {
        "clause": clause, "candidates": candidates,
        "total": sum((m.amount or 0) for m in candidates),
        "confirmed": clause.payouts.count(),
    })


@login_required
def payout_list(request):
    user = request.user
    form = forms.PayoutFilter(request.GET or None)
    qs = form.apply(access.payouts(user)).select_related("clause", "clause__policy", "enterprise").order_by(
        "-approved_at", "-id")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("Payouts"), PAYOUT_COLUMNS, qs, name="payouts")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    applications_shown = [p.application_id for p in page if p.application_id]
    visible_applications = set(access.applications(user).filter(pk__in=applications_shown).values_list("pk", flat=True))
    for payout in page:
        payout.can_pay = payout.status == PayoutStatus.APPROVED and access.may_maintain(user, payout.clause.policy)
        payout.form = forms.PaymentForm(payout=payout, prefix=f"p{payout.pk}") if payout.can_pay else None
    return render(request, "policies/payouts.html", {
        "page": page, "form": form, "visible_applications": visible_applications,
        "enterprise_mode": access.enterprise_only(user),
    })


@login_required
@require_POST
def payout_pay(request, pk: int):
    payout = get_object_or_404(access.payouts(request.user), pk=pk)
    if not access.may_maintain(request.user, payout.clause.policy):
        raise PermissionDenied
    form = forms.PaymentForm(request.POST, prefix=f"p{payout.pk}")
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            services.record_payment(payout, request.user, **form.cleaned_data)
        except (services.PayoutError, applications.ApplicationError) as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("Payment recorded."))
    return redirect(request.POST.get("next") or reverse("policy_payouts"))


# --- applications -----------------------------------------------------------------------------------

@login_required
def application_list(request):
    user = request.user
    form = forms.ApplicationFilter(request.GET or None)
    qs = form.apply(access.applications(user)).order_by("review_due", "-id")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("Applications"), APPLICATION_COLUMNS, qs, name="applications")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    now = timezone.now()
    for application in page:
        left = application.workdays_left(now)
        application.clock = None if left is None else {"overdue": left < 0, "days": abs(left),
                                                       "pending": application.is_pending}
    return render(request, "policies/applications.html", {
        "page": page, "form": form, "enterprise_mode": access.enterprise_only(user),
    })


@login_required
def application_detail(request, pk: int):
    application = get_object_or_404(access.applications(request.user), pk=pk)
    left = application.workdays_left()
    actions = [{"action": a, "form": forms.DecisionForm(action=a.name, prefix=a.name,
                                                        initial={"amount": _estimate(application)})}
               for a in applications.available_actions(request.user, application)]
    payout = Payout.objects.filter(application=application).first()
    pay_form = None
    if payout and payout.status == PayoutStatus.APPROVED and access.may_maintain(request.user, payout.clause.policy):
        pay_form = forms.PaymentForm(payout=payout, prefix=f"p{payout.pk}")
    return render(request, "policies/application_detail.html", {
        "application": application, "actions": actions, "payout": payout, "pay_form": pay_form,
        "clock": None if left is None else {"overdue": left < 0, "days": abs(left), "pending": application.is_pending},
        "events": [{"event": e, "label": applications.ACTION_LABELS.get(e.action, e.action),
                    "from": ApplicationStatus(e.from_status).label if e.from_status else "",
                    "to": ApplicationStatus(e.to_status).label}
                   for e in application.events.select_related("actor")],
        "enterprise_mode": access.enterprise_only(request.user),
    })


def _estimate(application):
    if application.amount is not None:
        return application.amount
    try:
        return explanations.explain_for(application.clause, application.enterprise).outcome.amount
    except RuleError:
        return None


@login_required
@require_POST
def application_act(request, pk: int, action: str):
    application = get_object_or_404(access.applications(request.user), pk=pk)
    form = forms.DecisionForm(request.POST, action=action, prefix=action)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("policy_application_detail", pk=pk)
    try:
        applications.perform(application, action, request.user, request.POST.get("version", ""),
                             **{k: v for k, v in form.cleaned_data.items() if v not in (None, "")})
    except applications.NotAllowed:
        raise PermissionDenied from None
    except applications.ApplicationError as e:
        messages.error(request, str(e))
    return redirect("policy_application_detail", pk=pk)


@login_required
def material_download(request, pk: int, material_id: int):
    application = get_object_or_404(access.applications(request.user), pk=pk)
    material = get_object_or_404(application.materials, pk=material_id)
    return FileResponse(material.file.open("rb"), as_attachment=True, filename=material.filename)


# --- performance ------------------------------------------------------------------------------------

def _performance_policy(request, pk):
    policy = _policy(request.user, pk)
    if access.enterprise_only(request.user):
        raise PermissionDenied
    return policy


@login_required
def policy_performance(request, pk: int):
    policy = _performance_policy(request, pk)
    f = performance.figures(policy)
    return render(request, "policies/performance.html", {
        "policy": policy, "f": f,
        "segments": [(_("By size"), f.by_size), (_("By industry"), f.by_industry),
                     (_("By jurisdiction"), f.by_jurisdiction)],
        "chart": {"labels": [s.label for s in f.by_jurisdiction], "eligible": [s.eligible for s in f.by_jurisdiction],
                  "granted": [s.granted for s in f.by_jurisdiction]},
    })


@login_required
def policy_performance_xlsx(request, pk: int):
    policy = _performance_policy(request, pk)
    name = f"performance-{policy.code}.xlsx"
    return exports.download(performance.workbook(performance.figures(policy)), exports.XLSX, name, name)
