"""The front desk (issue 12 items 3 and 5): first-contact ownership with handover and flag, the one-time notice listing
every ticked material, the receipt's tracking number looked up with the right phone digits only, 容缺受理's due date
and timer, the outcome set once, and the station response timers at 10 and 30 minutes (explicit `now`, no sleeping)."""

import datetime
import io

import pytest
from django.utils import timezone

from qifu.accounts.models import Role, User
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal
from qifu.audit.models import AuditEntry
from qifu.catalog.models import GuideMaterial, ServiceGuide, ServiceItem
from qifu.frontdesk import breaches, visits
from qifu.frontdesk.models import DeskVisit
from qifu.notify.models import Notification, OutboxMessage
from qifu.supervision import timers
from qifu.supervision.models import Timer

from .world import World

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))  # a Monday


def minutes(n):
    return T0 + datetime.timedelta(minutes=n)


def only(visit):
    return ("frontdesk.deskvisit", [visit.pk])


@pytest.fixture
def w():
    ensure_default_channels()
    w = World("fd")
    w.desk = w.users[Role.FRONT_DESK]
    w.item = ServiceItem.objects.create(region=w.region, code="fd-item", name="食品经营许可", provider_side="government",
                                        section=w.section)
    guide = ServiceGuide.objects.create(item=w.item, time_limit="5个工作日", time_limit_days=5)
    w.materials = [GuideMaterial.objects.create(guide=guide, name=name, requirements=req, copies=copies, source=src,
                                                sort_order=i)
                   for i, (name, req, copies, src) in enumerate([
                       ("营业执照", "复印件加盖公章", 1, "申请人自备"), ("经营场所证明", "原件", 1, "申请人自备"),
                       ("食品安全管理制度", "", 2, "申请人自备")])]
    return w


def visit_at(w, node=None, by=None, **extra):
    return visits.register(by=by or w.desk, node=node or w.center, visitor_name="王先生", visitor_phone="138 0000 1234",
                           need="咨询食品经营许可", enterprise=w.ent_east, item=w.item, now=extra.pop("now", T0), **extra)


def test_owner_until_handover_and_a_visit_left_open_is_flagged(w, client):
    with pytest.raises(visits.DeskError, match="手机"):
        visits.register(by=w.desk, node=w.center, visitor_name="王", visitor_phone="12345", need="x")
    visit = visit_at(w)
    assert visit.owner == w.desk and visit.visitor_phone == "13800001234"
    assert visit.open_due_at == T0 + datetime.timedelta(hours=24)  # desk_visit_open_hours
    other = w.users[Role.SPECIALIST]
    with pytest.raises(visits.DeskError):  # someone else may not hand it over
        visits.handover(visit, w.desk, by=other, note="x")
    with pytest.raises(visits.DeskError):  # a handover needs a note
        visits.handover(visit, other, by=w.desk, note=" ")
    visits.handover(visit, other, by=w.desk, note="涉及人才政策，转服务专员", now=minutes(5))
    visit.refresh_from_db()
    assert visit.owner == other and visit.handovers.get().from_user == w.desk
    assert AuditEntry.objects.filter(action="transition", note="handed over", object_id=str(visit.pk)).exists()
    assert Notification.objects.filter(recipient=other, event="frontdesk.handover").exists()

    timers.sweep(minutes(60), only=only(visit))
    assert not DeskVisit.objects.get(pk=visit.pk).flagged_at
    report = timers.sweep(T0 + datetime.timedelta(hours=25), only=only(visit))
    visit.refresh_from_db()
    assert visit.flagged_at == visit.open_due_at and visit.flagged_owner == other and report.fired
    assert Notification.objects.filter(recipient=other, event="frontdesk.open_due").exists()
    other.department = w.dept
    other.save()
    assert breaches.count(w.region, 2026, 12) == {w.dept.pk: 1}
    from qifu.assessments import providers
    from qifu.assessments.ranking import month_period

    month = providers.Month(w.region, month_period(w.region, "2026-12"), T0)
    assert providers.collect(["first_contact_breaches"], month)["first_contact_breaches"] == {w.dept.pk: 1}

    client.force_login(w.desk)
    listed = client.get("/frontdesk/flagged/")
    assert listed.status_code == 200 and listed.context["page"].paginator.count == 1
    assert client.get("/").context["desk_flagged"] == 1
    assert client.get("/frontdesk/?date_from=2026-12-07&date_to=2026-12-07").context["page"].paginator.count == 1
    xlsx = client.get("/frontdesk/?format=xlsx&date_from=2026-12-07&date_to=2026-12-07")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    # an owner who leaves: the visit is flagged at once (no owner)
    fresh = visit_at(w, now=minutes(1))
    User.objects.filter(pk=w.desk.pk).update(is_active=False)
    assert visits.flagged(DeskVisit.objects.all()).filter(pk=fresh.pk).exists()


