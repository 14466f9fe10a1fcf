from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu.accounts import scopes
from qifu.lib.inputs import TEXT_MAX
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


class ListingForm(forms.ModelForm):
    """The listing form (服务上架审批单, seed 003 line 1772): 服务名称、服务类型、服务说明、服务提供单位意见（单位名称、
    主要负责人、日期）、牵头单位意见（同上）、备注, the online channel being listed, and the unit's confirmation that
    it reviewed and tested the service first (seed 003 lines 1689, 1707)."""

    class Meta:
        from .models import Listing

        model = Listing
        fields = ["name", "service_type", "description", "online_channel", "provider_unit", "provider_opinion",
                  "provider_head", "provider_signed_on", "lead_unit", "lead_opinion", "lead_head", "lead_signed_on",
                  "remarks", "internal_checked"]
        widgets = {
            "service_type": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 4}),
            "provider_opinion": forms.Textarea(attrs={"rows": 2}),
            "lead_opinion": forms.Textarea(attrs={"rows": 2}),
            "remarks": forms.Textarea(attrs={"rows": 2}),
            "provider_signed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "lead_signed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from . import listing

        departments = scopes.departments(user).order_by("code")
        own = user is not None and user.department_id and not listing.may_review(user)
        # a unit submits for itself; the platform's reviewers for any unit of the region
        self.fields["provider_unit"].queryset = departments.filter(pk=user.department_id) if own else departments
        self.fields["lead_unit"].queryset = departments
        self.fields["internal_checked"].required = True
        self.fields["service_type"].choices = list(self.Meta.model.ServiceType.choices)  # no blank radio
        if not self.instance.pk and user is not None and user.department_id and not self.is_bound:
            self.initial.setdefault("provider_unit", user.department_id)
        _styled(self)


class ListingReviewForm(forms.Form):
    """The platform's review: the three standards (seed 003 line 1697) and the reasons when sent back."""

    lawful = forms.BooleanField(label=gettext_lazy("lawful: the content follows the platform's rules and involves "
                                                   "nothing unlawful"), required=False)
    complete = forms.BooleanField(label=gettext_lazy("complete: no necessary information is missing"),
                                  required=False)
    accurate = forms.BooleanField(label=gettext_lazy("accurate: the content states the service clearly"),
                                  required=False)
    reasons = forms.CharField(label=gettext_lazy("reasons (when sent back)"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])

    def clean(self):
        data = super().clean()
        if data.get("decision") == "approve" and not (data.get("lawful") and data.get("complete")
                                                       and data.get("accurate")):
            raise forms.ValidationError(_("A listing is approved only when it is lawful, complete and accurate."))
        if data.get("decision") == "reject" and not (data.get("reasons") or "").strip():
            self.add_error("reasons", _("Give the reasons the listing is sent back."))
        return data


class ListingFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("search"), required=False, max_length=100)
    status = forms.ChoiceField(label=gettext_lazy("status"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("kind"), required=False)
    overdue = forms.ChoiceField(label=gettext_lazy("overdue"), required=False)

    def __init__(self, *args, **kwargs):
        from .models import Listing

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("any")), *Listing.Status.choices]
        self.fields["kind"].choices = [("", _("any")), *Listing.Kind.choices]
        self.fields["overdue"].choices = [("", _("any")), ("yes", _("yes"))]
        _styled(self)

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"q": data.get("q") or "", "status": data.get("status") or "", "kind": data.get("kind") or "",
                "overdue": data.get("overdue") == "yes"}


class ServiceRequestForm(forms.Form):
    """A service request (服务申请, `.requests`): what the enterprise needs and whom to call; staff at the front desk
    also name the enterprise (its unified social credit code)."""

    enterprise_uscc = forms.CharField(label=gettext_lazy("enterprise (unified social credit code)"), max_length=32,
                                      required=False)
    description = forms.CharField(label=gettext_lazy("what you need"), max_length=TEXT_MAX,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    contact_name = forms.CharField(label=gettext_lazy("contact person"), max_length=64, required=False)
    contact_phone = forms.CharField(label=gettext_lazy("contact phone"), max_length=32, required=False)

    def __init__(self, *args, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if staff:
            self.fields["enterprise_uscc"].required = True
        else:
            del self.fields["enterprise_uscc"]
        _styled(self)
