"""Routing suggestions: a section and a lead unit learned from the region's past assignments, similar closed cases
(scoped to the caller), the API's shape and its refusals, and `qifu bench routing`."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.appeals import routing
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel, Resolution, Status
from qifu.org.models import Department, Section

from .world import World

pytestmark = pytest.mark.django_db

PAST = {
    # (section, lead): texts of past cases
    ("policy", "fgj"): [
        ("研发费用加计扣除申报", "去年研发投入较大，咨询研发费用加计扣除政策的申报口径和税收优惠。"),
        ("高新技术企业认定", "准备申报高新技术企业认定，咨询研发投入比例和申报材料。"),
        ("专精特新申报条件", "想申报省级专精特新中小企业，咨询政策条件和申报材料。"),
    ],
    ("talent", "rsj"): [
        ("招工难", "一线操作工缺口较大，希望对接劳务资源和招聘会。"),
        ("人才子女入学", "引进的博士人才希望子女就近入学，人才政策如何办理。"),
        ("员工社保转移", "新招聘员工社保关系转移办理时间较长。"),
    ],
    ("project", "zjj"): [
        ("厂房消防验收", "新建厂房即将竣工，想了解消防验收需要准备的材料和流程。"),
        ("施工许可办理", "厂房扩建项目施工许可审批进度较慢。"),
        ("园区道路积水", "园区门口道路雨天积水严重，厂房货车进出困难。"),
    ],
}


def make_world(code="rt"):
    ensure_default_channels()
    w = World(code)
    w.zjj = Department.objects.create(region=w.region, code=f"{code}-zjj", name="住建局")
    w.talent = Section.objects.create(region=w.region, code=f"{code}-talent", name="人才服务板块", kind="talent",
                                      node=w.center, lead_department=w.other_dept, description="人才引进、招聘用工、社保")
    w.project = Section.objects.create(region=w.region, code=f"{code}-project", name="项目服务板块", kind="project",
                                       node=w.center, lead_department=w.zjj, description="项目审批、施工许可、竣工验收")
    w.channel = Channel.objects.get(code="walk_in")
    w.n = 0
    return w


def past_case(w, title, description, section=None, lead=None, status=Status.CLOSED, enterprise=None):
    w.n += 1
    return Appeal.objects.create(
        region=w.region, number=f"{w.region.code}-{w.n:04d}", enterprise=enterprise or w.ent_east, channel=w.channel,
        title=title, description=description, received_at=timezone.now(), status=status,
        section=Section.objects.get(code=f"{w.region.code}-{section}") if section else None,
        lead_department=Department.objects.get(code=f"{w.region.code}-{lead}") if lead else None,
        resolution=Resolution.SOLVED if status == Status.CLOSED else "", version=3)


def fill(w):
    for (section, lead), texts in PAST.items():
        for title, description in texts:
            past_case(w, title, description, section, lead)


@pytest.fixture
def w():
    routing.clear_cache()
    w = make_world()
    fill(w)
    return w


def post(client, w, user, body):
    return client.post("/api/v1/appeals/suggest", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {w.token(user)}")


@pytest.mark.parametrize(("title", "description", "section", "lead"), [
    ("消防验收咨询", "厂房竣工后的消防验收流程是什么？", "project", "zjj"),
    ("招聘会对接", "企业缺少操作工，希望参加招聘会，对接劳务资源。", "talent", "rsj"),
    ("研发加计扣除", "研发费用加计扣除的申报口径。", "policy", "fgj"),
])
def test_a_new_text_about_the_same_thing_gets_the_right_section_and_unit(client, w, title, description, section,
                                                                          lead):
    r = post(client, w, w.users[Role.DISPATCHER], {"title": title, "description": description})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["section"]["code"] == f"rt-{section}"
    assert body["lead_department"]["code"] == f"rt-{lead}"
    assert body["similar"] and body["similar"][0]["lead_department"]["code"] == f"rt-{lead}"


def test_the_shape_exactly(client, w):
    r = post(client, w, w.users[Role.FRONT_DESK], {"title": "消防验收", "description": "厂房消防验收材料"})
    body = r.json()
    assert set(body) == {"section", "lead_department", "similar", "knowledge"}
    assert body["section"] == {"code": "rt-project", "name": "项目服务板块"}
    assert body["lead_department"] == {"code": "rt-zjj", "name": "住建局"}
    assert body["knowledge"] == []
    assert len(body["similar"]) <= 5
    first = body["similar"][0]
    assert {"number", "title", "lead_department", "resolution", "score"} <= set(first)
    assert first["title"] == "厂房消防验收"
    assert first["resolution"] == "solved"
    assert 0 < first["score"] <= 1
    scores = [s["score"] for s in body["similar"]]
    assert scores == sorted(scores, reverse=True)


def test_nothing_in_common_gives_nulls(client, w):
    body = post(client, w, w.users[Role.DISPATCHER], {"title": "", "description": "？？？"}).json()
    assert body == {"section": None, "lead_department": None, "similar": [], "knowledge": []}


def test_prior_text_alone_suggests_in_a_new_region(client):
    routing.clear_cache()
    w = make_world("nw")  # no past case at all: the sections' descriptions and units' names
    body = post(client, w, w.users[Role.DISPATCHER], {"title": "施工许可", "description": "扩建项目的施工许可"}).json()
    assert body["section"]["code"] == "nw-project"
    assert body["lead_department"]["code"] == "nw-zjj"
    assert body["similar"] == []


def test_similar_cases_are_scoped(client, w):
    text = {"title": "消防验收", "description": "厂房消防验收材料"}
    # another region's closed case with the very same text never shows
    other = make_world("ot")
    twin = past_case(other, "厂房消防验收", "新建厂房即将竣工，想了解消防验收需要准备的材料和流程。", "project", "zjj")
    # an open case is no similar case; a closed case of the west is invisible to the station of the east
    open_case = past_case(w, "厂房消防验收复查", "厂房消防验收材料补充", "project", "zjj", status=Status.ASSIGNED)
    west = past_case(w, "西厂房消防验收", "厂房消防验收材料和流程", "project", "zjj", enterprise=w.ent_west)
    numbers = {s["number"] for s in post(client, w, w.users[Role.DISPATCHER], text).json()["similar"]}
    assert twin.number not in numbers and open_case.number not in numbers
    assert west.number in numbers  # the center's dispatcher sees the whole region
    station = {s["number"] for s in post(client, w, w.station_user, text).json()["similar"]}
    assert west.number not in station  # the east station's front desk does not see the west's cases
    assert twin.number not in station
    handler = post(client, w, w.users[Role.HANDLER], text).json()["similar"]
    assert all(s["lead_department"]["code"] == "rt-fgj" for s in handler)  # only its own unit's cases


def test_enterprise_users_are_refused(client, w):
    r = post(client, w, w.users[Role.ENTERPRISE], {"title": "消防验收", "description": "厂房消防验收"})
    assert r.status_code == 403
    assert r.json()["detail"] == "只有工作人员可以获取分拨建议。"


@pytest.mark.parametrize("body", [
    {"title": "x" * 201, "description": "厂房"},
    {"title": "消防", "description": "x" * 20001},
    {"description": "厂房"},
    {"title": "消防"},
    {"title": 3, "description": []},
    {"title": "消防\x00", "description": "厂房"},
])
def test_bad_input_is_400(client, w, body):
    r = post(client, w, w.users[Role.DISPATCHER], body)
    assert r.status_code == 400, r.content
    assert r.json()["detail"]


def test_the_model_is_rebuilt_when_assignments_change(client, w):
    text = {"title": "污水纳管", "description": "排水量增加，需办理污水纳管手续。"}
    assert post(client, w, w.users[Role.DISPATCHER], text).json()["section"] is None
    for _ in range(2):
        past_case(w, "污水纳管", "排水量增加，需办理污水纳管手续。", "talent", "rsj")
    body = post(client, w, w.users[Role.DISPATCHER], text).json()
    assert body["section"]["code"] == "rt-talent" and body["lead_department"]["code"] == "rt-rsj"
    # a reassignment (same count, same highest id) moves the case's version: the model follows
    for a in Appeal.objects.filter(title="污水纳管"):
        a.lead_department = w.zjj
        a.version += 1
        a.save()
    assert post(client, w, w.users[Role.DISPATCHER], text).json()["lead_department"]["code"] == "rt-zjj"


def test_bench_routing_runs_on_a_small_data_set(w):
    for i in range(2):
        fill(w)
    out = io.StringIO()
    call_command("bench", "routing", "--region", "rt", stdout=out)
    text = out.getvalue()
    assert "region rt: trained on 22, tested on 5" in text
    assert "section: top-1" in text and "lead unit: top-1" in text and "suggestion latency" in text
    e = routing.evaluate(w.region.pk)
    assert e.section_top1 == 1.0 and e.lead_top1 == 1.0  # the same texts again: all found


# --- the registration page ---------------------------------------------------------------------------

def page_suggest(client, user, **fields):
    client.force_login(user)
    data = {"prefix": "problem-0", **{f"problem-0-{k}": v for k, v in fields.items()}}
    return client.post("/appeals/new/suggest/", data, HTTP_HX_REQUEST="true")


def test_the_intake_page_suggests_and_takes_a_section(client, w):
    client.force_login(w.users[Role.FRONT_DESK])
    page = client.get("/appeals/new/").content.decode()
    assert 'name="problem-0-section"' in page and 'hx-post="/appeals/new/suggest/"' in page
    r = page_suggest(client, w.users[Role.FRONT_DESK], title="消防验收", description="厂房竣工后消防验收的流程")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-fill-section="rt-project"' in html and "住建局" in html and "厂房消防验收" in html
    # the section chosen goes with the registration
    data = {
        "enterprise_q": w.ent_east.name, "enterprise_uscc": w.ent_east.uscc, "contact_name": "王经理",
        "contact_phone": "13800001234", "channel": "walk_in", "category": "", "intake_key": "k1",
        "problem-TOTAL_FORMS": "1", "problem-INITIAL_FORMS": "0", "problem-MIN_NUM_FORMS": "1",
        "problem-MAX_NUM_FORMS": "20", "problem-0-title": "消防验收", "problem-0-description": "厂房竣工后消防验收的流程",
        "problem-0-section": "rt-project",
    }
    assert client.post("/appeals/new/", data).status_code == 302
    appeal = Appeal.objects.get(title="消防验收")
    assert appeal.section == w.project and appeal.status == Status.ACCEPTED
    # another region's section is no choice
    other = make_world("ox")
    data.update({"intake_key": "k2", "problem-0-title": "另一个", "problem-0-section": f"{other.region.code}-project"})
    assert client.post("/appeals/new/", data).status_code == 200
    assert not Appeal.objects.filter(title="另一个").exists()


def test_the_page_suggestion_refuses_and_handles_bad_input(client, w):
    assert page_suggest(client, w.users[Role.HANDLER], title="消防").status_code == 403
    assert page_suggest(client, w.users[Role.ENTERPRISE], title="消防").status_code == 403
    assert page_suggest(client, w.users[Role.DISPATCHER], title="x" * 201).status_code == 400
    client.force_login(w.users[Role.DISPATCHER])
    assert client.post("/appeals/new/suggest/", {"prefix": "../x"}).status_code == 400
    assert client.get("/appeals/new/suggest/").status_code == 405
    empty = page_suggest(client, w.users[Role.DISPATCHER], title="", description="")
    assert empty.status_code == 200 and not empty.content.strip()
    nothing = page_suggest(client, w.users[Role.DISPATCHER], title="？？", description="")
    assert 'data-testid="no-suggestion"' in nothing.content.decode()
