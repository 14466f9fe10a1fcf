"""/api/v1/appeals — file, follow and move appeals; scoped exactly like the pages."""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from qifu.accounts import scopes
from qifu.api.pagination import CappedPaginated, Rows
from qifu.api.schemas import AwareTime, Code, EventOut, Input, RatingAnswer, Text, Version, errors
from qifu.lib import inputs
from qifu.lib.inputs import max_length

from . import queries, routing, workflow
from .models import Appeal, Channel

router = Router(tags=["appeals"])


class AppealIn(Input):
    enterprise_uscc: Text(32) | None = None
    title: Text(max_length(Appeal, "title"))
    description: Text()
    channel: Text(max_length(Channel, "code")) = "online"
    category: Text(max_length(Appeal, "category")) | None = None
    contact_name: Text(max_length(Appeal, "contact_name")) = ""
    contact_phone: Text(max_length(Appeal, "contact_phone")) = ""
    received_at: AwareTime | None = Field(None, description="staff only; with its time zone; not in the future, "
                                                            "not before the region's earliest date (2000-01-01)")



class AppealOut(Schema):
    id: int
    number: str
    status: str
    category: str
    scope: str
    channel: str
    title: str
    description: str
    enterprise_uscc: str
    enterprise_name: str
    contact_name: str
    contact_phone: str
    received_at: datetime.datetime
    received_node: str | None
    accepted_at: datetime.datetime | None
    due_at: datetime.datetime | None
    handled_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    workdays_left: float | None
    overdue: bool
    section: str | None
    lead_department: str | None
    lead_department_name: str | None
    assisting_departments: list[str]
    resolution: str
    reply: str
    dissatisfied_count: int
    converted_to_whistle: bool
    escalation_level: int = Field(description="1 while departments, platforms and streets handle it; 2 task force, "
                                              "3 weekly coordination meeting, 4 principal leaders")
    escalation_pending: bool = Field(description="a request to escalate awaits the next level's decision")
    fallback_reasons: list[str] = Field(description="why a fallback-lane case qualifies: no_place, no_lead, "
                                                    "no_precedent, special_group")
    version: int


class AttachmentOut(Schema):
    id: int
    name: str
    kind: str = Field("", description="handling_statement, meeting_minutes, sign_in_sheet, or empty")
    size: int | None
    uploaded_at: datetime.datetime
    url: str


class TaskOut(Schema):
    """A meeting's decision on the case: what, whose (a unit or a person), by when; done, open or overdue."""

    id: int
    text: str
    owner: str
    owner_department: str | None
    owner_user: str | None
    due_on: datetime.date
    state: str
    done_at: datetime.datetime | None
    meeting: str | None


class SupervisionOut(Schema):
    """One thing supervision did to the case: a timer that fired (warning, chase, inspection) or a slip."""

    id: int = Field(description="POST /api/v1/supervision/records/{id}/follow-up records a chase's or an "
                                "inspection's follow-up")
    kind: str = Field(description="warning, chase, inspection or slip")
    at: datetime.datetime = Field(description="when the timer was due (a slip: when it was issued)")
    fired_at: datetime.datetime = Field(description="when it was recorded (a sweep after downtime: later than at)")
    deadline: datetime.datetime | None = Field(description="the deadline it supervised")
    lead_department: str | None
    told: list[str] = Field(description="who was told")
    slip: str | None = Field(description="the slip's number (督办编号)")
    followed_up_at: datetime.datetime | None = Field(description="chase or inspection: when the task force "
                                                                 "recorded its follow-up")
    follow_up: str


class SlipOut(Schema):
    """督办单: number, date, task, units, requirements, the answer due and given."""

    id: int
    number: str
    issued_on: datetime.date
    task: str
    lead_department: str | None
    assisting_departments: list[str]
    requirements: str
    reply_due: datetime.date
    state: str = Field(description="awaiting, overdue or answered")
    answer: str
    answered_at: datetime.datetime | None


class InstructionOut(Schema):
    text: str
    leader: str
    at: datetime.datetime


class RatingOut(Schema):
    kind: str = Field(description="enterprise (its answer at closing or sending back), enterprise_to_officer, "
                                  "officer_to_unit")
    solved: bool | None = Field(description="kind enterprise: solved (closed) or not (sent back)")
    stars: int | None
    rated: bool | None = Field(description="false: not rated (an explicit answer); null: stored before answers "
                                           "were required")
    comment: str
    officer: str | None
    department: str | None
    by: str | None
    at: datetime.datetime


