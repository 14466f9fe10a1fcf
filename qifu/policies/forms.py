"""Forms of the policy pages. Rules are checked by the engine (`conditions.parse`, `Expression`) — the
forms only put its messages next to the right field."""

from __future__ import annotations

import datetime
import json

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu.accounts import scopes
from qifu.lib import uploads
from qifu.lib.filters import DateRangeForm
from qifu.org.models import Department
from qifu.rules import conditions as cond
from qifu.rules.expr import Expression
from qifu.rules.values import RuleError

from . import wording
from .models import ApplicationStatus, Level, PayoutStatus, Policy, PolicyClause

OPS_BY_TYPE = {
    "number": ["==", "!=", ">", ">=", "<", "<=", "between", "in", "not_in"],
    "date": ["<", "<=", ">", ">=", "==", "between"],
    "text": ["==", "!=", "in", "not_in", "prefix"],
    "code": ["==", "!=", "in", "not_in", "prefix"],
    "bool": ["==", "!="],
    "tags": ["has_tag"],
}


def styled(form: forms.BaseForm) -> None:
    for f in form.fields.values():
        widget = f.widget
        if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
            widget.attrs.setdefault("class", "form-select")
        elif not isinstance(widget, forms.HiddenInput):
            widget.attrs.setdefault("class", "form-control")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = ["code", "title", "level", "department", "issuer", "document_number", "summary", "source", "url",
                  "contact", "effective_from", "effective_to"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 2}), "source": forms.Textarea(attrs={"rows": 6}),
                   "effective_from": DateInput(), "effective_to": DateInput()}

    def __init__(self, *args, user=None, region=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.region = user, region
        departments = Department.objects.filter(region=region)
        from .access import is_policy_section_staff

        if not scopes.is_admin(user) and not is_policy_section_staff(user, region.pk if region else None):
            # A handler maintains the policies of their own department (谁制定、谁梳理).
            departments = departments.filter(pk=user.department_id)
            self.fields["department"].required = True
            self.fields["department"].empty_label = None
        self.fields["department"].queryset = departments
        if self.instance.pk:
            self.fields["code"].disabled = True
        styled(self)

    def save(self, commit=True):
        policy = super().save(commit=False)
        if not policy.pk:
            policy.region = self.region
            policy.created_by = self.user
        if commit:
            policy.save()
        return policy

    def _post_clean(self):
        if not self.instance.pk:
            self.instance.region = self.region
        super()._post_clean()


class MaterialsField(forms.CharField):
    """Required materials, one per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        names = [line.strip() for line in text.replace("；", "\n").splitlines()]
        return list(dict.fromkeys(n for n in names if n))


def check_types(data, known: dict[str, str], path: str = "conditions") -> list[str]:
    """Values that do not fit their field's type (a number field compared with a word, a bad date)."""
    problems: list[str] = []
    if isinstance(data, dict):
        for key in ("all", "any"):
            for i, child in enumerate(data.get(key) or []):
                problems += check_types(child, known, path)
        if "not" in data:
            problems += check_types(data["not"], known, path)
        if "field" in data and data.get("op") != "has_tag":
            kind = known.get(data["field"])
            values = data.get("value")
            values = values if isinstance(values, list) else [values]
            for value in values:
                if kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
                    problems.append(_("%(field)s: %(value)s is not a number") % {"field": data["field"], "value": value})
                if kind == "bool" and not isinstance(value, bool):
                    problems.append(_("%(field)s: %(value)s is not yes or no") % {"field": data["field"], "value": value})
                if kind == "date":
                    try:
                        datetime.date.fromisoformat(str(value))
                    except ValueError:
                        problems.append(_("%(field)s: %(value)s is not a date (YYYY-MM-DD)") % {
                            "field": data["field"], "value": value})
    return problems


def parse_conditions(text: str, region=None):
    """(data, None) or (None, message): the builder's JSON checked by the engine."""
    text = (text or "").strip()
    if text in ("", "null", "{}"):
        return None, None
    try:
        data = json.loads(text)
    except ValueError as e:
        return None, _("The conditions are not valid JSON: %(error)s") % {"error": e}
    if not data:
        return None, None
    try:
        cond.parse(data)
    except RuleError as e:
        return None, str(e)
    types = {f.code: f.datatype for f in wording.fields(region)}
    problems = check_types(data, types)
    if problems:
        return None, "; ".join(problems)
    return data, None


def check_benefit(text: str, region=None) -> tuple[Expression | None, str | None, list[str]]:
    """(expression, error, names not in the field catalog)."""
    text = (text or "").strip()
    if not text:
        return None, None, []
    try:
        expression = Expression(text)
    except RuleError as e:
        return None, str(e), []
    known = {f.code for f in wording.fields(region)}
    return expression, None, sorted(n for n in expression.names if n not in known and n != "tags")


class ClauseForm(forms.ModelForm):
    conditions_json = forms.CharField(required=False, widget=forms.HiddenInput)
    materials = MaterialsField(label=gettext_lazy("required materials (one per line)"), required=False)

    class Meta:
        model = PolicyClause
        fields = ["code", "title", "description", "benefit", "no_application", "effective_from", "effective_to",
                  "apply_from", "apply_to", "review_days", "materials", "contact", "sort_order"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "effective_from": DateInput(),
                   "effective_to": DateInput(), "apply_from": DateInput(), "apply_to": DateInput(),
                   "benefit": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})}

    def __init__(self, *args, policy: Policy, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.instance.policy = policy
        if not self.is_bound:
            self.initial["conditions_json"] = json.dumps(self.instance.conditions or None, ensure_ascii=False,
                                                         default=str)
        if self.instance.pk:
            self.fields["code"].disabled = True
        styled(self)

    def clean_conditions_json(self):
        data, error = parse_conditions(self.cleaned_data.get("conditions_json"), self.policy.region)
        if error:
            raise forms.ValidationError(error)
        return data

    def clean_benefit(self):
        text = (self.cleaned_data.get("benefit") or "").strip()
        _expr, error, _unknown = check_benefit(text, self.policy.region)
        if error:
            raise forms.ValidationError(error)
        return text

    def _post_clean(self):
        self.instance.conditions = self.cleaned_data.get("conditions_json")
        super()._post_clean()

    def add_error(self, field, error):
        # The model reports rule errors on "conditions"; the builder's field is conditions_json.
        if field == "conditions":
            field = "conditions_json"
        if isinstance(error, forms.ValidationError) and hasattr(error, "error_dict") and "conditions" in error.error_dict:
            error.error_dict["conditions_json"] = error.error_dict.pop("conditions")
        super().add_error(field, error)


class ImportForm(forms.Form):
    file = uploads.FileField(label=gettext_lazy("YAML file"), required=False, kind=uploads.YAML)
    text = forms.CharField(label=gettext_lazy("or paste YAML"), required=False,
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))
    region = forms.ChoiceField(label=gettext_lazy("region"))

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.code, r.name) for r in regions]
        styled(self)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            raw = upload.read()
            try:
                data["yaml"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        elif (data.get("text") or "").strip():
            data["yaml"] = data["text"]
        else:
            raise forms.ValidationError(_("Choose a YAML file or paste its text."))
        return data


class ApplyForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, clause: PolicyClause, **kwargs):
        super().__init__(*args, **kwargs)
        self.clause = clause
        for i, name in enumerate(clause.materials):
            self.fields[f"material_{i}"] = uploads.FileField(label=name, required=True, kind=uploads.DOCUMENT)
        styled(self)

    def files_by_material(self) -> dict:
        return {name: self.cleaned_data.get(f"material_{i}") for i, name in enumerate(self.clause.materials)}


