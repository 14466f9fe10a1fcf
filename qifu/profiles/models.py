"""The enterprise profile (企业画像): dimensions over indicators, the indicators' dated values, and the
rules that turn data into dynamic tags.

An indicator's `code` is the field name policy rules and score expressions use (`employees`,
`revenue`, …). Values keep their history: one row per enterprise, indicator and `as_of` date, the
latest `as_of` being the current value.
"""

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qifu.rules import conditions
from qifu.rules.expr import Expression
from qifu.rules.values import RuleError

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# Names an indicator may not take: the registry's base facts, the frame's id column, and `value`
# (the name a score expression uses for the indicator's own value).
RESERVED_CODES = frozenset({
    "id", "value", "uscc", "name", "industry", "size", "registration_date", "jurisdiction", "region", "tags",
    "has_tag", "today",
})


def validate_code(value: str) -> None:
    if not CODE.match(value or ""):
        raise ValidationError(_("Use lowercase letters, digits and _ starting with a letter (e.g. rd_expense)."),
                              code="invalid_code")
    if value in RESERVED_CODES:
        raise ValidationError(_("'%(code)s' is a reserved field name.") % {"code": value}, code="reserved_code")


def validate_expression(value: str) -> None:
    if not value:
        return
    try:
        Expression(value)
    except RuleError as exc:
        raise ValidationError(str(exc), code="invalid_expression") from None


def validate_conditions(value) -> None:
    try:
        conditions.parse(value)
    except RuleError as exc:
        raise ValidationError(str(exc), code="invalid_conditions") from None


class Dimension(models.Model):
    """One axis of the profile (企业规模稳定性, 企业科技创新力, …)."""

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.CASCADE,
                               related_name="profile_dimensions")
    code = models.CharField(_("code"), max_length=64, validators=[validate_code])
    name = models.CharField(_("name"), max_length=64)
    weight = models.FloatField(_("weight"), default=1.0,
                               help_text=_("Weight of this dimension in the overall score."))
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("profile dimension")
        verbose_name_plural = _("profile dimensions")
        ordering = ["region", "sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="unique_dimension_code")]

    def __str__(self):
        return self.name


class Indicator(models.Model):
    """A measured fact about enterprises, fed by a department's data."""

    class Datatype(models.TextChoices):
        NUMBER = "number", _("number")
        TEXT = "text", _("text")
        DATE = "date", _("date")
        BOOL = "bool", _("yes/no")

    class Category(models.TextChoices):
        REGISTRATION = "registration", _("business registration")
        TAX = "tax", _("tax")
        SOCIAL_INSURANCE = "social_insurance", _("social insurance")
        TAGS = "tags", _("tags and recognitions")
        JUDICIAL = "judicial", _("judicial")
        FINANCE = "finance", _("finance")
        OTHER = "other", _("other")

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.CASCADE,
                               related_name="indicators")
    code = models.CharField(_("code"), max_length=64, validators=[validate_code],
                            help_text=_("The field name rules and formulas use, e.g. rd_expense."))
    name = models.CharField(_("name"), max_length=64)
    dimension = models.ForeignKey(Dimension, verbose_name=_("dimension"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="indicators")
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    datatype = models.CharField(_("type"), max_length=8, choices=Datatype.choices, default=Datatype.NUMBER)
    category = models.CharField(_("kind of data"), max_length=20, choices=Category.choices, default=Category.OTHER)
    source = models.CharField(_("source"), max_length=64, blank=True,
                              help_text=_("Code of the department whose data this is."))
    score = models.TextField(
        _("score"), blank=True, validators=[validate_expression],
        help_text=_("An expression giving 0–100 from the value, e.g. min(100, employees / 5); "
                    "`value` is the indicator's own value. Empty: not scored."))
    weight = models.FloatField(_("weight"), default=1.0, help_text=_("Weight within its dimension."))
    higher_is_better = models.BooleanField(
        _("higher is better"), default=True,
        help_text=_("If not, the score counts as 100 minus the expression, so a larger radar is always better."))
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["region", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="unique_indicator_code"),
            models.UniqueConstraint(fields=["region", "name"], name="unique_indicator_name"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.dimension_id and self.region_id and self.dimension.region_id != self.region_id:
            raise ValidationError({"dimension": _("The dimension belongs to another region.")})


class IndicatorValue(models.Model):
    """One value of one indicator for one enterprise, as of a date. Older rows are the history."""

    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="indicator_values")
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE,
                                  related_name="values")
    value_number = models.DecimalField(_("numeric value"), max_digits=24, decimal_places=6, null=True, blank=True)
    value_text = models.CharField(_("text value"), max_length=255, blank=True)
    value_date = models.DateField(_("date value"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    source = models.CharField(_("source"), max_length=128, blank=True,
                              help_text=_("Department code or the name of the import."))
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("imported by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["enterprise", "indicator", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "indicator", "as_of"], name="unique_indicator_value"),
        ]

    def __str__(self):
        return f"{self.indicator.name} = {self.value!r} @ {self.as_of}"

    @property
    def value(self):
        return typed_value(self.indicator.datatype, self.value_number, self.value_text, self.value_date)

    def set_value(self, datatype: str, value) -> None:
        self.value_number, self.value_text, self.value_date = stored_value(datatype, value)


def typed_value(datatype: str, number, text: str, date):
    """The fact value of a stored row: float, str, date or bool (None when empty)."""
    if datatype == Indicator.Datatype.NUMBER:
        return None if number is None else float(number)
    if datatype == Indicator.Datatype.BOOL:
        return None if number is None else bool(number)
    if datatype == Indicator.Datatype.DATE:
        return date
    return text if text != "" else None


def stored_value(datatype: str, value) -> tuple[Decimal | None, str, datetime.date | None]:
    """(value_number, value_text, value_date) for a cleaned value."""
    if datatype == Indicator.Datatype.NUMBER:  # stored with 6 decimals: compare what is stored
        return Decimal(str(value)).quantize(Decimal("0.000001")), "", None
    if datatype == Indicator.Datatype.BOOL:
        return Decimal(1 if value else 0), "", None
    if datatype == Indicator.Datatype.DATE:
        return None, "", value
    return None, str(value), None


class TagRule(models.Model):
    """Gives a dynamic tag to the region's enterprises whose facts meet the conditions.

    Conditions are a condition tree of the policy engine (`all`/`any`/`not`, field/op/value leaves,
    `has_tag`, `expr`); a result of unknown (data missing) does not give the tag.
    """

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.CASCADE,
                               related_name="tag_rules")
    tag = models.ForeignKey("enterprises.Tag", verbose_name=_("tag"), on_delete=models.CASCADE, related_name="rules")
    conditions = models.JSONField(_("conditions"), validators=[validate_conditions])
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("tag rule")
        verbose_name_plural = _("tag rules")
        ordering = ["region", "tag__name"]
        constraints = [models.UniqueConstraint(fields=["region", "tag"], name="unique_tag_rule")]

    def __str__(self):
        return f"{self.tag} ({self.region})"

    def clean(self):
        if self.tag_id and self.tag.kind != "dynamic":
            raise ValidationError({"tag": _("Rules give dynamic tags only; %(tag)s is a manual tag.") % {
                "tag": self.tag}})

    def node(self):
        return conditions.parse(self.conditions)