class AppealDetailOut(AppealOut):
    events: list[EventOut]
    actions: list[str]
    attachments: list[AttachmentOut]
    coordinating_body: str | None = Field(description="the body coordinating the case at its level (2–4)")
    tasks: list[TaskOut]
    supervision: list[SupervisionOut]
    slips: list[SlipOut]
    leader_instructions: list[InstructionOut] = Field(description="领导批示 on the case")
    ratings: list[RatingOut] = Field(description="the case's ratings, oldest first (an enterprise: its own answers "
                                                 "and its rating of the liaison officer)")


class ActionIn(Input):
    version: Version  # required: the version you loaded (another change since → 409)
    category: Text(max_length(Appeal, "category")) | None = None
    scope: Text(max_length(Appeal, "scope")) | None = None
    section: Code | None = None
    lead_department: Code | None = None
    assisting_departments: list[Code] | None = Field(None, max_length=100)
    reason: Text() | None = None
    resolution: Text(max_length(Appeal, "resolution")) | None = None
    text: Text() | None = None
    solved: bool | None = None
    rating: RatingAnswer | None = Field(None, description='confirm and solve_on_spot: required — 1–5 stars or "none" '
                                                      '(not rated); reject_result: optional')
    comment: Text() | None = None
    into: Text(max_length(Appeal, "number")) | None = None
    note: Text() | None = None
    # escalate / decide_escalation (the 提级协调审批表) and the fallback lane
    statement: Text() | None = Field(None, description="escalate: coordination so far (前期协调情况)")
    approve: bool | None = Field(None, description="decide_escalation: true = one level up; false = a second "
                                                   "assignment to lead_department and assisting_departments")
    fallback_reasons: list[Text(32)] | None = Field(None, max_length=4, description="classify into a fallback "
                                                    "class: no_place, no_lead, no_precedent, special_group")
    held_on: datetime.date | None = Field(None, description="deliberate: the day of the 一事一议 deliberation")
    participants: Text(1000) | None = None
    conclusion: Text() | None = None


def _out(appeal: Appeal, user) -> dict:
    return queries.as_dict(appeal, user)


@router.post("", response={201: AppealOut, **errors(400, 403, 422)},
             summary="File an appeal (Idempotency-Key header: a retry answers with the same appeal; the same key "
                     "with another body is 422)")
def create_appeal(request, payload: AppealIn):
    """With an Idempotency-Key the appeal's unique key answers a retry (issue 10: no look-up before a new appeal,
    which most keys are): the INSERT fails on (created_by, idempotency_key) and the earlier appeal is returned; a
    retry that the intake would now refuse (e.g. its channel closed since) is answered with its appeal too."""
    user = request.user
    key = inputs.idempotency_key(request.headers.get("Idempotency-Key"))
    digest = inputs.request_hash("appeal", payload.dict()) if key else ""
    try:
        enterprise = queries.enterprise_for_intake(user, payload.enterprise_uscc)
        channel = Channel.open_by_code(payload.channel)
        if channel is None:
            raise workflow.TransitionError(_("Unknown channel %(code)s.") % {"code": payload.channel})
        staff = bool(user.roles & scopes.STAFF_ROLES)
        if not staff and payload.received_at:
            raise workflow.TransitionError(_("Only staff record a time of receipt."))
        appeal, _created = workflow.register(
            actor=user, enterprise=enterprise, channel=channel, title=payload.title, description=payload.description,
            contact_name=payload.contact_name, contact_phone=payload.contact_phone, category=payload.category,
            received_at=payload.received_at, idempotency_key=key, request_hash=digest, key_checked=True,
        )
    except (IntegrityError, workflow.TransitionError, PermissionDenied, inputs.InputError):
        # the key was used before (by this request: its appeal; by another: IdempotencyConflict, 422)
        earlier = workflow.earlier_for_key(user, key, digest) if key else None
        if earlier is None:
            raise
        appeal = earlier
    return Status(201, _out(appeal, user))


class SuggestIn(Input):
    title: Text(max_length(Appeal, "title"))
    description: Text()


class CodeName(Schema):
    code: str
    name: str


class SimilarOut(Schema):
    id: int
    number: str
    title: str
    lead_department: CodeName | None
    resolution: str = Field(description="solved, policy_study, explained or persuaded (empty: not recorded)")
    resolution_name: str
    score: float = Field(description="cosine similarity of the texts, 0–1")


class KnowledgeHitOut(Schema):
    kind: str = Field(description="entry (a knowledge entry) or case (a case study)")
    id: int
    question: str = Field(description="the entry's question (a case: its title)")
    title: str = Field(description="the case's title (an entry: its question)")
    answer: str = Field(description="the beginning of the answer (a case: of its solution)")
    url: str = Field(description="its page")
    score: float = Field(description="cosine similarity of the texts, 0–1")


