"""The monthly ranking (晾晒, docs/appeals.md "Monthly ranking") on a hand-built October 2026, with the default
scheme of qifu/org/config.py: two departments (发改局, 人社局) and three platforms/streets (东街道, 西街道办事处, 园区平台).

October (every case single unless said; due = 3 working days, Mon 12 Oct → Wed 14 Oct):
    c1 发改局, enterprise 东方 (东街道): handled 13 Oct (on time), confirmed 14 Oct 5★ solved
    c2 发改局, 东方 (东街道): handled 20 Oct (late), sent back 21 Oct 1★ (不满意件: 发改局 AND 东街道), handled again
       23 Oct (on time against the fresh limit, 26 Oct), confirmed 26 Oct 3★ solved
    (fixture `slip`) c6 发改局, received 15 Oct, never handled (overdue now), a supervision slip 16 Oct
    c3 人社局, 西方 (西街道): handled 13 Oct (on time), confirmed 14 Oct 5★ solved
    c4 whistle, led by 西街道办事处, 西方 (西街道): handled 15 Oct (on time), confirmed 16 Oct 2★ (不满意件: 西街道 once,
       as the lead unit and the area's unit)
    c5 人社局, 西方: handled 19 Oct (late), confirmed 20 Oct 4★ solved
Manual inputs (October): visits 发改局 10, 人社局 5, 东 8, 西 8; cases 人社局 2; industry 东 40, 西 90;
relief 发改局 80, 人社局 60, 东 70, 西 70; notices 人社局 1. September: visits 人社局 10.
"""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from qifu.accounts.models import Role
from qifu.appeals import stats, workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel
from qifu.assessments import providers, ranking
from qifu.assessments.models import RankingInput, RankingPublication
from qifu.audit.models import AuditEntry
from qifu.lib.inputs import InputError
from qifu.org.models import Department
from qifu.supervision import records

from .world import World

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=TZ)


def register(w, received, enterprise, category="single") -> Appeal:
    appeal, _new = workflow.register(actor=w.users[Role.FRONT_DESK], enterprise=enterprise,
                                     channel=Channel.objects.get(code="window"), title=f"诉求 {received}",
                                     description="描述", category=category, received_at=at(received))
    return appeal


def act(appeal, action, actor, when, **payload):
    appeal.refresh_from_db()
    return workflow.perform(appeal.pk, action, actor, appeal.version, at=at(when), **payload)


def handle(w, appeal, when):
    act(appeal, "reply", w.users[Role.ADMIN], when, resolution="solved", text="已答复企业")
    act(appeal, "mark_handled", w.users[Role.ADMIN], when)


def case(w, lead, enterprise, received, handled, confirmed, stars, category="single"):
    dispatcher = w.users[Role.DISPATCHER]
    appeal = register(w, received, enterprise, category)
    act(appeal, "assign", dispatcher, received.replace("09:00", "09:30"), lead_department=lead.code)
    handle(w, appeal, handled)
    if confirmed:
        act(appeal, "confirm", dispatcher, confirmed, solved=True, rating=stars)
    return appeal


