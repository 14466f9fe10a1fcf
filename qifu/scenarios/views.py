"""Pages: `/scenarios/` (the region's 一类事 scenarios, filters and Excel), `/scenarios/<code>/` (items by stage, sides,
units, paths, reform measures; start an agency case), `/agency-cases/` (the cases the user may see, Excel) and
`/agency-cases/<id>/` (the enterprise's own flow chart and checklist; the agent works it there). Rules: `.cases`."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qifu.accounts import scopes
from qifu.appeals.errors import NotAllowed, WorkflowError
from qifu.appeals.forms import _styled
from qifu.lib import exports

from . import cases
from .api import counted
from .models import AgencyCase, CaseItem, Kind, LifecycleStage, Origin, ScenarioItem


class ScenarioFilter(forms.Form):
    origin = forms.ChoiceField(label=gettext_lazy("origin"), required=False,
                               choices=[("", gettext_lazy("any")), *Origin.choices])
    stage = forms.ChoiceField(label=gettext_lazy("lifecycle stage"), required=False,
                              choices=[("", gettext_lazy("any")), *LifecycleStage.choices])
    q = forms.CharField(label=gettext_lazy("search"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)

    def apply(self, qs):
        if self.is_bound and not self.is_valid():
            return qs.none()
        data = self.cleaned_data if self.is_bound else {}
        if data.get("origin"):
            qs = qs.filter(origin=data["origin"])
        if data.get("stage"):
            qs = qs.filter(lifecycle_stage=data["stage"])
        if data.get("q"):
            qs = qs.filter(name__icontains=data["q"].strip())
        return qs


def _seeing(user):
    if not (user.is_active and (user.roles or user.is_superuser)):
        raise PermissionDenied


@login_required
def scenario_list(request):
    _seeing(request.user)
    form = ScenarioFilter(request.GET or None)
    qs = counted(form.apply(cases.scenarios(request.user))).order_by("region", "sort_order", "code")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("One-thing scenarios"), [
            (_("code"), lambda s: s.code), (_("name"), lambda s: s.name), (_("annex"), lambda s: s.annex),
            (_("origin"), lambda s: s.get_origin_display()),
            (_("lifecycle stage"), lambda s: s.get_lifecycle_stage_display()),
            (_("chain node"), lambda s: s.chain_node), (_("stages"), lambda s: " → ".join(s.stages)),
            (_("items"), lambda s: s.n_items), (_("basic service items"), lambda s: s.n_basic),
            (_("value-added services"), lambda s: s.n_value_added), (_("enterprise demand"), lambda s: s.demand),
            (_("online path"), lambda s: s.online_path), (_("offline path"), lambda s: s.offline_path),
            (_("reform measures"), lambda s: "\n".join(s.reform_measures)),
        ], qs, name="scenarios")
    return render(request, "scenarios/list.html", {
        "form": form, "scenarios": Paginator(qs, 30).get_page(request.GET.get("page"))})


class StartForm(forms.Form):
    enterprise_uscc = forms.CharField(label=gettext_lazy("Unified social credit code"), max_length=32)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


def _stages(scenario, items):
    out = []
    for name in scenario.stages:
        own = [i for i in items if i.stage == name]
        out.append({"name": name, "basic": [i for i in own if i.kind == Kind.BASIC],
                    "value_added": [i for i in own if i.kind == Kind.VALUE_ADDED]})
    return out


@login_required
def scenario_detail(request, code: str):
    user = request.user
    _seeing(user)
    scenario = get_object_or_404(cases.scenarios(user), code=code)
    items = list(ScenarioItem.objects.filter(scenario=scenario).prefetch_related("units")
                 .select_related("service_item").order_by("order"))
    own = cases.visible(user).filter(scenario=scenario, status=AgencyCase.Status.OPEN)
    return render(request, "scenarios/detail.html", {
        "scenario": scenario, "stages": _stages(scenario, items), "n_items": len(items),
        "n_basic": sum(1 for i in items if i.kind == Kind.BASIC),
        "may_start": cases.may_start(user), "for_itself": scopes.enterprise_only(user),
        "start_form": StartForm(), "open_cases": list(own[:5])})


@login_required
@require_POST
def scenario_start(request, code: str):
    from qifu.accounts import scopes
    from qifu.lib import uscc as uscc_lib

    user = request.user
    scenario = get_object_or_404(cases.scenarios(user), code=code)
    if not cases.may_start(user):
        raise PermissionDenied
    if scopes.enterprise_only(user):
        enterprise = user.enterprise
    else:
        form = StartForm(request.POST)
        code_in = form.data.get("enterprise_uscc", "").strip()
        problem = uscc_lib.problem(code_in) if code_in else _("Enter the enterprise's unified social credit code.")
        enterprise = None if problem else scopes.enterprises(user).filter(uscc=uscc_lib.normalize(code_in)).first()
        if enterprise is None:
            messages.error(request, problem or _("No registered enterprise you may serve has the code %(code)s.") % {
                "code": uscc_lib.normalize(code_in)})
            return redirect("scenario_detail", code=code)
    try:
        case = cases.start(scenario, enterprise, by=user)
    except (WorkflowError, NotAllowed) as error:
        messages.error(request, str(error))
        return redirect("scenario_detail", code=code)
    messages.success(request, _("Agency case started: your agent will follow every item with you."))
    return redirect(case)


class CaseFilter(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("status"), required=False,
                               choices=[("", gettext_lazy("any")), *AgencyCase.Status.choices])
    mine = forms.ChoiceField(label=gettext_lazy("agent"), required=False,
                             choices=[("", gettext_lazy("any")), ("yes", gettext_lazy("my cases"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)

    def apply(self, qs, user):
        if self.is_bound and not self.is_valid():
            return qs.none()
        data = self.cleaned_data if self.is_bound else {}
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("mine") == "yes":
            qs = qs.filter(agent=user)
        return qs


@login_required
def case_list(request):
    user = request.user
    _seeing(user)
    form = CaseFilter(request.GET or None)
    qs = form.apply(cases.visible(user), user).order_by("-opened_at", "-id")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("Agency cases"), [
            (_("number"), lambda c: c.pk), (_("scenario"), lambda c: c.scenario.name),
            (_("enterprise"), lambda c: c.enterprise.name), (_("Unified social credit code"), lambda c: c.enterprise.uscc),
            (_("agent"), lambda c: (c.agent.display_name or c.agent.username) if c.agent else ""),
            (_("status"), lambda c: c.get_status_display()), (_("opened at"), lambda c: c.opened_at),
            (_("completed at"), lambda c: c.closed_at),
        ], qs, name="agency-cases")
    return render(request, "scenarios/case_list.html", {
        "form": form, "page": Paginator(qs, 30).get_page(request.GET.get("page"))})


class AddItemForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("item"), max_length=cases.NAME_MAX)
    stage = forms.ChoiceField(label=gettext_lazy("stage"))
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=Kind.choices, initial=Kind.VALUE_ADDED)
    days = forms.IntegerField(label=gettext_lazy("time limit in working days"), required=False, min_value=1,
                              max_value=999)

    def __init__(self, *args, stages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [(s, s) for s in stages]
        _styled(self)


def _case(user, pk: int) -> AgencyCase:
    case = cases.visible(user).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if case is None:
        raise Http404
    return case


@login_required
def case_detail(request, pk: int):
    user = request.user
    case = _case(user, pk)
    items = list(case.items.select_related("service_item").prefetch_related("documents"))
    flow = cases.flow(case, items)
    work = cases.may_work(user, case)
    return render(request, "scenarios/case.html", {
        "case": case, "flow": flow, "items": items, "current": next((s["name"] for s in flow if s["current"]), None),
        "may_work": work, "may_attach": cases.may_attach(user, case),
        "add_form": AddItemForm(stages=case.scenario.stages) if work else None,
        "agents": list(cases.agents(case.region)) if work else [],
        "n_open": cases.open_count(items), "n_done": sum(1 for i in items if i.status == CaseItem.Status.DONE)})


@login_required
@require_POST
def case_item_action(request, pk: int, item_id: int):
    case = _case(request.user, pk)
    item = get_object_or_404(case.items, pk=item_id)
    action = request.POST.get("action", "")
    try:
        if action == "drop":
            cases.drop(item, request.POST.get("reason", ""), by=request.user)
        elif action == "restore":
            cases.restore(item, by=request.user)
        elif action in ("pending", "in_progress", "done"):
            cases.set_status(item, action, by=request.user)
        else:
            raise cases.TransitionError(_("Unknown action."))
    except (WorkflowError, NotAllowed) as error:
        messages.error(request, str(error))
    return redirect(f"{case.get_absolute_url()}#item-{item.pk}")


@login_required
@require_POST
def case_add_item(request, pk: int):
    case = _case(request.user, pk)
    form = AddItemForm(request.POST, stages=case.scenario.stages)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(case)
    try:
        cases.add(case, form.cleaned_data["name"], form.cleaned_data["stage"], by=request.user,
                  kind=form.cleaned_data["kind"], days=form.cleaned_data["days"])
    except (WorkflowError, NotAllowed) as error:
        messages.error(request, str(error))
    return redirect(case)


@login_required
@require_POST
def case_reassign(request, pk: int):
    from qifu.accounts.models import User

    case = _case(request.user, pk)
    raw = request.POST.get("agent", "")
    agent = User.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None
    try:
        cases.reassign(case, agent, by=request.user)
    except (WorkflowError, NotAllowed) as error:
        messages.error(request, str(error))
    return redirect(case)


@login_required
@require_POST
def case_attach(request, pk: int, item_id: int):
    case = _case(request.user, pk)
    item = get_object_or_404(case.items, pk=item_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file."))
    else:
        try:
            document = cases.attach(item, upload, by=request.user)
        except (WorkflowError, NotAllowed) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Added %(name)s.") % {"name": document.name})
    return redirect(f"{case.get_absolute_url()}#item-{item.pk}")


@login_required
def case_document(request, pk: int, document_id: int):
    """Files are served only to those who may see the case (no public media URL)."""
    from .models import CaseDocument

    case = _case(request.user, pk)
    document = get_object_or_404(CaseDocument, pk=document_id, item__case=case)
    try:
        handle = document.file.open("rb")
    except OSError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=document.name)
