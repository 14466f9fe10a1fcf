"""/api/v1 — supervision (督查督办): issue a supervision slip on a case, answer it, download it as Word, give a leader
instruction, record the follow-up of a chase or an inspection. Scoped like the pages: a case or slip you may not see
is 404 (an enterprise never sees slips or supervision records), an action you may not take is 403, bad input 400."""

import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Status
from zoneinfo import ZoneInfo

from qifu.accounts import scopes
from qifu.api.schemas import Code, Input, Text, errors
from qifu.appeals.api import InstructionOut, SlipOut, SupervisionOut
from qifu.appeals.models import Appeal
from qifu.lib import exports
from qifu.lib.inputs import max_length

from . import documents, panel, records
from .models import Record, Slip

router = Router(tags=["supervision"])


class SlipIn(Input):
    task: Text() = Field(description="督办任务")
    requirements: Text() = Field(description="办理要求")
    reply_due: datetime.date | None = Field(None, description="答复期限; default: the region's slip_reply_workdays "
                                                              "working days from today")
    lead_department: Code | None = Field(None, description="主办单位 (a unit's code); default: the case's lead unit")
    assisting_departments: list[Code] | None = Field(None, max_length=100, description="协办单位; default: the "
                                                                                      "case's assisting units")
    cc: Text(max_length(Slip, "cc")) = Field("", description="抄送")
    contact_name: Text(max_length(Slip, "contact_name")) = Field("", description="联系人")
    contact_phone: Text(max_length(Slip, "contact_phone")) = Field("", description="电话")
    remarks: Text() = Field("", description="备注")


class AnswerIn(Input):
    answer: Text()


class InstructionIn(Input):
    text: Text()


class FollowUpIn(Input):
    note: Text() = Field(description="what was done: the call made, the visit paid")


def _slip(user, slip_id: int) -> Slip:
    if not panel.staff(user):
        raise Http404
    return get_object_or_404(Slip.objects.select_related("appeal__region", "appeal__enterprise", "lead_department")
                             .filter(appeal__in=scopes.appeals(user)), pk=slip_id)


def _slip_out(slip: Slip) -> dict:
    return records.slip_dict(Slip.objects.select_related("lead_department").prefetch_related(
        "assisting_departments").get(pk=slip.pk))


@router.post("/appeals/{int:appeal_id}/slips", response={201: SlipOut, **errors(400, 403, 404)},
             summary="Issue a supervision slip (督办单) on a case being handled: supervisors and the task force")
def issue_slip(request, appeal_id: int, payload: SlipIn):
    try:
        slip = records.issue_slip(appeal_id, request.user, **payload.dict())
    except Appeal.DoesNotExist:
        raise Http404 from None
    return Status(201, _slip_out(slip))


@router.get("/slips/{int:slip_id}", response={200: SlipOut, **errors(404)}, summary="One supervision slip")
def get_slip(request, slip_id: int):
    return _slip_out(_slip(request.user, slip_id))


@router.get("/slips/{int:slip_id}.docx", response={200: None, **errors(404)},
            summary="The supervision slip as a Word document (督办单)", openapi_extra={"responses": {200: {
                "description": "the .docx", "content": {"application/vnd.openxmlformats-officedocument."
                                                         "wordprocessingml.document": {}}}}})
def slip_docx(request, slip_id: int):

    slip = _slip(request.user, slip_id)
    return exports.download(documents.slip_document(slip), exports.DOCX, f"supervision-slip-{slip.number}.docx",
                     f"督办单-{slip.number}.docx")


@router.post("/slips/{int:slip_id}/answer", response={200: SlipOut, **errors(400, 403, 404)},
             summary="Answer a supervision slip: the lead unit's handlers")
def answer_slip(request, slip_id: int, payload: AnswerIn):
    _slip(request.user, slip_id)
    try:
        slip = records.answer_slip(slip_id, request.user, payload.answer)
    except Slip.DoesNotExist:
        raise Http404 from None
    return _slip_out(slip)


@router.post("/appeals/{int:appeal_id}/instructions", response={201: InstructionOut, **errors(400, 403, 404)},
             summary="Give a leader instruction (领导批示) on a case: leaders")
def give_instruction(request, appeal_id: int, payload: InstructionIn):
    try:
        instruction = records.instruct(appeal_id, request.user, payload.text)
    except Appeal.DoesNotExist:
        raise Http404 from None
    return Status(201, records.instruction_dict(instruction))


@router.post("/supervision/records/{int:record_id}/follow-up", response={200: SupervisionOut, **errors(400, 403, 404)},
             summary="Record the follow-up of a chase or an inspection: supervisors and the task force")
def follow_up(request, record_id: int, payload: FollowUpIn):
    if not panel.staff(request.user):
        raise Http404
    try:
        record = records.follow_up(record_id, request.user, payload.note)
    except Record.DoesNotExist:
        raise Http404 from None
    record = Record.objects.select_related("appeal__region", "lead_department", "slip").get(pk=record.pk)
    return records.record_dict(record, ZoneInfo(record.appeal.region.rule("time_zone")))