@pytest.fixture
def w(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ensure_default_channels()
    w = World()
    w.region.config = {"ranking": {"area_units": {"w-west": "w-jd-west"}}}  # 东街道 goes by its name
    w.region.save()
    w.street_east = Department.objects.create(region=w.region, code="w-jd-east", name="东街道", kind="street")
    w.street_west = Department.objects.create(region=w.region, code="w-jd-west", name="西街道办事处", kind="street")
    w.platform = Department.objects.create(region=w.region, code="w-pt", name="园区平台", kind="platform")
    admin, dispatcher = w.users[Role.ADMIN], w.users[Role.DISPATCHER]
    w.c1 = case(w, w.dept, w.ent_east, "2026-10-12T09:00", "2026-10-13T10:00", "2026-10-14T10:00", 5)
    w.c2 = case(w, w.dept, w.ent_east, "2026-10-12T09:00", "2026-10-20T10:00", None, None)
    act(w.c2, "reject_result", dispatcher, "2026-10-21T09:00", rating=1, comment="没有解决")
    handle(w, w.c2, "2026-10-23T10:00")
    act(w.c2, "confirm", dispatcher, "2026-10-26T10:00", solved=True, rating=3)
    w.c3 = case(w, w.other_dept, w.ent_west, "2026-10-12T09:00", "2026-10-13T10:00", "2026-10-14T10:00", 5)
    w.c4 = case(w, w.street_west, w.ent_west, "2026-10-12T09:00", "2026-10-15T10:00", "2026-10-16T10:00", 2,
                category="whistle")
    w.c5 = case(w, w.other_dept, w.ent_west, "2026-10-12T09:00", "2026-10-19T10:00", "2026-10-20T10:00", 4)
    manual = {
        "2026-10": [("w-fgj", "visits", 10), ("w-rsj", "visits", 5), ("w-jd-east", "visits", 8),
                    ("w-jd-west", "visits", 8), ("w-rsj", "cases", 2), ("w-jd-east", "industry", 40),
                    ("w-jd-west", "industry", 90), ("w-fgj", "relief", 80), ("w-rsj", "relief", 60),
                    ("w-jd-east", "relief", 70), ("w-jd-west", "relief", 70), ("w-rsj", "notices", 1)],
        "2026-09": [("w-rsj", "visits", 10)],
    }
    for month, rows in manual.items():
        for unit, code, value in rows:
            ranking.enter(w.region, month, unit, code, value, admin)
    return w


@pytest.fixture
def slip(w):
    """A supervision slip (16 Oct) on a sixth case of 发改局, received 15 Oct and never handled: also open and overdue
    now (逾期办理)."""
    appeal = register(w, "2026-10-15T09:00", w.ent_east)
    act(appeal, "assign", w.users[Role.DISPATCHER], "2026-10-15T09:30", lead_department=w.dept.code)
    return records.issue_slip(appeal.pk, w.users[Role.ADMIN], task="请加快办理", requirements="按期答复",
                              at=at("2026-10-16T10:00"))


def rows_of(table, group):
    found = next(g for g in table["groups"] if g["code"] == group)
    return {row["key"]: row for row in found["rows"]}


def test_the_system_inputs_of_each_unit(w, slip):
    table = ranking.compute(w.region, "2026-10")
    deps, areas = rows_of(table, "departments"), rows_of(table, "areas")
    assert set(deps) == {"w-fgj", "w-rsj"} and set(areas) == {"w-jd-east", "w-jd-west", "w-pt"}
    fgj, rsj = deps["w-fgj"]["inputs"], deps["w-rsj"]["inputs"]
    # 发改局: c1 and c2 handled (c2's last handling on time), both closed solved and satisfied; the slip's case
    # received in October, still open and overdue now
    assert (fgj["on_time_rate"], fgj["solved_rate"], fgj["satisfaction_rate"]) == (1.0, 1.0, 1.0)
    assert (fgj["handled_late"], fgj["overdue_open"], fgj["slips"], fgj["dissatisfied_charged"]) == (0, 1, 1, 1)
    assert (rsj["on_time_rate"], rsj["handled_late"], rsj["overdue_open"], rsj["slips"]) == (0.5, 1, 0, 0)
    assert (rsj["notices"], rsj["cases"], rsj["visits"], rsj["relief"]) == (1, 2, 5, 60)
    east, west, park = areas["w-jd-east"]["inputs"], areas["w-jd-west"]["inputs"], areas["w-pt"]["inputs"]
    assert east["on_time_rate"] is None and east["dissatisfied_charged"] == 1  # c2: the area's unit
    assert west["satisfaction_rate"] == 0.0 and west["dissatisfied_charged"] == 1  # c4 once, as lead and area
    assert park["industry"] is None and park["visits"] == 0  # nothing entered: unknown score, no visits
    # the lead unit's figures are the statistics' own (by lead unit, over the region)
    by_unit = {r["key"]: r for r in stats.compute_region(w.region, stats.month_period("2026-10"), "department").rows}
    for key in ("w-fgj", "w-rsj", "w-jd-west"):
        row = (deps | areas)[key]["inputs"]
        assert row["on_time_rate"] == by_unit[key]["on_time_rate"]
        assert row["overdue_open"] == by_unit[key]["overdue_open"]


EXPECTED_OCTOBER = {
    # on_time solved satisfaction relief visits cases late dissatisfied supervised first_contact (industry)
    "w-fgj": {"on_time": 10, "solved": 10, "satisfaction": 10, "relief": 12, "visits": 20, "cases": 0,
              "late": -1, "dissatisfied": -2, "supervised": -1, "first_contact": 0, "total": 58},
    "w-rsj": {"on_time": 5, "solved": 10, "satisfaction": 10, "relief": 9, "visits": 10, "cases": 10,
              "late": -1, "dissatisfied": 0, "supervised": -1, "first_contact": 0, "total": 52},
    "w-jd-east": {"industry": 8, "on_time": 10, "solved": 10, "satisfaction": 10, "relief": 10.5, "visits": 20,
                  "cases": 0, "late": 0, "dissatisfied": -2, "supervised": 0, "first_contact": 0, "total": 66.5},
    "w-jd-west": {"industry": 18, "on_time": 10, "solved": 10, "satisfaction": 0, "relief": 10.5, "visits": 20,
                  "cases": 0, "late": 0, "dissatisfied": -2, "supervised": 0, "first_contact": 0, "total": 66.5},
    "w-pt": {"industry": 0, "on_time": 10, "solved": 10, "satisfaction": 10, "relief": 0, "visits": 0,
             "cases": 0, "late": 0, "dissatisfied": 0, "supervised": 0, "first_contact": 0, "total": 30},
}


def test_every_indicator_score_total_rank_and_last_month(w, slip):
    table = ranking.compute(w.region, "2026-10")
    rows = rows_of(table, "departments") | rows_of(table, "areas")
    for key, expected in EXPECTED_OCTOBER.items():
        assert {code: rows[key][code] for code in expected} == expected, key
    assert "industry" not in rows["w-fgj"]  # the industrial indicator is the platforms' and streets' only
    # ranks: departments 发改局 1, 人社局 2; streets tie at 66.5 (both 1), the platform 3
    assert [(r["key"], r["rank"]) for r in next(g for g in table["groups"] if g["code"] == "departments")["rows"]] \
        == [("w-fgj", 1), ("w-rsj", 2)]
    assert [(r["key"], r["rank"]) for r in next(g for g in table["groups"] if g["code"] == "areas")["rows"]] \
        == [("w-jd-east", 1), ("w-jd-west", 1), ("w-pt", 3)]
    # September: 人社局 first (visits 10), 发改局 second; the three areas tie at 30 (first)
    assert (rows["w-fgj"]["last_rank"], rows["w-fgj"]["change"]) == (2, 1)
    assert (rows["w-rsj"]["last_rank"], rows["w-rsj"]["change"]) == (1, -1)
    assert (rows["w-pt"]["last_rank"], rows["w-pt"]["change"]) == (1, -2)


def test_a_dissatisfied_case_costs_the_lead_unit_and_the_street_the_same(w):
    table = ranking.compute(w.region, "2026-10")
    rows = rows_of(table, "departments") | rows_of(table, "areas")
    assert rows["w-fgj"]["dissatisfied"] == rows["w-jd-east"]["dissatisfied"] == -2
    # a second dissatisfied case of an east enterprise led by 人社局: 人社局 and 东街道 lose 2 more, 发改局 nothing
    extra = case(w, w.other_dept, w.ent_east, "2026-10-19T09:00", "2026-10-20T10:00", "2026-10-21T10:00", 1)
    assert extra.pk
    rows = rows_of(ranking.compute(w.region, "2026-10"), "departments") | rows_of(
        ranking.compute(w.region, "2026-10"), "areas")
    assert (rows["w-fgj"]["dissatisfied"], rows["w-rsj"]["dissatisfied"], rows["w-jd-east"]["dissatisfied"]) \
        == (-2, -2, -4)
    month = providers.Month(w.region, stats.month_period("2026-10"), datetime.datetime.now(TZ),
                            {d.pk: d for d in Department.objects.filter(region=w.region)})
    area = providers.collect(["dissatisfied_area"], month)["dissatisfied_area"]
    assert area == {w.street_east.pk: 2, w.street_west.pk: 1}  # c2 and the new one; c4


def test_the_area_of_a_jurisdiction(w):
    areas = providers.area_units(w.region)
    assert areas[w.east.pk] == w.street_east.pk  # same name
    assert areas[w.west.pk] == w.street_west.pk  # configured
    assert w.district.pk not in areas


def test_manual_inputs_are_checked_audited_and_frozen_by_publication(w):
    admin = w.users[Role.ADMIN]
    for args, message in [(("2026-13", "w-fgj", "visits", 1), "YYYY-MM"), (("2026-10", "w-fgj", "received", 1), None),
                          (("2026-10", "nope", "visits", 1), None), (("2026-10", "w-fgj", "visits", "many"), None),
                          (("2026-10", "w-fgj", "visits", "1e20"), None)]:
        with pytest.raises(InputError, match=message):
            ranking.enter(w.region, *args, admin)
    row = ranking.enter(w.region, "2026-10", "w-fgj", "visits", "12", admin)
    assert RankingInput.objects.get(pk=row.pk).value == 12
    assert AuditEntry.objects.filter(object_id=str(row.pk), action="update",
                                     content_type__model="rankinginput").exists()
    published = ranking.publish(w.region, "2026-10", admin)
    assert published.table["published"]["by"]
    with pytest.raises(InputError):
        ranking.enter(w.region, "2026-10", "w-fgj", "visits", "13", admin)
    with pytest.raises(InputError):
        ranking.publish(w.region, "2026-10", admin)
    with pytest.raises(InputError):
        ranking.publish(w.region, ranking.this_month(w.region), admin)  # not ended yet
    assert AuditEntry.objects.filter(content_type__model="rankingpublication", action="create").count() == 1
    # a later dissatisfied case changes the live figures, not the published table
    case(w, w.dept, w.ent_east, "2026-10-19T09:00", "2026-10-20T10:00", "2026-10-21T10:00", 1)
    assert rows_of(ranking.compute(w.region, "2026-10"), "departments")["w-fgj"]["dissatisfied"] == -4
    assert rows_of(ranking.table(w.region, "2026-10"), "departments")["w-fgj"]["dissatisfied"] == -2
    # November's last rank comes from the frozen October
    assert ranking.last_ranks(w.region, "2026-10")[("departments", "w-fgj")] == 1


def test_a_scheme_with_a_mistake_is_refused(w):
    w.region.config = {"ranking": {"indicators": [{"code": "x", "name": "x", "value": "nonsense_input",
                                                   "score": "value", "max": 1}]}}
    with pytest.raises(ranking.SchemeError, match="nonsense_input"):
        ranking.scheme(w.region)
    w.region.config = {"ranking": {"indicators": [{"code": "total", "name": "x", "value": "visits",
                                                   "score": "value", "max": 1}]}}
    with pytest.raises(ranking.SchemeError, match="reserved"):
        ranking.scheme(w.region)


def test_a_provider_registered_later_replaces_nothing_until_the_region_uses_it(w, monkeypatch):
    monkeypatch.setattr(providers, "_PROVIDERS", dict(providers._PROVIDERS))
    monkeypatch.setattr(providers, "LABELS", dict(providers.LABELS))

    @providers.register({"cases_published": "案例库发布案例数"})
    def published(month):
        return {"cases_published": {w.dept.pk: 3}}

    w.region.config = {"ranking": {"indicators": [{"code": "cases", "name": "典型案例报送", "value": "cases_published",
                                                   "score": "5 * value", "max": 15}]}}
    rows = rows_of(ranking.compute(w.region, "2026-10"), "departments")
    assert (rows["w-fgj"]["cases"], rows["w-rsj"]["cases"]) == (15, 0)


# --- the page, the downloads, the API, scopes -----------------------------------------------------------------

def test_page_xlsx_docx_and_api_agree(w, slip, client):
    from docx import Document
    from openpyxl import load_workbook

    client.force_login(w.users[Role.LEADER])
    page = client.get(reverse("ranking_page"), {"month": "2026-10"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-key="w-fgj"' in html and "58" in html and "ranking-chart-areas" in html
    api = client.get("/api/v1/stats/ranking", {"month": "2026-10"})
    assert api.status_code == 200
    body = api.json()
    assert body["month"] == "2026-10" and [g["code"] for g in body["groups"]] == ["departments", "areas"]
    first = body["groups"][0]["rows"][0]
    assert {k: first[k] for k in ("rank", "last_rank", "key", "total", "dissatisfied")} == {
        "rank": 1, "last_rank": 2, "key": "w-fgj", "total": 58, "dissatisfied": -2}
    for url in ("/api/v1/stats/ranking?month=2026-10&format=xlsx", reverse("ranking_page") + "?month=2026-10&format=xlsx"):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
        sheet = load_workbook(io.BytesIO(response.content)).active
        lines = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert lines[1][:7] == ["组别", "排名", "上月排名", "升降", "单位代码", "单位", "总分"]
        by_key = {line[4]: line for line in lines[2:]}
        assert by_key["w-fgj"][1:4] == [1, 2, "↑1"] and by_key["w-fgj"][6] == 58
        assert by_key["w-jd-west"][1] == 1 and by_key["w-jd-west"][6] == 66.5
    docx = client.get(reverse("ranking_page"), {"month": "2026-10", "format": "docx"})
    assert docx.status_code == 200
    document = Document(io.BytesIO(docx.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "晾晒通报" in text and "2026年10月" in text
    cells = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert cells[0][:3] == ["排名", "单位", "总分"] and cells[1][:3] == ["1", "发改局", "58"]


def test_scopes_and_bad_input(w, client):
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get(reverse("ranking_page")).status_code == 403
    assert client.get("/api/v1/stats/ranking", {"month": "2026-10"}).status_code == 403
    client.force_login(w.users[Role.LEADER])
    for bad in ("2026-13", "10-2026", "x"):
        assert client.get(reverse("ranking_page"), {"month": bad}).status_code == 400
        response = client.get("/api/v1/stats/ranking", {"month": bad})
        assert response.status_code == 400 and "YYYY-MM" in response.json()["detail"]
    assert client.get(reverse("ranking_page"), {"month": "2026-10", "format": "pdf"}).status_code == 400
    # a leader may not enter figures; a supervisor may
    assert client.post(reverse("ranking_input"), {"month": "2026-10", "unit": "w-fgj", "input": "visits",
                                                  "value": "3"}).status_code == 403
    client.force_login(w.users[Role.SUPERVISOR])
    response = client.post(reverse("ranking_input"), {"month": "2026-10", "unit": "w-fgj", "input": "visits",
                                                      "value": "3"})
    assert response.status_code == 302
    assert RankingInput.objects.get(region=w.region, month="2026-10", unit=w.dept, indicator="visits").value == 3
    response = client.post(reverse("ranking_input"), {"month": "2026-10", "unit": "w-fgj", "input": "visits",
                                                      "value": "很多"})
    assert response.status_code == 400 and "数值必须是数字" in response.content.decode()
    response = client.post(reverse("ranking_input"), {"month": "2026-13", "unit": "w-fgj", "input": "visits",
                                                      "value": "1"})
    assert response.status_code == 400
    # a handler sees only published months, the own unit highlighted
    client.force_login(w.users[Role.HANDLER])
    page = client.get(reverse("ranking_page"), {"month": "2026-10"})
    assert page.status_code == 200 and 'data-testid="ranking-unpublished"' in page.content.decode()
    assert client.get("/api/v1/stats/ranking", {"month": "2026-10"}).status_code == 404
    assert client.post(reverse("ranking_publish"), {"month": "2026-10"}).status_code == 403
    client.force_login(w.users[Role.SUPERVISOR])
    assert client.post(reverse("ranking_publish"), {"month": "2026-10"}).status_code == 302
    assert RankingPublication.objects.filter(region=w.region, month="2026-10").exists()
    assert client.post(reverse("ranking_publish"), {"month": "2026-10"}).status_code == 400  # once
    client.force_login(w.users[Role.HANDLER])
    html = client.get(reverse("ranking_page"), {"month": "2026-10"}).content.decode()
    assert 'data-key="w-fgj" class="table-warning fw-bold" data-mine="1"' in html
    assert client.get("/api/v1/stats/ranking", {"month": "2026-10"}).status_code == 200


def test_the_homes_show_the_card_and_the_nav_the_link(w, client):
    for role in (Role.LEADER, Role.SUPERVISOR):
        client.force_login(w.users[role])
        html = client.get(reverse("home")).content.decode()
        assert 'data-testid="home-ranking-slot"' in html and reverse("ranking_page") in html
        card = client.get(reverse("home_ranking")).content.decode()  # loaded after the page (HTMX)
        assert 'data-testid="home-ranking"' in card and reverse("ranking_page") in card
    client.force_login(w.users[Role.ENTERPRISE])
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-ranking' not in html and reverse("ranking_page") not in html
    assert client.get(reverse("home_ranking")).content.decode().strip() == ""
