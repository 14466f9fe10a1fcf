"""Pages of supervision (督查督办): the supervisor's desk (chases and inspections to make, slips awaiting answer,
escalations awaiting a decision, the five abnormal lists), each abnormal list with its counts per unit (filtered,
exported to Excel), the slip (督办单) as Word, and the actions on a case — issue a slip, answer it, follow up a chase
or an inspection, give a leader instruction — which answer by showing the case page again.

Thin like the other pages: the rules are in `.records`, querysets come from `accounts.scopes`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.appeals import escalation, queries
from qifu.appeals import forms as appeal_forms
from qifu.appeals.errors import NotAllowed, WorkflowError
from qifu.appeals.models import Appeal
from qifu.appeals.views import _detail, _with_clock
from qifu.lib import exports
from qifu.org.models import Body, BodyMembership

from . import documents, forms, panel, records
from .models import Kind, Record, Slip

DESK_ROWS = 50


def may_use_desk(user) -> bool:
    """Supervisors, admins and the members of a task force (or of one of its groups)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.has_role(Role.SUPERVISOR, Role.ADMIN) or BodyMembership.objects.filter(user=user).filter(
        Q(body__kind=Body.Kind.TASK_FORCE) | Q(body__parent__kind=Body.Kind.TASK_FORCE)).exists()


def _staff(user) -> None:
    if not panel.staff(user):
        raise PermissionDenied


def _case(user, pk: int) -> Appeal:
    return get_object_or_404(queries.with_related(scopes.appeals(user)), pk=pk)


def _refused(request, appeal, name, key, form, error) -> object:
    form.add_error(None, str(error))
    return _detail(request, _case(request.user, appeal.pk), supervision_failed=(name, key, form), error=str(error),
                   status=400)


# --- actions on a case --------------------------------------------------------------------------------------

@require_POST
@login_required
def slip_issue(request, pk: int):
    user = request.user
    _staff(user)
    appeal = _case(user, pk)
    if not records.may_supervise(user, appeal):
        raise PermissionDenied
    form = forms.SlipForm(request.POST, appeal=appeal, user=user)
    if not form.is_valid():
        return _detail(request, appeal, supervision_failed=("slip", None, form), status=400)
    try:
        slip = records.issue_slip(appeal.pk, user, **form.payload())
    except Appeal.DoesNotExist:
        raise Http404 from None
    except NotAllowed:
        raise PermissionDenied from None
    except WorkflowError as error:
        return _refused(request, appeal, "slip", None, form, error)
    messages.success(request, _("Supervision slip %(number)s issued.") % {"number": slip.number})
    return redirect("appeal_detail", pk=appeal.pk)


def _slip(user, slip_id: int) -> Slip:
    """A slip of a case the user may see, for staff (an enterprise never sees slips: 404)."""
    if not panel.staff(user):
        raise Http404
    return get_object_or_404(Slip.objects.select_related("appeal__region", "appeal__enterprise", "lead_department")
                             .filter(appeal__in=scopes.appeals(user)), pk=slip_id)


@require_POST
@login_required
def slip_answer(request, slip_id: int):
    user = request.user
    slip = _slip(user, slip_id)
    form = forms.AnswerForm(request.POST, auto_id=f"id_answer_{slip.pk}_%s")
    if not form.is_valid():
        return _detail(request, _case(user, slip.appeal_id), supervision_failed=("answer", slip.pk, form), status=400)
    try:
        records.answer_slip(slip.pk, user, form.cleaned_data["answer"])
    except Slip.DoesNotExist:
        raise Http404 from None
    except NotAllowed:
        raise PermissionDenied from None
    except WorkflowError as error:
        return _refused(request, slip.appeal, "answer", slip.pk, form, error)
    messages.success(request, _("Supervision slip %(number)s answered.") % {"number": slip.number})
    return redirect("appeal_detail", pk=slip.appeal_id)


@require_GET
@login_required
def slip_docx(request, slip_id: int):
    slip = _slip(request.user, slip_id)
    return exports.download(documents.slip_document(slip), exports.DOCX, f"supervision-slip-{slip.number}.docx",
                     f"督办单-{slip.number}.docx")


@require_POST
@login_required
def follow_up(request, record_id: int):
    user = request.user
    _staff(user)
    record = get_object_or_404(Record.objects.filter(appeal__in=scopes.appeals(user),
                                                     kind__in=(Kind.CHASE, Kind.INSPECTION)), pk=record_id)
    form = forms.FollowUpForm(request.POST, auto_id=f"id_follow_up_{record.pk}_%s")
    back = request.POST.get("next") == "desk"
    if form.is_valid():
        try:
            records.follow_up(record.pk, user, form.cleaned_data["note"])
        except Record.DoesNotExist:
            raise Http404 from None
        except NotAllowed:
            raise PermissionDenied from None
        except WorkflowError as error:
            if back:
                messages.error(request, str(error))
                return redirect("supervision_desk")
            return _refused(request, record.appeal, "follow_up", record.pk, form, error)
        messages.success(request, _("Follow-up recorded."))
        return redirect("supervision_desk") if back else redirect("appeal_detail", pk=record.appeal_id)
    if back:
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("supervision_desk")
    return _detail(request, _case(user, record.appeal_id), supervision_failed=("follow_up", record.pk, form),
                   status=400)


