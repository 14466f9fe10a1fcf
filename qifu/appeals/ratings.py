"""Ratings (好差评, seed 000 机制保障; seed 003 line 1437): the enterprise's answer when its case is closed, added up
per case, lead unit, section and liaison officer; and the two-way rating of a paired enterprise's closed case.

- `Rating`: one answer of the enterprise (`confirm`, `solve_on_spot`: solved; `reject_result`: not satisfied) with
  1–5 stars or the explicit "not rated" (`rated` False, stars NULL). Closing a case requires the answer
  (`rating_answer`, called by the workflow).
- `OfficerRating`: after a closed case of an enterprise paired with a liaison officer (助企员, `LiaisonOfficer`),
  the enterprise rates the officer's follow-up (`enterprise_to_officer`) and the officer rates the lead unit's
  handling (`officer_to_unit`) — each once per closing, 1–5 stars or not rated.

`summary` is the one roll-up (page, Excel, API and the revisit page's table use it). Its columns: `count` answers,
`rated` with stars, `not_rated` without (never 0 stars: outside the average), `average` stars of the rated ones,
`dissatisfied` (not satisfied — `reject_result` — or 1–2 stars), `satisfied` (the others), `dissatisfied_share`
(dissatisfied / count).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.enterprises.models import LiaisonOfficer
from qifu.lib import inputs

from .errors import NotAllowed, TransitionError
from .models import DISSATISFIED_STARS, Appeal, OfficerRating, Rating, Status

Direction = OfficerRating.Direction

# Who sees the roll-up: those who oversee (supervisors, leaders), dispatch, call back, and the units (their own).
VIEWERS = (Role.ADMIN, Role.SUPERVISOR, Role.LEADER, Role.DISPATCHER, Role.FRONT_DESK, Role.SPECIALIST,
           Role.CHIEF_SPECIALIST, Role.HANDLER)
WIDE = (Role.ADMIN, Role.SUPERVISOR, Role.LEADER, Role.DISPATCHER, Role.FRONT_DESK, Role.SPECIALIST,
        Role.CHIEF_SPECIALIST)

BY = {"department": gettext_lazy("lead department"), "section": gettext_lazy("section"),
      "officer": gettext_lazy("liaison officer"), "case": gettext_lazy("appeal")}
SOURCES = {"enterprise": gettext_lazy("the enterprises' ratings of the handling"),
           "officer": gettext_lazy("the liaison officers' ratings of the lead units")}
COLUMNS = ("count", "rated", "not_rated", "average", "satisfied", "dissatisfied", "dissatisfied_share")
LABELS = {"count": gettext_lazy("answers"), "rated": gettext_lazy("rated"), "not_rated": gettext_lazy("not rated"),
          "average": gettext_lazy("average stars"), "satisfied": gettext_lazy("satisfied"),
          "dissatisfied": gettext_lazy("not satisfied"), "dissatisfied_share": gettext_lazy("share not satisfied")}


# --- the answer ------------------------------------------------------------------------------------------------

NOT_RATED = "none"  # the explicit answer "not rated" (不评价): payload `rating: "none"`


def rating_answer(value, required: bool = True) -> tuple[int | None, bool]:
    """The enterprise's rating answer: (stars, True) for 1–5 stars, (None, False) for the explicit "none" (not
    rated). Missing: TransitionError when `required` (closing a case needs an answer), else (None, False)."""
    if value in (None, ""):
        if required:
            raise TransitionError(_("Give the enterprise's rating: 1 to 5 stars, or \"none\" (not rated)."))
        return None, False
    if isinstance(value, str) and value.strip().lower() == NOT_RATED:
        return None, False
    try:
        stars = int(value)
    except (TypeError, ValueError):
        stars = 0
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()) or not 1 <= stars <= 5:
        raise TransitionError(_("A rating is 1 to 5 stars, or \"none\" (not rated)."))
    return stars, True



# --- who sees what ----------------------------------------------------------------------------------------------

def may_see(user) -> bool:
    return scopes.is_admin(user) or bool(user.is_authenticated and user.is_active and user.has_role(*VIEWERS)
                                         and not user.is_enterprise_user)


def _unit_only(user):
    """A unit's handler sees its own unit's ratings only; None for those who see all their cases'."""
    if scopes.is_admin(user) or user.has_role(*WIDE):
        return None
    return user.department_id or 0


