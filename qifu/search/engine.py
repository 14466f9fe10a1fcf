"""Searching: one interface (`search`), two backends (SQLite FTS5, PostgreSQL full text).

A query is cut into terms: first the phrases of the region's synonym groups found in it (longest first, e.g.
社会保险 or 社保), then jieba's words of the rest (`routing.words`: two or more characters, a few empty words such as
如何/办理 left out). Each term is a group of alternatives — the term and its synonyms — and each alternative the
words jieba cuts it into (all of them required). Mode `all` requires every term (the search page and the API);
when nothing has every term, any term in a title will do, or else any term anywhere (`fallback`); mode `any` (the
Q&A) ranks whatever shares a term.

Ranking: BM25 on SQLite (title words count ten times body words); on PostgreSQL the documents with a term in their
title first, then the others, each tier by `ts_rank` (title weight A, body B; `_pg_run`); `score` is that rank
(on PostgreSQL scaled to 0–1, plus 1 for a title match), higher is better (comparable within one backend only)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from qifu.accounts import scopes

from .models import Kind

Q_MAX = 100  # characters of a query
COUNT_CAP = 1000  # matches counted at most (a page says "more than 1000")
# Question words left out of a query (besides routing's empty words).
QUERY_STOPWORDS = frozenset("怎么办 怎样 哪里 哪儿 什么 什么时候 多少 多久 能否 能不能 可不可以 要不要 一下 有没有 吗".split())
TERMS_MAX = 8

def synonyms(region) -> list[list[str]]:
    """The region's synonym groups (the region rule `search_synonyms`; built-in groups by default)."""
    from qifu.org import config

    groups = region.rule("search_synonyms") if region is not None else config.DEFAULTS["search_synonyms"]
    return [[str(w) for w in g if str(w).strip()] for g in groups if isinstance(g, (list, tuple))]


def terms(q: str, groups: list[list[str]]) -> list[list[list[str]]]:
    """The query's terms: each a list of alternatives, each alternative a list of words (all required)."""
    from qifu.appeals import routing

    text = (q or "").strip().lower()[:Q_MAX]
    phrases = sorted({w.lower() for g in groups for w in g}, key=len, reverse=True)
    by_word = {}
    for g in groups:
        for w in g:
            by_word.setdefault(w.lower(), set()).update(x.lower() for x in g)
    found = []
    for phrase in phrases:
        if phrase and phrase in text:
            found.append(phrase)
            text = text.replace(phrase, " ")
    out: list[list[list[str]]] = []
    for phrase in found:
        alternatives: dict[tuple, list[str]] = {}
        for alt in sorted(by_word[phrase], key=len):
            words = _precise(alt)
            if len("".join(words)) < len("".join(alt.split())):
                continue  # jieba leaves a character out (人才房 → 人才): the index cannot hold it, and 人才 is too broad
            alternatives.setdefault(tuple(sorted(words)), words)  # 企业开办 and 开办企业: the same words
        out.append(list(alternatives.values()) or [[phrase]])
    for word in dict.fromkeys(w for w in routing.words(text) if w not in QUERY_STOPWORDS):
        out.append([[word]])
    if not out and text.strip():
        out.append([[text.strip()[:50]]])
    return out[:TERMS_MAX]


def _precise(text: str) -> list[str]:
    """jieba's words of a synonym (precise mode, no empty words left out: 注册公司 → 注册 公司)."""
    from qifu.appeals import routing

    return [t for t in (w.strip().lower() for w in routing._jieba().lcut(text)) if routing._WORD.fullmatch(t)]


@dataclass
class Hit:
    id: int
    kind: str
    object_id: int
    title: str
    url: str
    score: float


# --- the backends ------------------------------------------------------------------------------------------

def _fts5_match(query_terms, mode: str) -> str:
    def alt(words):
        return "(" + " AND ".join('"' + w.replace('"', "") + '"' for w in words) + ")"

    groups = ["(" + " OR ".join(alt(a) for a in term) + ")" for term in query_terms]
    return (" AND " if mode == "all" else " OR ").join(groups)


def _tsquery(query_terms, mode: str) -> str:
    def lexeme(w):
        return "'" + w.replace("'", "").replace("\\", "") + "'"

    def alt(words):
        return "(" + " & ".join(lexeme(w) for w in words) + ")"

    groups = ["(" + " | ".join(alt(a) for a in term) + ")" for term in query_terms]
    return (" & " if mode == "all" else " | ").join(groups)


PG_VECTOR = "d.vector"  # a generated column (migration 0001): title words weight A, body words B


@dataclass
class Scope:
    region_id: int | None = None  # None: every region (administrators)
    public_only: bool = False  # enterprises: what they may see
    kinds: tuple = ()
    nothing: bool = False


def scope_of(user, kinds=()) -> Scope:
    if scopes.is_admin(user):
        return Scope(kinds=tuple(kinds or ()))
    region_id = scopes.home_region_id(user)
    if not region_id or not user.roles:
        return Scope(nothing=True)
    return Scope(region_id, not (user.roles & scopes.STAFF_ROLES), tuple(kinds or ()))


def _pg_where(scope: Scope) -> tuple[str, list]:
    where, params = [], []
    if scope.region_id is not None:
        where.append("d.region_id = %s")
        params.append(scope.region_id)
        if scope.public_only:
            where.append("d.public")
    if scope.kinds:
        where.append("d.kind IN (" + ", ".join(["%s"] * len(scope.kinds)) + ")")
        params += [str(k) for k in scope.kinds]
    return " AND ".join(where) or "TRUE", params


