"""Search (全文检索) and the smart Q&A library (智能问答).

- `SearchDocument`: one searchable thing — a service item with its guide, a Q&A pair, a knowledge entry, a case
  study, a policy with its clauses — as words cut by jieba (`title_words`, `body_words`: words separated by spaces).
  The full-text index over these words is the database's own: an FTS5 virtual table `search_fts` on SQLite, a GIN
  index on `to_tsvector('simple', …)` on PostgreSQL (migration 0001). `public`: enterprises may see it.
  Kept up to date on save (`qifu.search.index`), rebuilt by `qifu search reindex`.
- `QuestionAnswer`: the standardized Q&A library of a service item (question, answer, source).
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    SERVICE = "service", _("service item")
    QA = "qa", _("Q&A")
    KNOWLEDGE = "knowledge", _("knowledge entry")
    CASE = "case", _("case study")
    POLICY = "policy", _("policy")


class SearchDocument(models.Model):
    Kind = Kind

    region = models.ForeignKey("org.Region", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.BigIntegerField()
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=300)
    public = models.BooleanField(default=False, help_text="enterprises may see it")
    title_words = models.TextField(blank=True)
    body_words = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_unique")]
        indexes = [models.Index(fields=["region", "public"])]

    def __str__(self):
        return f"{self.kind} {self.title}"


class QuestionAnswer(models.Model):
    item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("service item"), on_delete=models.CASCADE,
                             related_name="questions")
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    source = models.CharField(_("source"), max_length=300, blank=True,
                              help_text=_("where the answer comes from, e.g. the guide or a regulation"))
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("standard question")
        verbose_name_plural = _("standard questions")
        ordering = ["item", "sort_order", "id"]

    def __str__(self):
        return self.question

    def get_absolute_url(self):
        return reverse("catalog_item", args=[self.item.code]) + f"#qa-{self.pk}"
