"""Keeping the search index (`SearchDocument` and the database's full-text index over it) up to date.

Each source model has a `Source`: which kind of document it makes, its region, title, body text and whether
enterprises may see it (`public`, mirroring the apps' own scopes: the listed service items and their Q&A pairs of the region;
published knowledge entries, case studies and policies). Saves and deletes of those models refresh their document
(signals, `connect()`); writes that bypass signals (bulk creation by the catalog's writer) call `refresh_many`;
`qifu search reindex` rebuilds everything.

Words: jieba's search mode (`cut_for_search`: 社会保险 → 社会 保险 社会保险), letters and digits kept, lower case,
joined by spaces — so the database's plain tokenizers (FTS5 unicode61, PostgreSQL 'simple') see jieba's words."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Callable

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from .models import Kind, SearchDocument

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")
BODY_MAX = 20_000  # characters of body text indexed per document


def segment(text: str) -> str:
    """`text` as jieba's search-mode words separated by spaces (single CJK characters left out)."""
    from qifu.appeals import routing

    out = []
    for token in routing._jieba().cut_for_search((text or "").lower()):
        for part in _TOKEN.findall(token):
            if len(part) > 1 or part.isascii():
                out.append(part)
    return " ".join(out)


@dataclass
class Source:
    kind: str
    model: Callable  # returns the model class (imported late)
    region_id: Callable
    title: Callable
    body: Callable
    public: Callable
    related: tuple[str, ...] = ()  # select_related for a rebuild


def _service_body(item) -> str:
    from qifu.catalog.models import ServiceGuide

    parts = [item.category1, item.category2, item.content, item.process, item.units_text, item.target_users,
             item.area]
    try:
        guide = item.guide
    except ServiceGuide.DoesNotExist:
        guide = None
    if guide is not None:
        parts += [guide.handling_unit, guide.target, guide.conditions, guide.process, guide.time_limit,
                  guide.legal_basis, guide.faq, guide.notes]
        parts += [m.name for m in guide.materials.all()]
    return "\n".join(p for p in parts if p)


def _catalog_item():
    from qifu.catalog.models import ServiceItem
    return ServiceItem


def _qa():
    from .models import QuestionAnswer
    return QuestionAnswer


def _entry():
    from qifu.knowledge.models import KnowledgeEntry
    return KnowledgeEntry


def _case():
    from qifu.knowledge.models import CaseStudy
    return CaseStudy


def _policy():
    from qifu.policies.models import Policy
    return Policy


def _policy_body(policy) -> str:
    parts = [policy.summary, getattr(policy, "issuer", ""), getattr(policy, "document_number", "")]
    parts += [f"{c.title} {c.description}" for c in policy.clauses.all()]
    return "\n".join(p for p in parts if p)


SOURCES = {
    # an item waiting for its listing approval (服务上架审批) is not shown to enterprises, nor are its questions
    Kind.SERVICE: Source(Kind.SERVICE, _catalog_item, lambda o: o.region_id, lambda o: o.name, _service_body,
                         lambda o: o.listed),
    Kind.QA: Source(Kind.QA, _qa, lambda o: o.item.region_id, lambda o: o.question,
                    lambda o: f"{o.answer}\n{o.source}\n{o.item.name}", lambda o: o.active and o.item.listed,
                    ("item",)),
    Kind.KNOWLEDGE: Source(Kind.KNOWLEDGE, _entry, lambda o: o.region_id, lambda o: o.question,
                           lambda o: f"{o.answer}\n{o.legal_basis}\n{o.keywords}",
                           lambda o: o.state == "published"),
    Kind.CASE: Source(Kind.CASE, _case, lambda o: o.region_id, lambda o: o.title,
                      lambda o: f"{o.problem}\n{o.solution}\n{o.legal_basis}", lambda o: o.state == "published"),
    Kind.POLICY: Source(Kind.POLICY, _policy, lambda o: o.region_id, lambda o: o.title, _policy_body,
                        lambda o: o.status == "published"),
}


def url_of(kind: str, obj) -> str:
    if kind == Kind.POLICY:
        from django.urls import reverse
        return reverse("policy_detail", args=[obj.pk])
    return obj.get_absolute_url()


def _values(source: Source, obj) -> dict:
    title = str(source.title(obj))[:300]
    return {"region_id": source.region_id(obj), "title": title, "url": url_of(source.kind, obj)[:300],
            "public": bool(source.public(obj)), "title_words": segment(title),
            "body_words": segment(str(source.body(obj))[:BODY_MAX])}


# --- the database's full-text index --------------------------------------------------------------------

def _fts_delete(ids: list[int]) -> None:
    if connection.vendor == "sqlite" and ids:
        with connection.cursor() as cursor:
            cursor.executemany("DELETE FROM search_fts WHERE rowid = %s", [(i,) for i in ids])


def _fts_insert(docs: list[SearchDocument]) -> None:
    if connection.vendor == "sqlite" and docs:
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO search_fts (rowid, title, body, scope) VALUES (%s, %s, %s, %s)",
                               [(d.pk, d.title_words, d.body_words, scope_words(d)) for d in docs])


