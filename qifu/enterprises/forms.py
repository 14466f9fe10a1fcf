"""The one place enterprise input is validated — used by the pages and by the API."""

import datetime
import re

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qifu.lib import industry, inputs, uscc
from qifu.lib.filters import DateRangeForm
from qifu.org.models import Jurisdiction

from .models import Enterprise, Tag

TAG_SPLIT = re.compile(r"[,，;；|、]+")
EARLIEST_REGISTRATION = datetime.date(1900, 1, 1)


class EnterpriseForm(forms.ModelForm):
    tag_names = forms.CharField(label=_("tags"), required=False, help_text=_("Separate tags with commas"))

    class Meta:
        model = Enterprise
        fields = ["uscc", "name", "registered_address", "jurisdiction", "industry", "size", "registration_date"]
        widgets = {"registration_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, region=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region or (self.instance.region if self.instance.pk else None)
        self.fields["jurisdiction"].queryset = (
            Jurisdiction.objects.filter(region=self.region) if self.region else Jurisdiction.objects.none()
        )
        self.fields["uscc"].widget.attrs.update({"maxlength": 22, "autocapitalize": "characters"})
        if self.instance.pk and not self.is_bound:
            self.initial["tag_names"] = ", ".join(t.name for t in self.instance.tags.all())

    def clean_uscc(self):
        code = uscc.normalize(self.cleaned_data["uscc"])
        problem = uscc.problem(code)
        if problem:
            raise forms.ValidationError(problem, code="invalid_uscc")
        clash = Enterprise.objects.filter(uscc=code).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("An enterprise with code %(code)s is already registered.") % {"code": code},
                                        code="duplicate")
        return code

    def clean_industry(self):
        code = industry.normalize(self.cleaned_data.get("industry", ""))
        problem = industry.problem(code)
        if problem:
            raise forms.ValidationError(problem)
        return code

    def clean_tag_names(self):
        names = [t.strip() for t in TAG_SPLIT.split(self.cleaned_data.get("tag_names") or "") if t.strip()]
        longest = Tag._meta.get_field("name").max_length
        for name in names:
            if len(name) > longest:
                raise forms.ValidationError(_("The tag '%(tag)s' is too long (at most 64 characters).") % {"tag": name})
        return names

    def clean_registration_date(self):
        day = self.cleaned_data.get("registration_date")
        problem = inputs.date_problem(day, earliest=EARLIEST_REGISTRATION, latest=timezone.localdate())
        if problem:
            raise forms.ValidationError(problem)
        return day

    def save(self, commit=True):
        enterprise = super().save(commit=False)
        if self.region is not None:
            enterprise.region = self.region
        if commit:
            enterprise.save()
            tags = [Tag.objects.get_or_create(name=name)[0] for name in self.cleaned_data["tag_names"]]
            enterprise.tags.set(tags)
        return enterprise


class EnterpriseFilter(DateRangeForm):
    """The enterprise list's filters: name or credit code, and the registration date."""

    date_field = "registration_date"
    date_labels = (_("registered from"), _("registered until"))

    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"placeholder": _("Enterprise name or credit code"), "type": "search"})
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    def filter(self, qs, data):
        q = (data.get("q") or "").strip()
        return qs.filter(Q(name__icontains=q) | Q(uscc__startswith=q.upper())) if q else qs


# The columns of an Excel export of enterprises (the enterprise list, a tag's enterprises).
ENTERPRISE_COLUMNS = [
    (_("Name"), lambda e: e.name), (_("Credit code"), lambda e: e.uscc),
    (_("Jurisdiction"), lambda e: e.jurisdiction.name if e.jurisdiction else ""),
    (_("Industry"), lambda e: f"{e.industry} {industry.section_name(e.industry)}".strip()),
    (_("Size"), lambda e: e.get_size_display()),
    (_("registration date"), lambda e: e.registration_date),
    (_("registered address"), lambda e: e.registered_address),
]
