from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu.accounts import scopes
from qifu.appeals.forms import _styled
from qifu.lib.filters import DateRangeForm
from qifu.org.models import Department, Section

from .models import CaseState, CaseStudy, KnowledgeEntry

KINDS = [("", gettext_lazy("entries and cases")), ("entries", gettext_lazy("knowledge entries")),
         ("cases", gettext_lazy("case studies"))]


def _units(user):
    return scopes.departments(user).exclude(kind=Department.Kind.THIRD_PARTY).order_by("code")


class SearchForm(DateRangeForm):
    """Search and filters of /knowledge/; the date range is the day of the last change (entries and cases alike)."""

    date_field = "updated_at"
    date_labels = (gettext_lazy("changed from"), gettext_lazy("changed until"))

    q = forms.CharField(label=gettext_lazy("search"), required=False, max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("kind"), required=False, choices=KINDS)
    state = forms.ChoiceField(label=gettext_lazy("state"), required=False)
    department = forms.ChoiceField(label=gettext_lazy("unit"), required=False)
    section = forms.ChoiceField(label=gettext_lazy("section"), required=False)

    def __init__(self, *args, user=None, staff=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("question, answer, keyword")
        self.fields["department"].choices = [("", _("any")), *_units(user).values_list("code", "name")]
        self.fields["section"].choices = [("", _("any")), *scopes.sections(user).order_by(
            "sort_order", "code").values_list("code", "name")]
        if staff:
            self.fields["state"].choices = [("", _("any")), *CaseState.choices]
        else:
            del self.fields["state"]
        _styled(self)

    def value(self, name) -> str:
        return (self.cleaned_data.get(name) or "") if self.is_valid() else ""

    def narrow(self, qs, unit_field: str):
        """The rows that pass the filters (none when they are wrong: the form says why)."""
        if not self.is_bound:
            return qs
        if not self.is_valid():
            return qs.none()
        qs = self._dates(qs)
        data = self.cleaned_data
        if data.get("state"):
            qs = qs.filter(state=data["state"])
        if data.get("department"):
            qs = qs.filter(**{f"{unit_field}__code": data["department"]})
        if data.get("section"):
            qs = qs.filter(section__code=data["section"])
        return qs


class EntryForm(forms.ModelForm):
    class Meta:
        model = KnowledgeEntry
        fields = ["question", "answer", "legal_basis", "department", "section", "keywords"]
        widgets = {"answer": forms.Textarea(attrs={"rows": 6}), "legal_basis": forms.Textarea(attrs={"rows": 3}),
                   "question": forms.TextInput()}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _units(user)
        self.fields["section"].queryset = scopes.sections(user).order_by("sort_order", "code")
        _styled(self)


class CaseForm(forms.ModelForm):
    class Meta:
        model = CaseStudy
        fields = ["title", "problem", "solution", "legal_basis", "section", "lead_department"]
        widgets = {"problem": forms.Textarea(attrs={"rows": 5}), "solution": forms.Textarea(attrs={"rows": 5}),
                   "legal_basis": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_department"].queryset = scopes.departments(user).order_by("code")
        self.fields["section"].queryset = Section.objects.filter(
            pk__in=scopes.sections(user).values("pk")).order_by("sort_order", "code")
        _styled(self)


class PromoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("why it should become a service item"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


