"""/api/v1/knowledge — the knowledge entries and case studies the caller may see, searched (scoped like the pages:
enterprises get the published ones of their region, and a case's source appeal never)."""

import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from qifu.accounts import scopes
from qifu.api.pagination import Paginated, Rows
from qifu.api.schemas import Code, Input, Text, errors
from qifu.lib import inputs
from qifu.lib.inputs import max_length

from . import services
from .models import CaseStudy, KnowledgeEntry

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


# --- writing: the same rules as the pages (`services`) -------------------------------------------------------

class EntryIn(Input):
    question: Text(max_length(KnowledgeEntry, "question"))
    answer: Text()
    legal_basis: Text() = ""
    unit: Code = Field(description="the unit's code (a department of your region)")
    section: Code | None = None
    keywords: Text(max_length(KnowledgeEntry, "keywords")) = ""
    publish: bool = Field(False, description="true: published (enterprises see it); false: a draft")


def _entry_data(user, payload: EntryIn) -> dict:
    unit = scopes.departments(user).filter(code=payload.unit).first()
    if unit is None:
        raise inputs.InputError(_("Choose a unit of the region."))
    section = None
    if payload.section:
        section = scopes.sections(user).filter(code=payload.section).first()
        if section is None:
            raise inputs.InputError(_("Choose a section of the region."))
    return {"question": payload.question, "answer": payload.answer, "legal_basis": payload.legal_basis,
            "department": unit, "section": section, "keywords": payload.keywords}


@router.post("/knowledge/entries", response={201: KnowledgeOut, **errors(400, 403)},
             summary="Write a knowledge entry (staff who answer enterprises)")
def create_entry(request, payload: EntryIn):
    user = request.user
    if not services.may_write(user):
        raise PermissionDenied(_("You may not write knowledge entries."))
    entry = services.save_entry(user, _entry_data(user, payload), publish=payload.publish)
    return Status(201, _entry(entry))


@router.put("/knowledge/entries/{int:entry_id}", response={200: KnowledgeOut, **errors(400, 403, 404)},
            summary="Change a knowledge entry (its author, its unit's handlers, its section's specialists, "
                    "supervisors, the task force); every change audited")
def update_entry(request, entry_id: int, payload: EntryIn):
    user = request.user
    entry = get_object_or_404(services.entries(user), pk=entry_id)
    entry = services.save_entry(user, _entry_data(user, payload), entry=entry, publish=payload.publish)
    return _entry(entry)


class CaseIn(Input):
    appeal_id: int = Field(ge=1, le=2**63 - 1, description="a closed appeal, solved")
    title: Text(max_length(CaseStudy, "title")) | None = Field(None, description="default: the appeal's, anonymized")
    problem: Text() | None = Field(None, description="default: the appeal's description, anonymized")
    solution: Text() | None = Field(None, description="default: the appeal's reply, anonymized")
    legal_basis: Text() = ""
    publish: bool = Field(False, description="true: published at once; false: a draft")


@router.post("/knowledge/cases", response={201: KnowledgeOut, **errors(400, 403, 404)},
             summary="Publish a closed, solved appeal as a case (anonymized: a text still naming the enterprise, a "
                     "credit code or a phone number is refused)")
def create_case(request, payload: CaseIn):
    user = request.user
    appeal = get_object_or_404(scopes.appeals(user).select_related("enterprise"), pk=payload.appeal_id)
    data = services.draft_from(appeal)
    data.update({k: v for k, v in payload.dict().items() if k in services.CASE_TEXTS and v is not None})
    case = services.create_case(user, appeal, data, publish=payload.publish)
    return Status(201, _case(case, user))


class CaseStateIn(Input):
    state: Literal["draft", "published", "withdrawn"]


@router.post("/knowledge/cases/{int:case_id}/state", response={200: KnowledgeOut, **errors(400, 403, 404)},
             summary="Publish, withdraw or take back to draft a case")
def case_state(request, case_id: int, payload: CaseStateIn):
    user = request.user
    case = get_object_or_404(services.cases(user), pk=case_id)
    if not services.is_staff(user):
        raise PermissionDenied(_("You may not change this case."))
    return _case(services.set_case_state(user, case, payload.state), user)


class PromotionIn(Input):
    note: Text(2000) = Field(description="why it should become a service item")
    entry_id: int | None = Field(None, ge=1, le=2**63 - 1)
    case_id: int | None = Field(None, ge=1, le=2**63 - 1)
    appeal_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        None, max_length=200, description="a recurring problem: the appeals with alike texts")
    title: Text(300) = Field("", description="a recurring problem's name (default: the first appeal's title)")


class PromotionOut(Schema):
    id: int
    kind: str = Field(description="entry, case or recurring")
    title: str
    note: str
    entry_id: int | None
    case_id: int | None
    appeals: list[str] = Field(description="a recurring problem's appeal numbers")
    state: str = Field(description="candidate or dropped")
    marked_by: str
    marked_at: datetime.datetime


def _promotion(p) -> dict:
    return {"id": p.pk, "kind": p.kind, "title": p.title, "note": p.note, "entry_id": p.entry_id,
            "case_id": p.case_id, "appeals": [a.number for a in p.appeals.all()], "state": p.state,
            "marked_by": (p.marked_by.display_name or p.marked_by.username) if p.marked_by else "",
            "marked_at": p.marked_at}


@router.get("/knowledge/promotions", response={200: list[PromotionOut], **errors(400, 403)},
            summary="Candidates for a new service item (从一件事到一类事), for the task force")
@paginate(Paginated)
def list_promotions(request):
    user = request.user
    if not (services.may_see_promotions(user) and services.is_staff(user)):
        raise PermissionDenied(_("You may not do this."))
    return Rows(services.promotions(user).filter(state="candidate").prefetch_related("appeals"), _promotion)


@router.post("/knowledge/promotions", response={201: PromotionOut, **errors(400, 403, 404)},
             summary="Mark an entry, a case or a recurring problem (appeal ids) as a candidate for a service item")
def create_promotion(request, payload: PromotionIn):
    user = request.user
    if not services.is_staff(user):
        raise PermissionDenied(_("You may not propose service items."))
    given = [x for x in (payload.entry_id, payload.case_id, payload.appeal_ids) if x]
    if len(given) != 1:
        raise inputs.InputError(_("Choose what to promote."))
    if payload.entry_id:
        p = services.promote(user, payload.note, entry=get_object_or_404(services.entries(user), pk=payload.entry_id))
    elif payload.case_id:
        p = services.promote(user, payload.note, case=get_object_or_404(services.cases(user), pk=payload.case_id))
    else:
        appeals = list(scopes.appeals(user).filter(pk__in=payload.appeal_ids))
        if len(appeals) != len(set(payload.appeal_ids)):
            raise Http404
        p = services.promote(user, payload.note, appeals=appeals, title=payload.title)
    return Status(201, _promotion(p))
