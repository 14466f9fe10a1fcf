"""The front desk's forms: registering a visitor and the visits list's filters."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu.accounts import scopes
from qifu.appeals.forms import _styled
from qifu.lib import uscc as uscc_lib
from qifu.lib.filters import DateRangeForm
from qifu.lib.inputs import TEXT_MAX
from qifu.org.models import Section, ServiceNode, Window, Zone

from .models import DeskVisit, Outcome


class VisitForm(forms.Form):
    """Who came, for what, and where they were guided."""

    node = forms.ModelChoiceField(label=gettext_lazy("service node"), queryset=ServiceNode.objects.none(),
                                  to_field_name="code", empty_label=None)
    enterprise_q = forms.CharField(label=gettext_lazy("Enterprise"), required=False, max_length=200)
    enterprise_uscc = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    visitor_name = forms.CharField(label=gettext_lazy("visitor"), max_length=64)
    visitor_phone = forms.CharField(label=gettext_lazy("visitor's phone"), max_length=32)
    need = forms.CharField(label=gettext_lazy("need"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    item = forms.ModelChoiceField(label=gettext_lazy("service item"), queryset=None, required=False,
                                  to_field_name="code", empty_label=gettext_lazy("none"))
    section = forms.ModelChoiceField(label=gettext_lazy("guided to the section"), queryset=Section.objects.none(),
                                     to_field_name="code", required=False, empty_label="—")
    window = forms.ModelChoiceField(label=gettext_lazy("guided to the window"), queryset=Window.objects.none(),
                                    to_field_name="code", required=False, empty_label="—")
    zone = forms.ModelChoiceField(label=gettext_lazy("guided to the zone"), queryset=Zone.objects.none(),
                                  to_field_name="code", required=False, empty_label="—")
    on_site = forms.BooleanField(label=gettext_lazy("station staff already on site"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        from qifu.catalog import services

        super().__init__(*args, **kwargs)
        self.user = user
        region_id = scopes.home_region_id(user)
        nodes = scopes.nodes(user)
        if scopes.is_station_staff(user):
            nodes = nodes.filter(pk=user.node_id)
        self.fields["node"].queryset = nodes.order_by("kind", "code")
        if user.node_id:
            self.fields["node"].initial = user.node.code
        in_region = {"region_id": region_id} if region_id else {}
        self.fields["item"].queryset = services.items(user).filter(**in_region).order_by("name", "code")
        for name, model in (("section", Section), ("window", Window), ("zone", Zone)):
            self.fields[name].queryset = scopes.directory(user, model).order_by("sort_order", "code")
        self.fields["enterprise_q"].widget.attrs.update({"placeholder": _("Enterprise name or credit code"),
                                                         "autocomplete": "off"})
        self.fields["visitor_phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        self.fields["item"].widget.attrs["translate"] = "no"  # the catalog's item names are data (e.g. "…(CMO)")
        _styled(self)

    def clean_visitor_phone(self):
        from . import visits

        try:
            return visits.clean_phone(self.cleaned_data.get("visitor_phone"))
        except visits.DeskError as error:
            raise forms.ValidationError(str(error)) from error

    def clean(self):
        """The enterprise (optional: a person may come without one): the picked match, a typed credit code, or the
        only visible enterprise with exactly the typed name."""
        data = super().clean()
        picked = (data.get("enterprise_uscc") or "").strip()
        typed = (data.get("enterprise_q") or "").strip()
        data["enterprise"] = None
        if not picked and not typed:
            return data
        visible = scopes.enterprises(self.user)
        compact = typed.replace(" ", "").replace("-", "").upper()
        code = picked or (compact if len(compact) == 18 and any(c.isdigit() for c in compact) else "")
        if code:
            problem = uscc_lib.problem(code)
            found = None if problem else visible.filter(uscc=uscc_lib.normalize(code)).first()
            if found is None:
                self.add_error("enterprise_q", problem or _("No registered enterprise you may serve has this code."))
            data["enterprise"] = found
            return data
        same = list(visible.filter(Q(name=typed))[:2])
        if len(same) != 1:
            self.add_error("enterprise_q", _("Pick the enterprise from the matches, type its 18-character credit "
                                             "code, or leave it empty for a person."))
        else:
            data["enterprise"] = same[0]
        return data


STATUS_CHOICES = [("", gettext_lazy("any")), ("open", gettext_lazy("open")),
                  ("concluded", gettext_lazy("concluded")), ("flagged", gettext_lazy("flagged"))]


class VisitFilter(DateRangeForm):
    date_field = "registered_at"
    date_labels = (gettext_lazy("registered from"), gettext_lazy("registered until"))

    q = forms.CharField(label=gettext_lazy("search"), required=False, max_length=100)
    node = forms.ModelChoiceField(label=gettext_lazy("service node"), queryset=ServiceNode.objects.none(),
                                  to_field_name="code", required=False, empty_label=gettext_lazy("any"))
    status = forms.ChoiceField(label=gettext_lazy("status"), choices=STATUS_CHOICES, required=False)
    outcome = forms.ChoiceField(label=gettext_lazy("outcome"), required=False,
                                choices=[("", gettext_lazy("any")), *Outcome.choices])
    mine = forms.ChoiceField(label=gettext_lazy("owner"), required=False,
                             choices=[("", gettext_lazy("any")), ("yes", gettext_lazy("me"))])

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["node"].queryset = scopes.nodes(user).order_by("kind", "code")
        _styled(self)

    def filter(self, qs, data):
        from . import visits

        if data.get("q"):
            q = data["q"]
            qs = qs.filter(Q(visitor_name__icontains=q) | Q(need__icontains=q) | Q(enterprise__name__icontains=q)
                           | Q(tracking_number=q.upper()) | Q(visitor_phone=q))
        if data.get("node"):
            qs = qs.filter(node=data["node"])
        status = data.get("status")
        if status == "open":
            qs = qs.filter(outcome_kind="")
        elif status == "concluded":
            qs = qs.exclude(outcome_kind="")
        elif status == "flagged":
            qs = visits.flagged(qs)
        if data.get("outcome"):
            qs = qs.filter(outcome_kind=data["outcome"])
        if data.get("mine") == "yes":
            qs = qs.filter(owner=self.user)
        return qs


class ConcludeForm(forms.Form):
    """The appeal a visit becomes (its title and details), or the consultation's answer."""

    title = forms.CharField(label=gettext_lazy("Problem in a few words"), max_length=200, required=False)
    description = forms.CharField(label=gettext_lazy("Details of the problem"), max_length=TEXT_MAX, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


def visit_columns():
    return [
        (_("registered at"), lambda v: v.registered_at), (_("service node"), lambda v: v.node.name),
        (_("visitor"), lambda v: v.visitor_name), (_("visitor's phone"), lambda v: scopes.mask_phone(v.visitor_phone)),
        (_("enterprise"), lambda v: v.enterprise.name if v.enterprise_id else ""), (_("need"), lambda v: v.need),
        (_("service item"), lambda v: v.item.name if v.item_id else ""),
        (_("owner"), lambda v: (v.owner.display_name or v.owner.username) if v.owner_id else ""),
        (_("tracking number"), lambda v: v.tracking_number or ""),
        (_("outcome"), lambda v: v.get_outcome_kind_display() if v.outcome_kind else ""),
        (_("outcome reference"), lambda v: v.outcome_label), (_("concluded at"), lambda v: v.concluded_at),
        (_("flagged at"), lambda v: v.flagged_at),
    ]


__all__ = ["VisitForm", "VisitFilter", "ConcludeForm", "visit_columns", "DeskVisit"]