def test_one_time_notice_lists_every_ticked_material(w, client):
    from docx import Document

    visit = visit_at(w)
    client.force_login(w.desk)
    ticked = [w.materials[0].pk, w.materials[2].pk]
    response = client.post(f"/frontdesk/{visit.pk}/notice/", {"material": ticked, "other": "委托书"})
    notice = visit.notices.get()
    assert response.status_code == 302 and response["Location"].endswith(f"?issued={notice.pk}")
    download = client.get(f"/frontdesk/documents/{notice.pk}/")
    assert download.status_code == 200 and "一次性告知书" in download["Content-Disposition"].encode().decode("latin-1") \
        or "%E4%B8%80" in download["Content-Disposition"]
    doc = Document(io.BytesIO(download.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    rows = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert [r[1] for r in rows[1:]] == ["营业执照", "食品安全管理制度", "委托书"]
    assert rows[1][2] == "复印件加盖公章" and rows[2][3] == "2" and rows[1][4] == "申请人自备"
    assert "食品经营许可" in text and "尚缺以下 3 项" in text and "示范中心" in text and "2026年12月7日" in text
    assert AuditEntry.objects.filter(action="download", object_id=str(notice.pk)).exists()
    # a material of another guide is refused with a message (400), nothing issued
    refused = client.post(f"/frontdesk/{visit.pk}/notice/", {"material": [999999]})
    assert refused.status_code == 400 and visit.notices.count() == 1


def test_receipt_number_is_looked_up_with_the_right_phone_digits_only(w, client, settings):
    settings.QIFU_NOTIFY_ADAPTERS = {}
    visit = visit_at(w)
    visits.receive(visit, by=w.desk, now=T0)
    visit.refresh_from_db()
    assert visit.tracking_number == "FD-SJ-20261207-0001"
    second = visit_at(w)
    visits.receive(second, by=w.desk, now=T0)
    second.refresh_from_db()
    assert second.tracking_number == "FD-SJ-20261207-0002"
    with pytest.raises(visits.DeskError):
        visits.receive(visit, by=w.desk)
    assert visits.lookup(visit.tracking_number.lower(), "1234") == visit
    assert visits.lookup(visit.tracking_number, "1235") is None
    assert visits.lookup(visit.tracking_number, "12") is None
    from django.core.cache import cache

    cache.clear()
    found = client.post("/track/", {"number": visit.tracking_number, "phone4": "1234"})
    assert found.status_code == 200 and "已收件" in found.content.decode() and "王先生" not in found.content.decode()
    assert client.post("/track/", {"number": visit.tracking_number, "phone4": "0000"}).status_code == 404
    for _ in range(8):
        client.post("/track/", {"number": "FD-SJ-20261207-0003", "phone4": "1234"})
    assert client.post("/track/", {"number": visit.tracking_number, "phone4": "1234"}).status_code == 429
    cache.clear()
    visits.send_receipt_sms(visit, by=w.desk)
    sms = OutboxMessage.objects.get(channel="sms")
    assert sms.address == "13800001234" and visit.tracking_number in sms.body


def test_deferred_materials_due_on_a_future_working_day_and_chased(w):
    visit = visit_at(w)
    for bad in (datetime.date(2026, 12, 7), datetime.date(2026, 12, 1), datetime.date(2026, 12, 12)):  # today, past, Sat
        with pytest.raises(visits.DeskError):
            visits.receive(visit, by=w.desk, deferred=["场地租赁合同"], due_on=bad, now=T0)
    visits.receive(visit, by=w.desk, deferred=["场地租赁合同", "健康证明"], due_on=datetime.date(2026, 12, 10), now=T0)
    visit.refresh_from_db()
    assert visit.deferred_due_on == datetime.date(2026, 12, 10) and visit.deferred.count() == 2
    receipt = visit.notices.get(kind="receipt")
    assert receipt.content["deferred"] == ["场地租赁合同", "健康证明"]
    timers.sweep(T0 + datetime.timedelta(days=3, hours=5), only=only(visit))
    visit.refresh_from_db()
    assert visit.deferred_overdue_at is None
    first = visit.deferred.first()
    visits.receive_deferred(first, by=w.desk)
    timers.sweep(T0 + datetime.timedelta(days=4), only=only(visit))  # the 10th has ended; one still missing
    visit.refresh_from_db()
    assert visit.deferred_overdue_at is not None
    assert Notification.objects.filter(recipient=w.desk, event="frontdesk.deferred_due").exists()
    # all received in time: the timer is cancelled
    other = visit_at(w)
    visits.receive(other, by=w.desk, deferred=["健康证明"], due_on=datetime.date(2026, 12, 10), now=T0)
    timers.plan(T0, only=only(other))
    visits.receive_deferred(other.deferred.get(), by=w.desk)
    report = timers.sweep(T0 + datetime.timedelta(days=4), only=only(other))
    other.refresh_from_db()
    assert other.deferred_overdue_at is None and report.cancelled >= 1


def test_the_outcome_is_set_once_and_the_visit_links_to_the_appeal(w, client):
    visit = visit_at(w)
    client.force_login(w.desk)
    response = client.post(f"/frontdesk/{visit.pk}/appeal/", {"title": "食品经营许可办理慢", "description": "材料已交两周"})
    assert response.status_code == 302
    visit.refresh_from_db()
    appeal = Appeal.objects.get()
    assert visit.outcome_kind == "appeal" and visit.outcome_id == appeal.pk and visit.outcome_label == appeal.number
    assert appeal.contact_phone == "13800001234" and appeal.received_node == w.center
    page = client.get(f"/frontdesk/{visit.pk}/").content.decode()
    assert f"/appeals/{appeal.pk}/" in page
    again = client.post(f"/frontdesk/{visit.pk}/answer/", {"answer": "已答复"})
    assert again.status_code == 400 and Appeal.objects.count() == 1
    with pytest.raises(visits.DeskError):
        visits.conclude(visit, "consultation", "已答复", by=w.desk)
    assert client.post(f"/frontdesk/{visit.pk}/appeal/", {"title": "再来", "description": "x"}).status_code == 400
    assert Appeal.objects.count() == 1
    # a service request through the catalog's filing
    other = visit_at(w)
    visits.to_service_request(other, by=w.desk, description="申请食品经营许可")
    other.refresh_from_db()
    assert other.outcome_kind == "service_request" and Appeal.objects.count() == 2
    # a person without an enterprise: a consultation, not an appeal
    person = visits.register(by=w.desk, node=w.center, visitor_name="李女士", visitor_phone="0571-86001234",
                             need="社保咨询")
    with pytest.raises(visits.DeskError):
        visits.to_appeal(person, by=w.desk, title="x", description="y")
    visits.answer(person, "告知社保窗口位置", by=w.desk)
    person.refresh_from_db()
    assert person.outcome_kind == "consultation" and person.answer == "告知社保窗口位置"


def test_station_timers_fire_at_10_and_30_minutes_and_timely_action_cancels_them(w):
    w.station.station_type = "park"
    w.station.save()
    clerk = w.users[Role.FRONT_DESK]  # a 行政办事员 at the center
    late = visit_at(w, node=w.station, by=w.station_user)
    assert late.station_response
    timers.sweep(minutes(9), only=only(late))
    late.refresh_from_db()
    assert late.on_site_missed_at is None
    timers.sweep(minutes(10), only=only(late))
    late.refresh_from_db()
    assert late.on_site_missed_at == minutes(10) and late.handover_missed_at is None
    assert AuditEntry.objects.filter(action="overdue", object_id=str(late.pk)).count() == 1
    assert Notification.objects.filter(event="frontdesk.on_site", recipient=w.users[Role.DISPATCHER]).exists()
    timers.sweep(minutes(30), only=only(late))
    late.refresh_from_db()
    assert late.handover_missed_at == minutes(30)

    timely = visit_at(w, node=w.station, by=w.station_user)
    timers.plan(T0, only=only(timely))
    visits.mark_on_site(timely, by=w.station_user, now=minutes(8))
    visits.handover(timely, clerk, by=w.station_user, note="非园区问题，转行政办事员", now=minutes(25))
    report = timers.sweep(minutes(31), only=only(timely))
    timely.refresh_from_db()
    assert timely.on_site_missed_at is None and timely.handover_missed_at is None and report.cancelled == 2
    assert timely.owner == clerk and timely.handed_to_clerk_at == minutes(25)
    # a park issue needs no hand-over; a center visit has no station timers
    park = visit_at(w, node=w.station, by=w.station_user, on_site=True)
    visits.mark_park_issue(park, True, by=w.station_user)
    timers.sweep(minutes(31), only=only(park))
    park.refresh_from_db()
    assert park.on_site_missed_at is None and park.handover_missed_at is None
    center = visit_at(w)
    timers.plan(T0, only=only(center))
    assert set(Timer.objects.filter(subject_id=center.pk).values_list("kind", flat=True)) == {"open_due"}


def test_the_api_registers_hands_over_issues_documents_and_concludes(w, client):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {w.token(w.desk)}"}
    body = {"node": w.center.code, "visitor_name": "王先生", "visitor_phone": "13800001234", "need": "食品经营许可",
            "enterprise_uscc": w.ent_east.uscc, "item": w.item.code, "section": w.section.code}
    created = client.post("/api/v1/desk-visits", body, content_type="application/json", **auth)
    assert created.status_code == 201, created.json()
    visit = created.json()
    assert visit["owner"] == w.desk.username and visit["item"] == w.item.code and visit["outcome_kind"] == ""
    bad = client.post("/api/v1/desk-visits", {**body, "visitor_phone": "123"}, content_type="application/json", **auth)
    assert bad.status_code == 400 and "手机" in bad.json()["detail"]
    url = f"/api/v1/desk-visits/{visit['id']}"
    notice = client.post(f"{url}/notices", {"materials": [w.materials[1].pk]}, content_type="application/json", **auth)
    assert notice.status_code == 201 and [m["name"] for m in notice.json()["content"]["materials"]] == ["经营场所证明"]
    receipt = client.post(f"{url}/receipt", {"deferred": ["健康证明"], "due_on": "2026-12-12"},
                          content_type="application/json", **auth)
    assert receipt.status_code == 400  # a Saturday (or past): refused with the reason
    handed = client.post(f"{url}/handover", {"to": w.users[Role.DISPATCHER].username, "note": "转调度"},
                         content_type="application/json", **auth)
    assert handed.status_code == 200 and handed.json()["owner"] == w.users[Role.DISPATCHER].username
    assert client.post(f"{url}/outcome", {"kind": "consultation", "answer": "已答复"}, content_type="application/json",
                       **auth).status_code == 400  # no longer the owner
    dispatcher = {"HTTP_AUTHORIZATION": f"Bearer {w.token(w.users[Role.DISPATCHER])}"}
    done = client.post(f"{url}/outcome", {"kind": "appeal", "title": "许可办理慢"}, content_type="application/json",
                       **dispatcher)
    assert done.status_code == 200 and done.json()["outcome_kind"] == "appeal"
    assert done.json()["outcome_url"] == f"/appeals/{Appeal.objects.get().pk}/"
    listed = client.get("/api/v1/desk-visits?status=concluded", **auth).json()
    assert listed["count"] == 1
    enterprise = {"HTTP_AUTHORIZATION": f"Bearer {w.token(w.users[Role.ENTERPRISE])}"}
    assert client.get(url, **enterprise).status_code == 403


def test_the_registration_page_says_what_is_wrong_next_to_the_field(w, client):
    client.force_login(w.desk)
    form = {"node": w.center.code, "visitor_name": "王先生", "visitor_phone": "12345", "need": "咨询"}
    page = client.post("/frontdesk/new/", form)
    assert page.status_code == 400 and "手机" in page.context["form"].errors["visitor_phone"][0]
    created = client.post("/frontdesk/new/", {**form, "visitor_phone": "0571-8600 1234"})
    visit = DeskVisit.objects.get()
    assert created.status_code == 302 and visit.visitor_phone == "057186001234" and visit.enterprise is None


def test_a_visit_becomes_an_agency_case_of_a_scenario(w, client):
    from pathlib import Path

    from qifu.scenarios import presets
    from qifu.scenarios.models import AgencyCase

    presets.load(Path(__file__).with_name("scenarios_sample.yaml"), region_code=w.region.code)
    visit = visit_at(w)
    client.force_login(w.desk)
    page = client.get(f"/frontdesk/{visit.pk}/").content.decode()
    assert "industrial-project-start" in page and "工业项目开工" in page
    assert client.post(f"/frontdesk/{visit.pk}/agency/", {"scenario": "no-such"}).status_code == 400
    response = client.post(f"/frontdesk/{visit.pk}/agency/", {"scenario": "industrial-project-start"})
    case = AgencyCase.objects.get()
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    visit.refresh_from_db()
    assert visit.outcome_kind == "agency_case" and visit.outcome_id == case.pk and visit.outcome_url == case.get_absolute_url()
    assert case.enterprise == w.ent_east and case.scenario.code == "industrial-project-start" and case.items.exists()
    assert client.post(f"/frontdesk/{visit.pk}/agency/", {"scenario": "industrial-project-start"}).status_code == 400
    assert AgencyCase.objects.count() == 1
    # by the API
    auth = {"HTTP_AUTHORIZATION": f"Bearer {w.token(w.desk)}"}
    other = visit_at(w)
    url = f"/api/v1/desk-visits/{other.pk}/outcome"
    body = {"kind": "agency_case", "scenario": "no-such"}
    assert client.post(url, body, content_type="application/json", **auth).status_code == 400
    done = client.post(url, {**body, "scenario": "biomedicine-start"}, content_type="application/json", **auth)
    assert done.status_code == 200 and done.json()["outcome_kind"] == "agency_case"
    assert done.json()["outcome_url"] == AgencyCase.objects.get(scenario__code="biomedicine-start").get_absolute_url()
