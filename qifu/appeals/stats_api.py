"""/api/v1/stats/appeals — the appeal statistics of `qifu.appeals.stats` as JSON or an Excel workbook."""

import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema

from qifu.api.schemas import errors
from qifu.lib import exports

from . import stats

router = Router(tags=["statistics"])



class MetricsOut(Schema):
    received: int = Field(description="received in the period (every appeal, whatever became of it)")
    accepted: int = Field(description="accepted in the period (an accept event)")
    handled: int = Field(description="handled (办结) in the period: a mark_handled or solve_on_spot event")
    handled_on_time: int = Field(description="of those, the last handling in the period at or before the "
                                             "deadline then in force")
    on_time_rate: float | None = Field(description="handled_on_time / handled (null: nothing handled)")
    closed: int = Field(description="closed (销号) in the period: confirm or solve_on_spot")
    solved_rate: float | None = Field(description="closed with the resolution solved / closed")
    satisfied: int = Field(description="closed in the period without a bad rating (not 1–2 stars)")
    satisfaction_rate: float | None = Field(description="satisfied / closed")
    overdue_open: int = Field(description="received in the period, still being handled and past the deadline now")
    escalated: int = Field(description="put up a level of the ladder in the period (an approved escalation)")
    reassigned: int = Field(description="assigned a second time in the period (a reassign event)")
    dissatisfied: int = Field(description="sent back by the enterprise, or rated 1–2 stars, in the period")
    avg_workdays_to_handle: float | None = Field(description="working days from acceptance to the handling, "
                                                             "averaged over the cases handled")


class RowOut(MetricsOut):
    key: str | None = Field(description="the group's code (null: none, e.g. no lead unit yet)")
    name: str


class StatsOut(Schema):
    total: MetricsOut
    rows: list[RowOut]


@router.get("/stats/appeals", response={200: StatsOut, **errors(400, 403)},
            summary="Appeal statistics for a month or a date range, in total and by group (format=xlsx: Excel)",
            openapi_extra={"responses": {200: {"description": "the figures (JSON), or with format=xlsx an Excel "
                                                              "workbook", "content": {exports.XLSX: {}}}}})
def appeal_stats(request,
                 month: str | None = Query(None, max_length=7, description="YYYY-MM (Asia/Shanghai)"),
                 date_from: datetime.date | None = Query(None, alias="from", description="first day, inclusive"),
                 date_to: datetime.date | None = Query(None, alias="to", description="last day, inclusive"),
                 by: Literal["department", "section", "node", "jurisdiction", "channel", "category"] | None = Query(
                     None, description="group by the lead unit, section, node of receipt, the enterprise's "
                                       "jurisdiction, channel or class"),
                 format: Literal["json", "xlsx"] = Query("json")):  # noqa: A002 - the API's parameter name
    user = request.user
    if not stats.may_see(user):
        from django.core.exceptions import PermissionDenied
        from django.utils.translation import gettext as _

        raise PermissionDenied(_("Statistics are for staff."))
    period = stats.period_from(month, date_from, date_to, stats.zone_of(user))
    figures = stats.compute(user, period, by)
    if format == "xlsx":
        name = f"appeal-stats-{period.label}.xlsx".replace("–", "_")
        return exports.download(stats.workbook(figures), exports.XLSX, name, name)
    return figures.as_dict()
