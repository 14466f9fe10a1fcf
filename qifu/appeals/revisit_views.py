"""The revisit queue (回访, `/appeals/revisits/`): the closed cases in the sample, filtered, exported to Excel, each
with a form to record the call's outcome — a dissatisfied enterprise reopens its case. Below it, 好差评 per lead
unit over the cases the caller sees. The rules are in `.revisits` and `.workflow`."""

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qifu.accounts import scopes
from qifu.lib import exports
from qifu.lib.filters import DateRangeForm

from . import revisits, workflow
from .forms import _styled
from .models import Revisit, RevisitOutcome

REASONS = {"difficult": gettext_lazy("difficult case"), "complaint": gettext_lazy("complaint"),
           "sample": gettext_lazy("sampled")}


class RevisitFilter(DateRangeForm):
    date_field = "due_at"
    date_labels = (gettext_lazy("due from"), gettext_lazy("due until"))

    state = djforms.ChoiceField(label=gettext_lazy("state"), required=False,
                                choices=[("", gettext_lazy("any")), *Revisit.State.choices])
    outcome = djforms.ChoiceField(label=gettext_lazy("outcome"), required=False,
                                  choices=[("", gettext_lazy("any")), *RevisitOutcome.choices])
    lead_department = djforms.ChoiceField(label=gettext_lazy("lead department"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_department"].choices = [("", _("any")), *scopes.departments(user).values_list("code", "name")]
        _styled(self)

    def filter(self, qs, data):
        if data.get("state"):
            qs = qs.filter(state=data["state"])
        if data.get("outcome"):
            qs = qs.filter(outcome=data["outcome"])
        if data.get("lead_department"):
            qs = qs.filter(appeal__lead_department__code=data["lead_department"])
        return qs


class OutcomeForm(djforms.Form):
    outcome = djforms.ChoiceField(label=gettext_lazy("outcome"), choices=RevisitOutcome.choices)
    note = djforms.CharField(label=gettext_lazy("note"), required=False, max_length=2000,
                             widget=djforms.TextInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].widget.attrs["placeholder"] = _("note (required when not satisfied)")
        _styled(self)


REVISIT_COLUMNS = [
    (gettext_lazy("number"), lambda r: r.appeal.number), (gettext_lazy("enterprise"), lambda r: r.appeal.enterprise.name),
    (gettext_lazy("title"), lambda r: r.appeal.title),
    (gettext_lazy("lead department"), lambda r: r.appeal.lead_department.name if r.appeal.lead_department else ""),
    (gettext_lazy("why it is called"), lambda r: REASONS.get(r.reason, r.reason)), (gettext_lazy("call due"), lambda r: r.due_at),
    (gettext_lazy("state"), lambda r: r.get_state_display()),
    (gettext_lazy("outcome"), lambda r: r.get_outcome_display() if r.outcome else ""), (gettext_lazy("note"), lambda r: r.note),
    (gettext_lazy("called by"), lambda r: (r.done_by.display_name or r.done_by.username) if r.done_by else ""),
    (gettext_lazy("called at"), lambda r: r.done_at),
]


def _caller(user) -> None:
    if not revisits.may_call(user):
        raise PermissionDenied


@login_required
def revisit_list(request):
    user = request.user
    _caller(user)
    form = RevisitFilter(request.GET or None, user=user)
    qs = form.apply(revisits.queue(user)).order_by("state", "due_at", "pk")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("Revisits"), REVISIT_COLUMNS, qs.select_related(
            "appeal__enterprise", "appeal__lead_department", "done_by"), name="revisits")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    now = timezone.now()
    for revisit in page.object_list:
        revisit.reason_label = REASONS.get(revisit.reason, revisit.reason)
        revisit.is_overdue = revisits.overdue(revisit, now)
        revisit.form = OutcomeForm(prefix=f"r{revisit.pk}") if revisit.state == Revisit.State.PENDING else None
    return render(request, "appeals/revisits.html", {
        "form": form, "page": page,
        "ratings": revisits.ratings_by_unit(scopes.appeals(user)),
        "pending": revisits.queue(user).filter(state=Revisit.State.PENDING).count()})


@login_required
@require_POST
def revisit_record(request, pk: int):
    user = request.user
    _caller(user)
    form = OutcomeForm(request.POST, prefix=f"r{pk}")
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose the outcome of the call."))
    try:
        revisit = workflow.record_revisit(pk, user, form.cleaned_data["outcome"], form.cleaned_data["note"])
    except Revisit.DoesNotExist:
        raise Http404 from None
    except workflow.NotAllowed:
        raise PermissionDenied from None
    except workflow.TransitionError as error:
        messages.error(request, str(error))
        return redirect("revisit_list")
    if revisit.outcome == RevisitOutcome.DISSATISFIED:
        messages.warning(request, _("Appeal %(n)s reopened: back with the lead unit.") % {"n": revisit.appeal.number})
    else:
        messages.success(request, _("Revisit of appeal %(n)s recorded.") % {"n": revisit.appeal.number})
    return redirect("revisit_list")
