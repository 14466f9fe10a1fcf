"""What the case page shows of supervision (督查督办), for staff only — an enterprise never sees chases, slips or
instructions: the records (warnings, chases, inspections, slips) with who was told and the follow-up, the slips
with their state, the leader instructions, and the forms of those allowed to act (`records.may_*`)."""

from __future__ import annotations

from django.utils import timezone

from qifu.accounts import scopes
from qifu.appeals.models import CLOCK_STATUSES, Status

from . import forms, records
from .models import Kind


def staff(user) -> bool:
    return bool(user.roles & scopes.STAFF_ROLES) or scopes.is_admin(user)


def case_panel(appeal, user, failed: tuple[str, int | None, object] | None = None) -> dict | None:
    """The section's context; `failed` = (form name, the slip or record id, the bound form) to show its errors."""
    if not staff(user):
        return None

    def form(name, key, factory):
        if failed and failed[0] == name and failed[1] == key:
            return failed[2]
        return factory()

    supervises = records.may_supervise(user, appeal)
    today = timezone.localdate()
    rows = []
    for record in appeal.supervision.select_related("slip", "done_by", "lead_department").order_by("-at", "-id"):
        followable = record.kind in (Kind.CHASE, Kind.INSPECTION) and not record.done_at
        rows.append({"record": record, "follow_up": form("follow_up", record.pk, lambda: forms.FollowUpForm(
            auto_id=f"id_follow_up_{record.pk}_%s")) if followable and supervises else None})
    slips = []
    for slip in appeal.slips.select_related("lead_department", "answered_by", "issued_by") \
            .prefetch_related("assisting_departments").order_by("-issued_at", "-id"):
        answerable = not slip.answered_at and records.may_answer(user, slip)
        slips.append({"slip": slip, "state": slip.state(today),
                      "answer_form": form("answer", slip.pk, lambda: forms.AnswerForm(
                          auto_id=f"id_answer_{slip.pk}_%s")) if answerable else None})
    instructions = list(appeal.leader_instructions.select_related("leader").order_by("at", "id"))
    issue = None
    if supervises and appeal.status in CLOCK_STATUSES:
        issue = form("slip", None, lambda: forms.SlipForm(appeal=appeal, user=user))
    instruct = None
    if records.may_instruct(user, appeal) and appeal.status not in (Status.WITHDRAWN, Status.MERGED):
        instruct = form("instruct", None, lambda: forms.InstructionForm(auto_id="id_instruct_%s"))
    if not (rows or slips or instructions or issue or instruct):
        return None
    return {"records": rows, "slips": slips, "instructions": instructions, "issue_form": issue,
            "instruct_form": instruct, "open_slips": sum(1 for s in slips if s["state"] != "answered")}
