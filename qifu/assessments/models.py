"""The monthly ranking (晾晒) of units: the figures the task force enters by hand, and published months.

- `RankingInput`: one manual input (e.g. 走访服务企业数) of one unit for one month, as the task force entered it.
- `RankingPublication`: a month's table frozen when the task force publishes it (who, when); a published month
  shows this table, not a fresh computation.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RankingInput(models.Model):
    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="+")
    month = models.CharField(_("month"), max_length=7)  # YYYY-MM
    unit = models.ForeignKey("org.Department", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+")
    indicator = models.SlugField(_("input"), max_length=64)  # the code of one of the region's manual inputs
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("entered at"), default=timezone.now)

    class Meta:
        verbose_name = _("ranking input")
        verbose_name_plural = _("ranking inputs")
        ordering = ["month", "unit", "indicator"]
        constraints = [models.UniqueConstraint(fields=["region", "month", "unit", "indicator"],
                                               name="assessments_input_once")]

    def __str__(self):
        names = {m.get("code"): m.get("name") for m in self.region.rule("ranking").get("manual_inputs") or []}
        return f"{self.month} {self.unit.short_name or self.unit.name} {names.get(self.indicator, self.indicator)} " \
               f"{self.value}"


class RankingPublication(models.Model):
    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="+")
    month = models.CharField(_("month"), max_length=7)
    table = models.JSONField(_("table"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True,
                                     on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("published at"), default=timezone.now)

    class Meta:
        verbose_name = _("published ranking")
        verbose_name_plural = _("published rankings")
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["region", "month"], name="assessments_published_once")]

    def __str__(self):
        return f"{self.region.name} {self.month}"
