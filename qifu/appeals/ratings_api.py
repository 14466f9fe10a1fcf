"""/api/v1/ratings — 好差评 added up per lead unit, section, liaison officer or case; and
/api/v1/appeals/{id}/officer-rating — the two-way rating of a closed case (seed 003 line 1437)."""

import datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status

from qifu.api.schemas import Input, RatingAnswer, Text, errors
from qifu.lib import exports

from . import ratings, stats
from .models import Appeal

router = Router(tags=["ratings"])


class FiguresOut(Schema):
    count: int = Field(description="answers")
    rated: int = Field(description="answers with stars")
    not_rated: int = Field(description='answers "not rated": never 0 stars, outside the average')
    average: float | None = Field(description="mean stars of the rated answers")
    satisfied: int
    dissatisfied: int = Field(description="sent back by the enterprise (reject_result) or 1–2 stars")
    dissatisfied_share: float | None = Field(description="dissatisfied / count")


class RowOut(FiguresOut):
    key: str | None = Field(description="the group's code (a department or section code, the officer's username, "
                                        "the appeal number); null: none")
    name: str


class RatingsOut(Schema):
    by: str
    source: str
    total: FiguresOut
    rows: list[RowOut]


@router.get("/ratings", response={200: RatingsOut, **errors(400, 403)},
            summary="Ratings added up by lead unit, section, liaison officer or case (format=xlsx: Excel)",
            openapi_extra={"responses": {200: {"description": "the figures (JSON), or with format=xlsx an Excel "
                                                              "workbook", "content": {exports.XLSX: {}}}}})
def rating_figures(request,
                   by: Literal["department", "section", "officer", "case"] = Query(
                       "department", description="department: per lead unit; section; officer: the enterprises' "
                                                 "ratings of their liaison officers; case: per appeal"),
                   source: Literal["enterprise", "officer"] | None = Query(
                       None, description="enterprise (default): the enterprises' answers (好差评); officer: the "
                                         "liaison officers' ratings of the lead units (by department or case)"),
                   month: str | None = Query(None, max_length=7, description="YYYY-MM: rated in that month"),
                   date_from: datetime.date | None = Query(None, alias="from", description="first day, inclusive"),
                   date_to: datetime.date | None = Query(None, alias="to", description="last day, inclusive"),
                   format: Literal["json", "xlsx"] = Query("json")):  # noqa: A002 - the API's parameter name
    user = request.user
    ratings.may_view_or_403(user)
    period = ratings.period(month, date_from, date_to, stats.zone_of(user))
    by, source = ratings.check(by, source)
    total, rows = ratings.rows_of(user, by, source, period.start if period else None, period.end if period else None)
    if format == "xlsx":
        return ratings.download(total, rows, by, source, period)
    return {"by": by, "source": source, "total": total, "rows": rows}


class OfficerRatingIn(Input):
    rating: RatingAnswer = Field(description='1–5 stars, or "none" (not rated) — required')
    comment: Text() = ""


class OfficerRatingOut(Schema):
    id: int
    appeal_id: int
    direction: str = Field(description="enterprise_to_officer (the enterprise rated its liaison officer) or "
                                       "officer_to_unit (the liaison officer rated the lead unit)")
    officer: str = Field(description="the liaison officer's username")
    department: str | None = Field(description="the lead unit's code")
    stars: int | None
    rated: bool
    comment: str
    closing_seq: int
    rated_at: datetime.datetime


@router.post("/appeals/{int:appeal_id}/officer-rating", response={201: OfficerRatingOut, **errors(400, 403, 404)},
             summary="Two-way rating of a closed case: its enterprise rates its liaison officer; the paired liaison "
                     "officer rates the lead unit (once per closing)")
def officer_rating(request, appeal_id: int, payload: OfficerRatingIn):
    try:
        r = ratings.rate(appeal_id, request.user, payload.rating, payload.comment)
    except Appeal.DoesNotExist:
        raise Http404 from None
    return Status(201, {"id": r.pk, "appeal_id": r.appeal_id, "direction": r.direction, "officer": r.officer.user.username,
                 "department": r.department.code if r.department_id else None, "stars": r.stars, "rated": r.rated,
                 "comment": r.comment, "closing_seq": r.closing_seq, "rated_at": r.rated_at})
