"""Forms of the appeal pages. They only parse input into what `workflow` takes; the rules are the workflow's."""

from django import forms
from django.utils.translation import gettext_lazy as _

from qifu.accounts import scopes
from qifu.lib.filters import check_range
from qifu.lib.inputs import TEXT_MAX
from qifu.org.models import Section

from .models import (
    FALLBACK_CATEGORIES,
    OPEN_STATUSES,
    REGULAR_CATEGORIES,
    AttachmentKind,
    Category,
    Channel,
    FallbackReason,
    Resolution,
    Scope,
    Status,
)


def _styled(form: forms.BaseForm) -> None:
    """Bootstrap classes on every widget (kept out of the templates)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple, forms.CheckboxInput)):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


REGULAR_CHOICES = [(c.value, c.label) for c in REGULAR_CATEGORIES]
CATEGORY_BLANK = [("", _("not yet classified"))] + REGULAR_CHOICES


STARS = [(str(n), str(n)) for n in range(1, 6)]
# Closing a case records the enterprise's answer: stars or the explicit "not rated" (workflow.NOT_RATED).
RATING_ANSWERS = STARS + [("none", _("not rated"))]
RATING_REQUIRED = _("Choose the enterprise's rating: 1 to 5 stars, or \"not rated\".")


def rating_field(required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(label=_("rating"), choices=RATING_ANSWERS, required=required, widget=forms.RadioSelect,
                             error_messages={"required": RATING_REQUIRED})


# --- intake ----------------------------------------------------------------------------------------

class IntakeForm(forms.Form):
    """The part of a walk-in registration shared by all the problems raised together."""

    enterprise_q = forms.CharField(label=_("Enterprise"), required=False, max_length=200)
    enterprise_uscc = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    contact_name = forms.CharField(label=_("contact person"), required=False, max_length=64)
    contact_phone = forms.CharField(label=_("contact phone"), required=False, max_length=32)
    channel = forms.ModelChoiceField(label=_("channel"), queryset=Channel.objects.none(), to_field_name="code",
                                     empty_label=None)
    category = forms.ChoiceField(label=_("class"), choices=CATEGORY_BLANK, required=False)
    intake_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["channel"].queryset = Channel.objects.filter(active=True)
        self.fields["channel"].initial = "walk_in"
        self.fields["enterprise_q"].widget.attrs.update({
            "placeholder": _("Enterprise name or credit code"), "autocomplete": "off"})
        self.fields["contact_phone"].widget.attrs.update({"inputmode": "tel"})
        _styled(self)

    def clean(self):
        """Which enterprise: the picked match, a typed 18-character code, or the only enterprise this user
        may see with exactly the typed name. Whether the code is right and visible is for the intake to say."""
        data = super().clean()
        picked = (data.get("enterprise_uscc") or "").strip()
        typed = (data.get("enterprise_q") or "").strip()
        compact = typed.replace(" ", "").replace("-", "")
        if picked:
            data["code"] = picked
        elif len(compact) == 18 and any(ch.isdigit() for ch in compact):
            data["code"] = compact
        else:
            same_name = list(scopes.enterprises(self.user).filter(name=typed).values_list("uscc", flat=True)[:2]) \
                if typed else []
            if len(same_name) == 1:
                data["code"] = same_name[0]
            else:
                self.add_error("enterprise_q", _("Pick the enterprise from the matches, or type its 18-character "
                                                 "credit code."))
        return data


class ProblemForm(forms.Form):
    """One problem: one appeal. Solved on the spot: it is closed at once with the answer given."""

    title = forms.CharField(label=_("Problem in a few words"), max_length=200)
    description = forms.CharField(max_length=TEXT_MAX, label=_("Details of the problem"), widget=_textarea(3))
    on_spot = forms.BooleanField(label=_("solved on the spot"), required=False)
    resolution = forms.ChoiceField(label=_("resolution"), choices=Resolution.choices, initial=Resolution.SOLVED,
                                   required=False)
    answer = forms.CharField(max_length=TEXT_MAX, label=_("answer given"), required=False, widget=_textarea(2))
    rating = forms.ChoiceField(label=_("the enterprise's rating"), required=False,
                               choices=[("", "—")] + [(v, f"{v}★") for v, _label in STARS] + [("none", _("not rated"))])
    section = forms.ModelChoiceField(label=_("section"), queryset=Section.objects.none(), to_field_name="code",
                                     required=False, empty_label=_("not yet chosen"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["section"].queryset = scopes.directory(user, Section).order_by("region", "sort_order", "code")
        _styled(self)

    def has_changed(self):
        """An added row counts as blank (and is skipped) until something of the problem is written in it."""
        return bool(set(self.changed_data) & {"title", "description", "on_spot", "answer"})

    def clean(self):
        data = super().clean()
        if data.get("on_spot"):
            if not data.get("resolution"):
                self.add_error("resolution", _("Say how it was resolved."))
            if not (data.get("answer") or "").strip():
                self.add_error("answer", _("Write the answer given on the spot."))
            if not data.get("rating"):
                self.add_error("rating", RATING_REQUIRED)
        return data


ProblemFormSet = forms.formset_factory(ProblemForm, extra=0, min_num=1, validate_min=True, max_num=20,
                                       validate_max=True)


class SubmitForm(forms.Form):
    """An enterprise's own online appeal."""

    title = forms.CharField(label=_("Problem in a few words"), max_length=200)
    description = forms.CharField(max_length=TEXT_MAX, label=_("Details of the problem"), widget=_textarea(5))
    contact_name = forms.CharField(label=_("contact person"), required=False, max_length=64)
    contact_phone = forms.CharField(label=_("contact phone"), required=False, max_length=32)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_phone"].widget.attrs.update({"inputmode": "tel"})
        _styled(self)


