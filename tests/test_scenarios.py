"""一类事 scenarios and agency cases (issue 12 items 1–2): the preset loader, the case API with its scoping, the
items' deadlines in working days, the items' timer, and the personalised checklist."""

import datetime
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qifu.accounts.models import Role
from qifu.audit.models import AuditEntry
from qifu.catalog.models import ServiceGuide, ServiceItem
from qifu.notify.models import Notification
from qifu.org.models import Department
from qifu.scenarios import cases, presets
from qifu.scenarios.models import AgencyCase, CaseItem, Scenario, ScenarioItem
from qifu.supervision import timers

from .world import World

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).with_name("scenarios_sample.yaml")
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def world(code):
    w = World(code)
    w.approvals = Department.objects.create(region=w.region, code=f"{code}-xzsp", name="区行政审批局",
                                            short_name="行政审批局")
    w.market = Department.objects.create(region=w.region, code=f"{code}-scjg", name="区市场监管局")
    w.seal = ServiceItem.objects.create(region=w.region, code=f"{code}-seal", name="公章刻制备案",
                                        provider_side="government")
    ServiceGuide.objects.create(item=w.seal, time_limit="2个工作日", time_limit_days=2)
    w.counts = presets.load(SAMPLE, region_code=w.region.code)
    w.industrial = Scenario.objects.get(region=w.region, code="industrial-project-start")
    return w


def api(client, w, role_or_user, method, path, **kwargs):
    user = w.users[role_or_user] if isinstance(role_or_user, str) else role_or_user
    headers = {"HTTP_AUTHORIZATION": f"Bearer {w.token(user)}"}
    headers.update(kwargs.pop("headers", {}))
    call = getattr(client, method)
    if method == "post":
        return call(path, kwargs.pop("json", {}), content_type="application/json", **headers)
    return call(path, **headers)


def test_the_loader_counts_links_units_and_catalog_items_and_a_second_load_writes_nothing():
    w = world("sl")
    assert w.counts == {"scenarios": 2, "items": 12, "written": 14}
    industrial = w.industrial
    assert industrial.origin == "lifecycle" and industrial.stages == ["项目前期", "审批办理", "开工准备"]
    assert industrial.reform_measures[0] == "实行产业项目方案联审联批制度。" and industrial.annex == 6
    items = list(industrial.items.order_by("order"))
    assert [i.kind for i in items].count("basic") == 5 and [i.kind for i in items].count("value_added") == 4
    guide = items[5]
    assert guide.units_text == ["区行政审批局", "市规划资源局钱塘分局"]
    assert list(guide.units.all()) == [w.approvals]  # only the region's departments are linked
    bio = Scenario.objects.get(code="biomedicine-start")
    assert bio.origin == "chain_node" and bio.chain_node == "开办"
    assert ScenarioItem.objects.get(scenario=bio, name="公章刻制备案").service_item == w.seal
    entries = AuditEntry.objects.count()
    assert presets.load(SAMPLE, region_code=w.region.code)["written"] == 0
    assert AuditEntry.objects.count() == entries
    assert presets.exists("nonexistent") is False
    with pytest.raises(ValueError, match="origin"):
        bad = SAMPLE.parent / "scenarios_bad.yaml"
        try:
            bad.write_text(SAMPLE.read_text(encoding="utf-8").replace("origin: chain_node", "origin: chain"),
                           encoding="utf-8")
            presets.read(bad)
        finally:
            bad.unlink()


