"""The service catalog (涉企服务事项清单): the services a region's center and its stations offer enterprises.

A `ServiceItem` is one row of the seeds' lists (seed 003 附件4/附件5) with their columns: a three-level category
(一级类别, 二级分类 and the item itself as the third level), the provider side (★ government, ▲ market, ● society),
content, process, responsible units (the text as written, and the departments it names), frequency, target users,
area, term, online and offline channels and a contact. Common items (共性清单) belong to the whole region (`node`
empty, "four unified" across the center and its stations); per-node items (个性清单) to one station or sub-center.
"""

from django.db import models
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ProviderSide(models.TextChoices):
    GOVERNMENT = "government", _("government")
    MARKET = "market", _("market")
    SOCIETY = "society", _("society")


class Frequency(models.TextChoices):
    HIGH = "high", _("high frequency")
    MEDIUM = "medium", _("medium frequency")
    LOW = "low", _("low frequency")


class Term(models.TextChoices):
    LONG_TERM = "long_term", _("long term")
    YEARLY = "yearly", _("updated yearly")


# The seeds' marks for the provider side (附件4: ★ 政府 ▲ 市场 ● 社会; 附件5 calls ▲ 企业侧).
MARKS = {ProviderSide.GOVERNMENT: "★", ProviderSide.MARKET: "▲", ProviderSide.SOCIETY: "●"}


class ServiceItem(models.Model):
    ProviderSide = ProviderSide
    Frequency = Frequency
    Term = Term

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="service_items")
    code = models.SlugField(_("code"), max_length=64, unique=True, help_text=_("Stable code used by integrations."))
    node = models.ForeignKey("org.ServiceNode", verbose_name=_("service node"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="service_items",
                             help_text=_("empty: a common item of the whole region (共性清单)"))
    seq = models.PositiveIntegerField(_("number"), default=0, help_text=_("the row number in its list"))
    section = models.ForeignKey("org.Section", verbose_name=_("section"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="service_items")
    category1 = models.CharField(_("first-level category"), max_length=64, blank=True)
    category2 = models.CharField(_("second-level category"), max_length=200, blank=True)
    name = models.CharField(_("service item"), max_length=200, help_text=_("the third-level category"))
    provider_side = models.CharField(_("provider side"), max_length=16, choices=ProviderSide.choices)
    content = models.TextField(_("service content"), blank=True)
    process = models.TextField(_("service process"), blank=True)
    units_text = models.CharField(_("responsible units"), max_length=500, blank=True)
    units = models.ManyToManyField("org.Department", verbose_name=_("responsible units"), blank=True,
                                   related_name="service_items",
                                   help_text=_("the departments the responsible units name"))
    frequency = models.CharField(_("frequency"), max_length=8, choices=Frequency.choices, blank=True)
    target_users = models.CharField(_("target users"), max_length=200, blank=True)
    area = models.CharField(_("service area"), max_length=64, blank=True)
    term = models.CharField(_("term"), max_length=16, choices=Term.choices, default=Term.LONG_TERM)
    online_channel = models.CharField(_("online channel"), max_length=500, blank=True,
                                      help_text=_("a web address or an app"))
    offline_channel = models.CharField(_("offline channel"), max_length=500, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = [F("node").asc(nulls_first=True), "seq", "code"]
        indexes = [models.Index(fields=["region", "node", "seq"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog_item", args=[self.code])

    @property
    def is_common(self) -> bool:
        return self.node_id is None

    @property
    def mark(self) -> str:
        return MARKS.get(self.provider_side, "")

    def unit_list(self) -> list[dict]:
        """The responsible units as written, each with the code of the department it names (or None)."""
        from .units import split

        by_name = {}
        for unit in self.units.all():
            by_name[unit.name] = unit.code
            if unit.short_name:
                by_name.setdefault(unit.short_name, unit.code)
        return [{"name": name, "code": by_name.get(key)} for name, key in split(self.units_text)]


class ServiceGuide(models.Model):
    """The service guide (服务指南) of an item: the 11 core elements — handling unit, target, conditions, materials
    (`GuideMaterial`), process, time limit, legal basis, fees, online and offline channels, enquiry phone, FAQ —
    and notes. The enterprise service handbook (企业服务手册) is printed from the guides."""

    item = models.OneToOneField(ServiceItem, verbose_name=_("service item"), on_delete=models.CASCADE,
                                related_name="guide")
    handling_unit = models.CharField(_("handling unit"), max_length=200, blank=True)
    target = models.TextField(_("service target"), blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    process = models.TextField(_("handling process"), blank=True)
    time_limit = models.CharField(_("time limit"), max_length=100, blank=True, help_text=_("e.g. 即办, 5个工作日"))
    time_limit_days = models.PositiveSmallIntegerField(_("time limit in working days"), null=True, blank=True,
                                                       help_text=_("empty: handled on the spot or no fixed limit"))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    fees = models.CharField(_("fees"), max_length=200, blank=True, default="不收费")
    online_channel = models.CharField(_("online channel"), max_length=500, blank=True)
    offline_channel = models.CharField(_("offline channel"), max_length=500, blank=True)
    enquiry_phone = models.CharField(_("enquiry phone"), max_length=100, blank=True)
    faq = models.TextField(_("frequently asked questions"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("service guide")
        verbose_name_plural = _("service guides")

    def __str__(self):
        return str(self.item)


class GuideMaterial(models.Model):
    """One material a guide asks for (申请材料): name, requirements, copies, source, mandatory."""

    guide = models.ForeignKey(ServiceGuide, verbose_name=_("service guide"), on_delete=models.CASCADE,
                              related_name="materials")
    name = models.CharField(_("material"), max_length=200)
    requirements = models.CharField(_("requirements"), max_length=500, blank=True,
                                    help_text=_("e.g. 原件，加盖公章"))
    copies = models.PositiveSmallIntegerField(_("copies"), default=1)
    source = models.CharField(_("source"), max_length=100, blank=True, help_text=_("e.g. 申请人自备, 政府部门核发"))
    mandatory = models.BooleanField(_("mandatory"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name
