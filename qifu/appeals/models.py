"""Appeals (诉求): one problem of one enterprise, its events, attachments and rating.

The state of an appeal is derived from its events (`AppealEvent`); the `status` and SLA columns on
`Appeal` are a cache written only by `qifu.appeals.workflow` when it appends an event, so lists can
filter and sort without replaying history. `workflow.replay()` rebuilds them from the events.
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qifu.audit.models import TransitionEvent
from qifu.lib import counters
from qifu.workcal import workdays


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    ASSIGNED = "assigned", _("being handled")
    HANDLED = "handled", _("handled")
    CLOSED = "closed", _("closed")
    WITHDRAWN = "withdrawn", _("withdrawn")
    MERGED = "merged", _("merged")


OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.ASSIGNED, Status.HANDLED)
# The clock runs while the back office owes the enterprise an answer.
CLOCK_STATUSES = (Status.ACCEPTED, Status.ASSIGNED)
HANDLING_ACTIONS = ("mark_handled", "solve_on_spot")  # 办结: by the lead unit, or on the spot at intake


class Category(models.TextChoices):
    SIMPLE = "simple", _("simple (1 working day)")
    SINGLE = "single", _("single department (3 working days)")
    WHISTLE = "whistle", _("whistle, several departments (5 working days)")
    # The fallback lane (兜底办, seed 003 lines 1621–1682): "3135" — 现场办 1, 局长办 3, 研讨办 5 working days.
    FALLBACK_ON_SPOT = "fallback_on_spot", _("fallback: on the spot (1 working day)")
    FALLBACK_CHIEF = "fallback_chief", _("fallback: led by the bureau chief (3 working days)")
    FALLBACK_DELIBERATION = "fallback_deliberation", _("fallback: deliberation, case by case (5 working days)")


# The classes of the "135" limits; the fallback classes are given by `classify` with their reasons.
REGULAR_CATEGORIES = (Category.SIMPLE, Category.SINGLE, Category.WHISTLE)
FALLBACK_CATEGORIES = (Category.FALLBACK_ON_SPOT, Category.FALLBACK_CHIEF, Category.FALLBACK_DELIBERATION)


class FallbackReason(models.TextChoices):
    """Why a case belongs in the fallback lane (seed 003 line 1625: 无处受理、多部门无牵头、无先例、老幼孕残外)."""

    NO_PLACE = "no_place", _("no place accepts it")
    NO_LEAD = "no_lead", _("no department leads it")
    NO_PRECEDENT = "no_precedent", _("no precedent")
    SPECIAL_GROUP = "special_group", _("special group (elderly, young, pregnant, disabled, foreign)")


class Level(models.IntegerChoices):
    """The escalation ladder (提级协调, seed 003 lines 1106, 1138): who coordinates a case."""

    UNITS = 1, _("level 1: departments, platforms and streets")
    TASK_FORCE = 2, _("level 2: the task force")
    MEETING = 3, _("level 3: the weekly coordination meeting of the leader in charge")
    PRINCIPAL = 4, _("level 4: the principal leaders")


class Scope(models.TextChoices):
    POINT = "point", _("point: one enterprise")
    CHAIN = "chain", _("chain: an industry chain")
    BLOCK = "block", _("block: an area")


class Resolution(models.TextChoices):
    SOLVED = "solved", _("solved per law and policy")
    POLICY_STUDY = "policy_study", _("reasonable, rules missing: policy study")
    EXPLAINED = "explained", _("conditions lacking: explained, to solve later")
    PERSUADED = "persuaded", _("unreasonable: persuaded")


class Channel(models.Model):
    """Where an appeal came in. A configurable list; the seeds' channels are preloaded."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    label = models.CharField(_("name"), max_length=64)
    active = models.BooleanField(_("active"), default=True)
    records_own_time = models.BooleanField(
        _("records its own time of receipt"), default=False,
        help_text=_("e.g. hotline imports and 12345 work orders carry the time they were received"),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.label

    @classmethod
    def open_by_code(cls, code: str) -> "Channel | None":
        """The active channel of that code (appeals are filed through open channels only), or None. One
        statement built once (`qifu.lib.fastselect`): it is read on every intake."""
        from qifu.lib import fastselect

        return fastselect.first(cls, "t.code = %s AND t.active", [code])


class AppealQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now: datetime.datetime | None = None):
        return self.filter(status__in=CLOCK_STATUSES, due_at__lt=now or timezone.now())


