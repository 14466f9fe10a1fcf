"""Routing suggestions (分拨建议): from an appeal's title and description, the section (板块) and the lead unit
(牵头单位) that past cases like it went to, and the closed cases most like it.

How (simple and explainable, pure Python):
- Text is cut into words by jieba (its own `Tokenizer`, not the global one); words of two or more characters
  (or letters/digits) count, with a few empty words left out.
- Each word is weighted TF-IDF (1 + log tf) × log((1 + N) / (1 + df)) + 1, every text a unit-length vector.
- A class (a section or a unit) is the centroid (Rocchio) of the texts assigned to it in the region — the appeals
  with that section / that lead unit — plus one prior text per class: the section's name, kind and description
  (服务内容) and its lead unit's name; the unit's name, short name and the names and descriptions of the sections it
  leads. A class with no past case still has its prior text, so a new region gets suggestions from day one.
- The suggestion is the class with the highest cosine similarity; none when no word is shared with any class.
- Similar cases: cosine similarity between the text and each closed case of the region, top 5 among those
  the caller may see (`scopes.appeals`).
- Other sources of material register themselves (`register`; the knowledge base, `qifu.knowledge.feed`, does at
  start-up): each published knowledge entry is one more training text for its unit and section, and the published
  entries and case studies most like the text (cosine) are the suggestion's `knowledge`.

The model is cached per region in each process's memory, stamped with a cheap aggregate over the region's
appeals and its organization (count, highest id, sum of versions — every event of an appeal raises its version):
any change in another process changes the stamp, and the next suggestion here rebuilds. Words are cached per
appeal (its title and description never change), so a rebuild only counts."""

import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, Sum

from qifu.accounts import scopes
from qifu.org.models import Department, Section

from .models import Appeal, Status

MAX_TRAINING = 20_000  # the region's latest cases the model learns from (and the similar cases are drawn from)
SIMILAR = 5
KNOWLEDGE = 5  # knowledge entries and case studies in a suggestion
PRIOR_WEIGHT = 1.0  # a class's prior text counts as much as one past case

_WORD = re.compile(r"[\u4e00-\u9fff]{2,}|[A-Za-z0-9]{2,}")
STOPWORDS = frozenset("""我们 你们 他们 公司 企业 希望 问题 相关 需要 目前 进行 已经 没有 可以 一个 这个 那个 什么 怎么
如何 是否 情况 反映 咨询 办理 关于 以及 或者 还是 因为 所以 但是 如果 就是 这样 那么 请问 帮助 解决 协调""".split())

_tokenizer = None
_tokenizer_lock = threading.Lock()


def _jieba():
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def words(text: str) -> list[str]:
    """The words of a text that count (jieba's precise mode)."""
    out = []
    for token in _jieba().lcut(text or ""):
        token = token.strip().lower()
        if token and _WORD.fullmatch(token) and token not in STOPWORDS:
            out.append(token)
    return out


@dataclass
class Case:
    """One past appeal as the model sees it."""

    id: int
    words: list[str]
    section: str | None = None
    lead: str | None = None
    closed: bool = False


@dataclass
class Model:
    idf: dict[str, float]
    sections: dict[str, dict[str, float]]  # code → unit-length centroid
    leads: dict[str, dict[str, float]]
    section_names: dict[str, str]
    lead_names: dict[str, str]
    section_lead: dict[str, str]  # section code → its lead unit's code (a fallback for the unit)
    postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # word → [(closed case id, weight)]
    documents: list[tuple[str, int, dict[str, float]]] = field(default_factory=list)  # (entry|case, id, vector)

    def vector(self, tokens: list[str]) -> dict[str, float]:
        return _unit({w: (1 + math.log(n)) * self.idf[w] for w, n in Counter(tokens).items() if w in self.idf})

    def rank(self, tokens: list[str], what: str = "section") -> list[tuple[str, float]]:
        """Classes by cosine similarity, best first (only those sharing a word with the text)."""
        query = self.vector(tokens)
        classes = self.sections if what == "section" else self.leads
        scored = [(code, _dot(query, centroid)) for code, centroid in classes.items()]
        return sorted([(c, s) for c, s in scored if s > 0], key=lambda cs: (-cs[1], cs[0]))

    def similar(self, tokens: list[str]) -> list[tuple[int, float]]:
        """Closed cases by cosine similarity, best first."""
        scores: dict[int, float] = {}
        for w, q in self.vector(tokens).items():
            for case_id, weight in self.postings.get(w, ()):
                scores[case_id] = scores.get(case_id, 0.0) + q * weight
        return sorted(scores.items(), key=lambda cs: (-cs[1], -cs[0]))


