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
