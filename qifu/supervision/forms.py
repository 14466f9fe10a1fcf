"""The forms of supervision's pages: issue a slip (督办单), answer it, follow up a chase or an inspection, give a
leader instruction. They parse; `records` decides what is allowed and what it means."""

from django import forms
from django.utils.translation import gettext_lazy as _

from qifu.accounts import scopes
from qifu.appeals.forms import _styled
from qifu.lib import inputs

from . import records
from .models import Slip


def _length(name: str) -> int:
    return Slip._meta.get_field(name).max_length or inputs.TEXT_MAX


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class SlipForm(_Form):
    task = forms.CharField(label=_("supervision task"), max_length=inputs.TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 2}))
    lead_department = forms.ChoiceField(label=_("lead unit"))
    assisting_departments = forms.MultipleChoiceField(label=_("assisting units"), required=False,
                                                      widget=forms.SelectMultiple(attrs={"size": 4}))
    requirements = forms.CharField(label=_("requirements"), max_length=inputs.TEXT_MAX,
                                   widget=forms.Textarea(attrs={"rows": 2}))
    reply_due = forms.DateField(label=_("answer due"),
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    cc = forms.CharField(label=_("copy to"), required=False, max_length=_length("cc"))
    contact_name = forms.CharField(label=_("contact person"), required=False, max_length=_length("contact_name"))
    contact_phone = forms.CharField(label=_("contact phone"), required=False, max_length=_length("contact_phone"))
    remarks = forms.CharField(label=_("remarks"), required=False, max_length=inputs.TEXT_MAX,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, appeal=None, user=None, **kwargs):
        kwargs.setdefault("auto_id", "id_slip_%s")
        if not args or args[0] is None:  # a fresh form: the case's units, the default answer day, the issuer
            kwargs["initial"] = {
                "lead_department": appeal.lead_department.code if appeal.lead_department_id else "",
                "assisting_departments": [d.code for d in appeal.assisting_departments.all()],
                "reply_due": records.default_reply_due(appeal),
                "contact_name": user.display_name or user.username, "contact_phone": user.phone or "",
                "task": _("Handle appeal %(number)s (%(title)s) without further delay.") % {
                    "number": appeal.number, "title": appeal.title},
                **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        units = [(d.code, d.name) for d in scopes.departments(user).filter(region_id=appeal.region_id)]
        self.fields["lead_department"].choices = units
        self.fields["assisting_departments"].choices = units

    def payload(self) -> dict:
        data = self.cleaned_data
        return {"task": data["task"], "requirements": data["requirements"], "reply_due": data["reply_due"],
                "cc": data.get("cc") or "", "contact_name": data.get("contact_name") or "",
                "contact_phone": data.get("contact_phone") or "", "remarks": data.get("remarks") or "",
                "lead_department": data["lead_department"],
                "assisting_departments": list(data.get("assisting_departments") or [])}


class AnswerForm(_Form):
    answer = forms.CharField(label=_("answer"), max_length=inputs.TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class FollowUpForm(_Form):
    note = forms.CharField(label=_("follow-up"), max_length=inputs.TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}))


class InstructionForm(_Form):
    text = forms.CharField(label=_("instruction"), max_length=inputs.TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
