from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu.accounts import scopes
from qifu.appeals.forms import _styled

from . import services
from .models import ProviderSide


class CatalogFilterForm(forms.Form):
    """Search and filters of /catalog/ (the same as the API's query parameters)."""

    q = forms.CharField(label=gettext_lazy("search"), required=False, max_length=100)
    section = forms.ChoiceField(label=gettext_lazy("section"), required=False)
    node = forms.ChoiceField(label=gettext_lazy("list"), required=False)
    category = forms.ChoiceField(label=gettext_lazy("category"), required=False)
    provider_side = forms.ChoiceField(label=gettext_lazy("provider side"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("service, content, unit")
        self.fields["section"].choices = [("", _("any")), *scopes.sections(user).order_by(
            "sort_order", "code").values_list("code", "name")]
        nodes = scopes.nodes(user).filter(service_items__isnull=False).distinct().order_by("code")
        self.fields["node"].choices = [("", _("any")), (services.COMMON, _("common list (共性清单)")),
                                       *nodes.values_list("code", "name")]
        self.fields["category"].choices = [("", _("any")), *((c, c) for c in services.categories(user))]
        self.fields["provider_side"].choices = [("", _("any")), *ProviderSide.choices]
        _styled(self)

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}


class GuideForm(forms.ModelForm):
    class Meta:
        from .models import ServiceGuide

        model = ServiceGuide
        fields = ["handling_unit", "target", "conditions", "process", "time_limit", "time_limit_days", "legal_basis",
                  "fees", "online_channel", "offline_channel", "enquiry_phone", "faq", "notes"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in (
            "target", "conditions", "process", "legal_basis", "faq", "notes")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


def material_formset():
    from .models import GuideMaterial, ServiceGuide

    from qifu.appeals.forms import _styled as styled

    class MaterialForm(forms.ModelForm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            styled(self)

    formset = forms.inlineformset_factory(
        ServiceGuide, GuideMaterial, form=MaterialForm, fields=["name", "requirements", "copies", "source", "mandatory", "sort_order"],
        extra=2, can_delete=True)
    return formset