def _unit(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {w: v / norm for w, v in vec.items()} if norm else {}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def priors(region_id) -> tuple[dict, dict, dict, dict, dict]:
    """Each section's and each unit's prior text (as words), their names, and each section's lead unit."""
    sections = list(Section.objects.filter(region_id=region_id).select_related("lead_department"))
    departments = list(Department.objects.filter(region_id=region_id).exclude(kind=Department.Kind.THIRD_PARTY))
    section_text, lead_text = {}, {}
    for s in sections:
        lead = s.lead_department.name if s.lead_department else ""
        section_text[s.code] = words(" ".join([s.name, s.kind, s.description, lead]))
    led = {}
    for s in sections:
        if s.lead_department_id:
            led.setdefault(s.lead_department_id, []).append(f"{s.name} {s.description}")
    for d in departments:
        lead_text[d.code] = words(" ".join([d.name, d.short_name, d.category, *led.get(d.pk, [])]))
    return (section_text, lead_text, {s.code: s.name for s in sections}, {d.code: d.name for d in departments},
            {s.code: s.lead_department.code for s in sections if s.lead_department_id})


def train(cases: list[Case], section_text: dict, lead_text: dict, section_names: dict, lead_names: dict,
          section_lead: dict, documents: list[tuple[str, int, list[str]]] = ()) -> Model:
    """Learn the centroids from past cases and the prior texts; index the closed cases for similarity and the
    `documents` (knowledge entries and case studies: kind, id, words) for the knowledge suggestion."""
    docs = [c.words for c in cases] + list(section_text.values()) + list(lead_text.values()) + [
        d[2] for d in documents]
    df = Counter(w for doc in docs for w in set(doc))
    n = len(docs)
    idf = {w: math.log((1 + n) / (1 + k)) + 1 for w, k in df.items()}
    model = Model(idf, {}, {}, section_names, lead_names, section_lead)
    sums: dict[str, dict[str, dict[str, float]]] = {"section": {}, "lead": {}}

    def add(kind, code, vec, weight=1.0):
        acc = sums[kind].setdefault(code, {})
        for w, v in vec.items():
            acc[w] = acc.get(w, 0.0) + weight * v

    for code, tokens in section_text.items():
        add("section", code, model.vector(tokens), PRIOR_WEIGHT)
    for code, tokens in lead_text.items():
        add("lead", code, model.vector(tokens), PRIOR_WEIGHT)
    for case in cases:
        vec = model.vector(case.words)
        if case.section in section_names:
            add("section", case.section, vec)
        if case.lead in lead_names:
            add("lead", case.lead, vec)
        if case.closed:
            for w, v in vec.items():
                model.postings.setdefault(w, []).append((case.id, v))
    model.documents = [(kind, pk, vec) for kind, pk, tokens in documents if (vec := model.vector(tokens))]
    model.sections = {c: _unit(v) for c, v in sums["section"].items() if v}
    model.leads = {c: _unit(v) for c, v in sums["lead"].items() if v}
    return model


# --- the per-region cache --------------------------------------------------------------------------

_models: dict[int, tuple[tuple, Model]] = {}
_words: dict[int, dict[int, list[str]]] = {}  # region → appeal id → its words (title and description never change)
_lock = threading.Lock()


def stamp(region_id) -> tuple:
    """Changes whenever a case of the region is filed or moves (every event raises its version), or the
    region's sections or units are added or removed. Two small aggregate queries."""
    a = Appeal.objects.filter(region_id=region_id).aggregate(n=Count("id"), top=Max("id"), v=Sum("version"))
    s = Section.objects.filter(region_id=region_id).aggregate(n=Count("id"), top=Max("id"),
                                                             d=Count("lead_department"))
    d = Department.objects.filter(region_id=region_id).aggregate(n=Count("id"), top=Max("id"))
    extra = tuple(part for source in _sources for part in source.stamp(region_id))
    return (a["n"], a["top"], a["v"], s["n"], s["top"], s["d"], d["n"], d["top"], *extra)


# Other material (the knowledge base): modules with `stamp(region_id) -> tuple` (part of the model's stamp),
# `material(region_id) -> (training cases, documents)` and `matches(user, model, tokens) -> [hit dicts with "score"]`.
_sources: list = []


def register(source) -> None:
    if source not in _sources:
        _sources.append(source)


def knowledge(region_id) -> tuple[list[Case], list[tuple[str, int, list[str]]]]:
    """The registered sources' training cases (e.g. knowledge entries: their unit and section; never similar
    cases) and documents (kind, id, words) for the suggestion's `knowledge`."""
    training, documents = [], []
    for source in _sources:
        more, docs = source.material(region_id)
        training += more
        documents += docs
    return training, documents


def cases(region_id, limit: int = MAX_TRAINING, ids=None) -> list[Case]:
    """The region's assigned or closed appeals (the latest `limit`), with their words."""
    qs = Appeal.objects.filter(region_id=region_id).filter(
        Q(section__isnull=False) | Q(lead_department__isnull=False) | Q(status=Status.CLOSED))
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    known = _words.get(region_id, {})
    rows = qs.order_by("-pk").values_list("pk", "title", "description", "section__code", "lead_department__code",
                                          "status")[:limit]
    out = []
    for pk, title, description, section, lead, status in rows:
        tokens = known.get(pk)
        if tokens is None:
            tokens = words(f"{title} {description}")
        out.append(Case(pk, tokens, section, lead, status == Status.CLOSED))
    return out


def model_for(region_id) -> Model:
    key = stamp(region_id)
    cached = _models.get(region_id)
    if cached and cached[0] == key:
        return cached[1]
    with _lock:
        cached = _models.get(region_id)
        if cached and cached[0] == key:
            return cached[1]
        material = cases(region_id)
        extra, documents = knowledge(region_id)
        model = train(material + extra, *priors(region_id), documents=documents)
        _words[region_id] = {c.id: c.words for c in material}  # only the current material's words are kept
        _models[region_id] = (key, model)
        return model


def clear_cache():
    _models.clear()
    _words.clear()


# --- the suggestion --------------------------------------------------------------------------------

def suggest(user, title: str, description: str, region_id=None) -> dict:
    """{"section", "lead_department", "similar", "knowledge"} for the user's region (see the API)."""
    region_id = region_id or scopes.home_region_id(user)
    empty = {"section": None, "lead_department": None, "similar": [], "knowledge": []}
    if region_id is None:
        return empty
    model = model_for(region_id)
    tokens = words(f"{title} {description}")
    sections = model.rank(tokens, "section")
    leads = model.rank(tokens, "lead")
    section = sections[0][0] if sections else None
    lead = leads[0][0] if leads else model.section_lead.get(section) if section else None
    return {
        "section": {"code": section, "name": model.section_names[section]} if section else None,
        "lead_department": {"code": lead, "name": model.lead_names.get(lead, "")} if lead else None,
        "similar": similar_cases(user, model, tokens),
        "knowledge": sorted((hit for source in _sources for hit in source.matches(user, model, tokens)),
                           key=lambda hit: -hit["score"])[:KNOWLEDGE],
    }


def similar_cases(user, model: Model, tokens: list[str], limit: int = SIMILAR) -> list[dict]:
    """The closed cases most like the text that the user may see (walked in batches, best first)."""
    ranked = model.similar(tokens)
    visible = scopes.appeals(user).filter(status=Status.CLOSED)
    found: list[tuple[int, float]] = []
    for start in range(0, len(ranked), 200):
        batch = ranked[start:start + 200]
        allowed = set(visible.filter(pk__in=[pk for pk, _s in batch]).values_list("pk", flat=True))
        found += [(pk, s) for pk, s in batch if pk in allowed]
        if len(found) >= limit:
            break
    found = found[:limit]
    rows = {a.pk: a for a in Appeal.objects.filter(pk__in=[pk for pk, _s in found]).select_related("lead_department")}
    out = []
    for pk, score in found:
        a = rows[pk]
        out.append({
            "id": a.pk, "number": a.number, "title": a.title,
            "lead_department": {"code": a.lead_department.code, "name": a.lead_department.name}
            if a.lead_department else None,
            "resolution": a.resolution, "resolution_name": a.get_resolution_display() if a.resolution else "",
            "score": round(score, 4),
        })
    return out


# --- held-out accuracy (qifu bench routing) --------------------------------------------------------

@dataclass
class Evaluation:
    region: str
    train: int
    test: int
    section_top1: float | None
    section_top3: float | None
    lead_top1: float | None
    lead_top3: float | None
    section_tested: int
    lead_tested: int
    classes: tuple[int, int]  # sections, units
    latency_ms: dict[str, float]  # p50, p95, max of a whole suggestion (words, ranks, similar cases); build, stamp
    baseline: tuple[float | None, float | None]  # always the most frequent section / unit of the training part
    verbatim: int = 0  # held-out cases whose words are those of a training case (the same text again)
    unseen_top1: tuple[float | None, float | None] = (None, None)  # section / unit top-1 on the other held-out cases


def evaluate(region_id, holdout: float = 0.2) -> Evaluation:
    """Train on the oldest (1 − holdout) of the region's assigned appeals (by id: deterministic) and count how
    often the held-out cases' real section / lead unit is the first or among the first three suggestions."""
    import statistics
    import time

    from qifu.org.models import Region

    assigned = [c for c in cases(region_id, limit=10**9) if c.section or c.lead]
    assigned.sort(key=lambda c: c.id)
    cut = int(round(len(assigned) * (1 - holdout)))
    training, testing = assigned[:cut], assigned[cut:]
    extra, _documents = knowledge(region_id)
    model = train(training + extra, *priors(region_id))
    hits = {"section": [0, 0, 0], "lead": [0, 0, 0]}  # tested, top1, top3
    known = {tuple(sorted(c.words)) for c in training}
    unseen = {"section": [0, 0], "lead": [0, 0]}  # tested, top1 — on held-out texts not in the training part
    verbatim = 0
    common = {kind: Counter(getattr(c, kind) for c in training if getattr(c, kind)) for kind in ("section", "lead")}
    baseline_hits = {"section": 0, "lead": 0}
    for case in testing:
        again = tuple(sorted(case.words)) in known
        verbatim += again
        for kind in ("section", "lead"):
            truth = getattr(case, kind)
            if not truth:
                continue
            ranked = [code for code, _s in model.rank(case.words, kind)]
            h = hits[kind]
            h[0] += 1
            h[1] += ranked[:1] == [truth]
            h[2] += truth in ranked[:3]
            if not again:
                unseen[kind][0] += 1
                unseen[kind][1] += ranked[:1] == [truth]
            if common[kind] and common[kind].most_common(1)[0][0] == truth:
                baseline_hits[kind] += 1
    # latency: the whole suggestion as the API runs it (the cached model), for each held-out text
    from qifu.accounts.models import User

    user = User.objects.filter(is_superuser=True).first()
    clear_cache()
    t0 = time.perf_counter()
    model_for(region_id)  # cold: every case's words cut again, the model built
    build_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    stamp(region_id)
    stamp_ms = (time.perf_counter() - t0) * 1000
    times = []
    texts = Appeal.objects.filter(pk__in=[c.id for c in testing[:200]]).values_list("title", "description")
    for title, description in texts:
        t0 = time.perf_counter()
        if user is not None:
            suggest(user, title, description, region_id=region_id)
        else:  # pragma: no cover - a database without an administrator: time the ranking only
            m = model_for(region_id)
            tokens = words(f"{title} {description}")
            m.rank(tokens, "section"), m.rank(tokens, "lead"), m.similar(tokens)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()

    def rate(kind, i):
        return hits[kind][i] / hits[kind][0] if hits[kind][0] else None

    latency = {"p50": statistics.median(times), "p95": times[min(len(times) - 1, int(len(times) * 0.95))],
               "max": times[-1]} if times else {}
    latency.update(build=build_ms, stamp=stamp_ms)
    return Evaluation(
        region=Region.objects.get(pk=region_id).code, train=len(training), test=len(testing),
        section_top1=rate("section", 1), section_top3=rate("section", 2), lead_top1=rate("lead", 1),
        lead_top3=rate("lead", 2), section_tested=hits["section"][0], lead_tested=hits["lead"][0],
        classes=(len(model.section_names), len(model.lead_names)), latency_ms=latency,
        baseline=(baseline_hits["section"] / hits["section"][0] if hits["section"][0] else None,
                  baseline_hits["lead"] / hits["lead"][0] if hits["lead"][0] else None),
        verbatim=verbatim,
        unseen_top1=tuple(unseen[k][1] / unseen[k][0] if unseen[k][0] else None for k in ("section", "lead")),
    )