def scope_words(doc: SearchDocument) -> str:
    """FTS5 only: who may see the document and its kind, as words (the scope is matched inside the full-text index,
    without a join): r<region> always, p<region> when enterprises may see it, k<kind>."""
    return f"r{doc.region_id} k{doc.kind}" + (f" p{doc.region_id}" if doc.public else "")


def put(kind: str, obj) -> SearchDocument:
    """Create or refresh the document of `obj`."""
    values = _values(SOURCES[kind], obj)
    with transaction.atomic():
        doc, _created = SearchDocument.objects.update_or_create(kind=kind, object_id=obj.pk, defaults=values)
        _fts_delete([doc.pk])
        _fts_insert([doc])
    return doc


def drop(kind: str, object_id: int) -> None:
    with transaction.atomic():
        ids = list(SearchDocument.objects.filter(kind=kind, object_id=object_id).values_list("pk", flat=True))
        _fts_delete(ids)
        SearchDocument.objects.filter(pk__in=ids).delete()


def refresh_many(kind: str, ids) -> int:
    """Refresh the documents of these objects (after a bulk write)."""
    ids = list(ids)
    for start in range(0, len(ids), 500):
        for obj in _queryset(kind).filter(pk__in=ids[start:start + 500]):
            put(kind, obj)
    return len(ids)


def _queryset(kind: str):
    source = SOURCES[kind]
    qs = source.model().objects.all()
    if kind == Kind.SERVICE:
        qs = qs.select_related("guide").prefetch_related("guide__materials")
    elif kind == Kind.POLICY:
        qs = qs.prefetch_related("clauses")
    elif source.related:
        qs = qs.select_related(*source.related)
    return qs


def insert_documents(rows: list[SearchDocument]) -> None:
    """Bulk insert new documents and their full-text rows (the rebuild and the benchmark)."""
    SearchDocument.objects.bulk_create(rows, batch_size=1000)
    if connection.vendor == "sqlite" and rows and rows[0].pk is None:  # pragma: no cover (SQLite returns ids)
        raise RuntimeError("bulk_create returned no ids")
    _fts_delete([d.pk for d in rows])  # a flushed database (tests) may have left full-text rows behind
    _fts_insert(rows)


def rebuild(kinds=None, stdout=None) -> dict[str, int]:
    """Rebuild the documents of `kinds` (all by default) from their sources."""
    counts = {}
    for kind in kinds or list(SOURCES):
        source = SOURCES[kind]
        with transaction.atomic():
            old = list(SearchDocument.objects.filter(kind=kind).values_list("pk", flat=True))
            _fts_delete(old)
            SearchDocument.objects.filter(kind=kind).delete()
            rows = [SearchDocument(kind=kind, object_id=obj.pk, **_values(source, obj))
                    for obj in _queryset(kind).iterator(chunk_size=500)]
            insert_documents(rows)
        counts[str(kind)] = len(rows)
        if stdout is not None:
            stdout.write(f"{kind}: {len(rows)}")
    return counts


# --- signals ---------------------------------------------------------------------------------------------

def _on_save(kind):
    def handler(sender, instance, raw=False, **kwargs):
        if raw:
            return
        try:
            put(kind, instance)
            if kind == Kind.SERVICE:  # its questions follow the item's listing
                refresh_many(Kind.QA, instance.questions.values_list("pk", flat=True))
        except Exception:  # the index must never break a save: `qifu search reindex` repairs it
            log.exception("search index: %s %s not refreshed", kind, instance.pk)
    return handler


def _on_delete(kind):
    def handler(sender, instance, **kwargs):
        drop(kind, instance.pk)
    return handler


def _on_child(kind, parent):
    def handler(sender, instance, raw=False, **kwargs):
        if raw:
            return
        try:
            owner = parent(instance)
            if owner is not None:
                put(kind, _queryset(kind).get(pk=owner))
        except Exception:
            log.exception("search index: %s of %s not refreshed", kind, instance.pk)
    return handler


_handlers = []  # kept alive (signals hold weak references)


def connect() -> None:
    from qifu.catalog.models import GuideMaterial, ServiceGuide
    from qifu.policies.models import PolicyClause

    for kind, source in SOURCES.items():
        model = source.model()
        save, delete = _on_save(kind), _on_delete(kind)
        _handlers.extend([save, delete])
        post_save.connect(save, sender=model, dispatch_uid=f"qifu-search-{kind}-save")
        post_delete.connect(delete, sender=model, dispatch_uid=f"qifu-search-{kind}-delete")
    for model, kind, parent in ((ServiceGuide, Kind.SERVICE, lambda o: o.item_id),
                                (GuideMaterial, Kind.SERVICE, lambda o: o.guide.item_id),
                                (PolicyClause, Kind.POLICY, lambda o: o.policy_id)):
        handler = _on_child(kind, parent)
        _handlers.append(handler)
        post_save.connect(handler, sender=model, dispatch_uid=f"qifu-search-{model.__name__}-save")
        post_delete.connect(handler, sender=model, dispatch_uid=f"qifu-search-{model.__name__}-delete")