def test_starting_a_case_through_the_api_answers_201_400_403_404_and_each_sees_only_its_own(client):
    w = world("sa")
    listed = api(client, w, Role.ENTERPRISE, "get", "/api/v1/scenarios").json()
    row = next(r for r in listed["items"] if r["code"] == "industrial-project-start")
    assert (row["items"], row["basic_items"], row["value_added_items"]) == (9, 5, 4)
    assert row["origin"] == "lifecycle" and row["lifecycle_stage"] == "business_location"
    path = "/api/v1/scenarios/industrial-project-start/cases"
    own = {"enterprise_uscc": w.ent_east.uscc}
    answer = api(client, w, Role.ENTERPRISE, "post", path, json=own, headers={"HTTP_IDEMPOTENCY_KEY": "k-1"})
    assert answer.status_code == 201, answer.content
    case = answer.json()
    assert case["status"] == "open" and case["agent"]["username"] == w.users[Role.FRONT_DESK].username
    assert len(case["items"]) == 9 and case["current_stage"] == "项目前期"
    assert {i["status"] for i in case["items"]} == {"pending"}
    assert next(i for i in case["items"] if i["name"] == "建设工程消防设计审查")["time_limit_days"] == 3
    again = api(client, w, Role.ENTERPRISE, "post", path, json=own, headers={"HTTP_IDEMPOTENCY_KEY": "k-1"})
    assert again.status_code == 201 and again.json()["id"] == case["id"] and AgencyCase.objects.count() == 1
    other = {"enterprise_uscc": w.ent_west.uscc}
    assert api(client, w, Role.ENTERPRISE, "post", path, json=other).status_code == 403
    bad = api(client, w, Role.ENTERPRISE, "post", path, json={"enterprise_uscc": "12345"})
    assert bad.status_code == 400 and "enterprise_uscc" in bad.json()["detail"]
    assert api(client, w, Role.ENTERPRISE, "post", "/api/v1/scenarios/no-such/cases", json=own).status_code == 404
    assert api(client, w, Role.HANDLER, "post", path, json=other).status_code == 403  # a handler starts none
    by_desk = api(client, w, Role.FRONT_DESK, "post", path, json=other)
    assert by_desk.status_code == 201 and by_desk.json()["enterprise_uscc"] == w.ent_west.uscc
    # scoping: the enterprise sees its own case only, the other enterprise not it; staff of the region both
    assert api(client, w, Role.ENTERPRISE, "get", f"/api/v1/agency-cases/{case['id']}").status_code == 200
    assert api(client, w, w.west_user, "get", f"/api/v1/agency-cases/{case['id']}").status_code == 404
    assert api(client, w, Role.ENTERPRISE, "get", f"/api/v1/agency-cases/{by_desk.json()['id']}").status_code == 404
    assert api(client, w, Role.SPECIALIST, "get", f"/api/v1/agency-cases/{case['id']}").status_code == 200
    assert api(client, w, Role.HANDLER, "get", f"/api/v1/agency-cases/{case['id']}").status_code == 404
    client.force_login(w.west_user)
    assert client.get(f"/agency-cases/{case['id']}/").status_code == 404
    assert client.get("/agency-cases/").context["page"].paginator.count == 1
    client.force_login(w.users[Role.FRONT_DESK])  # the front desk starts one on the scenario's page for an enterprise
    assert client.post("/scenarios/biomedicine-start/start/", {"enterprise_uscc": "12345"}).status_code == 302
    assert AgencyCase.objects.count() == 2
    answer = client.post("/scenarios/biomedicine-start/start/", {"enterprise_uscc": w.ent_west.uscc})
    started = AgencyCase.objects.latest("pk")
    assert answer["Location"] == started.get_absolute_url() and started.scenario.code == "biomedicine-start"


def test_an_items_deadline_counts_working_days_over_the_national_day_holiday():
    w = world("sd")
    opened = datetime.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)  # Wednesday; 1–7 October are holidays
    with mock.patch("django.utils.timezone.now", return_value=opened):
        case = cases.start(w.industrial, w.ent_east, by=w.users[Role.ENTERPRISE])
    fire = case.items.get(name="建设工程消防设计审查")
    # 3 working days: 8, 9 and 10 October (a Saturday made a working day, 调休), to the end of that day
    assert fire.limit_source == "item" and fire.due_at == datetime.datetime(2026, 10, 10, 23, 59, 59, tzinfo=SHANGHAI)
    other = case.items.get(name="图审提前服务")  # no limit of its own, no catalog guide: the region's rule (5)
    assert other.limit_source == "rule" and other.time_limit_days == 5
    assert other.due_at.astimezone(SHANGHAI).date() == datetime.date(2026, 10, 13)  # 8, 9, 10, 12, 13
    bio = cases.start(Scenario.objects.get(code="biomedicine-start"), w.ent_east, by=w.users[Role.ENTERPRISE])
    seal = bio.items.get(name="公章刻制备案")
    assert seal.limit_source == "guide" and seal.time_limit_days == 2 and seal.service_item == w.seal
    # the front desk turns a visit into a case with only some of the scenario's items
    some = cases.start(w.industrial, w.ent_west, by=w.users[Role.FRONT_DESK], items=list(w.industrial.items.all()[:2]))
    assert [i.order for i in some.items.all()] == [1, 2] and some.agent == w.users[Role.FRONT_DESK]


