"""/api/v1/revisits — the revisit queue (回访) and recording a call's outcome; scoped like the page."""

import datetime

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from qifu.accounts import scopes
from qifu.api.pagination import Paginated, Rows
from qifu.api.schemas import Code, Input, Text, errors

from . import revisits, workflow
from .models import Revisit, RevisitOutcome

router = Router(tags=["revisits"])


class RevisitOut(Schema):
    id: int
    appeal_id: int
    appeal_number: str
    appeal_status: str
    enterprise_name: str
    lead_department: str | None
    reason: str = Field(description="why it is called: difficult, complaint or sample")
    due_at: datetime.datetime
    state: str = Field(description="pending or done")
    outcome: str = Field(description="satisfied, dissatisfied, unreachable; empty while pending")
    note: str
    done_by: str | None
    done_at: datetime.datetime | None


class RevisitFilters(Schema):
    state: Text(16) | None = Field(None, description="pending or done")
    outcome: Text(16) | None = Field(None, description="satisfied, dissatisfied or unreachable")
    lead_department: Code | None = None


class OutcomeIn(Input):
    outcome: Text(16) = Field(description="satisfied, dissatisfied (reopens the case) or unreachable")
    note: Text() = ""


class RatingRowOut(Schema):
    code: str
    name: str
    count: int = Field(description="answers (closing, sending back)")
    rated: int = Field(description="answers with stars")
    not_rated: int = Field(description='answers "not rated" (outside the average)')
    average: float | None
    satisfied: int
    dissatisfied: int = Field(description="sent back, or 1–2 stars")
    dissatisfied_share: float | None
    bad: int = Field(description="= dissatisfied (差评)")


def _out(revisit: Revisit) -> dict:
    appeal = revisit.appeal
    return {"id": revisit.pk, "appeal_id": appeal.pk, "appeal_number": appeal.number, "appeal_status": appeal.status,
            "enterprise_name": appeal.enterprise.name,
            "lead_department": appeal.lead_department.code if appeal.lead_department_id else None,
            "reason": revisit.reason, "due_at": revisit.due_at, "state": revisit.state, "outcome": revisit.outcome,
            "note": revisit.note, "done_by": revisit.done_by.username if revisit.done_by_id else None,
            "done_at": revisit.done_at}


def _caller(user) -> None:
    if not revisits.may_call(user):
        raise PermissionDenied(_("Your role does not record revisits."))


@router.get("/revisits", response={200: list[RevisitOut], **errors(400, 403)},
            summary="Revisits of the closed cases you may see (front desk, dispatchers, specialists)")
@paginate(Paginated)
def list_revisits(request, filters: Query[RevisitFilters]):
    _caller(request.user)
    qs = revisits.queue(request.user)
    if filters.state:
        if filters.state not in Revisit.State.values:
            raise workflow.TransitionError(_("The state must be pending or done."))
        qs = qs.filter(state=filters.state)
    if filters.outcome:
        if filters.outcome not in RevisitOutcome.values:
            raise workflow.TransitionError(_("The outcome must be one of: %(values)s.") % {
                "values": ", ".join(RevisitOutcome.values)})
        qs = qs.filter(outcome=filters.outcome)
    if filters.lead_department:
        qs = qs.filter(appeal__lead_department__code=filters.lead_department)
    return Rows(qs.order_by("state", "due_at", "pk"), _out)


@router.post("/revisits/{int:revisit_id}", response={200: RevisitOut, **errors(400, 403, 404)},
             summary="Record a revisit call: dissatisfied reopens the case with the lead unit")
def record_revisit(request, revisit_id: int, payload: OutcomeIn):
    _caller(request.user)
    try:
        revisit = workflow.record_revisit(revisit_id, request.user, payload.outcome, payload.note)
    except Revisit.DoesNotExist:
        raise Http404 from None
    return _out(revisits.queue(request.user).get(pk=revisit.pk))


@router.get("/revisits/ratings", response={200: list[RatingRowOut], **errors(403)},
            summary="好差评 per lead unit over the appeals you may see")
def ratings(request):
    _caller(request.user)
    return revisits.ratings_by_unit(scopes.appeals(request.user))
