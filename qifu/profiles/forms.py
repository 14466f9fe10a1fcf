import yaml
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qifu.enterprises.models import Tag
from qifu.lib import uploads

from .models import validate_conditions


class _Bootstrap:
    def _style(self):
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs["class"] = ("form-control " + widget.attrs.get("class", "")).strip()


class ValueImportForm(_Bootstrap, forms.Form):
    file = uploads.FileField(label=_("CSV or Excel file"), kind=uploads.SPREADSHEET)
    source = forms.CharField(label=_("Source (department code)"), required=False, max_length=64)
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    skip_bad_rows = forms.BooleanField(label=_("Skip bad rows and import the rest"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class ManualTagForm(_Bootstrap, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64)
    category = forms.CharField(label=_("Category"), max_length=64, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Tag.objects.filter(name=name).exists():
            raise ValidationError(_("A tag called %(name)s already exists.") % {"name": name})
        return name


class TagRuleForm(_Bootstrap, forms.Form):
    tag = forms.CharField(label=_("Tag"), max_length=64,
                          help_text=_("An existing dynamic tag, or a new name (created as a dynamic tag)."))
    conditions = forms.CharField(
        label=_("Conditions (YAML)"), widget=forms.Textarea(attrs={"rows": 10, "class": "font-monospace"}),
        help_text=_("A condition tree in YAML, written like the example beside it."))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, rule=None, **kwargs):
        self.rule = rule
        super().__init__(*args, **kwargs)
        self._style()
        if rule is not None:
            self.fields["tag"].disabled = True

    def clean_tag(self):
        name = self.cleaned_data["tag"].strip()
        if self.rule is not None:
            return self.rule.tag.name
        tag = Tag.objects.filter(name=name).first()
        if tag is not None and tag.kind != Tag.Kind.DYNAMIC:
            raise ValidationError(_("%(name)s is a manual tag; rules give dynamic tags only.") % {"name": name})
        return name

    def clean_conditions(self):
        text = self.cleaned_data["conditions"]
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValidationError(_("Not valid YAML: %(error)s") % {"error": exc}) from None
        validate_conditions(data)
        return data
