"""Supervision (督查督办): the timers of every time limit, what they fired, supervision slips and leader instructions.

- `Timer`: one moment at which a rule looks at one subject (an appeal, later a booking or a policy window): the
  engine (`qifu.supervision.timers`) materialises them from each subject's current deadline and fires each exactly
  once (a conditional UPDATE claims it), or cancels it when the deadline it belongs to is gone.
- `Record`: what supervision did to a case — a warning, a chase, an inspection (fired by timers) or a slip
  (issued by a supervisor) — with the time, who was told, and, for a chase or an inspection, the follow-up the
  task force records (the phone call made, the visit paid).
- `Slip` (督办单, seed 003 line 1384): numbered, dated, the task, the units, the requirements, a reply deadline;
  tracked until the lead unit answers.
- `LeaderInstruction` (领导批示): a leader's instruction on a case; it marks the case (an abnormal list).
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    WARNING = "warning", _("warning")
    CHASE = "chase", _("chase")
    INSPECTION = "inspection", _("inspection")
    SLIP = "slip", _("supervision slip")


# A timer that records nothing: it marks that a deadline's timers were planned (and fires at the deadline itself).
DEADLINE = "deadline"
TIMER_KINDS = (Kind.WARNING, Kind.CHASE, Kind.INSPECTION)


class Timer(models.Model):
    subject = models.CharField(max_length=64)  # the model label, e.g. "appeals.appeal"
    subject_id = models.BigIntegerField()
    region = models.ForeignKey("org.Region", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    # The time limit the timer belongs to: when the subject's deadline changes, its old timers are cancelled.
    deadline = models.DateTimeField()
    fire_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        constraints = [models.UniqueConstraint(fields=["subject", "subject_id", "kind", "deadline"],
                                               name="supervision_timer_once")]
        indexes = [models.Index(fields=["fire_at"], name="supervision_timer_pending",
                                condition=models.Q(fired_at__isnull=True, cancelled_at__isnull=True)),
                   models.Index(fields=["subject", "subject_id"], name="supervision_timer_subject")]

    def __str__(self):
        return f"{self.subject}#{self.subject_id} {self.kind} {self.fire_at:%Y-%m-%d %H:%M}"


class Record(models.Model):
    appeal = models.ForeignKey("appeals.Appeal", verbose_name=_("appeal"), on_delete=models.CASCADE,
                               related_name="supervision")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("time"), db_index=True)  # when the timer was due (a slip: when it was issued)
    fired_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    lead_department = models.ForeignKey("org.Department", verbose_name=_("lead department"), null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    told = models.JSONField(_("told"), default=list, blank=True)  # [{"id": 3, "name": "…"}]
    timer = models.OneToOneField(Timer, null=True, blank=True, on_delete=models.SET_NULL, related_name="record")
    slip = models.OneToOneField("Slip", null=True, blank=True, on_delete=models.CASCADE, related_name="record")
    # The follow-up of a chase or an inspection: the phone call made, the visit paid.
    done_at = models.DateTimeField(_("followed up at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    done_note = models.TextField(_("follow-up"), blank=True)

    class Meta:
        verbose_name = _("supervision record")
        verbose_name_plural = _("supervision records")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.appeal.number} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    @property
    def told_names(self) -> str:
        return "、".join(t.get("name", "") for t in self.told or [])


class Slip(models.Model):
    """督办单 (seed 003 line 1384): 督办编号, 督办日期, 督办任务, 主办单位, 协办单位, 办理要求, 抄送, 联系人, 电话, 备注."""

    appeal = models.ForeignKey("appeals.Appeal", verbose_name=_("appeal"), on_delete=models.PROTECT,
                               related_name="slips")
    number = models.CharField(_("slip number"), max_length=32, unique=True)
    issued_on = models.DateField(_("date of the slip"))
    task = models.TextField(_("supervision task"))
    lead_department = models.ForeignKey("org.Department", verbose_name=_("lead unit"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    assisting_departments = models.ManyToManyField("org.Department", verbose_name=_("assisting units"), blank=True,
                                                   related_name="+")
    requirements = models.TextField(_("requirements"))
    reply_due = models.DateField(_("answer due"))
    cc = models.CharField(_("copy to"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"), null=True,
                                  on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("supervision slip")
        verbose_name_plural = _("supervision slips")
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return self.number

    def state(self, today: datetime.date | None = None) -> str:
        """answered, overdue (past its answer day, no answer) or awaiting."""
        if self.answered_at:
            return "answered"
        return "overdue" if (today or timezone.localdate()) > self.reply_due else "awaiting"


class SlipNumber(models.Model):
    """Per-region, per-year counter of slip numbers (督办编号, e.g. QT-DB-2026-0007)."""

    region = models.ForeignKey("org.Region", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="supervision_slip_counter")]


class LeaderInstruction(models.Model):
    """领导批示: a leader's instruction on a case. It marks the case (the leader-instructed list)."""

    appeal = models.ForeignKey("appeals.Appeal", verbose_name=_("appeal"), on_delete=models.PROTECT,
                               related_name="leader_instructions")
    text = models.TextField(_("instruction"))
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("leader"), on_delete=models.PROTECT,
                               related_name="+")
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("leader instruction")
        verbose_name_plural = _("leader instructions")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.appeal.number}: {self.text[:40]}"
