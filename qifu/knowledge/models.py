"""The knowledge base (知识库) and the case library (案例库), and the candidates for a new service item
(从一件事到一类事).

- `KnowledgeEntry`: a reusable answer written by staff — question, answer, legal basis, the unit that answers for it.
- `CaseStudy`: a closed, solved appeal published anonymized (典型案例). Its source appeal is kept for the staff who may
  see that appeal and never shown to an enterprise.
- `Promotion`: an entry, a case or a recurring problem (several appeals with similar text) marked "promote to a
  service item" with a note — the task force's list of candidates. Issue 11 (the service-item catalog) takes them
  over (docs/knowledge.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EntryState(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")


class CaseState(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    WITHDRAWN = "withdrawn", _("withdrawn")


class KnowledgeEntry(models.Model):
    State = EntryState

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="knowledge_entries")
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    department = models.ForeignKey("org.Department", verbose_name=_("unit"), on_delete=models.PROTECT,
                                   related_name="knowledge_entries")
    section = models.ForeignKey("org.Section", verbose_name=_("section"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="knowledge_entries")
    keywords = models.CharField(_("keywords"), max_length=200, blank=True,
                                help_text=_("words people search with, separated by spaces or commas"))
    state = models.CharField(_("state"), max_length=16, choices=EntryState.choices, default=EntryState.DRAFT,
                             db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("written by"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("last changed by"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("knowledge entry")
        verbose_name_plural = _("knowledge entries")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["region", "state"])]

    def __str__(self):
        return self.question

    def get_absolute_url(self):
        return reverse("knowledge_entry", args=[self.pk])


class CaseStudy(models.Model):
    State = CaseState

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="case_studies")
    # Internal: never shown to an enterprise, and to staff only when they may see the appeal itself.
    source_appeal = models.OneToOneField("appeals.Appeal", verbose_name=_("source appeal"), on_delete=models.PROTECT,
                                         related_name="case_study")
    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("problem"))
    solution = models.TextField(_("solution"))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    section = models.ForeignKey("org.Section", verbose_name=_("section"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="case_studies")
    lead_department = models.ForeignKey("org.Department", verbose_name=_("lead department"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="case_studies")
    category = models.CharField(_("class"), max_length=32, blank=True)  # the appeal's class (appeals.Category)
    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices, default=CaseState.DRAFT,
                             db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("prepared by"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("case study")
        verbose_name_plural = _("case studies")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["region", "state"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("knowledge_case", args=[self.pk])

    def category_label(self) -> str:
        from qifu.appeals.models import Category

        return str(Category(self.category).label) if self.category in Category.values else ""


class Promotion(models.Model):
    """A candidate for a new service item or 一类事 scenario: what it grew from and why (the note)."""

    class State(models.TextChoices):
        CANDIDATE = "candidate", _("candidate")
        DROPPED = "dropped", _("dropped")

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="promotions")
    entry = models.ForeignKey(KnowledgeEntry, verbose_name=_("knowledge entry"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="promotions")
    case = models.ForeignKey(CaseStudy, verbose_name=_("case study"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="promotions")
    # A recurring problem: the appeals with similar text it was seen in (internal, like any appeal).
    appeals = models.ManyToManyField("appeals.Appeal", verbose_name=_("appeals"), blank=True, related_name="+")
    title = models.CharField(_("title"), max_length=300)
    note = models.TextField(_("note"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.CANDIDATE,
                             db_index=True)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("marked by"), null=True,
                                  on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField(_("marked at"), default=timezone.now)

    class Meta:
        verbose_name = _("promotion candidate")
        verbose_name_plural = _("promotion candidates")
        ordering = ["-marked_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~(Q(entry__isnull=False) & Q(case__isnull=False)),
                                   name="knowledge_promotion_one_source"),
            models.UniqueConstraint(fields=["entry"], condition=Q(state="candidate", entry__isnull=False),
                                    name="knowledge_promotion_entry_once"),
            models.UniqueConstraint(fields=["case"], condition=Q(state="candidate", case__isnull=False),
                                    name="knowledge_promotion_case_once"),
        ]

    def __str__(self):
        return self.title

    @property
    def kind(self) -> str:
        return "entry" if self.entry_id else "case" if self.case_id else "recurring"
