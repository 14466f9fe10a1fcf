"""`qifu bench search --documents N`: N synthetic documents of realistic Chinese text in a scratch region, indexed
like real ones, then typical Chinese queries timed through the search's own backend on the configured database.

The text: sentences and names from the catalog preset (附件4/附件5) and the demo policies, cut by jieba once, and
recombined at random (title: a service or policy name with a place or a year; body: 4–10 sentences) — words,
sentence lengths and word frequencies of the real catalog. Loaded once (reused unless --reload); each query runs
`repeat` times as a staff user and as an enterprise user would (scope SQL included, with the count a page needs)."""

from __future__ import annotations

import random
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import connection, transaction

from . import engine, index
from .models import Kind, SearchDocument

REGION = "bench-search"
OBJECT_BASE = 10**12  # object ids of the synthetic documents (no real object has them)
TARGET_P95_MS = 50.0
QUERIES = ["社保", "营业执照怎么办理", "高层次人才认定", "人才公寓申请", "知识产权质押融资", "研发费用补助",
           "企业开办", "税收优惠政策", "专利申请", "招聘就业服务", "公积金", "出口退税", "生物医药注册申报",
           "用地审批", "融资担保", "技术改造奖励", "新开办企业领票", "消防验收", "环评审批", "外籍人才签证"]


@dataclass
class Figures:
    documents: int
    load_seconds: float | None
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    per_query: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)


def _corpus() -> tuple[list[str], list[str]]:
    root = Path(__file__).resolve().parent.parent
    names, texts = [], []
    catalog = yaml.safe_load((root / "catalog" / "presets" / "qiantang.yaml").read_text(encoding="utf-8"))
    for item in catalog.get("items", []):
        names.append(item["name"])
        texts += [item.get(k, "") for k in ("content", "process", "category2", "target_users")]
    policies = yaml.safe_load((root / "demo" / "policies.yaml").read_text(encoding="utf-8"))
    for policy in policies.get("policies", []):
        names.append(policy["title"])
        texts += [policy.get("summary", ""), policy.get("source", "")]
        names += [c["title"] for c in policy.get("clauses", [])]
    sentences = [s.strip() for t in texts for s in re.split(r"[。；;\n]", t or "") if len(s.strip()) >= 6]
    return names, sentences


def _region():
    from qifu.org.models import Region

    region, _ = Region.objects.get_or_create(code=REGION, defaults={"name": "检索基准测试（临时）"})
    return region


def load(documents: int, seed: int, reload: bool, log) -> float | None:
    region = _region()
    have = SearchDocument.objects.filter(region=region).count()
    if have == documents and not reload:
        log(f"reusing {have:,} documents of region {REGION}")
        return None
    started = time.perf_counter()
    with transaction.atomic():
        old = list(SearchDocument.objects.filter(region=region).values_list("pk", flat=True))
        index._fts_delete(old)
        SearchDocument.objects.filter(region=region).delete()
    names, sentences = _corpus()
    words_of = {s: index.segment(s) for s in set(sentences) | set(names)}
    places = ["钱塘区", "医药港", "大创小镇", "综合保税区", "钱塘芯谷", "临江高科园", "前进智造园", "下沙街道"]
    rng = random.Random(seed)
    kinds = [Kind.SERVICE, Kind.SERVICE, Kind.QA, Kind.KNOWLEDGE, Kind.CASE, Kind.POLICY]
    batch = []
    for i in range(documents):
        name = rng.choice(names)
        place = rng.choice(places)
        body = [rng.choice(sentences) for _ in range(rng.randint(4, 10))]
        title = f"{place}{name}"
        batch.append(SearchDocument(
            region=region, kind=rng.choice(kinds), object_id=OBJECT_BASE + i, title=title[:300],
            url=f"/bench/{i}/", public=rng.random() < 0.8,
            title_words=f"{index.segment(place)} {words_of[name]}",
            body_words=" ".join(words_of[s] for s in body)))
        if len(batch) == 5000:
            with transaction.atomic():
                index.insert_documents(batch)
            batch = []
            log(f"  {i + 1:,} documents")
    if batch:
        with transaction.atomic():
            index.insert_documents(batch)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum does after a bulk write: statistics for the planner, the GIN indexes' pending lists
            # merged (a query scans the whole pending list), the visibility map set (VACUUM: not in a transaction).
            if connection.in_atomic_block:
                cursor.execute("ANALYZE search_searchdocument")
                cursor.execute("SELECT gin_clean_pending_list(c.oid) FROM pg_class c "
                               "WHERE c.relname IN ('search_document_fulltext', 'search_document_titles')")
            else:
                cursor.execute("VACUUM ANALYZE search_searchdocument")
        else:
            cursor.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def run(documents: int, seed: int = 1, reload: bool = False, repeat: int = 5, log=print) -> Figures:
    region = _region()
    seconds = load(documents, seed, reload, log)
    if seconds is not None:
        log(f"loaded and indexed {documents:,} documents in {seconds:.1f} s")
    groups = engine.synonyms(region)
    scopes = {"staff": engine.Scope(region.pk), "enterprise": engine.Scope(region.pk, public_only=True)}
    timings: list[float] = []
    figures = Figures(documents, seconds)
    for q in QUERIES:
        terms = engine.terms(q, groups)
        mine = []
        for _ in range(repeat):
            for scope in scopes.values():
                started = time.perf_counter()
                total, hits = engine._run(terms, "all", scope, 20, 0, True)
                if not hits and len(terms) > 1:
                    total, hits = engine.fallback(terms, scope, 20, 0, True)
                mine.append((time.perf_counter() - started) * 1000)
        timings += mine
        figures.per_query[q] = (statistics.median(mine), total)
        found = f"more than {engine.COUNT_CAP:,}" if total > engine.COUNT_CAP else f"{total:,}"
        log(f"  {q}: median {statistics.median(mine):.1f} ms, {found} found (enterprise scope)")
    timings.sort()
    figures.p50_ms = statistics.median(timings)
    figures.p95_ms = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
    figures.checks[f"p95 {figures.p95_ms:.1f} ms under {TARGET_P95_MS:.0f} ms"] = figures.p95_ms < TARGET_P95_MS
    return figures
