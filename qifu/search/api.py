"""/api/v1/search — ranked results of every kind the caller may see; /api/v1/qa — the smart Q&A's best answer.
Paginated like the other lists (`limit`, `offset`; `items` and `count`); 400 on an empty or too long `q`."""

from ninja import Field, Query, Router, Schema

from qifu.api.schemas import errors
from qifu.lib import inputs

from . import engine, qa, views

router = Router(tags=["search"])


class HitOut(Schema):
    kind: str = Field(description="service (a service item with its guide), qa (a standard question of a service "
                                  "item), knowledge (a knowledge entry), case (a case study) or policy")
    title: str
    url: str
    score: float = Field(description="relevance, higher is better (BM25 on SQLite; on PostgreSQL ts_rank scaled to 0–1, plus 1 for a title match)")


class SearchOut(Schema):
    items: list[HitOut]
    count: int = Field(description=f"the results matching; at most {engine.COUNT_CAP} (see count_capped)")
    count_capped: bool = Field(description=f"true: more than {engine.COUNT_CAP} match and `count` is the cap")


class AnswerOut(Schema):
    question: str = Field(description="the standard question that matched best")
    answer: str
    source: str = Field(description="where the answer comes from (a regulation, the guide, the knowledge base)")
    url: str
    kind: str = Field(description="qa or knowledge")
    score: float


def _check(q: str) -> None:
    error = views.check(q)
    if error:
        raise inputs.InputError(error)


@router.get("/search", response={200: SearchOut, **errors(400)},
            summary="Search service items and their guides, standard questions, knowledge entries, case studies and "
                    "policies in Chinese (jieba words, the region's synonyms), best first")
def search(request, q: str = Query(""),
           limit: int = Query(inputs.LIMIT_DEFAULT, ge=1, le=inputs.LIMIT_MAX),
           offset: int = Query(0, ge=0, le=inputs.OFFSET_MAX)):
    _check(q)
    total, hits = engine.search(request.user, q, limit=limit, offset=offset)
    return {"items": [{"kind": h.kind, "title": h.title, "url": h.url, "score": h.score} for h in hits],
            "count": min(total, engine.COUNT_CAP), "count_capped": total > engine.COUNT_CAP}


@router.get("/qa", response={200: AnswerOut | None, **errors(400)},
            summary="The smart Q&A: the answer of the standard question (or knowledge entry) matching q best, with "
                    "its source; null when none fits")
def answer(request, q: str = Query("")):
    _check(q)
    found = qa.answer(request.user, q)
    if found is None:
        return None
    return {"question": found.question, "answer": found.answer, "source": found.source, "url": found.url,
            "kind": found.kind, "score": found.score}