class Appeal(models.Model):
    Status = Status
    Category = Category

    # region, section, lead unit: no index of their own (db_index=False): the composite indexes below start with
    # them, and each index more is written by every intake (issue 10)
    region = models.ForeignKey("org.Region", on_delete=models.PROTECT, related_name="appeals", db_index=False)
    # unique by a constraint, not unique=True: on PostgreSQL that adds a second (LIKE) index no query uses
    number = models.CharField(_("number"), max_length=32)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="appeals"
    )
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="appeals")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    received_at = models.DateTimeField(_("received at"))
    received_node = models.ForeignKey(
        "org.ServiceNode", verbose_name=_("received at (node)"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="appeals",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    idempotency_key = models.CharField(max_length=128, blank=True)
    # sha256 of the request that used the key: the same key with another request is refused (422).
    idempotency_hash = models.CharField(max_length=64, blank=True, default="")
    category = models.CharField(_("class"), max_length=32, choices=Category.choices, blank=True)
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.POINT)
    section = models.ForeignKey(
        "org.Section", verbose_name=_("section"), null=True, blank=True, on_delete=models.PROTECT, related_name="appeals",
        db_index=False,
    )
    lead_department = models.ForeignKey(
        "org.Department", verbose_name=_("lead department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="led_appeals", db_index=False,
    )
    assisting_departments = models.ManyToManyField(
        "org.Department", verbose_name=_("assisting departments"), blank=True, related_name="assisted_appeals"
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )

    # Derived from the events by workflow.py (never written elsewhere).
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)  # indexed below (no LIKE index)
    version = models.PositiveIntegerField(_("version"), default=0)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=16, choices=Resolution.choices, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    lead_count = models.PositiveSmallIntegerField(_("lead departments so far"), default=0)
    dissatisfied_count = models.PositiveSmallIntegerField(_("times not satisfied"), default=0)
    converted_to_whistle = models.BooleanField(_("became a whistle case"), default=False)
    solved_on_spot = models.BooleanField(_("solved on the spot"), default=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), choices=Level.choices,
                                                        default=Level.UNITS)
    # Set while a request to escalate awaits the decision of the next level's body.
    escalation_requested_at = models.DateTimeField(_("escalation requested at"), null=True, blank=True,
                                                   db_index=True)
    fallback_reasons = models.JSONField(_("fallback reasons"), default=list, blank=True)

    objects = AppealQuerySet.as_manager()

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                name="unique_idempotency_key_per_user",
            ),
            models.UniqueConstraint(fields=["number"], name="unique_appeal_number"),
        ]
        indexes = [models.Index(fields=["status"], name="appeals_status"),  # the sweeps over every region
                   models.Index(fields=["lead_department", "status"]),  # (region, status): appeals_region_status_due
                   # the statistics' "received" and the lists' order (-received_at, -id) within a region
                   models.Index(fields=["region", "received_at", "id"], name="appeals_region_received"),
                   # the lists' counts: by status (and overdue: due_at), section, escalation level
                   models.Index(fields=["region", "status", "due_at"], name="appeals_region_status_due"),
                   models.Index(fields=["section", "status"], name="appeals_section_status"),
                   models.Index(fields=["region", "escalation_level"], condition=models.Q(escalation_level__gt=1),
                                name="appeals_escalated")]

    def __str__(self):
        return f"{self.number} {self.title}"

    # --- the clock -----------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def clock_running(self) -> bool:
        return self.status in CLOCK_STATUSES and self.due_at is not None

    def workdays_left(self, now: datetime.datetime | None = None) -> float | None:
        """Working days until the deadline (negative: overdue by that much), while the clock runs.
        For a case already handled, the margin it was handled with."""
        if self.due_at is None:
            return None
        if self.clock_running:
            end = now or timezone.now()
        elif self.handled_at:
            end = self.handled_at
        else:
            return None
        tz = self.region.rule("time_zone")
        return round(workdays.workdays_between(end, self.due_at, tz=tz), 2)

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        """Past the deadline while the clock runs (by the instant: a deadline on Friday is overdue over
        the weekend even though no working time has passed since)."""
        return self.clock_running and (now or timezone.now()) > self.due_at

    def clock_state(self, now: datetime.datetime | None = None) -> dict | None:
        """What a case shows: running or not, overdue (or handled late), and the working days."""
        left = self.workdays_left(now)
        if left is None:
            return None
        if self.clock_running:
            overdue = self.is_overdue(now)
        else:
            overdue = self.handled_late()
        return {"running": self.clock_running, "overdue": overdue, "days": abs(left), "left": left}

    def handled_late(self) -> bool:
        return bool(self.handled_at and self.due_at and self.handled_at > self.due_at)

    # --- the ladder and the fallback lane --------------------------------------------------------
    @property
    def escalation_pending(self) -> bool:
        return self.escalation_requested_at is not None

    @property
    def is_fallback(self) -> bool:
        return self.category in FALLBACK_CATEGORIES

    def fallback_reason_labels(self) -> list[str]:
        return [FallbackReason(r).label for r in self.fallback_reasons or [] if r in FallbackReason.values]


