"""The policy library (政策库), matches (政策找人), payouts (兑付) and applications (申报).

A policy is decomposed into clauses ("policy products"); each clause's eligibility conditions and benefit
formula are data evaluated by `qifu.rules`. `PolicyClause.spec()` is the one place that turns a
clause row into the engine's `ClauseSpec`, so the library, the YAML files, matching and the builder's
"try it" panel all read a clause the same way.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qifu.audit.models import TransitionEvent
from qifu.rules import clauses as cl
from qifu.rules import yamlio
from qifu.rules.values import RuleError
from qifu.workcal import workdays

DEFAULT_REVIEW_DAYS = 20
POLICY_EXTRA = ("issuer", "document_number", "url", "summary", "contact")  # YAML keys stored as columns


def jsonable(data):
    """Condition data as JSON: dates (as YAML reads them) become ISO texts, which the engine compares as dates."""
    if isinstance(data, dict):
        return {k: jsonable(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [jsonable(v) for v in data]
    if isinstance(data, (datetime.date, datetime.datetime)):
        return data.isoformat()[:10]
    return data


class Level(models.TextChoices):
    NATIONAL = "national", _("national")
    PROVINCIAL = "provincial", _("provincial")
    CITY = "city", _("city")
    DISTRICT = "district", _("district")


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    RETIRED = "retired", _("retired")


class Policy(models.Model):
    """One policy document in a region's library. The issuing department maintains, explains and updates it
    (谁制定、谁梳理、谁解释、谁更新)."""

    Status = PolicyStatus
    Level = Level

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="policies")
    code = models.SlugField(_("code"), max_length=64, unique=True, allow_unicode=False)
    title = models.CharField(_("title"), max_length=200)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, default=Level.DISTRICT)
    department = models.ForeignKey(
        "org.Department", verbose_name=_("issuing department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="policies",
    )
    issuer = models.CharField(_("issuer"), max_length=128, blank=True,
                              help_text=_("The issuing authority as named on the document."))
    document_number = models.CharField(_("document number"), max_length=128, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    source = models.TextField(_("source text"), blank=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True,
                               help_text=_("Who explains the policy: name, department and phone."))
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT,
                              db_index=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["-effective_from", "code"]

    def __str__(self):
        return f"{self.code} {self.title}"

    def clean(self):
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": _("The end of the effective period is before its start.")})
        if self.department_id and self.region_id and self.department.region_id != self.region_id:
            raise ValidationError({"department": _("The issuing department belongs to another region.")})

    @property
    def is_published(self) -> bool:
        return self.status == PolicyStatus.PUBLISHED

    def spec(self, with_clauses: bool = True) -> cl.PolicySpec:
        extra = {k: getattr(self, k) for k in POLICY_EXTRA if getattr(self, k)}
        policy = cl.PolicySpec(
            code=self.code, title=self.title, level=self.level,
            department=self.department.code if self.department_id else "",
            effective_from=self.effective_from, effective_to=self.effective_to, source=self.source, extra=extra,
        )
        if with_clauses:
            policy.clauses = [c.spec(policy) for c in self.clauses.all()]
        return policy


class PolicyClause(models.Model):
    """A clause ("policy product", 政策条款): who qualifies, what they get, how (免申即享 or by application)."""

    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="clauses")
    code = models.SlugField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    conditions = models.JSONField(_("eligibility conditions"), null=True, blank=True)
    benefit = models.CharField(_("benefit formula"), max_length=2000, blank=True,
                               help_text=_("e.g. min(rd_expense * 0.1, 1000000); empty: no money benefit"))
    no_application = models.BooleanField(_("granted without application (免申即享)"), default=False)
    effective_from = models.DateField(_("effective from"), null=True, blank=True,
                                      help_text=_("Empty: the policy's."))
    effective_to = models.DateField(_("effective to"), null=True, blank=True, help_text=_("Empty: the policy's."))
    apply_from = models.DateField(_("applications open"), null=True, blank=True)
    apply_to = models.DateField(_("applications close"), null=True, blank=True)
    review_days = models.PositiveSmallIntegerField(_("review time limit (working days)"), default=DEFAULT_REVIEW_DAYS)
    materials = models.JSONField(_("required materials"), default=list, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True,
                               help_text=_("Who explains this clause: name, department and phone."))
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    # The fields the rule reads, in the order of the bits of `Match.missing_mask` (set on every save).
    field_order = models.JSONField(_("fields read"), default=list, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("policy clause")
        verbose_name_plural = _("policy clauses")
        ordering = ["policy", "sort_order", "code"]

    def __str__(self):
        return f"{self.code} {self.title}"

    def to_data(self) -> dict:
        """The clause in the YAML form (`engine.yamlio`)."""
        data: dict = {"code": self.code, "title": self.title}
        if self.no_application:
            data["no_application"] = True
        if self.conditions:
            data["conditions"] = self.conditions
        if self.benefit:
            data["benefit"] = self.benefit
        for key in ("effective_from", "effective_to", "apply_from", "apply_to"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        for key in ("contact", "description"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.review_days != DEFAULT_REVIEW_DAYS:
            data["review_days"] = self.review_days
        if self.materials:
            data["materials"] = list(self.materials)
        return data

    def spec(self, policy: cl.PolicySpec | None = None) -> cl.ClauseSpec:
        """The engine's view of this clause (raises RuleError when the rule cannot be read)."""
        if policy is None and self.policy_id:
            policy = self.policy.spec(with_clauses=False)
        return yamlio.parse_clause(self.to_data(), self.code or str(_("clause")), policy)

    def clean(self):
        errors = {}
        if self.apply_from and self.apply_to and self.apply_to < self.apply_from:
            errors["apply_to"] = _("Applications close before they open.")
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            errors["effective_to"] = _("The end of the effective period is before its start.")
        if not isinstance(self.materials, list) or not all(isinstance(m, str) for m in self.materials):
            errors["materials"] = _("Materials are a list of names.")
        try:
            self.spec()
        except RuleError as e:
            errors["conditions"] = str(e)
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.conditions = jsonable(self.conditions)
        # Every path that writes a clause (forms, import, admin, API) goes through the engine first.
        try:
            spec = self.spec()
        except RuleError as e:
            raise ValidationError({"conditions": str(e)}) from None
        self.field_order = cl.field_order(spec)
        if len(self.field_order) > 63:  # the bits of Match.missing_mask
            raise ValidationError({"conditions": _("A clause may read at most 63 fields.")})
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "field_order"}
        super().save(*args, **kwargs)

    # --- the application window -------------------------------------------------------------------
    @property
    def needs_application(self) -> bool:
        return not self.no_application

    def window_open(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return (self.apply_from is None or self.apply_from <= on) and (self.apply_to is None or on <= self.apply_to)


class MatchStatus(models.TextChoices):
    ELIGIBLE = "eligible", _("eligible")
    UNKNOWN = "unknown", _("may qualify")


class EnterpriseMatches(models.Model):
    """One enterprise's matches — 政策找人: the clauses it qualifies (or may qualify, pending data) for.
    One row per enterprise, not per pair (tens of millions of pairs at province scale would be tens of
    millions of rows; docs/decisions.md). Derived by `services.match_*`; read through `qifu.policies.matches`,
    which owns the encoding. Ineligible pairs are not stored; an enterprise without a pair has no row."""

    enterprise = models.OneToOneField("enterprises.Enterprise", on_delete=models.CASCADE, primary_key=True,
                                      related_name="policy_matches", db_constraint=False)
    # JSON, compact: {"c": [clause ids, ascending, as differences], "a": [amounts in cents or null], "m": [the
    # missing-field mask (bit i: the clause's field_order[i]) × 2, + 1 when eligible]} — `matches.decode_pairs`.
    pairs = models.TextField(_("matches"))
    # Clause ids the enterprise was told it qualifies for ("12,34"); pairs that are gone are dropped from it.
    notified = models.TextField(_("notified of"), blank=True, default="", db_default="")
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("enterprise's matches")
        verbose_name_plural = _("enterprises' matches")

    def __str__(self):
        return f"{self.enterprise_id}"


class ClauseMatches(models.Model):
    """One clause's matches: how many enterprises qualify or may qualify, the eligible amounts' total,
    and the enterprises themselves (what the clause's readers — the 免申即享 list, the performance figures,
    re-matching the clause — need). Kept equal to the `EnterpriseMatches` rows by `qifu.policies.matches`."""

    clause = models.OneToOneField(PolicyClause, on_delete=models.CASCADE, primary_key=True,
                                  related_name="match_summary", db_constraint=False)
    eligible = models.PositiveIntegerField(_("eligible"), default=0)
    unknown = models.PositiveIntegerField(_("may qualify"), default=0)
    amount = models.DecimalField(_("eligible amounts' total"), max_digits=20, decimal_places=2, default=0)
    # JSON lists of enterprise ids, ascending, the first one then the differences (`matches.decode_ids`).
    eligible_ids = models.TextField(default="[]")
    unknown_ids = models.TextField(default="[]")
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("clause's matches")
        verbose_name_plural = _("clauses' matches")

    def __str__(self):
        return f"{self.clause_id}: {self.eligible} + {self.unknown}"


class PayoutStatus(models.TextChoices):
    APPROVED = "approved", _("approved")
    PAID = "paid", _("paid")


class Payout(models.Model):
    """Money granted to an enterprise under a clause (兑付): confirmed from data (免申即享) or after an application."""

    Status = PayoutStatus

    clause = models.ForeignKey(PolicyClause, verbose_name=_("clause"), on_delete=models.PROTECT, related_name="payouts")
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                   related_name="policy_payouts")
    application = models.OneToOneField("Application", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="payout")
    amount = models.DecimalField(_("approved amount"), max_digits=16, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.APPROVED,
                              db_index=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("approved at"), default=timezone.now)
    paid_amount = models.DecimalField(_("amount paid"), max_digits=16, decimal_places=2, null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    reference = models.CharField(_("payment reference"), max_length=128, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-approved_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["clause", "enterprise"], name="one_payout_per_clause")]

    def __str__(self):
        return f"{self.clause.code} → {self.enterprise_id}: {self.amount}"


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    UNDER_REVIEW = "under_review", _("under review")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    PAID = "paid", _("paid")