class SuggestOut(Schema):
    section: CodeName | None = Field(description="the suggested section (板块); null when no word of the text "
                                                 "matches any section's past cases or description")
    lead_department: CodeName | None = Field(description="the suggested lead unit (牵头单位), or null")
    similar: list[SimilarOut] = Field(description="up to 5 closed cases you may see, most similar first")
    knowledge: list[KnowledgeHitOut] = Field(description="up to 5 published knowledge entries and case studies most "
                                                         "like the text, best first")


@router.post("/suggest", response={200: SuggestOut, **errors(400, 403)},
             summary="Routing suggestion for a new appeal's text: section, lead unit, similar closed cases (staff)")
def suggest(request, payload: SuggestIn):
    user = request.user
    if not (scopes.is_admin(user) or user.roles & scopes.STAFF_ROLES):
        raise PermissionDenied(_("Only staff get routing suggestions."))
    return routing.suggest(user, payload.title, payload.description)


@router.get("", response={200: list[AppealOut], **errors(400)}, summary="Appeals you may see, with filters")
@paginate(CappedPaginated)
def list_appeals(request, status: str | None = None, category: str | None = None, lead_department: str | None = None,
                 section: str | None = None, node: str | None = None, overdue: bool | None = None,
                 enterprise_uscc: str | None = None, channel: str | None = None, q: str | None = None,
                 abnormal: str | None = Query(None, max_length=32, description=(
                     "an abnormal list: warning (预警件), dissatisfied (不满意件), closed_overdue (超期办结件), "
                     "reassigned (二次交办件), leader_instructed (领导批示件)")),
                 escalation_level: int | None = Query(None, ge=1, le=4, description="1 units … 4 principal leaders"),
                 fallback: bool | None = Query(None, description="true: the fallback lane's cases only"),
                 received_after: AwareTime | None = Query(None, description=(
                     "received at or after this moment (ISO 8601 with its time zone, e.g. "
                     "2026-10-01T00:00:00+08:00)")),
                 received_before: AwareTime | None = Query(None, description=(
                     "received before this moment (ISO 8601 with its time zone); with received_after: "
                     "a month is [the 1st 00:00, the next 1st 00:00)"))):
    qs = queries.filtered(scopes.appeals(request.user), status=status, category=category,
                          lead_department=lead_department, section=section, node=node, overdue=overdue,
                          enterprise_uscc=enterprise_uscc, channel=channel, q=q, abnormal=abnormal,
                          escalation_level=escalation_level, fallback=fallback, received_after=received_after,
                          received_before=received_before)
    return Rows(queries.with_related(qs), lambda appeal: _out(appeal, request.user))


@router.get("/{int:appeal_id}", response={200: AppealDetailOut, **errors(404)}, summary="One appeal with its history")
def get_appeal(request, appeal_id: int):
    appeal = get_object_or_404(queries.with_related(scopes.appeals(request.user)), pk=appeal_id)
    return queries.as_detail(appeal, request.user)


@router.post("/{int:appeal_id}/actions/{action}", response={200: AppealDetailOut, **errors(400, 403, 404, 409)},
             summary="Move the appeal: accept, classify, assign, reassign, reply, mark_handled, confirm, escalate, "
                     "decide_escalation, deliberate, … (`version` required)")
def act(request, appeal_id: int, action: str, payload: ActionIn):
    data = payload.dict(exclude_none=True)
    version = data.pop("version")
    try:
        workflow.perform(appeal_id, action, request.user, version, **data)
    except Appeal.DoesNotExist:
        raise Http404 from None
    appeal = queries.with_related(scopes.appeals(request.user)).get(pk=appeal_id)
    return queries.as_detail(appeal, request.user)




@router.post("/{int:appeal_id}/attachments", response={201: AttachmentOut, **errors(400, 403, 404)},
             summary="Add a file (multipart `file`; PDF, images, Office/WPS, OFD, text, archives; at most 20 MB; "
                     "`kind`: handling_statement, meeting_minutes, sign_in_sheet for an escalation request)")
def add_attachment(request, appeal_id: int, file: UploadedFile = File(...),
                   kind: Text(32) = Form("", description="what the file is for (optional)")):
    try:
        attachment = workflow.attach(appeal_id, request.user, file, kind=kind or "")
    except Appeal.DoesNotExist:
        raise Http404 from None
    return Status(201, queries.attachment_dict(attachment))
