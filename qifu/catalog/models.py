"""The service catalog (涉企服务事项清单): the services a region's center and its stations offer enterprises.

A `ServiceItem` is one row of the seeds' lists (seed 003 附件4/附件5) with their columns: a three-level category
(一级类别, 二级分类 and the item itself as the third level), the provider side (★ government, ▲ market, ● society),
content, process, responsible units (the text as written, and the departments it names), frequency, target users,
area, term, online and offline channels and a contact. Common items (共性清单) belong to the whole region (`node`
empty, "four unified" across the center and its stations); per-node items (个性清单) to one station or sub-center.
"""

from django.conf import settings
from django.db import models
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
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
    # Listing approval (服务上架审批, `.listing`): only listed items appear to enterprises. Items of the seeds' lists
    # and of imports are listed; a unit's new online service is not, until the platform approves its listing form.
    listed = models.BooleanField(_("listed"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

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


class ServiceType(models.TextChoices):
    """服务类型 as the listing form (服务上架审批单, seed 003 line 1775) names them."""

    TALENT = "talent", _("talent services")
    TECHNOLOGY = "technology", _("technology services")
    POLICY = "policy", _("policy services")
    FINANCE = "finance", _("finance services")
    OPENING = "opening", _("opening-up services")
    LEGAL = "legal", _("legal system services")
    APPEAL = "appeal", _("appeal services")
    FALLBACK = "fallback", _("fallback services")


class Listing(models.Model):
    """One listing form (服务上架审批单, seed 003 lines 1689–1782): a unit asks the platform to list an online
    service (`kind` new) or to change a listed one (`kind` change); the platform reviews it within the region's
    `listing_review_hours` for lawfulness, completeness and accuracy and approves it or sends it back with reasons;
    the unit corrects and submits again. Approval writes the form's values onto the item (and lists a new one)."""

    class Kind(models.TextChoices):
        NEW = "new", _("new service")
        CHANGE = "change", _("change to a listed service")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("awaiting review")
        REJECTED = "rejected", _("sent back")
        APPROVED = "approved", _("passed review")

    ServiceType = ServiceType

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ServiceItem, verbose_name=_("service item"), on_delete=models.CASCADE,
                             related_name="listings")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.NEW)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    # The form's fields (服务名称、服务类型、服务说明、服务提供单位意见、牵头单位意见、备注) and the online channel listed.
    name = models.CharField(_("service name"), max_length=200)
    service_type = models.CharField(_("service type"), max_length=16, choices=ServiceType.choices)
    description = models.TextField(_("service description"),
                                   help_text=_("what the service provides, e.g. which business or matters it handles "
                                               "for enterprises"))
    online_channel = models.CharField(_("online channel"), max_length=500, help_text=_("a web address or an app"))
    provider_unit = models.ForeignKey("org.Department", verbose_name=_("service provider unit"),
                                      on_delete=models.PROTECT, related_name="+")
    provider_opinion = models.TextField(_("opinion of the service provider unit"))
    provider_head = models.CharField(_("principal responsible person (provider unit)"), max_length=64)
    provider_signed_on = models.DateField(_("date (provider unit)"))
    lead_unit = models.ForeignKey("org.Department", verbose_name=_("lead unit"), on_delete=models.PROTECT,
                                  related_name="+")
    lead_opinion = models.TextField(_("opinion of the lead unit"))
    lead_head = models.CharField(_("principal responsible person (lead unit)"), max_length=64)
    lead_signed_on = models.DateField(_("date (lead unit)"))
    remarks = models.TextField(_("remarks"), blank=True)
    internal_checked = models.BooleanField(
        _("internal review and pre-listing test done"), default=False,
        help_text=_("the unit reviewed the content internally and tested the service's stability, functions and "
                    "ease of use before submitting"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"),
                                     on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    due_at = models.DateTimeField(_("review due by"))
    overdue_at = models.DateTimeField(_("review overdue since"), null=True, blank=True)
    rounds = models.PositiveSmallIntegerField(_("submissions"), default=1)
    # The platform's review (审核): the three standards of seed 003 line 1697, and the reasons when sent back.
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    lawful = models.BooleanField(_("lawful"), default=False)
    complete = models.BooleanField(_("complete"), default=False)
    accurate = models.BooleanField(_("accurate"), default=False)
    reasons = models.TextField(_("reasons"), blank=True)

    class Meta:
        verbose_name = _("listing form")
        verbose_name_plural = _("listing forms")
        ordering = ["-submitted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["item"], condition=~models.Q(status="approved"),
                                               name="catalog_listing_one_open_per_item")]
        indexes = [models.Index(fields=["region", "status", "due_at"])]

    def __str__(self):
        return f"{self.name} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("catalog_listing", args=[self.pk])

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.SUBMITTED and self.due_at < timezone.now()


class ListReview(models.Model):
    """A periodic review of one list (the common list: `node` empty; or a node's list): seed 003 lines 679 and
    1816 — 运行3个月或一定期限后 … 对服务事项作动态调整."""

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey("org.ServiceNode", verbose_name=_("service node"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"),
                                    on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("conclusion"), blank=True)

    class Meta:
        verbose_name = _("list review")
        verbose_name_plural = _("list reviews")
        ordering = ["-reviewed_at"]

    def __str__(self):
        return f"{self.node or self.region} {self.reviewed_at:%Y-%m-%d}"


class AppealItem(models.Model):
    """The service item an appeal names (one at most): the yearly volume of dynamic adjustment counts these. Appeals
    carry no link to the catalog themselves. A service request (服务申请, `.requests`) writes one with `request` set:
    the appeal is then a request for the item, handled by its responsible unit within the item's own time limit;
    other rows (set in the admin site or by integrations) only name the item an appeal is about."""

    appeal = models.OneToOneField("appeals.Appeal", verbose_name=_("appeal"), on_delete=models.CASCADE,
                                  related_name="service_item_link")
    item = models.ForeignKey(ServiceItem, verbose_name=_("service item"), on_delete=models.CASCADE,
                             related_name="appeal_links")
    request = models.BooleanField(_("service request"), default=False,
                                  help_text=_("the appeal is a request for this item (its time limit applies)"))

    class Meta:
        verbose_name = _("service item named by an appeal")
        verbose_name_plural = _("service items named by appeals")

    def __str__(self):
        return f"{self.appeal_id} → {self.item}"