REVIEW_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW)


class Application(models.Model):
    """An enterprise's application (申报) for a clause that needs one. Its state is derived from its
    `ApplicationEvent`s, written only by `qifu.policies.applications`."""

    Status = ApplicationStatus

    clause = models.ForeignKey(PolicyClause, verbose_name=_("clause"), on_delete=models.PROTECT,
                               related_name="applications")
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                   related_name="policy_applications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("applicant"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)

    # Derived from the events (never written elsewhere).
    status = models.CharField(_("status"), max_length=16, choices=ApplicationStatus.choices, db_index=True)
    version = models.PositiveIntegerField(_("version"), default=0)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    review_due = models.DateTimeField(_("review due"), null=True, blank=True, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    amount = models.DecimalField(_("granted amount"), max_digits=16, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-submitted_at", "-id"]

    def __str__(self):
        return f"#{self.pk} {self.clause.code} · {self.enterprise_id}"

    @property
    def is_pending(self) -> bool:
        """Waiting for the department's decision (the review clock runs)."""
        return self.status in REVIEW_STATUSES

    def workdays_left(self, now: datetime.datetime | None = None) -> float | None:
        """Working days until the review is due (negative: overdue by that much), while it is pending;
        for a decided application, the margin it was decided with."""
        if self.review_due is None:
            return None
        end = (now or timezone.now()) if self.is_pending else self.decided_at
        if end is None:
            return None
        tz = self.clause.policy.region.rule("time_zone")
        return round(workdays.workdays_between(end, self.review_due, tz=tz), 2)

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        left = self.workdays_left(now)
        return left is not None and left < 0 and self.is_pending


class ApplicationEvent(TransitionEvent):
    """One step in the life of an application: who did what, when, from which state to which. Immutable."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")

    class Meta:
        verbose_name = _("application event")
        verbose_name_plural = _("application events")
        ordering = ["application", "seq"]
        constraints = [models.UniqueConstraint(fields=["application", "seq"], name="unique_application_event_seq")]

    def __str__(self):
        return f"#{self.application_id}/{self.seq}"


def material_path(instance, filename):
    return f"policies/applications/{instance.application_id}/{filename}"


class ApplicationMaterial(models.Model):
    """One uploaded file for one of the clause's required materials."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    name = models.CharField(_("material"), max_length=200)
    file = models.FileField(_("file"), upload_to=material_path, max_length=300)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["application", "id"]

    def __str__(self):
        return self.name

    @property
    def filename(self) -> str:
        return self.file.name.rsplit("/", 1)[-1]