@require_POST
@login_required
def instruct(request, pk: int):
    user = request.user
    _staff(user)
    appeal = _case(user, pk)
    if not records.may_instruct(user, appeal):
        raise PermissionDenied
    form = forms.InstructionForm(request.POST, auto_id="id_instruct_%s")
    if not form.is_valid():
        return _detail(request, appeal, supervision_failed=("instruct", None, form), status=400)
    try:
        records.instruct(appeal.pk, user, form.cleaned_data["text"])
    except Appeal.DoesNotExist:
        raise Http404 from None
    except NotAllowed:
        raise PermissionDenied from None
    except WorkflowError as error:
        return _refused(request, appeal, "instruct", None, form, error)
    messages.success(request, _("Instruction recorded."))
    return redirect("appeal_detail", pk=appeal.pk)


# --- the desk and the abnormal lists ------------------------------------------------------------------------

def abnormal_counts(user) -> list[dict]:
    visible = scopes.appeals(user)
    return [{"name": name, "label": label, "count": records.abnormal(visible, name).count()}
            for name, label in records.ABNORMAL.items()]


def open_followups(user):
    """Chases and inspections not yet followed up, newest first."""
    return Record.objects.filter(appeal__in=scopes.appeals(user), kind__in=(Kind.CHASE, Kind.INSPECTION),
                                 done_at__isnull=True).select_related(
        "appeal__enterprise", "appeal__lead_department", "lead_department").order_by("-at", "-id")


def open_slips(user):
    """Slips awaiting an answer (the overdue ones first: the earliest answer day first)."""
    return Slip.objects.filter(appeal__in=scopes.appeals(user), answered_at__isnull=True).select_related(
        "appeal__enterprise", "lead_department").order_by("reply_due", "issued_at", "id")


def instructed_cases(user):
    """Cases with leader instructions, the latest instruction first (each case with its `latest_instruction`)."""
    from django.db.models import OuterRef, Subquery

    from .models import LeaderInstruction

    latest = LeaderInstruction.objects.filter(appeal=OuterRef("pk")).order_by("-at", "-id")
    return records.abnormal(scopes.appeals(user), "leader_instructed").annotate(
        latest_instruction=Subquery(latest.values("text")[:1]),
        latest_instruction_at=Subquery(latest.values("at")[:1])).select_related(
        "lead_department").order_by("-latest_instruction_at", "-pk")


@login_required
def desk(request):
    user = request.user
    if not may_use_desk(user):
        raise PermissionDenied
    today = timezone.localdate()
    followups = open_followups(user)
    slips = list(open_slips(user)[:DESK_ROWS])
    for slip in slips:
        slip.current_state = slip.state(today)
    pending = _with_clock(list(queries.with_related(escalation.pending_escalations(user))[:DESK_ROWS]))
    return render(request, "supervision/desk.html", {
        "followups": [(r, forms.FollowUpForm(auto_id=f"id_follow_up_{r.pk}_%s")) for r in followups[:DESK_ROWS]],
        "followup_count": followups.count(), "slips": slips, "slip_count": open_slips(user).count(),
        "pending": pending, "abnormal": abnormal_counts(user)})


ABNORMAL_COLUMNS = [
    (gettext_lazy("number"), lambda a: a.number), (gettext_lazy("enterprise"), lambda a: a.enterprise.name),
    (gettext_lazy("title"), lambda a: a.title), (gettext_lazy("class"), lambda a: a.get_category_display()),
    (gettext_lazy("lead department"), lambda a: a.lead_department.name if a.lead_department_id else ""),
    (gettext_lazy("status"), lambda a: a.get_status_display()), (gettext_lazy("received at"), lambda a: a.received_at),
    (gettext_lazy("due"), lambda a: a.due_at), (gettext_lazy("handled at"), lambda a: a.handled_at),
]


@login_required
def abnormal_list(request, name: str):
    user = request.user
    _staff(user)
    if name not in records.ABNORMAL:
        raise Http404
    title = str(records.ABNORMAL[name])
    form = appeal_forms.FilterForm(request.GET or None, user=user)
    form.fields.pop("abnormal", None)
    filters = {k: v for k, v in form.filters().items() if k != "abnormal"}
    qs = queries.filtered(scopes.appeals(user), **filters, abnormal=name).order_by("-received_at", "-pk")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(title, ABNORMAL_COLUMNS, queries.with_related(qs), name=name)
    page = Paginator(queries.with_related(qs), 25).get_page(request.GET.get("page"))
    _with_clock(page.object_list)
    return render(request, "supervision/abnormal.html", {
        "name": name, "title": title, "form": form, "page": page, "units": records.counts_by_unit(qs),
        "lists": [(n, label) for n, label in records.ABNORMAL.items()],
        "desk": may_use_desk(user)})