def enterprise_ratings(user) -> QuerySet[Rating]:
    qs = Rating.objects.filter(appeal__in=scopes.appeals(user).values("pk"))
    unit = _unit_only(user)
    return qs if unit is None else qs.filter(lead_department_id=unit)


def officer_ratings(user) -> QuerySet[OfficerRating]:
    qs = OfficerRating.objects.filter(appeal__in=scopes.appeals(user).values("pk"))
    unit = _unit_only(user)
    return qs if unit is None else qs.filter(department_id=unit)


# --- the roll-up ------------------------------------------------------------------------------------------------

GROUPS = {  # (source, by) → (code column, name column)
    ("enterprise", "department"): ("lead_department__code", "lead_department__name"),
    ("enterprise", "section"): ("appeal__section__code", "appeal__section__name"),
    ("enterprise", "case"): ("appeal__number", "appeal__title"),
    ("officer", "department"): ("department__code", "department__name"),
    ("officer", "officer"): ("officer__user__username", "officer__user__display_name"),
    ("officer", "case"): ("appeal__number", "appeal__title"),
}


def check(by: str | None, source: str | None) -> tuple[str, str]:
    """`by` and `source` as given or their defaults; wrong values: TransitionError (400). `by=officer` is the
    enterprises' ratings of their liaison officers (source officer, direction enterprise_to_officer)."""
    by = by or "department"
    if by not in BY:
        raise TransitionError(_("by must be one of: %(values)s.") % {"values": ", ".join(BY)})
    source = source or ("officer" if by == "officer" else "enterprise")
    if source not in SOURCES:
        raise TransitionError(_("source must be enterprise or officer."))
    if (source, by) not in GROUPS:
        raise TransitionError(_("The liaison officers' ratings are added up by department or case."))
    return by, source


def _figures(row: dict) -> dict:
    count, rated, dissatisfied = row["count"], row["rated"], row["dissatisfied"]
    return {"count": count, "rated": rated, "not_rated": count - rated,
            "average": round(float(row["average"]), 2) if row["average"] is not None else None,
            "satisfied": count - dissatisfied, "dissatisfied": dissatisfied,
            "dissatisfied_share": round(dissatisfied / count, 4) if count else None}


def _aggregates(source: str) -> dict:
    bad = Q(stars__isnull=False, stars__lte=DISSATISFIED_STARS)
    if source == "enterprise":
        bad |= Q(solved=False)
    return {"count": Count("pk"), "rated": Count("pk", filter=Q(stars__isnull=False)), "average": Avg("stars"),
            "dissatisfied": Count("pk", filter=bad)}


def rows_of(user, by: str | None = None, source: str | None = None, start: datetime.datetime | None = None,
            end: datetime.datetime | None = None, appeals: QuerySet[Appeal] | None = None) -> tuple[dict, list[dict]]:
    """(total, rows) of the ratings `user` may see, rated in [start, end) when given, per `by`."""
    by, source = check(by, source)
    if source == "enterprise":
        qs = enterprise_ratings(user)
    else:
        direction = Direction.ENTERPRISE_TO_OFFICER if by == "officer" else Direction.OFFICER_TO_UNIT
        qs = officer_ratings(user).filter(direction=direction)
    if appeals is not None:
        qs = qs.filter(appeal__in=appeals.values("pk"))
    if start is not None:
        qs = qs.filter(rated_at__gte=start)
    if end is not None:
        qs = qs.filter(rated_at__lt=end)
    return summary(qs, by, source)


def summary(qs, by: str, source: str) -> tuple[dict, list[dict]]:
    """The figures of a queryset of `Rating` (source enterprise) or `OfficerRating` (source officer), in total and
    per group."""
    code, name = GROUPS[(source, by)]
    aggregates = _aggregates(source)
    total = _figures(qs.aggregate(**aggregates))
    rows = []
    for row in qs.values(code, name).annotate(**aggregates).order_by(code):
        label = row[name] or (row[code] if by == "officer" else "") or ""
        rows.append({"key": row[code], "name": label or str(_("(none)")), **_figures(row)})
    rows.sort(key=lambda r: (r["key"] is None, -(r["dissatisfied_share"] or 0), -r["count"], r["key"] or ""))
    return total, rows