class AppealNumber(models.Model):
    """Per-region, per-day counter for human-readable numbers (e.g. QT-20261121-0007).

    `assign` takes the next number with one upsert at the END of the intake's transaction: the counter row is locked
    from that statement to the commit only, not for the whole intake (issue 10). Numbers are unique (the counter
    and `Appeal.number`'s unique index); they are consecutive as long as every transaction that took one commits —
    a rollback after `assign` (the database failing at commit) gives its number back, and nothing relies on the
    sequence having no gaps (a number names a case, it counts nothing)."""

    region = models.ForeignKey("org.Region", on_delete=models.CASCADE)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "day"], name="unique_appeal_counter")]

    @staticmethod
    def stem(region, day: datetime.date) -> str:
        prefix = region.rule("appeal_number_prefix") or region.code[:2].upper()
        return f"{prefix}-{day:%Y%m%d}-"

    @classmethod
    def next(cls, region, day: datetime.date) -> str:
        """The next number of the region's day, its counter row locked to the end of the caller's transaction."""
        last = counters.take_next(cls, region=region, day=day)
        return f"{cls.stem(region, day)}{last:04d}"

    IN_INSERT = "qifu_appeal_number(%s, %s, %s)"  # migration 0011: the same upsert as `assign`, in a function

    @classmethod
    def taken_in_insert(cls, region, day: datetime.date) -> tuple | None:
        """PostgreSQL: the parameters of `IN_INSERT`, which takes the next number of the region's day inside the
        appeal's own INSERT (`workflow.register`), so the appeal row is written once (the UPDATE of `assign` wrote
        a second version of it into every index of the table). None elsewhere (then `assign`)."""
        from django.db import connections, router

        if connections[router.db_for_write(Appeal)].vendor != "postgresql":
            return None
        return region.pk, day, cls.stem(region, day)

    @classmethod
    def assign(cls, appeal, day: datetime.date) -> str:
        """Number the saved `appeal` (it holds a provisional number) as the next of its region's `day`, and
        return the number. PostgreSQL: one statement (the counter's upsert and the appeal's UPDATE); elsewhere
        the upsert, then the UPDATE. Call it last in the transaction: the counter row stays locked to the
        commit."""
        from django.db import connections, router

        using = router.db_for_write(cls)
        connection = connections[using]
        qn = connection.ops.quote_name
        counter, table = qn(cls._meta.db_table), qn(Appeal._meta.db_table)
        upsert = (f"INSERT INTO {counter} ({qn('region_id')}, {qn('day')}, {qn('last')}) VALUES (%s, %s, 1) "
                  f"ON CONFLICT ({qn('region_id')}, {qn('day')}) DO UPDATE SET {qn('last')} = {counter}.{qn('last')} + 1 "
                  f"RETURNING {qn('last')}")
        stem = cls.stem(appeal.region, day)
        day_value = connection.ops.adapt_datefield_value(day)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"WITH n AS ({upsert}) UPDATE {table} SET {qn('number')} = %s || CASE WHEN n.{qn('last')} < 10000 "
                    f"THEN lpad(n.{qn('last')}::text, 4, '0') ELSE n.{qn('last')}::text END FROM n "
                    f"WHERE {table}.{qn('id')} = %s RETURNING {table}.{qn('number')}",
                    [appeal.region_id, day_value, stem, appeal.pk])
                number = cursor.fetchone()[0]
            else:
                cursor.execute(upsert, [appeal.region_id, day_value])
                number = f"{stem}{cursor.fetchone()[0]:04d}"
                cursor.execute(f"UPDATE {table} SET {qn('number')} = %s WHERE {qn('id')} = %s", [number, appeal.pk])
        appeal.number = number
        return number


