"""Every list's Excel export (qifu/lib/exports.export_list): the workbook holds exactly the rows the page lists
with the same filters, under Chinese headings, values as users read them, scoped to the caller; a wrong date
range is a 400 for the export and a form error on the page; more than EXPORT_MAX rows are cut with a note."""

import datetime
import io
import re

import pytest
from openpyxl import load_workbook

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel
from qifu.enterprises.models import Tag
from qifu.lib import exports
from qifu.policies import applications, services
from qifu.policies.models import Application, Payout

from .test_policies import library, world  # noqa: F401 - the policy library's fixtures
from .world import World

pytestmark = pytest.mark.django_db

BAD_RANGE = "结束日期不能早于开始日期"


def workbook(response):
    """(heading, rows) of an export; the rows as lists."""
    assert response.status_code == 200, response.content.decode()[:500]
    assert response["Content-Type"] == exports.XLSX and "attachment" in response["Content-Disposition"]
    header, *rows = load_workbook(io.BytesIO(response.content)).active.values
    return list(header), [list(r) for r in rows]


def at(day: str, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00")


# --- appeals ---------------------------------------------------------------------------------------------

@pytest.fixture
def w():
    ensure_default_channels()
    w = World()
    desk, walk_in = w.users[Role.FRONT_DESK], Channel.objects.get(code="walk_in")

    def register(enterprise, title, day, hour=10):
        return workflow.register(actor=desk, enterprise=enterprise, channel=walk_in, title=title,
                                 description="需要哪些材料？", category="single", received_at=at(day, hour))[0]

    w.first = register(w.ent_east, "厂房消防验收咨询", "2026-11-02")
    w.late_evening = register(w.ent_east, "用地指标咨询", "2026-11-05", hour=23)  # 23:00 Shanghai is 15:00 UTC
    w.later = register(w.ent_east, "人才公寓申请", "2026-11-20")
    w.west = register(w.ent_west, "道路积水", "2026-11-03")
    dispatcher = w.users[Role.DISPATCHER]
    workflow.perform(w.first.pk, "assign", dispatcher, lead_department=w.dept.code)
    workflow.perform(w.west.pk, "assign", dispatcher, lead_department=w.other_dept.code)
    return w


def page_numbers(client, path: str) -> list[str]:
    page = client.get(path)
    assert page.status_code == 200
    return re.findall(r'data-testid="appeal-number">([^<]+)<', page.content.decode())


def test_the_appeals_export_is_the_page_s_filtered_list_with_the_dispatcher_s_columns(client, w):
    client.force_login(w.users[Role.DISPATCHER])
    query = "received_after=2026-11-02&received_before=2026-11-06"
    shown = page_numbers(client, f"/appeals/?{query}")
    header, rows = workbook(client.get(f"/appeals/?format=xlsx&{query}"))
    assert [r[0] for r in rows] == shown and len(shown) == 3  # the 20th is filtered out, the order kept
    assert w.later.number not in shown
    assert header == ["编号", "登记时间", "企业", "名称", "渠道", "类别", "板块", "牵头单位", "状态", "办理时限",
                      "办结时间", "销号时间", "是否超期", "协调层级", "满意度（星级）"]
    first = next(r for r in rows if r[0] == w.first.number)
    assert first[1] == datetime.datetime(2026, 11, 2, 10, 0)  # Shanghai wall clock, no zone
    assert first[2] == w.ent_east.name and first[7] == w.dept.name
    assert first[8] == str(Appeal.objects.get(pk=w.first.pk).get_status_display()) and first[8] != "assigned"
    assert first[12] == "是" and first[14] is None  # assigned on 2 November: past its deadline by now
    evening = next(r for r in rows if r[0] == w.late_evening.number)
    assert evening[1] == datetime.datetime(2026, 11, 5, 23, 0)

    # another filter: the lead unit
    query = f"lead_department={w.other_dept.code}"
    shown = page_numbers(client, f"/appeals/?{query}")
    _header, rows = workbook(client.get(f"/appeals/?{query}&format=xlsx"))
    assert [r[0] for r in rows] == shown == [w.west.number]


def test_the_page_offers_the_export_with_its_filters(client, w):
    client.force_login(w.users[Role.DISPATCHER])
    page = client.get("/appeals/?status=open&page=1").content.decode()
    button = re.search(r'href="([^"]+)"[^>]*data-testid="export-xlsx"', page).group(1).replace("&amp;", "&")
    assert "status=open" in button and "format=xlsx" in button and "page=" not in button


def test_an_enterprise_exports_only_its_own_appeals(client, w):
    client.force_login(w.users[Role.ENTERPRISE])
    _header, rows = workbook(client.get("/appeals/?format=xlsx"))
    assert sorted(r[0] for r in rows) == sorted([w.first.number, w.late_evening.number, w.later.number])
    assert all(r[2] == w.ent_east.name for r in rows)
    # even asking for the other enterprise's case by its number
    _header, rows = workbook(client.get(f"/appeals/?format=xlsx&q={w.west.number}"))
    assert rows == []
    client.force_login(w.west_user)
    _header, rows = workbook(client.get("/appeals/?format=xlsx"))
    assert [r[0] for r in rows] == [w.west.number]


def test_a_handler_exports_the_cases_of_their_unit(client, w):
    handler = w.users[Role.HANDLER]
    client.force_login(handler)
    _header, rows = workbook(client.get("/appeals/?format=xlsx"))
    numbers = {r[0] for r in rows}
    assert numbers == set(scopes.appeals(handler).values_list("number", flat=True))
    assert w.first.number in numbers and w.west.number not in numbers


def test_a_wrong_date_range_is_a_400_for_the_export_and_a_form_error_on_the_page(client, w):
    client.force_login(w.users[Role.DISPATCHER])
    query = "received_after=2026-11-20&received_before=2026-11-01"
    r = client.get(f"/appeals/?{query}&format=xlsx")
    assert r.status_code == 400 and BAD_RANGE in r.content.decode()
    page = client.get(f"/appeals/?{query}")
    assert page.status_code == 200 and BAD_RANGE in page.content.decode()
    assert 'data-testid="appeal-row"' not in page.content.decode()  # not the unfiltered list
    # a day out of any plausible range: the same, never a 500
    assert client.get("/appeals/?received_after=9999-12-31&format=xlsx").status_code == 400
    assert client.get("/appeals/?received_after=9999-12-31").status_code == 200


def test_more_rows_than_the_limit_are_cut_with_a_note(client, w, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_MAX", 2)
    client.force_login(w.users[Role.DISPATCHER])
    sheet = load_workbook(io.BytesIO(client.get("/appeals/?format=xlsx").content)).active
    note, header, *rows = sheet.values
    assert "2" in note[0] and "4" in note[0] and "缩小筛选范围" in note[0]
    assert header[0] == "编号" and len(rows) == 2


def test_the_abnormal_and_ladder_lists_keep_their_exports(client, w):
    client.force_login(w.users[Role.DISPATCHER])
    header, _rows = workbook(client.get("/appeals/escalated/?format=xlsx"))
    assert header[:3] == ["编号", "企业", "名称"]
    header, _rows = workbook(client.get("/supervision/abnormal/closed_overdue/?format=xlsx"))
    assert header[0] == "编号"


# --- enterprises and tags --------------------------------------------------------------------------------

def test_the_enterprise_list_filters_by_registration_date_and_exports(client, w):
    w.ent_east.registration_date = datetime.date(2020, 5, 1)
    w.ent_east.save()
    w.ent_west.registration_date = datetime.date(2023, 1, 1)
    w.ent_west.save()
    client.force_login(w.users[Role.LEADER])
    query = "date_from=2020-01-01&date_to=2020-12-31"
    page = client.get(f"/enterprises/?{query}").content.decode()
    assert w.ent_east.name in page and w.ent_west.name not in page
    header, rows = workbook(client.get(f"/enterprises/?{query}&format=xlsx"))
    assert header == ["名称", "信用代码", "辖区", "行业", "企业规模", "成立日期", "注册地址"]
    assert [r[0] for r in rows] == [w.ent_east.name]
    assert rows[0][header.index("成立日期")] == datetime.datetime(2020, 5, 1)  # a date cell, shown YYYY-MM-DD
    # the last day is inclusive
    _header, rows = workbook(client.get("/enterprises/?date_from=2023-01-01&date_to=2023-01-01&format=xlsx"))
    assert [r[0] for r in rows] == [w.ent_west.name]
    r = client.get("/enterprises/?date_from=2024-01-01&date_to=2023-01-01&format=xlsx")
    assert r.status_code == 400 and BAD_RANGE in r.content.decode()
    assert BAD_RANGE in client.get("/enterprises/?date_from=2024-01-01&date_to=2023-01-01").content.decode()


def test_the_enterprise_export_is_scoped(client, w):
    supervisor = w.users[Role.SUPERVISOR]  # the west street only
    client.force_login(supervisor)
    _header, rows = workbook(client.get("/enterprises/?format=xlsx"))
    assert [r[0] for r in rows] == list(scopes.enterprises(supervisor).order_by("name").values_list("name", flat=True))
    assert w.ent_east.name not in [r[0] for r in rows]
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get("/enterprises/?format=xlsx").status_code == 302  # to its own page, never the list


def test_the_tag_library_and_a_tag_s_enterprises_export(client, w):
    tag = Tag.objects.create(name="专精特新", kind=Tag.Kind.MANUAL)
    w.ent_east.tags.add(tag)
    w.ent_west.tags.add(tag)
    client.force_login(w.users[Role.SUPERVISOR])
    header, rows = workbook(client.get("/tags/?format=xlsx"))
    assert header == ["标签", "类型", "说明", "企业数"]
    assert rows == [["专精特新", "手工", None, 1]]  # counted in the supervisor's street; an empty cell is None
    header, rows = workbook(client.get(f"/tags/{tag.pk}/?format=xlsx"))
    assert [r[0] for r in rows] == [w.ent_west.name]  # the supervisor's street only


# --- policies: candidates, payouts, applications ---------------------------------------------------------

def test_the_candidates_of_a_no_application_clause_export(client, world, library):  # noqa: F811
    clause = library["W-RD-1"]
    client.force_login(world.users[Role.HANDLER])
    page = client.get(f"/policies/clauses/{clause.pk}/confirm/").content.decode()
    assert page.count('data-testid="candidate"') == 1 and 'data-testid="export-xlsx"' in page
    header, rows = workbook(client.get(f"/policies/clauses/{clause.pk}/confirm/?format=xlsx"))
    assert header == ["企业", "统一社会信用代码", "辖区", "金额（元）"]
    assert rows == [[world.ent_east.name, world.ent_east.uscc, world.ent_east.jurisdiction.name, 200000]]
    client.force_login(world.users[Role.FRONT_DESK])
    assert client.get(f"/policies/clauses/{clause.pk}/confirm/?format=xlsx").status_code == 403
    client.force_login(world.users[Role.ENTERPRISE])
    assert client.get(f"/policies/clauses/{clause.pk}/confirm/?format=xlsx").status_code == 403


@pytest.fixture
def granted(world, library):  # noqa: F811
    """A payout for each enterprise of W-RD-2 (applied for, approved), approved on different days."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    clause = library["W-RD-2"]
    admin = world.users[Role.ADMIN]
    for enterprise, user, day in ((world.ent_east, world.users[Role.ENTERPRISE], "2026-11-02"),
                                  (world.ent_west, world.west_user, "2026-11-10")):
        application = applications.submit(clause, enterprise, user, {
            name: SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.4 demo") for i, name in enumerate(clause.materials)})
        applications.perform(application, "start_review", admin, application.version)
        applications.perform(application, "approve", admin, application.version + 1, amount="50000")
        Application.objects.filter(pk=application.pk).update(submitted_at=at(day, 23))
        Payout.objects.filter(application=application).update(approved_at=at(day, 23))
    return clause


def test_payouts_filter_by_approval_day_and_export(client, world, granted):  # noqa: F811
    client.force_login(world.users[Role.ADMIN])
    query = "date_from=2026-11-01&date_to=2026-11-02"  # 23:00 on the 2nd, Shanghai: still the 2nd
    page = client.get(f"/policies/payouts/?{query}").content.decode()
    assert page.count('data-testid="payout"') == 1 and world.ent_east.name in page
    header, rows = workbook(client.get(f"/policies/payouts/?{query}&format=xlsx"))
    assert header[:5] == ["企业", "统一社会信用代码", "政策", "条款", "状态"]
    assert [r[0] for r in rows] == [world.ent_east.name]
    assert rows[0][header.index("核定时间")] == datetime.datetime(2026, 11, 2, 23, 0)
    assert rows[0][4] == "已批准" and rows[0][5] == 50000
    _header, rows = workbook(client.get("/policies/payouts/?format=xlsx&status=approved"))
    assert len(rows) == 2
    r = client.get("/policies/payouts/?date_from=2026-11-10&date_to=2026-11-01&format=xlsx")
    assert r.status_code == 400 and BAD_RANGE in r.content.decode()
    assert client.get("/policies/payouts/?clause=abc").status_code == 200  # a wrong id: an empty list, no 500
    # an enterprise: its own payouts only
    client.force_login(world.users[Role.ENTERPRISE])
    _header, rows = workbook(client.get("/policies/payouts/?format=xlsx"))
    assert [r[0] for r in rows] == [world.ent_east.name]


def test_applications_filter_by_submission_day_and_export(client, world, granted):  # noqa: F811
    client.force_login(world.users[Role.ADMIN])
    query = "date_from=2026-11-10&date_to=2026-11-10"
    page = client.get(f"/policies/applications/?{query}").content.decode()
    assert page.count('data-testid="application-card"') == 1
    header, rows = workbook(client.get(f"/policies/applications/?{query}&format=xlsx"))
    assert header[:6] == ["企业", "统一社会信用代码", "政策", "条款", "状态", "提交时间"]
    assert [r[0] for r in rows] == [world.ent_west.name]
    r = client.get("/policies/applications/?date_from=2026-11-10&date_to=2026-11-09&format=xlsx")
    assert r.status_code == 400
    client.force_login(world.west_user)
    _header, rows = workbook(client.get("/policies/applications/?format=xlsx"))
    assert [r[0] for r in rows] == [world.ent_west.name]


def test_the_policy_library_exports(client, world, library):  # noqa: F811
    client.force_login(world.users[Role.ADMIN])
    page = client.get("/policies/?level=district").content.decode()
    header, rows = workbook(client.get("/policies/?level=district&format=xlsx"))
    assert header[:2] == ["代码", "名称"]
    assert len(rows) == page.count('data-testid="policy-card"') and "W-RD" in [r[0] for r in rows]
    assert services  # the library fixture published them


# --- revisits and meetings -------------------------------------------------------------------------------

def test_revisits_filter_by_due_day_and_the_appeals_export_shows_the_rating(client, w):
    from qifu.appeals.models import Revisit

    from .test_revisits import closed_case

    early, late = closed_case(w, category="whistle", rating=4), closed_case(w, category="whistle", rating=5)
    Revisit.objects.filter(appeal=early).update(due_at=at("2026-11-20", 23))
    Revisit.objects.filter(appeal=late).update(due_at=at("2026-11-21", 9))
    client.force_login(w.users[Role.DISPATCHER])
    query = "date_from=2026-11-20&date_to=2026-11-20"
    page = client.get(f"/appeals/revisits/?{query}").content.decode()
    assert page.count('data-testid="revisit-row"') == 1 and early.number in page and late.number not in page
    header, rows = workbook(client.get(f"/appeals/revisits/?{query}&format=xlsx"))
    assert header[:3] == ["编号", "企业", "名称"] and [r[0] for r in rows] == [early.number]
    assert rows[0][header.index("回访期限")] == datetime.datetime(2026, 11, 20, 23, 0)
    r = client.get("/appeals/revisits/?date_from=2026-11-21&date_to=2026-11-20&format=xlsx")
    assert r.status_code == 400 and BAD_RANGE in r.content.decode()

    header, rows = workbook(client.get(f"/appeals/?format=xlsx&q={late.number}"))
    assert [r[-1] for r in rows] == [5]  # the stars of its rating


def test_meetings_filter_by_day_and_export(client, w):
    from qifu.appeals.models import Meeting
    from qifu.org.models import Body, BodyMembership

    body = Body.objects.create(region=w.region, code="w-zlh", name="企业服务问题协调周例会",
                               kind="coordination_meeting", escalation_level=3)
    leader = w.users[Role.LEADER]
    BodyMembership.objects.create(body=body, user=leader, role="chair")
    Meeting.objects.create(body=body, held_on=datetime.date(2026, 11, 4), title="第45周例会")
    Meeting.objects.create(body=body, held_on=datetime.date(2026, 11, 11), title="第46周例会")
    client.force_login(leader)
    query = "date_from=2026-11-10&date_to=2026-11-11"
    page = client.get(f"/meetings/?{query}").content.decode()
    assert "第46周例会" in page and "第45周例会" not in page
    header, rows = workbook(client.get(f"/meetings/?{query}&format=xlsx"))
    assert header == ["召开机构", "日期", "名称", "议题件数", "会议纪要"]
    assert rows == [["企业服务问题协调周例会", datetime.datetime(2026, 11, 11), "第46周例会", 0, None]]
    r = client.get("/meetings/?date_from=2026-11-12&date_to=2026-11-11&format=xlsx")
    assert r.status_code == 400 and BAD_RANGE in r.content.decode()
    client.force_login(w.users[Role.DISPATCHER])  # no body of the ladder: nothing to export
    _header, rows = workbook(client.get("/meetings/?format=xlsx"))
    assert rows == []
