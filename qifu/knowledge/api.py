"""/api/v1/knowledge — the knowledge entries and case studies the caller may see, searched (scoped like the pages:
enterprises get the published ones of their region, and a case's source appeal never)."""

import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from qifu.accounts import scopes
from qifu.api.schemas import errors
from qifu.lib import inputs

from . import services

router = Router(tags=["knowledge"])


class CodeName(Schema):
    code: str
    name: str


class KnowledgeOut(Schema):
    kind: str = Field(description="entry (a knowledge entry) or case (a case study)")
    id: int
    question: str = Field(description="the entry's question (a case: its title)")
    title: str = Field(description="the case's title (an entry: its question)")
    answer: str = Field(description="the entry's answer (a case: its solution), whole")
    problem: str = Field(description="a case's problem (an entry: empty)")
    legal_basis: str
    keywords: str
    unit: CodeName | None = Field(description="the entry's unit, the case's lead unit")
    section: CodeName | None
    state: str = Field(description="draft, published (or, for a case, withdrawn); others than published: staff only")
    published_at: datetime.datetime | None
    url: str
    source_appeal: str | None = Field(description="a case's source appeal number: only for staff who may see that "
                                                   "appeal, never for enterprises")


def _code_name(obj):
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _entry(e) -> dict:
    return {"kind": "entry", "id": e.pk, "question": e.question, "title": e.question, "answer": e.answer,
            "problem": "", "legal_basis": e.legal_basis, "keywords": e.keywords, "unit": _code_name(e.department),
            "section": _code_name(e.section), "state": e.state, "published_at": e.published_at,
            "url": e.get_absolute_url(), "source_appeal": None}


def _case(c, user) -> dict:
    return {"kind": "case", "id": c.pk, "question": c.title, "title": c.title, "answer": c.solution,
            "problem": c.problem, "legal_basis": c.legal_basis, "keywords": "",
            "unit": _code_name(c.lead_department), "section": _code_name(c.section), "state": c.state,
            "published_at": c.published_at, "url": c.get_absolute_url(),
            "source_appeal": c.source_appeal.number if services.may_see_source(user, c) else None}


class Page(Schema):
    items: list[KnowledgeOut]
    count: int


@router.get("/knowledge", response={200: Page, **errors(400, 403)},
            summary="Knowledge entries and case studies you may see; q searches question, answer, keywords and the "
                    "cases' texts (words by jieba, the best matches first)")
def knowledge(request, q: str = Query("", max_length=100),
              kind: Literal["entries", "cases", ""] = Query("", description="entries, cases, or both (empty)"),
              department: str = Query("", max_length=64, description="unit code (a case: its lead unit)"),
              section: str = Query("", max_length=64, description="section code"),
              limit: int = Query(inputs.LIMIT_DEFAULT, ge=1, le=inputs.LIMIT_MAX),
              offset: int = Query(0, ge=0, le=inputs.OFFSET_MAX)):
    user = request.user
    if not user.roles and not scopes.is_admin(user):
        raise PermissionDenied(_("You may not do this."))
    if inputs.has_nul(q):
        raise inputs.InputError(_("The request is not valid."))
    rows: list = []
    if kind != "cases":
        qs = services.entries(user)
        qs = qs.filter(department__code=department) if department else qs
        qs = qs.filter(section__code=section) if section else qs
        rows += [("entry", e) for e in services.search(qs, q, services.ENTRY_SEARCH)]
    if kind != "entries":
        qs = services.cases(user).select_related("source_appeal")
        qs = qs.filter(lead_department__code=department) if department else qs
        qs = qs.filter(section__code=section) if section else qs
        rows += [("case", c) for c in services.search(qs, q, services.CASE_SEARCH)]
    page = rows[offset:offset + limit]
    return {"items": [_entry(obj) if what == "entry" else _case(obj, user) for what, obj in page],
            "count": len(rows)}
