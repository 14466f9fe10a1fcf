"""Revisits (回访, seed 000 机制保障; Huzhou seed 001 §四): which closed cases are called back, and their queue.

At closure (`confirm`, `solve_on_spot`) `after_close` decides once whether the case is revisited and stores a
`Revisit` in the closing transaction: difficult cases (region rule `revisit_difficult`: whistle, escalated above
level 1, not satisfied at least once, the fallback lane) and complaints (`revisit_complaint_channels`) always, the
others when their sample key is below `revisit_ratio` (0.2 by default, 1.0 in Huzhou). The sample key is a hash of
the region code and the appeal number mapped to [0, 1): the same case is always in or out of the sample.

Recording a call's outcome is a change of the case when the enterprise is not satisfied (it reopens): that is
`workflow.record_revisit`. This module does not import the workflow (the workflow calls `after_close`).
"""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet
from django.utils import timezone

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.workcal import workdays

from .models import FALLBACK_CATEGORIES, Appeal, Category, Revisit

# Who calls enterprises back: the front desk, the dispatchers, the section specialists (and administrators).
CALLERS = (Role.FRONT_DESK, Role.DISPATCHER, Role.SPECIALIST, Role.CHIEF_SPECIALIST, Role.ADMIN)


def sample_key(region_code: str, number: str) -> float:
    """A number in [0, 1) fixed by the case: sha256 of "region:number", its first 52 bits."""
    digest = hashlib.sha256(f"{region_code}:{number}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 12) / float(1 << 52)


def difficulties(appeal: Appeal, rules: dict) -> list[str]:
    """Why the case is difficult, by the region's words (empty: an ordinary case)."""
    kinds = set(rules.get("revisit_difficult") or [])
    found = []
    if "whistle" in kinds and (appeal.category == Category.WHISTLE or appeal.converted_to_whistle):
        found.append("whistle")
    if "escalated" in kinds and (appeal.escalation_level or 1) > 1:
        found.append("escalated")
    if "dissatisfied" in kinds and appeal.dissatisfied_count > 0:
        found.append("dissatisfied")
    if "fallback" in kinds and appeal.category in FALLBACK_CATEGORIES:
        found.append("fallback")
    return found


def is_complaint(appeal: Appeal, rules: dict) -> bool:
    channel_code = appeal.channel.code if appeal.channel_id else ""
    return channel_code in set(rules.get("revisit_complaint_channels") or [])


def sampled(appeal: Appeal) -> str:
    """Why this closed case is revisited — "difficult", "complaint" or "sample" — or "" (not revisited)."""
    rules = appeal.region.rules
    if difficulties(appeal, rules):
        return "difficult"
    if is_complaint(appeal, rules):
        return "complaint"
    return "sample" if sample_key(appeal.region.code, appeal.number) < float(rules["revisit_ratio"]) else ""


def after_close(appeal: Appeal, event) -> Revisit | None:
    """Called by the workflow inside the closing transaction: store the revisit if the case is in the sample."""
    reason = sampled(appeal)
    if not reason:
        return None
    rules = appeal.region.rules
    due = workdays.deadline(event.at, int(rules["revisit_due_workdays"]), end_of_day=rules["deadline_end_of_day"],
                            tz=rules["time_zone"])
    revisit, _new = Revisit.objects.get_or_create(appeal=appeal, closing_seq=event.seq,
                                                  defaults={"reason": reason, "due_at": due, "created_at": event.at})
    return revisit


# --- who sees and calls -----------------------------------------------------------------------------------

def may_call(user) -> bool:
    if scopes.is_admin(user):
        return True
    if not (user.is_authenticated and user.is_active):
        return False
    return user.has_role(*CALLERS)


def queue(user) -> QuerySet[Revisit]:
    """The revisits of the cases the user may see, if the user is one of those who call (else none)."""
    if not may_call(user):
        return Revisit.objects.none()
    return Revisit.objects.filter(appeal__in=scopes.appeals(user).values("pk")).select_related(
        "appeal", "appeal__enterprise", "appeal__lead_department", "done_by")


def overdue(revisit: Revisit, now=None) -> bool:
    return revisit.state == Revisit.State.PENDING and (now or timezone.now()) > revisit.due_at


# --- the ratings roll-up --------------------------------------------------------------------------------------

def ratings_by_unit(appeals: QuerySet[Appeal]) -> list[dict]:
    """好差评 per lead unit over the given appeals — `ratings.summary` (the one roll-up), with the names this page and
    `GET /api/v1/revisits/ratings` had: `code`, `rated` (with stars), `average`, `bad` (= not satisfied: sent back or
    1–2 stars)."""
    from . import ratings

    return [{"code": row["key"] or "", "name": row["name"], "bad": row["dissatisfied"], **row}
            for row in ratings.by_unit(appeals)]
