"""Pages of the escalation ladder and the fallback lane: the meetings of the bodies a user belongs to (the leader's
page: what is escalated to the meetings they chair), one meeting (agenda, minutes, decisions → tasks), the lists of
escalated and fallback cases (filtered, exported to Excel), the 提级协调审批表 as Word, and marking a task done.

Thin like the other pages: the rules are in `.escalation` and `.workflow`, querysets come from `accounts.scopes`.
"""


from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, TextField
from django.db.models.functions import Cast
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from qifu.accounts import scopes
from qifu.accounts.models import User
from qifu.lib import exports, uploads
from qifu.lib.filters import DateRangeForm

from . import documents, escalation, queries, workflow
from .forms import _styled
from .models import (
    FALLBACK_CATEGORIES,
    OPEN_STATUSES,
    AgendaItem,
    AppealEvent,
    AppealTask,
    AttachmentKind,
    FallbackReason,
    Level,
    Meeting,
    MeetingAttachment,
)
from .views import _with_clock, enterprise_mode

YES_NO = [("", gettext_lazy("any")), ("yes", gettext_lazy("yes")), ("no", gettext_lazy("no"))]


def _staff(user) -> None:
    if enterprise_mode(user) or not (user.roles & scopes.STAFF_ROLES):
        raise PermissionDenied


# --- the lists ----------------------------------------------------------------------------------------------

class LadderFilter(djforms.Form):
    q = djforms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    level = djforms.ChoiceField(label=gettext_lazy("escalation level"), required=False,
                                choices=[("", gettext_lazy("any")), *Level.choices])
    pending = djforms.ChoiceField(label=gettext_lazy("escalation awaits a decision"), required=False, choices=YES_NO)
    open = djforms.ChoiceField(label=gettext_lazy("open"), required=False, choices=YES_NO)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"placeholder": _("Number, title or enterprise"), "type": "search"})
        _styled(self)

    def apply(self, qs):
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data.get("q"):
            q = data["q"].strip()
            qs = qs.filter(Q(title__icontains=q) | Q(number__icontains=q) | Q(enterprise__name__icontains=q))
        if data.get("level"):
            qs = qs.filter(escalation_level=int(data["level"]))
        if data.get("pending") == "yes":
            qs = qs.filter(escalation_requested_at__isnull=False)
        elif data.get("pending") == "no":
            qs = qs.filter(escalation_requested_at__isnull=True)
        if data.get("open") == "yes":
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif data.get("open") == "no":
            qs = qs.exclude(status__in=OPEN_STATUSES)
        return qs


class FallbackFilter(djforms.Form):
    q = djforms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    category = djforms.ChoiceField(label=gettext_lazy("class"), required=False, choices=[
        ("", gettext_lazy("any")), *[(c.value, c.label) for c in FALLBACK_CATEGORIES]])
    reason = djforms.ChoiceField(label=gettext_lazy("why"), required=False,
                                 choices=[("", gettext_lazy("any")), *FallbackReason.choices])
    open = djforms.ChoiceField(label=gettext_lazy("open"), required=False, choices=YES_NO)
    overdue = djforms.ChoiceField(label=gettext_lazy("overdue"), required=False, choices=YES_NO)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"placeholder": _("Number, title or enterprise"), "type": "search"})
        _styled(self)

    def apply(self, qs):
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data.get("q"):
            q = data["q"].strip()
            qs = qs.filter(Q(title__icontains=q) | Q(number__icontains=q) | Q(enterprise__name__icontains=q))
        if data.get("category"):
            qs = qs.filter(category=data["category"])
        if data.get("reason"):  # membership in the JSON list, the same on SQLite and PostgreSQL
            qs = qs.annotate(reasons_text=Cast("fallback_reasons", TextField())).filter(
                reasons_text__contains=f'"{data["reason"]}"')
        if data.get("open") == "yes":
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif data.get("open") == "no":
            qs = qs.exclude(status__in=OPEN_STATUSES)
        overdue = {"yes": True, "no": False}.get(data.get("overdue") or "")
        if overdue is not None:
            qs = queries.filtered(qs, overdue=overdue)
        return qs


def _list_page(request, *, qs, form, title: str, template_rows: str, export_name: str, columns):
    qs = queries.with_related(form.apply(qs))
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(title, columns, qs, name=export_name)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    _with_clock(page.object_list)
    return render(request, "appeals/ladder_list.html", {
        "title": title, "form": form, "page": page, "rows": template_rows})


