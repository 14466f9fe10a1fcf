"""The date range of a list's filter form: two local days, both inclusive, the first not after the last.

    class PayoutFilter(DateRangeForm):
        date_field = "approved_at"           # a DateTimeField: local days of the region's clock; a DateField: days
        date_labels = (gettext_lazy("approved from"), gettext_lazy("approved until"))

        def filter(self, qs, data): ...      # the list's own filters, the data valid

    qs = form.apply(qs)                      # wrong filters: no rows, and the form's errors say why
"""

from __future__ import annotations

import datetime

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import inputs

# The days a filter may name (a year 1 or 9999 is a typing slip, and out of range of a time zone's midnight).
EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)


def local_midnight(day: datetime.date, zone=None) -> datetime.datetime:
    """The start of `day` on the region's clock (`zone`, by default the current time zone)."""
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=zone or timezone.get_current_timezone())


def check_range(form: forms.Form, first: str, last: str) -> None:
    """Form errors for the days `first` and `last` of a range: each between EARLIEST and LATEST, `first` not
    after `last`."""
    data = form.cleaned_data
    for name in (first, last):
        problem = inputs.date_problem(data.get(name), earliest=EARLIEST, latest=LATEST)
        if problem:
            form.add_error(name, problem)
    if data.get(first) and data.get(last) and data[first] > data[last]:
        form.add_error(last, _("The end date must not be before the start date."))


class DateRangeForm(forms.Form):
    date_field = ""  # the filtered field of the list's model (a path with __ allowed)
    date_labels = (_("First day"), _("Last day"))

    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in zip(("date_from", "date_to"), self.date_labels, strict=True):
            self.fields[name] = self.fields.pop(name)  # after the list's own filters
            self.fields[name].label = label

    def clean(self):
        data = super().clean()
        check_range(self, "date_from", "date_to")
        return data

    def apply(self, qs):
        """The rows of `qs` that pass the filters: all when none is given, none when they are wrong (the form
        says why) rather than everything."""
        if not self.is_bound:
            return qs
        if not self.is_valid():
            return qs.none()
        return self._dates(self.filter(qs, self.cleaned_data))

    def filter(self, qs, data: dict):
        """The list's own filters (a subclass's), `data` being valid."""
        return qs

    def _dates(self, qs):
        first, last = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        if isinstance(_field(qs.model, self.date_field), models.DateTimeField):
            first, last = (local_midnight(first) if first else None,
                           local_midnight(last + datetime.timedelta(days=1)) if last else None)
            lookups = {"gte": first, "lt": last}
        else:
            lookups = {"gte": first, "lte": last}
        return qs.filter(**{f"{self.date_field}__{op}": day for op, day in lookups.items() if day is not None})


def _field(model, path: str):
    *hops, name = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model
    return model._meta.get_field(name)