class AppealEvent(TransitionEvent):
    """One step in the life of an appeal: who did what, when, from which state to which."""

    # no index of its own: unique_event_seq (appeal, seq) starts with it
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events", db_index=False)

    class Meta:
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
        ordering = ["appeal", "seq"]
        constraints = [models.UniqueConstraint(fields=["appeal", "seq"], name="unique_event_seq")]
        indexes = [
            # the statistics read a period's events of one kind (accept, mark_handled, reassign, …) or closings:
            # their appeals (and sequence numbers) from the index alone on PostgreSQL
            models.Index(fields=["action", "at"], include=["appeal", "seq"], name="appeals_event_action_at_ids"),
            models.Index(fields=["to_status", "at"], include=["appeal"], name="appeals_event_status_at_ids"),
            # "a later handling" of a handling (stats._last_handlings), from the index alone on PostgreSQL
            models.Index(fields=["appeal", "seq"], include=["at"], condition=models.Q(action__in=HANDLING_ACTIONS),
                         name="appeals_event_handlings"),
            # the deadline in force at an event: the latest earlier event that set one (stats._deadline_then)
            models.Index(fields=["appeal", "seq"], condition=models.Q(data__has_key="due_at"),
                         name="appeals_event_sets_due_at"),
            # the abnormal list "reassigned" (records.abnormal), read by the index alone
            models.Index(fields=["appeal"], condition=models.Q(action="reassign"), name="appeals_event_reassign"),
        ]

    def __str__(self):
        return f"{self.appeal.number} #{self.seq} {self.action}"


def attachment_path(instance, filename):
    return f"appeals/{instance.appeal.number}/{filename}"


class AttachmentKind(models.TextChoices):
    """What a file is for. The three an escalation request needs (seed 003 line 1299): the handling statement
    (问题办理情况说明) and the minutes and sign-in sheet of the lead unit's coordination meeting."""

    OTHER = "", _("other document")
    HANDLING_STATEMENT = "handling_statement", _("handling statement")
    MEETING_MINUTES = "meeting_minutes", _("minutes of the coordination meeting")
    SIGN_IN_SHEET = "sign_in_sheet", _("sign-in sheet of the coordination meeting")


ESCALATION_ATTACHMENTS = (AttachmentKind.HANDLING_STATEMENT, AttachmentKind.MEETING_MINUTES,
                          AttachmentKind.SIGN_IN_SHEET)


class AppealAttachment(models.Model):
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=32, choices=AttachmentKind.choices, blank=True, default="")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.name


# 好差评's five grades: 1 非常不满意 and 2 不满意 are the bad ones (差评) — the dissatisfied cases of supervision's
# abnormal list and of the statistics.
DISSATISFIED_STARS = 2


class Rating(models.Model):
    """The enterprise's answer (好差评) when its appeal is closed or sent back: solved or not, 1–5 stars or an explicit
    "not rated", and a comment. `rated`: True with stars, False when the enterprise chose not to rate (stars NULL),
    NULL for answers stored before the answer was required (migration 0008)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="ratings")
    lead_department = models.ForeignKey("org.Department", null=True, on_delete=models.PROTECT, related_name="ratings")
    solved = models.BooleanField(_("solved"))
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    rated = models.BooleanField(_("rated"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-rated_at"]
        indexes = [models.Index(fields=["rated_at"], name="appeals_rating_rated_at"),
                   # the abnormal list "dissatisfied": 1–2 stars (DISSATISFIED_STARS; records.abnormal)
                   models.Index(fields=["appeal"], condition=models.Q(stars__lte=2), name="appeals_rating_low")]

    def __str__(self):
        return f"{self.appeal.number} {self.stars or '-'}★"


# --- meetings of the ladder ---------------------------------------------------------------------------

class Meeting(models.Model):
    """A sitting of a body of the ladder — above all the weekly coordination meeting of the leader in charge
    (企业服务问题协调周例会, seed 003 line 1194): its agenda is the cases escalated to the body's level and not
    yet settled, its minutes a text and files, its decisions tasks on the cases (`AppealTask`)."""

    body = models.ForeignKey("org.Body", verbose_name=_("body"), on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    minutes = models.TextField(_("minutes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return self.title


class AgendaItem(models.Model):
    """One case on a meeting's agenda and what the meeting concluded on it."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    appeal = models.ForeignKey(Appeal, verbose_name=_("appeal"), on_delete=models.CASCADE,
                               related_name="agenda_items")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    conclusion = models.TextField(_("conclusion"), blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "appeal"], name="appeals_agenda_case_once")]

    def __str__(self):
        return f"{self.meeting}: {self.appeal.number}"


def meeting_file_path(instance, filename):
    return f"meetings/{instance.meeting_id}/{filename}"