def by_unit(appeals: QuerySet[Appeal]) -> list[dict]:
    """Per lead unit over the given appeals (the revisit page's table)."""
    _total, rows = summary(Rating.objects.filter(appeal__in=appeals.values("pk")), "department", "enterprise")
    return rows


# --- one case ---------------------------------------------------------------------------------------------------

def history(appeal: Appeal, user) -> list[dict]:
    """The case's ratings, oldest first: the enterprise's answers and the two-way ratings (an enterprise sees its
    own answers and its rating of the officer; the officer's rating of the unit is for staff)."""
    own_enterprise = user.is_enterprise_user and not (user.roles & scopes.STAFF_ROLES)
    rows = [{"kind": "enterprise", "solved": r.solved, "stars": r.stars, "rated": r.rated, "comment": r.comment,
             "officer": None, "department": r.lead_department.name if r.lead_department_id else None,
             "by": _who(r.rated_by), "at": r.rated_at}
            for r in appeal.ratings.select_related("lead_department", "rated_by").order_by("rated_at", "pk")]
    two_way = appeal.officer_ratings.select_related("officer__user", "department", "rated_by").order_by("rated_at")
    if own_enterprise:
        two_way = two_way.filter(direction=Direction.ENTERPRISE_TO_OFFICER)
    rows += [{"kind": r.direction, "solved": None, "stars": r.stars, "rated": r.rated, "comment": r.comment,
              "officer": r.officer.name, "department": r.department.name if r.department_id else None,
              "by": _who(r.rated_by), "at": r.rated_at} for r in two_way]
    rows.sort(key=lambda r: r["at"])
    return rows


def _who(user) -> str | None:
    return (user.display_name or user.username) if user is not None else None


# --- the two-way rating -----------------------------------------------------------------------------------------

def officer_of(appeal: Appeal) -> LiaisonOfficer | None:
    """The liaison officer paired with the case's enterprise (the first by id if several; none if unpaired)."""
    return (LiaisonOfficer.objects.filter(enterprises=appeal.enterprise_id, active=True)
            .select_related("user").order_by("pk").first())


def closing_seq(appeal: Appeal) -> int | None:
    """The closing event of a closed case: its last event (nothing but a revisit's reopening follows a closure)."""
    return appeal.version if appeal.status == Status.CLOSED else None


def direction_for(user, appeal: Appeal) -> str | None:
    """Which two-way rating `user` gives on this case, if any: its own enterprise rates the officer; a liaison
    officer paired with the enterprise rates the lead unit."""
    if user.has_role(Role.ENTERPRISE) and user.enterprise_id == appeal.enterprise_id:
        return Direction.ENTERPRISE_TO_OFFICER
    if user.has_role(Role.LIAISON):
        return Direction.OFFICER_TO_UNIT
    return None


def _paired(user, appeal: Appeal) -> LiaisonOfficer | None:
    return LiaisonOfficer.objects.filter(user=user, active=True, enterprises=appeal.enterprise_id).first()


def pending(user, appeal: Appeal) -> str | None:
    """The direction `user` may rate now (closed case, not yet rated for this closing), or None."""
    direction = direction_for(user, appeal)
    if direction is None or appeal.status != Status.CLOSED:
        return None
    if direction == Direction.ENTERPRISE_TO_OFFICER and officer_of(appeal) is None:
        return None
    if direction == Direction.OFFICER_TO_UNIT and (_paired(user, appeal) is None or not appeal.lead_department_id):
        return None
    if OfficerRating.objects.filter(appeal=appeal, direction=direction, closing_seq=closing_seq(appeal)).exists():
        return None
    return direction


