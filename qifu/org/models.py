"""Regions and their organization: jurisdictions, service nodes, sections, zones, windows,
departments, posts with AB backups, rotation rosters and post changes."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import config as region_config


class Region(models.Model):
    """A deployment's top unit (a city or district) with its rules; loaded from a preset."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=128)
    model_name = models.CharField(_("model"), max_length=64, blank=True, help_text=_('e.g. "8+3+3+N"'))
    description = models.TextField(_("description"), blank=True)
    config = models.JSONField(_("rules"), default=dict, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def rules(self) -> dict:
        return region_config.merged(self.config)

    def rule(self, key: str):
        """One rule, without merging the whole configuration (called per row on list pages)."""
        return region_config.merged_key(self.config, key)


class Jurisdiction(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("province")
        CITY = "city", _("city")
        DISTRICT = "district", _("district / county")
        TOWNSHIP = "township", _("township / sub-district")
        PARK = "park", _("park / platform")

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="jurisdictions")
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialized path "/root/…/self/" so a subtree is one indexed prefix query.
    path = models.CharField(max_length=512, db_index=True, editable=False)

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["path"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        old_path = self.path
        self.path = (self.parent.path if self.parent_id else "/") + self.code + "/"
        if self.parent_id and self.pk and self.path.startswith(old_path or "\0") and self.path != old_path:
            raise ValidationError(_("A jurisdiction cannot be placed under itself."))
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            for child in self.children.all():
                child.save()

    def subtree(self):
        return Jurisdiction.objects.filter(path__startswith=self.path)


class Department(models.Model):
    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("government unit")
        # Streets and platforms coordinate and may lead a whistle case (seed 003 line 1303).
        STREET = "street", _("street / township")
        PLATFORM = "platform", _("platform")
        THIRD_PARTY = "third_party", _("third-party provider")

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="departments")
    code = models.SlugField(_("code"), max_length=64, unique=True, help_text=_("Stable code used by integrations."))
    name = models.CharField(_("name"), max_length=128)
    short_name = models.CharField(_("short name"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GOVERNMENT)
    category = models.CharField(_("category"), max_length=64, blank=True, help_text=_("e.g. bank, law firm"))
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["region", "code"]

    def __str__(self):
        return self.name


class ServiceNode(models.Model):
    """A place that serves enterprises: the center, a sub-center or a station (驿站)."""

    class Kind(models.TextChoices):
        CENTER = "center", _("center")
        SUBCENTER = "subcenter", _("sub-center")
        STATION = "station", _("station")

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="nodes")
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    station_type = models.CharField(
        _("station type"), max_length=32, blank=True,
        help_text=_("township, park, business district, industry platform, convenience store…"),
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent node"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="nodes"
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("service node")
        verbose_name_plural = _("service nodes")
        ordering = ["region", "kind", "code"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.latitude is not None and not -90 <= self.latitude <= 90:
            raise ValidationError({"latitude": _("Latitude must be between -90 and 90.")})
        if self.longitude is not None and not -180 <= self.longitude <= 180:
            raise ValidationError({"longitude": _("Longitude must be between -180 and 180.")})

    def on_duty(self, day: datetime.date):
        """Staff rostered at this node on `day`."""
        return self.roster.filter(date=day).select_related("user")


class Section(models.Model):
    """A value-added section (板块) — the "1+1+1+X": lead department, chief service officer,
    chief service specialist and X specialists."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="sections")
    code = models.SlugField(_("code"), max_length=64, unique=True)
    kind = models.CharField(
        _("kind"), max_length=32, blank=True,
        help_text=_("project, talent, policy, tech, opening, finance, legal, appeals, fallback, data, approval…"),
    )
    name = models.CharField(_("name"), max_length=128)
    node = models.ForeignKey(
        ServiceNode, verbose_name=_("service node"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="sections",
    )
    lead_department = models.ForeignKey(
        Department, verbose_name=_("lead department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="led_sections",
    )
    other_departments = models.ManyToManyField(
        Department, verbose_name=_("other departments"), blank=True, related_name="sections"
    )
    chief_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("chief service officer"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    chief_specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("chief service specialist"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    specialists = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("specialists"), blank=True, related_name="specialist_sections"
    )
    description = models.TextField(_("services"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["region", "sort_order", "code"]

    def __str__(self):
        return self.name


class Zone(models.Model):
    """A special zone (专区) or hall area. Like a section it has a lead unit and a chief on the spot — the
    chief reception specialist (首席接待专员, seed 000) — and its staffed posts (`Post.zone`)."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="zones")
    node = models.ForeignKey(ServiceNode, verbose_name=_("service node"), on_delete=models.CASCADE, related_name="zones")
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    lead_department = models.ForeignKey(
        Department, verbose_name=_("lead department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="led_zones",
    )
    chief_receptionist = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("chief reception specialist"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["region", "sort_order", "code"]

    def __str__(self):
        return self.name


class Window(models.Model):
    """A counter (窗口) in a hall."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="windows")
    node = models.ForeignKey(ServiceNode, verbose_name=_("service node"), on_delete=models.CASCADE, related_name="windows")
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), null=True, blank=True, on_delete=models.SET_NULL, related_name="windows"
    )
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("window")
        verbose_name_plural = _("windows")
        ordering = ["region", "sort_order", "code"]

    def __str__(self):
        return self.name


class Post(models.Model):
    """A staffed post with its A holder and B backup (AB岗)."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="posts")
    node = models.ForeignKey(ServiceNode, verbose_name=_("service node"), on_delete=models.CASCADE, related_name="posts")
    section = models.ForeignKey(
        Section, verbose_name=_("section"), null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    window = models.ForeignKey(
        Window, verbose_name=_("window"), null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    code = models.SlugField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=128)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("holder (A)"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="held_posts",
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("backup (B)"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="backup_posts",
    )
    holder_since = models.DateField(_("holder since"), null=True, blank=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["region", "code"]

    def __str__(self):
        return self.title

    def clean(self):
        if self.holder_id and self.holder_id == self.backup_id:
            raise ValidationError({"backup": _("The backup (B) must be someone other than the holder (A).")})

    @property
    def has_backup(self) -> bool:
        return self.backup_id is not None and self.backup_id != self.holder_id

    def on_duty(self, absent: set | frozenset = frozenset()):
        """Who serves the post: the holder, or the backup when the holder is absent."""
        if self.holder_id and self.holder_id not in absent:
            return self.holder
        if self.backup_id and self.backup_id not in absent:
            return self.backup
        return None


class RosterShift(models.Model):
    """Rotation roster: who is on duty at which node on which day."""

    node = models.ForeignKey(ServiceNode, verbose_name=_("service node"), on_delete=models.CASCADE, related_name="roster")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff"), on_delete=models.CASCADE, related_name="shifts"
    )
    date = models.DateField(_("date"), db_index=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("roster shift")
        verbose_name_plural = _("rotation roster")
        ordering = ["date", "node"]
        constraints = [models.UniqueConstraint(fields=["node", "user", "date"], name="unique_shift")]

    def __str__(self):
        return f"{self.date} {self.node} {self.user}"


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    days_in_month = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28,
                     31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return datetime.date(year, month, min(day.day, days_in_month))


class PostChange(models.Model):
    """A request to change who holds a post, made a configured time ahead and approved by the center."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="changes")
    new_holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("new holder"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_on = models.DateField(_("requested on"), default=datetime.date.today)
    effective_on = models.DateField(_("effective on"))
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("post change")
        verbose_name_plural = _("post changes")
        ordering = ["-requested_on"]

    def __str__(self):
        return f"{self.post} → {self.new_holder} ({self.effective_on})"

    def earliest_effective_on(self) -> datetime.date:
        months = self.post.region.rule("post_change_notice_months")
        return add_months(self.requested_on, months)

    def clean(self):
        if self.post_id and self.effective_on and self.requested_on:
            earliest = self.earliest_effective_on()
            if self.effective_on < earliest:
                months = self.post.region.rule("post_change_notice_months")
                raise ValidationError(
                    {"effective_on": _("A post change must be requested %(months)s month(s) ahead: "
                                       "the earliest effective date is %(date)s.") % {"months": months, "date": earliest}}
                )

    @transaction.atomic
    def decide(self, approver, approve: bool) -> None:
        """The center approves (the post changes hands on the effective date) or rejects."""
        if self.status != self.Status.PENDING:
            raise ValidationError(_("This post change has already been decided."))
        if not (approver.has_role("admin", "leader")):
            raise ValidationError(_("Only the center (administrator or leader) approves post changes."))
        self.status = self.Status.APPROVED if approve else self.Status.REJECTED
        self.decided_by = approver
        self.decided_at = timezone.now()
        self.save()

    @classmethod
    def apply_due(cls, today: datetime.date | None = None) -> int:
        """Hand over posts whose approved change takes effect today or earlier."""
        today = today or timezone.localdate()
        count = 0
        due = cls.objects.filter(status=cls.Status.APPROVED, effective_on__lte=today).select_related("post")
        for change in due.order_by("effective_on", "pk"):  # in date order: the latest change due wins
            post = change.post
            if post.holder_id != change.new_holder_id or post.holder_since != change.effective_on:
                if post.holder_since and post.holder_since >= change.effective_on:
                    continue
                post.holder_id = change.new_holder_id
                post.holder_since = change.effective_on
                post.save()
                count += 1
        return count


class Body(models.Model):
    """A governance body (专班, its groups, 兜底专班, the weekly coordination meeting, the principal leaders,
    Huzhou's 协调小组). Members are users. A body with an `escalation_level` decides escalations to that
    level of the ladder (2 task force, 3 weekly coordination meeting, 4 principal leaders); `function`
    names what a body does so code can find it (e.g. "inspection" for the 督查考评组)."""

    class Kind(models.TextChoices):
        TASK_FORCE = "task_force", _("task force")
        GROUP = "group", _("working group")
        FALLBACK_TASK_FORCE = "fallback_task_force", _("fallback task force")
        COORDINATION_MEETING = "coordination_meeting", _("coordination meeting")
        PRINCIPAL_LEADERS = "principal_leaders", _("principal leaders")
        COORDINATION_GROUP = "coordination_group", _("coordination group")

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="bodies")
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    function = models.SlugField(
        _("function"), max_length=32, blank=True, help_text=_('what the body does, e.g. "inspection"'),
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("part of"), null=True, blank=True, on_delete=models.CASCADE, related_name="groups",
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("decides escalations to level"), null=True, blank=True,
        help_text=_("2 task force, 3 weekly coordination meeting, 4 principal leaders"),
    )
    lead_department = models.ForeignKey(
        Department, verbose_name=_("lead department"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="BodyMembership", related_name="bodies", blank=True,
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("governance body")
        verbose_name_plural = _("governance bodies")
        ordering = ["region", "code"]

    def __str__(self):
        return self.name

    @classmethod
    def for_function(cls, region, function: str):
        return cls.objects.filter(region=region, function=function)

    @classmethod
    def deciding_level(cls, region, level: int):
        """The body that decides an escalation to `level` in `region`, or None."""
        return cls.objects.filter(region=region, escalation_level=level).order_by("pk").first()

    def has_member(self, user) -> bool:
        return bool(user and user.is_authenticated) and self.memberships.filter(user=user).exists()

    def chairs(self):
        return [m.user for m in self.memberships.filter(role=BodyMembership.Role.CHAIR).select_related("user")]


class BodyMembership(models.Model):
    class Role(models.TextChoices):
        CHAIR = "chair", _("chair")
        MEMBER = "member", _("member")

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="body_memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("body membership")
        verbose_name_plural = _("body memberships")
        constraints = [models.UniqueConstraint(fields=["body", "user"], name="org_body_member_once")]

    def __str__(self):
        return f"{self.body}: {self.user}"