def _unit(a) -> str:
    return a.lead_department.name if a.lead_department else ""


def escalated_cases(user):
    """The escalated list's cases (before its filters): escalated (level 2–4), awaiting a decision, or ever put up
    the ladder."""
    ladder_events = AppealEvent.objects.filter(appeal=OuterRef("pk"), action="escalate")
    return scopes.appeals(user).filter(Q(escalation_level__gte=2) | Q(escalation_requested_at__isnull=False)
                                       | Exists(ladder_events)).order_by("-escalation_level", "-received_at", "-pk")


@login_required
def escalated_list(request):
    """Cases on the ladder: escalated (level 2–4), awaiting a decision, or refused once (a second assignment)."""
    user = request.user
    _staff(user)
    qs = escalated_cases(user)
    columns = [(_("number"), lambda a: a.number), (_("enterprise"), lambda a: a.enterprise.name),
               (_("title"), lambda a: a.title), (_("escalation level"), lambda a: a.get_escalation_level_display()),
               (_("escalation requested at"), lambda a: a.escalation_requested_at), (_("lead department"), _unit),
               (_("status"), lambda a: a.get_status_display()), (_("due"), lambda a: a.due_at)]
    return _list_page(request, qs=qs, form=LadderFilter(request.GET or None), title=_("Escalated cases"),
                      template_rows="escalated", export_name="escalated", columns=columns)


@login_required
def fallback_list(request):
    """The fallback lane (兜底办): its cases by class (现场办, 局长办, 研讨办), with why they qualify."""
    user = request.user
    _staff(user)
    qs = scopes.appeals(user).filter(category__in=FALLBACK_CATEGORIES).annotate(
        deliberation_count=Count("events", filter=Q(events__action="deliberate"))).order_by("-received_at", "-pk")
    columns = [(_("number"), lambda a: a.number), (_("enterprise"), lambda a: a.enterprise.name),
               (_("title"), lambda a: a.title), (_("class"), lambda a: a.get_category_display()),
               (_("why"), lambda a: "、".join(str(x) for x in a.fallback_reason_labels())),
               (_("deliberations"), lambda a: a.deliberation_count), (_("lead department"), _unit),
               (_("status"), lambda a: a.get_status_display()), (_("due"), lambda a: a.due_at)]
    return _list_page(request, qs=qs, form=FallbackFilter(request.GET or None), title=_("Fallback cases"),
                      template_rows="fallback", export_name="fallback", columns=columns)


# --- the escalation approval form and tasks -----------------------------------------------------------------

@require_GET
@login_required
def escalation_form_view(request, pk: int):
    user = request.user
    _staff(user)
    appeal = get_object_or_404(scopes.appeals(user).select_related("region", "enterprise__jurisdiction",
                                                                  "lead_department"), pk=pk)
    if not appeal.events.filter(action="escalate").exists():
        return HttpResponseBadRequest(_("Only an appeal whose escalation was requested has an escalation form."))
    return exports.download(documents.escalation_form(appeal), exports.DOCX, f"escalation-form-{appeal.number}.docx",
                     f"企业问题提级协调审批表-{appeal.number}.docx")


@require_POST
@login_required
def task_done(request, pk: int, task_id: int):
    appeal = get_object_or_404(scopes.appeals(request.user), pk=pk)
    task = get_object_or_404(AppealTask.objects.select_related("meeting__body"), pk=task_id, appeal=appeal)
    try:
        escalation.complete_task(task, request.user, request.POST.get("note") or "")
    except workflow.NotAllowed:
        raise PermissionDenied from None
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Task marked done."))
    return redirect("appeal_detail", pk=appeal.pk)


# --- meetings -----------------------------------------------------------------------------------------------

