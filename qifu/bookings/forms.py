from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu.lib.filters import DateRangeForm
from qifu.policies.forms import styled

from .models import Booking


class BookForm(forms.Form):
    """Book one slot: the visitor's name and phone; desk staff may name the enterprise."""

    slot = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    name = forms.CharField(label=gettext_lazy("visitor's name"), max_length=64)
    phone = forms.CharField(label=gettext_lazy("phone"), max_length=32)
    enterprise_uscc = forms.CharField(label=gettext_lazy("enterprise (unified social credit code)"), max_length=32,
                                      required=False)
    note = forms.CharField(label=gettext_lazy("what you come for"), max_length=200, required=False)

    def __init__(self, *args, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["enterprise_uscc"]
        styled(self)


class DeskFilterForm(DateRangeForm):
    """The day's appointments at the desk: node, window, status, name or phone, days of the slot."""

    date_field = "slot__start"
    date_labels = (gettext_lazy("slots from"), gettext_lazy("slots until"))

    node = forms.ChoiceField(label=gettext_lazy("service node"), required=False)
    window = forms.ChoiceField(label=gettext_lazy("window"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("status"), required=False)
    q = forms.CharField(label=gettext_lazy("name or phone"), required=False, max_length=64)

    def __init__(self, *args, nodes=(), windows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = [("", _("any")), *((n.code, n.name) for n in nodes)]
        self.fields["window"].choices = [("", _("any")), *((w.code, f"{w.node.name} · {w.name}") for w in windows)]
        self.fields["status"].choices = [("", _("any")), *Booking.Status.choices]
        styled(self)

    def filter(self, qs, data):
        if data.get("node"):
            qs = qs.filter(slot__node__code=data["node"])
        if data.get("window"):
            qs = qs.filter(slot__window__code=data["window"])
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("q"):
            qs = qs.filter(Q(name__icontains=data["q"]) | Q(phone__contains=data["q"]))
        return qs
