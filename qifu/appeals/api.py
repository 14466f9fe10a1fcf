"""/api/v1/appeals — file, follow and move appeals; scoped exactly like the pages."""

import datetime

from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Body, File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from qifu.accounts import scopes
from qifu.api.schemas import EventOut


from . import queries, workflow
from .models import Appeal, Channel

router = Router(tags=["appeals"])


class AppealIn(Schema):
    enterprise_uscc: str | None = None
    title: str
    description: str
    channel: str = "online"
    category: str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    received_at: datetime.datetime | None = None




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
    version: int


class AttachmentOut(Schema):
    id: int
    name: str
    size: int | None
    uploaded_at: datetime.datetime
    url: str


class AppealDetailOut(AppealOut):
    events: list[EventOut]
    actions: list[str]
    attachments: list[AttachmentOut]


class ActionIn(Schema):
    version: int | None = None
    category: str | None = None
    scope: str | None = None
    section: str | None = None
    lead_department: str | None = None
    assisting_departments: list[str] | None = None
    reason: str | None = None
    resolution: str | None = None
    text: str | None = None
    solved: bool | None = None
    rating: int | None = None
    comment: str | None = None
    into: str | None = None
    note: str | None = None


def _out(appeal: Appeal, user) -> dict:
    return queries.as_dict(appeal, user)


@router.post("", response={201: AppealOut}, summary="File an appeal (Idempotency-Key header supported)")
def create_appeal(request, payload: AppealIn):
    user = request.user
    key = (request.headers.get("Idempotency-Key") or "").strip()[:128]
    if key:
        earlier = Appeal.objects.filter(created_by=user, idempotency_key=key).first()
        if earlier is not None:
            return Status(201, _out(earlier, user))
    enterprise = queries.enterprise_for_intake(user, payload.enterprise_uscc)
    channel = Channel.objects.filter(code=payload.channel, active=True).first()
    if channel is None:
        raise workflow.TransitionError(_("Unknown channel %(code)s.") % {"code": payload.channel})
    staff = bool(user.roles & scopes.STAFF_ROLES)
    if not staff and payload.received_at:
        raise workflow.TransitionError(_("Only staff record a time of receipt."))
    try:
        appeal, _created = workflow.register(
            actor=user, enterprise=enterprise, channel=channel, title=payload.title, description=payload.description,
            contact_name=payload.contact_name, contact_phone=payload.contact_phone, category=payload.category,
            received_at=payload.received_at, idempotency_key=key,
        )
    except IntegrityError:  # the same key raced in from a parallel retry
        appeal = Appeal.objects.get(created_by=user, idempotency_key=key)
    return Status(201, _out(appeal, user))


@router.get("", response=list[AppealOut], summary="Appeals you may see, with filters")
@paginate(LimitOffsetPagination)
def list_appeals(request, status: str | None = None, category: str | None = None, lead_department: str | None = None,
                 section: str | None = None, node: str | None = None, overdue: bool | None = None,
                 enterprise_uscc: str | None = None, channel: str | None = None, q: str | None = None):
    qs = queries.filtered(scopes.appeals(request.user), status=status, category=category,
                          lead_department=lead_department, section=section, node=node, overdue=overdue,
                          enterprise_uscc=enterprise_uscc, channel=channel, q=q)
    return [_out(a, request.user) for a in queries.with_related(qs)]


@router.get("/{int:appeal_id}", response=AppealDetailOut, summary="One appeal with its history")
def get_appeal(request, appeal_id: int):
    appeal = get_object_or_404(queries.with_related(scopes.appeals(request.user)), pk=appeal_id)
    return queries.as_detail(appeal, request.user)


@router.post("/{int:appeal_id}/actions/{action}", response=AppealDetailOut,
             summary="Move the appeal: accept, classify, assign, reassign, reply, mark_handled, confirm, …")
def act(request, appeal_id: int, action: str, payload: ActionIn = Body(None)):
    data = payload.dict(exclude_none=True) if payload else {}
    version = data.pop("version", None)
    try:
        workflow.perform(appeal_id, action, request.user, version, **data)
    except Appeal.DoesNotExist:
        raise Http404 from None
    appeal = queries.with_related(scopes.appeals(request.user)).get(pk=appeal_id)
    return queries.as_detail(appeal, request.user)




@router.post("/{int:appeal_id}/attachments", response={201: AttachmentOut}, summary="Add a file (multipart `file`)")
def add_attachment(request, appeal_id: int, file: UploadedFile = File(...)):
    try:
        attachment = workflow.attach(appeal_id, request.user, file)
    except Appeal.DoesNotExist:
        raise Http404 from None
    return Status(201, queries.attachment_dict(attachment))