class DecisionForm(forms.Form):
    amount = forms.DecimalField(label=gettext_lazy("granted amount (yuan)"), required=False, min_value=0,
                                max_digits=16, decimal_places=2)
    note = forms.CharField(label=gettext_lazy("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        if action != "approve":
            del self.fields["amount"]
        if action == "start_review":
            del self.fields["note"]
        styled(self)


class PaymentForm(forms.Form):
    paid_amount = forms.DecimalField(label=gettext_lazy("amount paid (yuan)"), min_value=0, max_digits=16,
                                     decimal_places=2)
    paid_on = forms.DateField(label=gettext_lazy("paid on"), widget=DateInput())
    reference = forms.CharField(label=gettext_lazy("payment reference"), required=False, max_length=128)

    def __init__(self, *args, payout=None, **kwargs):
        super().__init__(*args, **kwargs)
        if payout is not None and not self.is_bound:
            self.initial.update({"paid_amount": payout.amount, "paid_on": timezone.localdate()})
        styled(self)


LEVEL_CHOICES = [("", gettext_lazy("all levels"))] + list(Level.choices)


# --- the lists' filters ------------------------------------------------------------------------------------

class _ListFilter(DateRangeForm):
    status = forms.ChoiceField(label=gettext_lazy("status"), required=False)
    statuses: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", gettext_lazy("all statuses")), *self.statuses]
        styled(self)

    def filter(self, qs, data):
        return qs.filter(status=data["status"]) if data.get("status") else qs


class PayoutFilter(_ListFilter):
    date_field = "approved_at"
    date_labels = (gettext_lazy("approved from"), gettext_lazy("approved until"))
    statuses = PayoutStatus.choices

    clause = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filter(self, qs, data):
        qs = super().filter(qs, data)
        return qs.filter(clause_id=data["clause"]) if data.get("clause") else qs


class ApplicationFilter(_ListFilter):
    date_field = "submitted_at"
    date_labels = (gettext_lazy("submitted from"), gettext_lazy("submitted until"))
    statuses = ApplicationStatus.choices

    pending = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def filter(self, qs, data):
        if data.get("pending") and not data.get("status"):
            return qs.filter(status__in=[ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW])
        return super().filter(qs, data)
