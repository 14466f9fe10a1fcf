"""一类事 scenarios (glossary: Scenario) and agency cases (全程代办/帮办代办, glossary: AgencyCase).

A `Scenario` bundles the basic approval items (基本服务事项) and value-added services (增值服务事项) an enterprise needs
for one "thing" (e.g. 工业项目开工), ordered in stages, with its online and offline path and its reform measures
(seed 003 附件6 and 附件7, loaded from `qifu/scenarios/presets/NAME.yaml` by `.presets`).

An `AgencyCase` is one enterprise going through one scenario with an assigned agent: its own checklist (`CaseItem`,
copied from the scenario; items dropped with a reason or added for this enterprise), each item with its deadline in
working days, its status and its documents. Rules: `.cases`.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Origin(models.TextChoices):
    LIFECYCLE = "lifecycle", _("enterprise lifecycle stage")
    CHAIN_NODE = "chain_node", _("industry chain node")
    HIGH_FREQUENCY = "high_frequency", _("high-frequency appeals")


class LifecycleStage(models.TextChoices):
    """The ten B-READY stages (seed 003 line 2590)."""

    MARKET_ENTRY = "market_entry", _("market entry")
    BUSINESS_LOCATION = "business_location", _("obtaining a business location")
    UTILITY_SERVICES = "utility_services", _("utility connections")
    LABOR = "labor", _("labor")
    FINANCIAL_SERVICES = "financial_services", _("financial services")
    INTERNATIONAL_TRADE = "international_trade", _("international trade")
    TAXATION = "taxation", _("taxation")
    DISPUTE_RESOLUTION = "dispute_resolution", _("dispute resolution")
    MARKET_COMPETITION = "market_competition", _("market competition")
    INSOLVENCY = "insolvency", _("business insolvency")


CHAIN_NODES = ["开办", "研发", "临床", "生产", "销售"]  # the biomedicine chain (seed 003 附件7)


class Kind(models.TextChoices):
    BASIC = "basic", _("basic service item")
    VALUE_ADDED = "value_added", _("value-added service")


class Side(models.TextChoices):
    GOVERNMENT = "government", _("government side")
    MARKET = "market", _("market side")
    SOCIAL = "social", _("social side")
    ENTERPRISE = "enterprise", _("enterprise side")


class Scenario(models.Model):
    Origin = Origin
    LifecycleStage = LifecycleStage

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="scenarios")
    code = models.SlugField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    annex = models.PositiveSmallIntegerField(_("annex"), default=0, help_text=_("6 (附件6) or 7 (附件7)"))
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices)
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=32, choices=LifecycleStage.choices,
                                       blank=True)
    chain = models.CharField(_("industry chain"), max_length=32, blank=True)
    chain_node = models.CharField(_("chain node"), max_length=16, blank=True)
    demand = models.TextField(_("enterprise demand"), blank=True)
    online_path = models.TextField(_("online path"), blank=True)
    offline_path = models.TextField(_("offline path"), blank=True)
    reform_measures = models.JSONField(_("reform measures"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    stages = models.JSONField(_("stages"), default=list, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")
        ordering = ["region", "sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="scenarios_scenario_code")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("scenario_detail", args=[self.code])


class ScenarioItem(models.Model):
    Kind = Kind

    scenario = models.ForeignKey(Scenario, verbose_name=_("scenario"), on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sides = models.JSONField(_("provider sides"), default=list, blank=True)
    units_text = models.JSONField(_("responsible units"), default=list, blank=True,
                                  help_text=_("the units as the seed names them"))
    units = models.ManyToManyField("org.Department", verbose_name=_("responsible departments"), blank=True,
                                   related_name="scenario_items")
    stage = models.CharField(_("stage"), max_length=64)
    service_item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("service item"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="scenario_items")
    time_limit_days = models.PositiveSmallIntegerField(_("time limit in working days"), null=True, blank=True)

    class Meta:
        verbose_name = _("scenario item")
        verbose_name_plural = _("scenario items")
        ordering = ["scenario", "order"]
        constraints = [models.UniqueConstraint(fields=["scenario", "order"], name="scenarios_item_order")]

    def __str__(self):
        return self.name

    def side_labels(self) -> list[str]:
        return [str(Side(s).label) if s in Side.values else s for s in self.sides]


class CaseStatus(models.TextChoices):
    OPEN = "open", _("in progress")
    DONE = "done", _("completed")


class ItemStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    DROPPED = "dropped", _("dropped")


OPEN_ITEM_STATUSES = (ItemStatus.PENDING, ItemStatus.IN_PROGRESS)


class AgencyCase(models.Model):
    Status = CaseStatus

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    scenario = models.ForeignKey(Scenario, verbose_name=_("scenario"), on_delete=models.PROTECT,
                                 related_name="cases")
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                   related_name="agency_cases")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("agent"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="agency_cases")
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT,
                                   related_name="+")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    closed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=128, blank=True, default="")
    idempotency_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("agency case")
        verbose_name_plural = _("agency cases")
        ordering = ["-opened_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["started_by", "idempotency_key"],
                                               condition=~models.Q(idempotency_key=""),
                                               name="scenarios_case_idempotency")]
        indexes = [models.Index(fields=["region", "status"]), models.Index(fields=["agent", "status"])]

    def __str__(self):
        return f"{self.scenario.name} · {self.enterprise.name}"

    def get_absolute_url(self):
        return reverse("agency_case", args=[self.pk])


class CaseItem(models.Model):
    Status = ItemStatus
    Kind = Kind

    class LimitSource(models.TextChoices):
        ITEM = "item", _("the scenario's time limit")
        GUIDE = "guide", _("the service guide's time limit")
        RULE = "rule", _("the region's default")

    case = models.ForeignKey(AgencyCase, verbose_name=_("agency case"), on_delete=models.CASCADE,
                             related_name="items")
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sides = models.JSONField(_("provider sides"), default=list, blank=True)
    units_text = models.JSONField(_("responsible units"), default=list, blank=True)
    stage = models.CharField(_("stage"), max_length=64)
    scenario_item = models.ForeignKey(ScenarioItem, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    service_item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("service item"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    added = models.BooleanField(_("added for this enterprise"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    time_limit_days = models.PositiveSmallIntegerField(_("time limit in working days"))
    limit_source = models.CharField(_("time limit from"), max_length=8, choices=LimitSource.choices)
    counted_from = models.DateTimeField(_("counted from"))
    due_at = models.DateTimeField(_("due by"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    dropped_reason = models.CharField(_("reason for dropping"), max_length=500, blank=True)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["case", "order"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ITEM_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and (self.overdue_at is not None or self.due_at < timezone.now())

    def side_labels(self) -> list[str]:
        return [str(Side(s).label) if s in Side.values else s for s in self.sides]


def document_path(instance, filename):
    return f"agency/{instance.item.case_id}/{filename}"


class CaseDocument(models.Model):
    item = models.ForeignKey(CaseItem, verbose_name=_("checklist item"), on_delete=models.CASCADE,
                             related_name="documents")
    file = models.FileField(_("file"), upload_to=document_path)
    name = models.CharField(_("name"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name