class MeetingAttachment(models.Model):
    """Minutes, sign-in sheet and other files of a meeting (through the one upload check)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=meeting_file_path)
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=32, choices=AttachmentKind.choices, blank=True, default="")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("meeting file")
        verbose_name_plural = _("meeting files")

    def __str__(self):
        return self.name


class AppealTask(models.Model):
    """A decision of a meeting on a case: what to do, who (a unit or a person) and by when — tracked on the
    case until its owner marks it done; past its day and not done it is overdue."""

    appeal = models.ForeignKey(Appeal, verbose_name=_("appeal"), on_delete=models.CASCADE, related_name="tasks")
    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="tasks")
    text = models.TextField(_("task"))
    owner_department = models.ForeignKey("org.Department", verbose_name=_("owner (unit)"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="appeal_tasks")
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner (person)"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="appeal_tasks")
    due_on = models.DateField(_("deadline"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    done_note = models.TextField(_("how it was done"), blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(owner_department__isnull=False) | models.Q(owner_user__isnull=False),
            name="appeals_task_has_an_owner")]

    def __str__(self):
        return f"{self.appeal.number}: {self.text[:40]}"

    @property
    def owner_name(self) -> str:
        if self.owner_user_id:
            return self.owner_user.display_name or self.owner_user.username
        return self.owner_department.name if self.owner_department_id else ""

    def state(self, today: datetime.date | None = None) -> str:
        """done, overdue (past its day, not done) or open."""
        if self.done_at:
            return "done"
        return "overdue" if (today or timezone.localdate()) > self.due_on else "open"


# --- revisits (回访) ----------------------------------------------------------------------------------------

class RevisitOutcome(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    DISSATISFIED = "dissatisfied", _("not satisfied")
    UNREACHABLE = "unreachable", _("could not be reached")


class Revisit(models.Model):
    """A call back to the enterprise after its case was closed (回访, seed 000 机制保障): which closed cases are
    called is decided once, at closure, by `revisits.sampled` — the queue is the pending rows. A dissatisfied outcome
    reopens the case (the workflow's `revisit_reopen`)."""

    class State(models.TextChoices):
        PENDING = "pending", _("to call")
        DONE = "done", _("done")

    Outcome = RevisitOutcome

    appeal = models.ForeignKey(Appeal, verbose_name=_("appeal"), on_delete=models.CASCADE, related_name="revisits")
    closing_seq = models.PositiveIntegerField(_("closing event"))
    reason = models.CharField(_("why it is called"), max_length=16)  # difficult / complaint / sample
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=RevisitOutcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("called by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(_("called at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("revisit")
        verbose_name_plural = _("revisits")
        ordering = ["state", "due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["appeal", "closing_seq"], name="appeals_revisit_per_closure")]

    def __str__(self):
        return f"{self.appeal.number} #{self.closing_seq}"


# --- two-way rating (seed 003 line 1437) --------------------------------------------------------------------

class OfficerRating(models.Model):
    """After a paired enterprise's appeal is closed: the enterprise rates its liaison officer's follow-up
    (`enterprise_to_officer`), the liaison officer rates the lead unit's handling (`officer_to_unit`). 1–5 stars or
    "not rated" (`rated` False, stars NULL); once per case, direction and closing (`closing_seq`, the closing event)."""

    class Direction(models.TextChoices):
        ENTERPRISE_TO_OFFICER = "enterprise_to_officer", _("enterprise rates its liaison officer")
        OFFICER_TO_UNIT = "officer_to_unit", _("liaison officer rates the lead unit")

    appeal = models.ForeignKey(Appeal, verbose_name=_("appeal"), on_delete=models.CASCADE,
                               related_name="officer_ratings")
    closing_seq = models.PositiveIntegerField(_("closing event"))
    direction = models.CharField(_("direction"), max_length=32, choices=Direction.choices)
    officer = models.ForeignKey("enterprises.LiaisonOfficer", verbose_name=_("liaison officer"),
                                on_delete=models.PROTECT, related_name="ratings")
    department = models.ForeignKey("org.Department", verbose_name=_("lead department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="officer_ratings")
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    rated = models.BooleanField(_("rated"), default=True)
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("two-way rating")
        verbose_name_plural = _("two-way ratings")
        ordering = ["-rated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["appeal", "direction", "closing_seq"], name="appeals_officer_rating_once"),
            models.CheckConstraint(condition=models.Q(rated=False, stars__isnull=True)
                                   | models.Q(rated=True, stars__gte=1, stars__lte=5),
                                   name="appeals_officer_rating_stars_or_not_rated"),
        ]

    def __str__(self):
        return f"{self.appeal.number} {self.direction} {self.stars or '-'}"
