"""The front desk (综合受理, seed 003 lines 501–529; seed 000 line 34): every visitor is registered as a `DeskVisit`.

- First-contact ownership (首问负责制): the clerk who registers a visit owns it (`owner`) until an explicit handover to
  another staff user (`Handover`, with a note); a visit left without owner or outcome past the region's
  `desk_visit_open_hours` is flagged (`flagged_at`, by the timer engine: `.timers`).
- Documents: the one-time notice (一次性告知书) listing every missing material at once, and the receipt (收件通知书)
  with the visit's tracking number (`tracking_number`, looked up on `/track/`). Each issued document is a
  `DeskNotice` holding what it said, so it is downloaded again exactly as issued.
- 容缺受理: accepted with promised materials (`DeferredMaterial`) due by `deferred_due_on` (a working day).
- Outcome: exactly one of an answered consultation, a service request, an appeal or an agency case
  (`outcome_kind` + `outcome_id`, set once: `visits.conclude`).
- Station response (seed 000 line 34, rules T18/T19): at a park station the staff are on site within
  `station_on_site_minutes` (`on_site_at`) and a non-park issue is handed to a clerk within
  `station_handover_minutes`; a missed limit is recorded (`on_site_missed_at`, `handover_missed_at`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    CONSULTATION = "consultation", _("answered consultation")
    SERVICE_REQUEST = "service_request", _("service request")
    APPEAL = "appeal", _("appeal")
    AGENCY_CASE = "agency_case", _("agency case")


class DeskVisit(models.Model):
    Outcome = Outcome

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.ServiceNode", verbose_name=_("service node"), on_delete=models.PROTECT,
                             related_name="desk_visits")
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="desk_visits")
    visitor_name = models.CharField(_("visitor"), max_length=64)
    visitor_phone = models.CharField(_("visitor's phone"), max_length=32)
    need = models.TextField(_("need"))
    item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("service item"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="desk_visits")
    section = models.ForeignKey("org.Section", verbose_name=_("section"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    window = models.ForeignKey("org.Window", verbose_name=_("window"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey("org.Zone", verbose_name=_("zone"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now, db_index=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("registered by"),
                                      on_delete=models.PROTECT, related_name="+")
    # First-contact ownership: the registering clerk until a handover.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="owned_desk_visits")
    open_due_at = models.DateTimeField(_("outcome due by"))
    flagged_at = models.DateTimeField(_("flagged at"), null=True, blank=True)
    flagged_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner when flagged"), null=True,
                                      blank=True, on_delete=models.SET_NULL, related_name="+")
    # Receipt (收件通知书) and 容缺受理.
    tracking_number = models.CharField(_("tracking number"), max_length=32, null=True, blank=True, unique=True)
    received_at = models.DateTimeField(_("application received at"), null=True, blank=True)
    deferred_due_on = models.DateField(_("missing materials due on"), null=True, blank=True)
    deferred_overdue_at = models.DateTimeField(_("missing materials overdue since"), null=True, blank=True)
    # Station response (park stations).
    station_response = models.BooleanField(_("station response limits apply"), default=False)
    park_issue = models.BooleanField(_("park issue"), null=True, blank=True,
                                     help_text=_("empty: not yet said; a park issue is solved on the spot"))
    on_site_at = models.DateTimeField(_("staff on site at"), null=True, blank=True)
    on_site_missed_at = models.DateTimeField(_("on-site limit missed at"), null=True, blank=True)
    handed_to_clerk_at = models.DateTimeField(_("handed to a clerk at"), null=True, blank=True)
    handover_missed_at = models.DateTimeField(_("hand-over limit missed at"), null=True, blank=True)
    # The outcome: set once.
    outcome_kind = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    outcome_id = models.BigIntegerField(_("outcome id"), null=True, blank=True)
    outcome_label = models.CharField(_("outcome reference"), max_length=200, blank=True)
    outcome_url = models.CharField(_("outcome link"), max_length=300, blank=True)
    answer = models.TextField(_("answer given"), blank=True)
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)
    concluded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("concluded by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("front-desk visit")
        verbose_name_plural = _("front-desk visits")
        ordering = ["-registered_at", "-id"]
        indexes = [models.Index(fields=["region", "node", "registered_at"]),
                   models.Index(fields=["owner", "concluded_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(outcome_kind="", concluded_at__isnull=True)
                           | (~Q(outcome_kind="") & Q(concluded_at__isnull=False))),
                name="frontdesk_visit_outcome_with_time"),
        ]

    def __str__(self):
        return f"{self.visitor_name} {timezone.localtime(self.registered_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("desk_visit", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return not self.outcome_kind

    @property
    def is_flagged(self) -> bool:
        owner_gone = self.owner_id is None or not self.owner.is_active
        return self.is_open and (self.flagged_at is not None or owner_gone)

    @property
    def deferred_open(self) -> bool:
        return any(m.received_at is None for m in self.deferred.all())


class Handover(models.Model):
    """An explicit handover of a visit to another staff user (append-only; audited)."""

    visit = models.ForeignKey(DeskVisit, on_delete=models.CASCADE, related_name="handovers")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("from"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("to"), on_delete=models.PROTECT,
                                related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"), default=timezone.now)
    note = models.TextField(_("note"))

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.visit_id}: {self.from_user_id} → {self.to_user_id}"


class DeskNotice(models.Model):
    """A document issued to the visitor, with what it said (`content`), so it is downloaded again as issued."""

    class Kind(models.TextChoices):
        ONE_TIME = "one_time", _("one-time notice")
        RECEIPT = "receipt", _("receipt")

    visit = models.ForeignKey(DeskVisit, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    content = models.JSONField(_("content"), default=dict)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        verbose_name = _("front-desk document")
        verbose_name_plural = _("front-desk documents")
        ordering = ["issued_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.visit_id}"


class DeferredMaterial(models.Model):
    """A material promised under 容缺受理, due by the visit's `deferred_due_on`; `received_at` when it came."""

    visit = models.ForeignKey(DeskVisit, on_delete=models.CASCADE, related_name="deferred")
    name = models.CharField(_("material"), max_length=200)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("received by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("deferred material")
        verbose_name_plural = _("deferred materials")
        ordering = ["id"]

    def __str__(self):
        return self.name


class ReceiptCounter(models.Model):
    """Per-region, per-day counter of tracking numbers (`qifu.lib.counters`)."""

    region = models.ForeignKey("org.Region", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "day"], name="frontdesk_receipt_counter")]