def _fts5_scope(scope: Scope) -> str:
    """The scope as FTS5 words of the `scope` column (index.scope_words)."""
    parts = []
    if scope.region_id is not None:
        parts.append(f"scope : {'p' if scope.public_only else 'r'}{int(scope.region_id)}")
    if scope.kinds:
        parts.append("scope : (" + " OR ".join(f"k{k}" for k in scope.kinds) + ")")
    return " AND ".join(parts)


def _run(query_terms, mode, scope: Scope, limit, offset, count) -> tuple[int | None, list[Hit]]:
    """mode: all (every term anywhere), titles (any term in the title), any (any term anywhere)."""
    total = None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            total, rows = _pg_run(cursor, query_terms, mode, scope, limit, offset, count)
        else:
            match = "(" + _fts5_match(query_terms, "any" if mode == "titles" else mode) + ")"
            if mode == "titles":
                match = "title : " + match
            restrict = _fts5_scope(scope)
            if restrict:
                match += " AND " + restrict
            cursor.execute("SELECT d.id, d.kind, d.object_id, d.title, d.url, f.score FROM ("
                           "SELECT rowid, -bm25(search_fts, 10.0, 1.0, 0.0) AS score FROM search_fts "
                           "WHERE search_fts MATCH %s ORDER BY score DESC, rowid LIMIT %s OFFSET %s) f "
                           "JOIN search_searchdocument d ON d.id = f.rowid ORDER BY f.score DESC, d.id",
                           [match, limit, offset])
            rows = cursor.fetchall()
            if count:
                cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH %s "
                               f"LIMIT {COUNT_CAP + 1}) c", [match])
                total = cursor.fetchone()[0]
    return total, [Hit(*row[:5], score=round(float(row[5]), 4)) for row in rows]


def _pg_run(cursor, query_terms, mode, scope: Scope, limit, offset, count) -> tuple[int | None, list]:
    """PostgreSQL: the documents with a query term in their title first, then the others, each tier by `ts_rank`.

    Ranking reads each ranked row's vector, so a broad query (thousands of matches) ranks its title matches only
    (usually a tenth of them, and enough for the page); the body-only matches are ranked only when the titles do
    not fill the page. (SQLite's BM25 counts title words ten times: title matches come first there too.)
    `score`: `ts_rank` scaled to 0–1 (rank / (rank + 1), normalization 32), plus 1 for a title match — higher is
    better down the whole list."""
    tsq = _tsquery(query_terms, "any" if mode == "titles" else mode)
    where, params = _pg_where(scope)
    column = "d.title_vector" if mode == "titles" else PG_VECTOR
    base = f"FROM search_searchdocument d WHERE {column} @@ to_tsquery('simple', %s) AND {where}"
    select = (f"SELECT d.id, d.kind, d.object_id, d.title, d.url, "
              f"ts_rank({PG_VECTOR}, to_tsquery('simple', %s), 32) + %s AS score {base}")
    wanted = offset + limit
    if mode == "titles":  # every match is a title match
        tiers = [("", [], 1)]
    else:
        title_tsq = _tsquery(query_terms, "any")
        tiers = [(" AND d.title_vector @@ to_tsquery('simple', %s)", [title_tsq], 1),
                 (" AND NOT d.title_vector @@ to_tsquery('simple', %s)", [title_tsq], 0)]
    rows: list = []
    for condition, extra, bonus in tiers:
        if len(rows) >= wanted:
            break
        cursor.execute(f"{select}{condition} ORDER BY score DESC, d.id LIMIT %s",
                       [tsq, bonus, tsq, *params, *extra, wanted - len(rows)])
        rows += cursor.fetchall()
    total = None
    if count:
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 {base} LIMIT {COUNT_CAP + 1}) c", [tsq, *params])
        total = cursor.fetchone()[0]
    return total, rows[offset:wanted]


def fallback(query_terms, scope: Scope, limit, offset, count):
    """Nothing has every term: the documents with any of them in their title, or else anywhere."""
    total, hits = _run(query_terms, "titles", scope, limit, offset, count)
    if not hits and (offset == 0 or not total):
        total, hits = _run(query_terms, "any", scope, limit, offset, count)
    return total, hits


def search(user, q: str, *, limit: int = 20, offset: int = 0, kinds=None, mode: str = "all",
           count: bool = True) -> tuple[int, list[Hit]]:
    """(how many match — at most COUNT_CAP + 1, i.e. "more than COUNT_CAP" —, the page of hits best first) for what
    `user` may see."""
    region = None
    if not scopes.is_admin(user):
        from qifu.org.models import Region

        region = Region.objects.filter(pk=scopes.home_region_id(user)).first()
    query_terms = terms(q, synonyms(region))
    if not query_terms:
        return 0, []
    scope = scope_of(user, kinds)
    if scope.nothing:
        return 0, []
    total, hits = _run(query_terms, mode, scope, limit, offset, count)
    if mode == "all" and not hits and len(query_terms) > 1 and (offset == 0 or not total):
        total, hits = fallback(query_terms, scope, limit, offset, count)
    return total or 0, hits


KIND_LABELS = dict(Kind.choices)
