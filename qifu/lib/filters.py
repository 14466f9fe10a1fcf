"""The date range of a list's filter form: two local days, both inclusive, the first not after the last.

    class PayoutFilter(DateRangeForm):
        date_field = "approved_at"           # a DateTimeField: local days of the region's clock; a DateField: days
        date_from_label = gettext_lazy("approved from")
        date_to_label = gettext_lazy("approved until")
    qs = form.apply_dates(qs)                # after form.is_valid()
"""

from __future__ import annotations

import datetime

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def local_midnight(day: datetime.date, zone=None) -> datetime.datetime:
    """The start of `day` on the region's clock (`zone`, by default the current time zone)."""
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=zone or timezone.get_current_timezone())


def check_order(form: forms.Form, first: str, last: str) -> None:
    """A form error on `last` when the day `first` comes after it."""
    data = form.cleaned_data
    if data.get(first) and data.get(last) and data[first] > data[last]:
        form.add_error(last, _("The end date must not be before the start date."))


class DateRangeForm(forms.Form):
    date_field = ""  # the filtered field of the list's model (a path with __ allowed)
    date_from_label = _("from")
    date_to_label = _("to")

    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in (("date_from", self.date_from_label), ("date_to", self.date_to_label)):
            self.fields[name] = self.fields.pop(name)  # after the list's own filters
            self.fields[name].label = label

    def clean(self):
        data = super().clean()
        check_order(self, "date_from", "date_to")
        return data

    def apply_dates(self, qs):
        data = self.cleaned_data if self.is_valid() else {}
        first, last = data.get("date_from"), data.get("date_to")
        if not (first or last):
            return qs
        if isinstance(_field(qs.model, self.date_field), models.DateTimeField):
            if first:
                qs = qs.filter(**{f"{self.date_field}__gte": local_midnight(first)})
            if last:
                qs = qs.filter(**{f"{self.date_field}__lt": local_midnight(last + datetime.timedelta(days=1))})
            return qs
        if first:
            qs = qs.filter(**{f"{self.date_field}__gte": first})
        if last:
            qs = qs.filter(**{f"{self.date_field}__lte": last})
        return qs


def _field(model, path: str):
    *hops, name = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model
    return model._meta.get_field(name)