class ScheduleForm(djforms.Form):
    body = djforms.ChoiceField(label=gettext_lazy("body"))
    held_on = djforms.DateField(label=gettext_lazy("date"), widget=djforms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    title = djforms.CharField(label=gettext_lazy("title"), required=False, max_length=200)

    def __init__(self, *args, bodies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].choices = [(b.code, b.name) for b in bodies]
        self.fields["held_on"].initial = timezone.localdate()
        _styled(self)


class MeetingFilter(DateRangeForm):
    date_field = "held_on"
    date_labels = (gettext_lazy("held from"), gettext_lazy("held until"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


MEETING_COLUMNS = [
    (gettext_lazy("held by"), lambda m: m.body.name), (gettext_lazy("date"), lambda m: m.held_on),
    (gettext_lazy("title"), lambda m: m.title), (gettext_lazy("cases on the agenda"), lambda m: m.items),
    (gettext_lazy("minutes"), lambda m: m.minutes),
]


@login_required
def meetings(request):
    """The leader's page: for each body of the ladder the user belongs to, what awaits its decision, the cases at
    its level not yet settled, and its meetings."""
    user = request.user
    _staff(user)
    bodies = escalation.ladder_bodies(user)
    form = ScheduleForm(request.POST or None, bodies=bodies)
    if request.method == "POST":
        if form.is_valid():
            body = next(b for b in bodies if b.code == form.cleaned_data["body"])
            try:
                meeting = escalation.schedule_meeting(body, form.cleaned_data["held_on"], user,
                                                      form.cleaned_data.get("title") or "")
            except workflow.NotAllowed:
                raise PermissionDenied from None
            except workflow.WorkflowError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Meeting scheduled with %(n)s cases on its agenda.") % {
                    "n": meeting.agenda.count()})
                return redirect("ladder_meeting", pk=meeting.pk)
    held = MeetingFilter(request.GET or None)
    meetings_held = held.apply(Meeting.objects.filter(body__in=bodies)).select_related("body").annotate(
        items=Count("agenda")).order_by("-held_on", "-pk")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(held)
        return exports.export_list(_("Coordination meetings"), MEETING_COLUMNS, meetings_held, name="meetings")
    pending = set(escalation.pending_escalations(user).values_list("pk", flat=True))
    panels = []
    for body in bodies:
        cases = queries.with_related(escalation.cases_at(body).filter(
            pk__in=scopes.appeals(user).values("pk"))).order_by(*escalation.AGENDA_ORDER)
        cases = _with_clock(list(cases[:100]))
        for appeal in cases:
            appeal.to_decide = appeal.pk in pending and appeal.escalation_level == body.escalation_level - 1
        panels.append({
            "body": body, "decides": escalation.may_decide_for(user, body),
            "to_decide": [a for a in cases if a.escalation_level == body.escalation_level - 1],
            "at_level": [a for a in cases if a.escalation_level == body.escalation_level],
            "meetings": meetings_held.filter(body=body)[:10],
        })
    return render(request, "appeals/meetings.html", {"panels": panels, "form": form, "held": held},
                  status=400 if request.method == "POST" else 200)


def _meeting(user, pk: int) -> Meeting:
    meeting = get_object_or_404(Meeting.objects.select_related("body__region"), pk=pk)
    if not escalation.may_run_meeting(user, meeting.body):
        raise Http404
    return meeting


class DecisionForm(djforms.Form):
    conclusion = djforms.CharField(label=gettext_lazy("conclusion"), max_length=10000,
                                   widget=djforms.Textarea(attrs={"rows": 2}))
    task = djforms.CharField(label=gettext_lazy("task"), required=False, max_length=10000,
                             widget=djforms.Textarea(attrs={"rows": 2}))
    owner_department = djforms.ChoiceField(label=gettext_lazy("owner (unit)"), required=False)
    owner_user = djforms.ChoiceField(label=gettext_lazy("owner (person)"), required=False)
    due_on = djforms.DateField(label=gettext_lazy("deadline"), required=False,
                               widget=djforms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, owners=((), ()), **kwargs):
        super().__init__(*args, **kwargs)
        units, people = owners
        self.fields["owner_department"].choices = [("", "—"), *units]
        self.fields["owner_user"].choices = [("", "—"), *people]
        _styled(self)


def _owners(region) -> tuple[list, list]:
    """Who may own a meeting's task: the region's units and its active staff (once per page, not per case)."""
    units = [(d.code, d.name) for d in region.departments.order_by("kind", "code")]
    staff = User.objects.filter(is_active=True, enterprise__isnull=True).filter(
        Q(region=region) | Q(department__region=region) | Q(node__region=region)).distinct()
    people = [(u.username, u.display_name or u.username) for u in staff.order_by("display_name", "username")[:500]]
    return units, people


@login_required
def meeting_detail(request, pk: int):
    user = request.user
    meeting = _meeting(user, pk)
    items = list(meeting.agenda.select_related("appeal__enterprise", "appeal__lead_department")
                 .prefetch_related("appeal__tasks__owner_department", "appeal__tasks__owner_user"))
    if request.GET.get("format") == "xlsx":
        rows = []
        for item in items:
            tasks = [t for t in item.appeal.tasks.all() if t.meeting_id == meeting.pk]
            rows.append([item.order, item.appeal.number, item.appeal.enterprise.name, item.appeal.title,
                         str(item.appeal.get_escalation_level_display()), item.conclusion,
                         "；".join(f"{t.text}（{t.owner_name}，{t.due_on:%Y-%m-%d}）" for t in tasks)])
        data = exports.workbook(_("Agenda"), [_("order"), _("number"), _("enterprise"), _("title"), _("escalation level"),
                                       _("conclusion"), _("tasks")], rows)
        return exports.download(data, exports.XLSX, f"meeting-{meeting.pk}.xlsx", f"{meeting.title}.xlsx")
    status = 200
    failed_item, failed_form = None, None
    owners = _owners(meeting.body.region)
    if request.method == "POST":
        item = get_object_or_404(AgendaItem, pk=request.POST.get("item") or 0, meeting=meeting)
        form = DecisionForm(request.POST, owners=owners, prefix=f"item{item.pk}")
        if form.is_valid():
            data = form.cleaned_data
            try:
                escalation.decide_item(item, user, conclusion=data["conclusion"], task=data.get("task") or "",
                                       owner_department=data.get("owner_department") or "",
                                       owner_user=data.get("owner_user") or "", due_on=data.get("due_on"))
            except workflow.NotAllowed:
                raise PermissionDenied from None
            except workflow.WorkflowError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Decision recorded on %(number)s.") % {"number": item.appeal.number})
                return redirect("ladder_meeting", pk=meeting.pk)
        failed_item, failed_form, status = item.pk, form, 400
    rows = []
    for item in items:
        form = failed_form if item.pk == failed_item else DecisionForm(
            owners=owners, prefix=f"item{item.pk}", initial={"conclusion": item.conclusion})
        tasks = [t for t in item.appeal.tasks.all() if t.meeting_id == meeting.pk]
        rows.append({"item": item, "form": form, "tasks": tasks})
    return render(request, "appeals/meeting.html", {
        "meeting": meeting, "rows": rows, "attachments": meeting.attachments.order_by("uploaded_at", "id"),
        "kinds": [(AttachmentKind.MEETING_MINUTES.value, AttachmentKind.MEETING_MINUTES.label),
                  (AttachmentKind.SIGN_IN_SHEET.value, AttachmentKind.SIGN_IN_SHEET.label),
                  (AttachmentKind.OTHER.value, AttachmentKind.OTHER.label)],
        "today": timezone.localdate()}, status=status)


@require_POST
@login_required
def meeting_minutes(request, pk: int):
    meeting = _meeting(request.user, pk)
    try:
        escalation.record_minutes(meeting, request.user, request.POST.get("minutes") or "")
    except workflow.NotAllowed:
        raise PermissionDenied from None
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Minutes saved."))
    return redirect("ladder_meeting", pk=meeting.pk)


@require_POST
@login_required
def meeting_attach(request, pk: int):
    meeting = _meeting(request.user, pk)
    upload = request.FILES.get("file")
    kind = request.POST.get("kind") or ""
    if upload is None or kind not in AttachmentKind.values:
        messages.error(request, _("Choose a file."))
        return redirect("ladder_meeting", pk=meeting.pk)
    try:
        name = uploads.check(upload, uploads.DOCUMENT)
    except uploads.UploadError as error:
        messages.error(request, str(error))
        return redirect("ladder_meeting", pk=meeting.pk)
    attachment = MeetingAttachment(meeting=meeting, name=name, kind=kind, uploaded_by=request.user)
    attachment.file.save(name, upload, save=False)
    attachment.save()
    messages.success(request, _("Added %(name)s.") % {"name": name})
    return redirect("ladder_meeting", pk=meeting.pk)


@login_required
def meeting_file(request, pk: int, attachment_id: int):
    meeting = _meeting(request.user, pk)
    attachment = get_object_or_404(meeting.attachments, pk=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=attachment.name)

