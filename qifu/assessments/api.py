"""/api/v1/stats/ranking — the monthly ranking (晾晒) as JSON or an Excel workbook (the page's, same table)."""

from typing import Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from qifu.api.schemas import errors

from . import ranking, views

router = Router(tags=["statistics"])


class IndicatorOut(Schema):
    code: str
    name: str
    value: str = Field(description="the indicator's value: an expression over the unit's inputs")
    score: str = Field(description="its score: an expression over value, best, worst and the inputs")
    min: float
    max: float
    direction: Literal["higher", "lower"]
    if_missing: float = Field(description="the score when the value is unknown")


class GroupOut(Schema):
    code: str
    name: str
    indicators: list[IndicatorOut]
    rows: list[dict] = Field(description='[{"rank", "last_rank", "change", "key", "name", "total", <indicator code>: '
                                         'score, …, "values": {<indicator code>: value}}] best first; equal totals '
                                         'share a rank')


class RankingOut(Schema):
    month: str
    published: dict | None = Field(description='{"by", "at"} when the month is published (the frozen table)')
    groups: list[GroupOut]


ROW_FIELDS = ("rank", "last_rank", "change", "key", "name", "total")


@router.get("/stats/ranking", url_name="ranking", response={200: RankingOut, **errors(400, 403, 404)},
            summary="The monthly ranking of units (晾晒) with last month's rank (format=xlsx: Excel)",
            openapi_extra={"responses": {200: {"description": "the table (JSON), or with format=xlsx an Excel "
                                                              "workbook", "content": {
                                                                  "application/vnd.openxmlformats-officedocument."
                                                                  "spreadsheetml.sheet": {}}}}})
def ranking_table(request,
                  month: str | None = Query(None, max_length=7, description="YYYY-MM (default: this month)"),
                  format: Literal["json", "xlsx"] = Query("json")):  # noqa: A002 - the API's parameter name
    user = request.user
    region = views.allowed(user)
    label = month or ranking.this_month(region)
    data = views.month_table(user, region, label)
    if data is None:
        raise Http404(_("The ranking of %(month)s is not published yet.") % {"month": label})
    if format == "xlsx":
        return views.download(data, region, "xlsx")
    groups = [{"code": g["code"], "name": g["name"], "indicators": g["indicators"],
               "rows": [{**{k: r[k] for k in ROW_FIELDS}, **{i["code"]: r[i["code"]] for i in g["indicators"]},
                         "values": r.get("values", {})} for r in g["rows"]]} for g in data["groups"]]
    return {"month": data["month"], "published": data.get("published"), "groups": groups}

