"""Appointments (预约办事, `Booking`) in time slots with a capacity, and queue numbers (取号, `QueueTicket`).

The database keeps the promises, not the code: a slot's `booked` never exceeds its `capacity` (CHECK), a place is
taken by a conditional UPDATE (`booked = booked + 1 WHERE booked < capacity`, `.services.book`), a person holds at
most one active booking per slot (partial UNIQUE on the phone), and a queue number is unique per node, window and
day (UNIQUE). Rules (slot length, opening hours, capacity, reminder lead time, no-show grace) are the region's
`bookings` rule (`qifu.org.config.DEFAULTS`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TARGETS = ("window", "section", "service")


def _one_target():
    """Exactly one of window, section and service is set."""
    return (Q(window__isnull=False, section__isnull=True, service__isnull=True)
            | Q(window__isnull=True, section__isnull=False, service__isnull=True)
            | Q(window__isnull=True, section__isnull=True, service__isnull=False))


class Target(models.Model):
    """What is booked at a node: a window (窗口), a section (板块) or a service item (服务事项)."""

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey("org.ServiceNode", verbose_name=_("service node"), on_delete=models.CASCADE,
                             related_name="+")
    window = models.ForeignKey("org.Window", verbose_name=_("window"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    section = models.ForeignKey("org.Section", verbose_name=_("section"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey("catalog.ServiceItem", verbose_name=_("service item"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True

    @property
    def target(self):
        return self.window or self.section or self.service

    @property
    def target_kind(self) -> str:
        return "window" if self.window_id else "section" if self.section_id else "service"


class SlotPlan(Target):
    """The weekly plan of one target at a node: on which weekdays it takes appointments (on working days only,
    `qifu.workcal`), its opening hours, slot length and places per slot (empty: the region's `bookings` rule)."""

    weekdays = models.JSONField(_("weekdays"), default=list, blank=True,
                                help_text=_("ISO weekdays 1–7 on which slots open; empty: every working day"))
    hours = models.JSONField(_("opening hours"), default=list, blank=True,
                             help_text=_('e.g. [["09:00", "12:00"], ["13:30", "17:00"]]; empty: the region\'s rule'))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(_("places per slot"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("slot plan")
        verbose_name_plural = _("slot plans")
        constraints = [models.CheckConstraint(condition=_one_target(), name="bookings_plan_one_target")]

    def __str__(self):
        return f"{self.node} · {self.target}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if not isinstance(self.weekdays, list) or any(d not in range(1, 8) for d in self.weekdays):
            raise ValidationError({"weekdays": _("Weekdays are numbers 1 (Monday) to 7 (Sunday).")})
        if hours_problem(self.hours):
            raise ValidationError({"hours": hours_problem(self.hours)})
        if self.slot_minutes is not None and not 5 <= self.slot_minutes <= 480:
            raise ValidationError({"slot_minutes": _("A slot lasts 5 to 480 minutes.")})
        if self.capacity is not None and self.capacity < 1:
            raise ValidationError({"capacity": _("At least %(limit)s.") % {"limit": 1}})
        if sum(1 for t in (self.window_id, self.section_id, self.service_id) if t) != 1:
            raise ValidationError(_("Choose exactly one of window, section and service item."))


def hours_problem(hours) -> str | None:
    """What is wrong with opening hours `[["09:00", "12:00"], …]` (None: nothing)."""
    import re

    if not isinstance(hours, list):
        return _('Opening hours are a list of pairs such as [["09:00", "12:00"]].')
    for pair in hours:
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or not all(isinstance(t, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", t) for t in pair)
                or pair[0] >= pair[1]):
            return _('Opening hours are a list of pairs such as [["09:00", "12:00"]], each start before its end.')
    return None


class Slot(Target):
    """A time slot with places. `booked` counts the active bookings (booked, attended or no-show)."""

    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    capacity = models.PositiveIntegerField(_("places"))
    booked = models.PositiveIntegerField(_("booked"), default=0)

    class Meta:
        verbose_name = _("time slot")
        verbose_name_plural = _("time slots")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=_one_target(), name="bookings_slot_one_target"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="bookings_slot_capacity"),
            models.CheckConstraint(condition=Q(booked__gte=0) & Q(booked__lte=models.F("capacity")),
                                   name="bookings_slot_not_overbooked"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="bookings_slot_ends_after_start"),
            models.UniqueConstraint(fields=["node", "window", "start"], condition=Q(window__isnull=False),
                                    name="bookings_slot_window_once"),
            models.UniqueConstraint(fields=["node", "section", "start"], condition=Q(section__isnull=False),
                                    name="bookings_slot_section_once"),
            models.UniqueConstraint(fields=["node", "service", "start"], condition=Q(service__isnull=False),
                                    name="bookings_slot_service_once"),
        ]
        indexes = [models.Index(fields=["node", "start"], name="bookings_slot_node_start")]

    def __str__(self):
        start = timezone.localtime(self.start)
        return f"{self.target} {start:%Y-%m-%d %H:%M}–{timezone.localtime(self.end):%H:%M}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("The end must be after the start.")})
        if self.capacity is not None and self.capacity < max(self.booked or 0, 1):
            raise ValidationError({"capacity": _("At least %(limit)s.") % {"limit": max(self.booked or 0, 1)}})
        if sum(1 for t in (self.window_id, self.section_id, self.service_id) if t) != 1:
            raise ValidationError(_("Choose exactly one of window, section and service item."))

    @property
    def left(self) -> int:
        return max(self.capacity - self.booked, 0)


class Booking(models.Model):
    """An appointment of a person (for an enterprise, or in their own name) in a slot."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        ATTENDED = "attended", _("attended")
        NO_SHOW = "no_show", _("no-show")
        CANCELLED = "cancelled", _("cancelled")

    ACTIVE = (Status.BOOKED, Status.ATTENDED, Status.NO_SHOW)  # those that hold a place

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="+")
    slot = models.ForeignKey(Slot, verbose_name=_("time slot"), on_delete=models.PROTECT, related_name="bookings")
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="bookings")
    name = models.CharField(_("name"), max_length=64)
    phone = models.CharField(_("phone"), max_length=32)
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.BOOKED)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("booked by"), on_delete=models.PROTECT,
                                  related_name="bookings")
    created_at = models.DateTimeField(_("booked at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    attended_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("marked no-show at"), null=True, blank=True)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("marked by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=128, blank=True, editable=False)
    idempotency_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "phone"], condition=Q(status__in=["booked", "attended", "no_show"]),
                                    name="bookings_one_active_per_person_and_slot"),
            models.UniqueConstraint(fields=["booked_by", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="bookings_idempotency_key_once"),
        ]
        indexes = [models.Index(fields=["enterprise", "status"], name="bookings_enterprise_status")]

    def __str__(self):
        return f"{self.name} {self.slot}"

    @property
    def may_cancel(self) -> bool:
        return self.status == self.Status.BOOKED and self.slot.start > timezone.now()


class QueueCounter(models.Model):
    """The last queue number given at a window on a day (`qifu.lib.counters.take_next`)."""

    window = models.ForeignKey("org.Window", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["window", "day"], name="bookings_queue_counter_once")]


class QueueTicket(models.Model):
    """A walk-in's number at a window (取号): numbers run 1, 2, 3… per window and day."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting")
        CALLED = "called", _("called")

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey("org.ServiceNode", verbose_name=_("service node"), on_delete=models.CASCADE,
                             related_name="+")
    window = models.ForeignKey("org.Window", verbose_name=_("window"), on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.WAITING)
    booking = models.ForeignKey(Booking, verbose_name=_("appointment"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="tickets")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("taken by"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("called by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("queue number")
        verbose_name_plural = _("queue numbers")
        ordering = ["day", "window", "number"]
        constraints = [models.UniqueConstraint(fields=["node", "window", "day", "number"],
                                               name="bookings_queue_number_once")]
        indexes = [models.Index(fields=["window", "day", "status", "number"], name="bookings_queue_waiting")]

    def __str__(self):
        return f"{self.window} {self.label}"

    @property
    def label(self) -> str:
        return f"{self.number:03d}"