def test_an_open_items_timer_warns_then_marks_it_overdue_once_and_a_done_item_is_not_chased():
    w = world("st")
    with mock.patch("django.utils.timezone.now", return_value=datetime.datetime(2026, 11, 16, 10, tzinfo=SHANGHAI)):
        case = cases.start(w.industrial, w.ent_east, by=w.users[Role.ENTERPRISE])  # a Monday: due Thursday 19th
    agent = w.users[Role.FRONT_DESK]
    late = case.items.get(name="建设工程消防设计审查")
    finished = case.items.get(name="图审提前服务")
    cases.set_status(finished, "done", by=agent)
    only = ("scenarios.case_item", [late.pk, finished.pk])
    warned_at = datetime.datetime.combine(late.due_at.astimezone(SHANGHAI).date() - datetime.timedelta(days=1),
                                          datetime.time(9, 0), tzinfo=SHANGHAI)  # a working day before, 09:00
    assert len(timers.sweep(warned_at - datetime.timedelta(minutes=1), only=only).fired) == 0
    assert len(timers.sweep(warned_at + datetime.timedelta(minutes=1), only=only).fired) == 1  # the warning
    assert Notification.objects.filter(recipient=agent, event="scenarios.case_item_warning").count() == 1
    report = timers.sweep(late.due_at + datetime.timedelta(minutes=1), only=only)
    assert len(report.fired) == 1  # the overdue of the open item; the done one has no timer
    late.refresh_from_db()
    assert late.overdue_at == late.due_at and late.warned_at == warned_at and late.is_overdue
    assert Notification.objects.filter(recipient=agent, event="scenarios.case_item_overdue").count() == 1
    assert AuditEntry.objects.filter(action="overdue", object_id=str(late.pk)).count() == 1
    assert timers.sweep(late.due_at + datetime.timedelta(days=3), only=only).fired == []  # once
    assert Notification.objects.filter(recipient=agent, event="scenarios.case_item_overdue").count() == 1


def test_an_agent_drops_and_adds_items_reassigns_and_the_enterprise_uploads_a_document(client):
    w = world("sp")
    case = cases.start(w.industrial, w.ent_east, by=w.users[Role.ENTERPRISE])
    agent, owner = w.users[Role.FRONT_DESK], w.users[Role.ENTERPRISE]
    first = case.items.get(order=1)
    with pytest.raises(cases.TransitionError):
        cases.drop(first, "", by=agent)  # a reason is required
    with pytest.raises(cases.NotAllowed):
        cases.drop(first, "不需要", by=owner)  # the enterprise follows; the agent works the checklist
    cases.drop(first, "项目已完成备案", by=agent)
    added = cases.add(case, "项目现场踏勘", "项目前期", by=agent, days=2)
    assert added.added and added.order == 10 and added.time_limit_days == 2 and added.limit_source == "item"
    assert AuditEntry.objects.filter(object_id=str(first.pk), note="agency item dropped").exists()
    client.force_login(agent)
    page = client.get(case.get_absolute_url())
    flow = page.context["flow"]
    assert [s["name"] for s in flow] == ["项目前期", "审批办理", "开工准备"] and flow[0]["current"]
    for item in case.items.filter(stage="项目前期").exclude(status="dropped"):
        assert client.post(f"/agency-cases/{case.pk}/items/{item.pk}/", {"action": "done"}).status_code == 302
    assert cases.current_stage(case) == "审批办理"
    client.force_login(owner)
    upload = SimpleUploadedFile("方案.pdf", b"%PDF-1.4 demo", content_type="application/pdf")
    client.post(f"/agency-cases/{case.pk}/items/{added.pk}/documents/", {"file": upload})
    assert added.documents.get().name == "方案.pdf"
    evil = SimpleUploadedFile("x.pdf", b"<html><script>", content_type="application/pdf")
    client.post(f"/agency-cases/{case.pk}/items/{added.pk}/documents/", {"file": evil})
    assert added.documents.count() == 1  # the one upload check refuses it
    assert client.get("/").context is not None and "home-agency-cases" in client.get("/").content.decode()
    specialist = w.users[Role.SPECIALIST]
    cases.reassign(case, specialist, by=agent)
    case.refresh_from_db()
    assert case.agent == specialist and AuditEntry.objects.filter(note="agency case reassigned").count() == 1
    with pytest.raises(cases.TransitionError):
        cases.reassign(case, w.users[Role.HANDLER], by=agent)
    remaining = CaseItem.objects.filter(case=case, status__in=["pending", "in_progress"])
    for item in remaining:
        cases.set_status(item, "done", by=specialist)
    case.refresh_from_db()
    assert case.status == "done" and case.closed_at is not None