# --- the list ---------------------------------------------------------------------------------------

YES_NO = [("", _("any")), ("yes", _("yes")), ("no", _("no"))]
STATUS_FILTERS = {
    "open": ",".join(OPEN_STATUSES),
    "to_dispatch": f"{Status.SUBMITTED},{Status.ACCEPTED}",
}


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("status"), required=False, choices=[
        ("", _("any")), ("open", _("open")), ("to_dispatch", _("waiting for dispatch")), *Status.choices])
    category = forms.ChoiceField(label=_("class"), required=False, choices=[("", _("any")), *Category.choices])
    lead_department = forms.ChoiceField(label=_("lead department"), required=False)
    section = forms.ChoiceField(label=_("section"), required=False)
    node = forms.ChoiceField(label=_("received at (node)"), required=False)
    overdue = forms.ChoiceField(label=_("overdue"), required=False, choices=YES_NO)
    channel = forms.ChoiceField(label=_("channel"), required=False)
    received_after = forms.DateField(label=_("received on or after"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    received_before = forms.DateField(label=_("received before"), required=False,
                                      widget=forms.DateInput(attrs={"type": "date"}))
    closed_after = forms.DateField(label=_("closed on or after"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    closed_before = forms.DateField(label=_("closed before"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    mine = forms.ChoiceField(label=_("registered by me"), required=False, choices=[("", _("any")), ("yes", _("yes"))])
    abnormal = forms.ChoiceField(label=_("abnormal list"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from django.conf import settings

        from .stats import zone_of

        self.zone = zone_of(user) if user is not None else settings.TIME_ZONE
        self.user = user
        any_ = [("", _("any"))]
        if user is not None and user.is_enterprise_user and not (user.roles & scopes.STAFF_ROLES):
            del self.fields["abnormal"]  # an enterprise never sees supervision
        else:
            from qifu.supervision.records import ABNORMAL

            self.fields["abnormal"].choices = any_ + list(ABNORMAL.items())
        self.fields["lead_department"].choices = any_ + [(d.code, d.name) for d in scopes.departments(user)]
        self.fields["section"].choices = any_ + [(s.code, s.name) for s in scopes.sections(user)]
        self.fields["node"].choices = any_ + [(n.code, n.name) for n in scopes.nodes(user).order_by("kind", "code")]
        self.fields["channel"].choices = any_ + list(Channel.objects.all()
                                                     .values_list("code", "label"))
        self.fields["q"].widget.attrs.update({"placeholder": _("Number, title or enterprise"), "type": "search"})
        _styled(self)

    def clean(self):
        data = super().clean()
        check_range(self, "received_after", "received_before")
        return data

    def filters(self) -> dict:
        """Keyword arguments for `queries.filtered` (unknown values are dropped, not guessed)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        status = data.get("status") or None
        return {
            "q": (data.get("q") or "").strip() or None,
            "status": STATUS_FILTERS.get(status, status),
            "category": data.get("category") or None,
            "lead_department": data.get("lead_department") or None,
            "section": data.get("section") or None,
            "node": data.get("node") or None,
            "overdue": {"yes": True, "no": False}.get(data.get("overdue") or ""),
            "abnormal": data.get("abnormal") or None,
            "channel": data.get("channel") or None,
            # local days of the user's region: from the start of the one, before the start of the other
            "received_after": _local_midnight(data.get("received_after"), self.zone),
            "received_before": _local_midnight(data.get("received_before"), self.zone),
            "closed_after": _local_midnight(data.get("closed_after"), self.zone),
            "closed_before": _local_midnight(data.get("closed_before"), self.zone),
            "created_by": self.user if data.get("mine") == "yes" and getattr(self.user, "pk", None) else None,
        }


def _local_midnight(day, zone: str):
    if day is None:
        return None
    import datetime
    from zoneinfo import ZoneInfo

    return datetime.datetime.combine(day, datetime.time(0), tzinfo=ZoneInfo(zone))


# --- actions on one appeal ---------------------------------------------------------------------------

class ActionForm(forms.Form):
    """Base of the small forms on the detail page: `payload()` is what `workflow.perform` takes."""

    def __init__(self, *args, appeal=None, user=None, **kwargs):
        self.appeal, self.user = appeal, user
        super().__init__(*args, **kwargs)
        self.setup()
        _styled(self)

    def setup(self):
        pass

    def payload(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}

    def _departments(self):
        return [(d.code, d.name) for d in scopes.departments(self.user).filter(region_id=self.appeal.region_id)]


class AcceptForm(ActionForm):
    category = forms.ChoiceField(label=_("class"), choices=REGULAR_CHOICES)

    def setup(self):
        self.fields["category"].initial = self.appeal.category or self.appeal.region.rule("appeal_default_category")


class ClassifyForm(ActionForm):
    category = forms.ChoiceField(label=_("class"), choices=Category.choices)
    scope = forms.ChoiceField(label=_("scope"), choices=Scope.choices)
    section = forms.ChoiceField(label=_("section"), required=False)
    fallback_reasons = forms.MultipleChoiceField(
        label=_("fallback lane: why (for a fallback class)"), choices=FallbackReason.choices, required=False,
        widget=forms.CheckboxSelectMultiple)

    def setup(self):
        from . import workflow

        if not workflow.may_dispatch(self.user, self.appeal):  # the fallback task force: into the lane only
            self.fields["category"].choices = [(c.value, c.label) for c in FALLBACK_CATEGORIES]
        self.fields["fallback_reasons"].initial = list(self.appeal.fallback_reasons or [])
        self.fields["category"].initial = self.appeal.category or self.appeal.region.rule("appeal_default_category")
        self.fields["scope"].initial = self.appeal.scope
        self.fields["section"].choices = [("", "—")] + [
            (s.code, s.name) for s in scopes.sections(self.user).filter(region_id=self.appeal.region_id)]
        self.fields["section"].initial = self.appeal.section.code if self.appeal.section_id else ""

    def payload(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}
        if data.get("category") not in FALLBACK_CATEGORIES:
            data.pop("fallback_reasons", None)
        return data


class AssignForm(ActionForm):
    lead_department = forms.ChoiceField(label=_("lead department"))
    assisting_departments = forms.MultipleChoiceField(
        label=_("assisting departments"), required=False, widget=forms.CheckboxSelectMultiple)

    def setup(self):
        departments = self._departments()
        self.fields["lead_department"].choices = [("", "—")] + departments
        self.fields["assisting_departments"].choices = departments
        if self.appeal.section_id and self.appeal.section.lead_department_id:
            self.fields["lead_department"].initial = self.appeal.section.lead_department.code

    def payload(self) -> dict:
        data = self.cleaned_data
        return {"lead_department": data["lead_department"], "assisting_departments": data["assisting_departments"]}


class ReassignForm(AssignForm):
    reason = forms.CharField(max_length=TEXT_MAX, label=_("reason"), widget=_textarea(2))

    def setup(self):
        super().setup()
        self.fields["lead_department"].initial = ""
        self.fields["assisting_departments"].initial = [d.code for d in self.appeal.assisting_departments.all()]

    def payload(self) -> dict:
        return {**super().payload(), "reason": self.cleaned_data["reason"]}


class TextForm(ActionForm):
    text = forms.CharField(max_length=TEXT_MAX, label=_("text"), widget=_textarea(3))


class RequestInputForm(TextForm):
    def setup(self):
        self.fields["text"].label = _("What do you need from the assisting departments?")


class GiveInputForm(TextForm):
    def setup(self):
        self.fields["text"].label = _("Your department's input")


class ReplyForm(ActionForm):
    resolution = forms.ChoiceField(label=_("resolution"), choices=Resolution.choices, widget=forms.RadioSelect)
    text = forms.CharField(max_length=TEXT_MAX, label=_("reply to the enterprise"), widget=_textarea(4))

    def setup(self):
        self.fields["resolution"].initial = self.appeal.resolution or None
        self.fields["text"].initial = self.appeal.reply


class EmptyForm(ActionForm):
    pass


class ConfirmForm(ActionForm):
    rating = rating_field()
    comment = forms.CharField(max_length=TEXT_MAX, label=_("comment"), required=False, widget=_textarea(2))

    def payload(self) -> dict:
        return {"solved": True, **super().payload()}


class RejectForm(ActionForm):
    rating = rating_field(required=False)
    comment = forms.CharField(max_length=TEXT_MAX, label=_("what is still not solved"), widget=_textarea(2))


class ReasonForm(ActionForm):
    reason = forms.CharField(max_length=TEXT_MAX, label=_("reason"), widget=_textarea(2))


class MergeForm(ActionForm):
    into = forms.CharField(label=_("number of the appeal it duplicates"), max_length=32)
    reason = forms.CharField(max_length=TEXT_MAX, label=_("reason"), required=False, widget=_textarea(2))


class SolveOnSpotForm(ActionForm):
    resolution = forms.ChoiceField(label=_("resolution"), choices=Resolution.choices, widget=forms.RadioSelect)
    text = forms.CharField(max_length=TEXT_MAX, label=_("answer given"), widget=_textarea(3))
    rating = rating_field()
    comment = forms.CharField(max_length=TEXT_MAX, label=_("comment"), required=False, widget=_textarea(2))


class EscalateForm(ActionForm):
    """The request (提级协调审批表): the lead unit's opinion, the coordination so far, and the three files — each
    already on the case since it reached its level, or uploaded with this form."""

    reason = forms.CharField(max_length=TEXT_MAX, label=_("opinion of the lead unit: why escalate"),
                             widget=_textarea(2))
    statement = forms.CharField(
        max_length=TEXT_MAX, label=_("coordination so far"), widget=_textarea(4),
        help_text=_("contacts with the enterprise, whether the unit's leaders held a coordination meeting, the "
                    "opinions of the lead and assisting units, how the case was handled"))
    handling_statement = forms.FileField(label=AttachmentKind.HANDLING_STATEMENT.label, required=False)
    meeting_minutes = forms.FileField(label=AttachmentKind.MEETING_MINUTES.label, required=False)
    sign_in_sheet = forms.FileField(label=AttachmentKind.SIGN_IN_SHEET.label, required=False)

    def setup(self):
        from . import escalation

        self.on_file = escalation.escalation_files(self.appeal)
        for kind, attachment in self.on_file.items():
            if attachment is not None:
                self.fields[kind].help_text = _("on file: %(name)s (upload again to replace)") % {
                    "name": attachment.name}

    def clean(self):
        data = super().clean()
        for kind, attachment in getattr(self, "on_file", {}).items():
            if attachment is None and not data.get(kind) and kind not in self.errors:
                self.add_error(kind, _("Upload this file (required for an escalation)."))
        return data

    def payload(self) -> dict:
        return {"reason": self.cleaned_data["reason"], "statement": self.cleaned_data["statement"]}

    def files_to_attach(self) -> list:
        return [(kind, self.cleaned_data[kind]) for kind in ("handling_statement", "meeting_minutes", "sign_in_sheet")
                if self.cleaned_data.get(kind)]


class DecideEscalationForm(AssignForm):
    approve = forms.ChoiceField(label=_("decision"), widget=forms.RadioSelect, choices=[
        ("yes", _("approve: the next level coordinates the case")),
        ("no", _("refuse: assign the case again (second assignment) to the units below"))])
    note = forms.CharField(max_length=TEXT_MAX, label=_("opinion of the body"), required=False, widget=_textarea(2))

    field_order = ["approve", "note", "lead_department", "assisting_departments"]

    def setup(self):
        super().setup()
        self.fields["lead_department"].required = False
        self.fields["lead_department"].label = _("lead unit (on refusal; or to change it)")
        self.fields["lead_department"].initial = self.appeal.lead_department.code if self.appeal.lead_department_id \
            else ""
        self.fields["assisting_departments"].initial = [d.code for d in self.appeal.assisting_departments.all()]

    def payload(self) -> dict:
        data = self.cleaned_data
        approve = data["approve"] == "yes"
        payload = {"approve": approve, "note": data.get("note") or ""}
        if not approve or (data.get("lead_department") and data["lead_department"] != (
                self.appeal.lead_department.code if self.appeal.lead_department_id else None)):
            payload.update({"lead_department": data.get("lead_department") or "",
                            "assisting_departments": data.get("assisting_departments") or []})
        return payload


class DeliberateForm(ActionForm):
    held_on = forms.DateField(label=_("date of the deliberation"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    participants = forms.CharField(max_length=1000, label=_("participants"), widget=_textarea(2))
    conclusion = forms.CharField(max_length=TEXT_MAX, label=_("conclusion"), widget=_textarea(3))

    def setup(self):
        from django.utils import timezone

        self.fields["held_on"].initial = timezone.localdate()


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "accept": AcceptForm,
    "classify": ClassifyForm,
    "assign": AssignForm,
    "reassign": ReassignForm,
    "request_input": RequestInputForm,
    "give_input": GiveInputForm,
    "reply": ReplyForm,
    "mark_handled": EmptyForm,
    "confirm": ConfirmForm,
    "reject_result": RejectForm,
    "withdraw": ReasonForm,
    "merge": MergeForm,
    "solve_on_spot": SolveOnSpotForm,
    "escalate": EscalateForm,
    "decide_escalation": DecideEscalationForm,
    "deliberate": DeliberateForm,
}