@transaction.atomic
def rate(appeal: Appeal | int, actor, rating, comment: str = "") -> OfficerRating:
    """Record the two-way rating `actor` gives on a closed case: 1–5 stars or "none" (not rated), with a comment.
    Audited (the model is tracked). Another enterprise's case: Appeal.DoesNotExist (404); an officer not paired with
    the enterprise, or another role: NotAllowed (403); not closed, already rated, no answer: TransitionError (400)."""
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal
    if not scopes.appeals(actor).filter(pk=pk).exists():
        raise Appeal.DoesNotExist
    appeal = Appeal.objects.select_for_update().select_related("enterprise").get(pk=pk)
    direction = direction_for(actor, appeal)
    if direction is None:
        raise NotAllowed(_("Only the enterprise rates its liaison officer, and only the paired liaison officer rates "
                           "the lead unit."))
    problem = inputs.text_problem(comment or "", max_length=inputs.TEXT_MAX)
    if problem:
        raise TransitionError(problem)
    if direction == Direction.ENTERPRISE_TO_OFFICER:
        officer = officer_of(appeal)
        if officer is None:
            raise TransitionError(_("No liaison officer is paired with this enterprise."))
        department_id = appeal.lead_department_id
    else:
        officer = _paired(actor, appeal)
        if officer is None:
            raise NotAllowed(_("You are not the liaison officer paired with this enterprise."))
        department_id = appeal.lead_department_id
        if department_id is None:
            raise TransitionError(_("This case had no lead unit to rate."))
    if appeal.status != Status.CLOSED:
        raise TransitionError(_("A case is rated after it is closed."))
    stars, rated = rating_answer(rating, required=True)
    seq = closing_seq(appeal)
    if OfficerRating.objects.filter(appeal=appeal, direction=direction, closing_seq=seq).exists():
        raise TransitionError(_("This case was already rated."))
    return OfficerRating.objects.create(
        appeal=appeal, closing_seq=seq, direction=direction, officer=officer, department_id=department_id,
        stars=stars, rated=rated, comment=(comment or "").strip(), rated_by=actor, rated_at=timezone.now())


def officer_queue(user) -> QuerySet[Appeal]:
    """待评价主办单位: closed cases of the officer's paired enterprises, with a lead unit, not yet rated by an officer
    for their latest closing."""
    officer = LiaisonOfficer.objects.filter(user=user, active=True).first() if user.has_role(Role.LIAISON) else None
    if officer is None:
        return Appeal.objects.none()
    done = OfficerRating.objects.filter(appeal=OuterRef("pk"), direction=Direction.OFFICER_TO_UNIT,
                                        closing_seq=OuterRef("version"))
    return (Appeal.objects.filter(status=Status.CLOSED, lead_department__isnull=False,
                                  enterprise__in=officer.enterprises.values("pk"))
            .exclude(Exists(done)).select_related("enterprise", "lead_department").order_by("-closed_at", "-pk"))


def officer_stars(officer: LiaisonOfficer, period) -> float | None:
    """The mean stars the officer's enterprises gave their follow-up in `period` (anything with `start` and `end`, e.g.
    `stats.month_period`, or a (start, end) pair) — assessments.md §1 `rating_stars`. "Not rated" answers are left
    out; None when no answer has stars."""
    start, end = (period.start, period.end) if hasattr(period, "start") else period
    value = OfficerRating.objects.filter(officer=officer, direction=Direction.ENTERPRISE_TO_OFFICER,
                                         stars__isnull=False, rated_at__gte=start, rated_at__lt=end
                                         ).aggregate(avg=Avg("stars"))["avg"]
    return round(float(value), 2) if value is not None else None


def period(month=None, first=None, last=None, zone=None):
    """A month or a date range (`stats.period_from`), or None (all time) when nothing is asked."""
    from . import stats

    if not (month or first or last):
        return None
    return stats.period_from(month, first, last, zone or "Asia/Shanghai")


def workbook(total: dict, rows: list[dict], by: str, source: str, label: str = "") -> bytes:
    """One sheet: the heading line (what and when), the column headings, the total (bold), one row per group."""
    from qifu.lib import exports

    title = str(_("Ratings"))
    header = [_("code"), str(BY[by]), *[str(LABELS[c]) for c in COLUMNS]]
    lines = [[None, _("Total"), *[total[c] for c in COLUMNS]]] + [[r["key"], r["name"], *[r[c] for c in COLUMNS]]
                                                                   for r in rows[:exports.EXPORT_MAX]]
    return exports.workbook(title, header, lines, preface=[title, str(SOURCES[source]), label], bold_rows=1)


def download(total: dict, rows: list[dict], by: str, source: str, period):
    """The figures as an Excel download (the ratings page's and the API's `format=xlsx`)."""
    from qifu.lib import exports

    label = period.label if period else ""
    name = f"ratings-{by}-{label or 'all'}.xlsx".replace("–", "_")
    return exports.download(workbook(total, rows, by, source, label), exports.XLSX, name,
                            f"{_('Ratings')}-{label or by}.xlsx")


def may_view_or_403(user) -> None:
    if not may_see(user):
        raise PermissionDenied(_("Ratings are for staff."))
