from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarYear(models.Model):
    """A year whose official schedule an administrator entered or imported.

    Years that chinese-calendar covers need no row; a row here marks a later year as published
    (its holidays and make-up days are the CalendarDay rows of that year).
    """

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(_("source"), max_length=64, default="admin")
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a statutory holiday on a weekday, or a make-up working day (调休)
    on a weekend. Also overrides chinese-calendar's data for a covered year."""

    date = models.DateField(_("date"), primary_key=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'workday' if self.is_workday else 'holiday'} {self.name}"
