"""Service requests (服务申请, issue 11 item 4): a request for a catalog item is an appeal naming the item
(AppealItem, request=True), routed to the item's responsible unit and due within the item's own time limit (its
guide's working days, else the region rule by section: policy window 24 h / 48 h joint, opening-up 2 working days)."""

import datetime

import pytest
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel
from qifu.catalog import filing, listing
from qifu.catalog.models import AppealItem, ServiceGuide, ServiceItem
from qifu.notify.models import Notification
from qifu.org.models import Section
from qifu.workcal import workdays

from .world import World

pytestmark = pytest.mark.django_db


def make_item(w, code, *, units=(), section=None, days=None, listed=True):
    item = ServiceItem.objects.create(region=w.region, code=code, name=f"事项{code}", provider_side="government",
                                      section=section, listed=listed,
                                      units_text="、".join(d.name for d in units))
    item.units.set(units)
    if days:
        ServiceGuide.objects.create(item=item, time_limit="%d个工作日" % days, time_limit_days=days)
    return item


def test_enterprise_requests_an_item_on_its_page_and_the_unit_handles_it(client):
    w = World("sr")
    ensure_default_channels()
    item = make_item(w, "sr-1", units=[w.dept], section=w.section, days=5)
    enterprise, handler = w.users[Role.ENTERPRISE], w.users[Role.HANDLER]
    client.force_login(enterprise)
    page = client.get(f"/catalog/{item.code}/")
    assert page.context["may_request"] and f"/catalog/{item.code}/request/" in page.content.decode()
    assert client.post(f"/catalog/{item.code}/request/", {"description": ""}).context["form"].errors
    response = client.post(f"/catalog/{item.code}/request/", {"description": "需要办理", "contact_name": "王先生",
                                                              "contact_phone": "0571-00000000"})
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/appeals/{appeal.pk}/"
    link = AppealItem.objects.get()
    assert link.appeal == appeal and link.item == item and link.request
    # routed to the item's unit at once, due within the guide's 5 working days (not the single class's 3)
    assert appeal.status == "assigned" and appeal.lead_department == w.dept and appeal.section == w.section
    assert appeal.category == "single" and appeal.channel.code == "online"
    assert appeal.due_at == workdays.deadline(appeal.received_at, 5, tz="Asia/Shanghai")
    assert [e.action for e in appeal.events.order_by("seq")] == ["submit", "accept", "assign"]
    assert Notification.objects.filter(recipient=handler, event="appeal.assign").exists()
    detail = client.get(f"/appeals/{appeal.pk}/")
    assert item.name in detail.content.decode()
    # the unit's queue, then the usual flow: reply, handled, confirmed with a rating
    client.force_login(handler)
    assert client.get("/appeals/").context["page"].paginator.count == 1
    appeal = workflow.perform(appeal, "reply", handler, resolution="solved", text="已办结")
    appeal = workflow.perform(appeal, "mark_handled", handler)
    assert appeal.handled_at <= appeal.due_at
    appeal = workflow.perform(appeal, "confirm", enterprise, rating=5)
    assert appeal.status == "closed" and appeal.ratings.get().stars == 5
    # a reclassification keeps the item's limit
    assert workflow.deadline_for(Appeal.objects.get(pk=appeal.pk), "whistle", appeal.accepted_at) == appeal.due_at
    # the yearly volume of dynamic adjustment counts it
    assert listing.volumes(w.region).get(pk=item.pk).volume == 1


def test_section_rules_unlisted_items_and_the_front_desk(client):
    w = World("ss")
    ensure_default_channels()
    opening = Section.objects.create(region=w.region, code="ss-open", name="开放服务板块", kind="opening", node=w.center)
    single = make_item(w, "ss-1", units=[w.dept], section=w.section)
    joint = make_item(w, "ss-2", units=[w.dept, w.other_dept], section=w.section)
    open_item = make_item(w, "ss-3", units=[w.other_dept], section=opening)
    nobody = make_item(w, "ss-4", section=opening)
    hidden = make_item(w, "ss-5", units=[w.dept], listed=False)
    enterprise, desk = w.users[Role.ENTERPRISE], w.users[Role.FRONT_DESK]
    channel = Channel.objects.get(code="online")

    def filed(item):
        return filing.file(actor=enterprise, item=item, enterprise=w.ent_east, channel=channel,
                             description="申请")[0]

    a = filed(single)  # policy window: 24 hours for one unit
    assert a.due_at == a.received_at + datetime.timedelta(hours=24)
    b = filed(joint)  # 48 hours for joint handling, the other units assisting
    assert b.category == "whistle" and b.due_at == b.received_at + datetime.timedelta(hours=48)
    assert list(b.assisting_departments.all()) == [w.other_dept]
    c = filed(open_item)  # opening-up section: 2 working days
    assert c.due_at == workdays.deadline(c.received_at, 2, tz="Asia/Shanghai") and c.lead_department == w.other_dept
    d = filed(nobody)  # no responsible unit: waits for the dispatcher, filed under the section
    assert d.status == "submitted" and d.section == opening and d.lead_department is None
    plain, _ = workflow.register(actor=enterprise, enterprise=w.ent_east, channel=channel, title="普通诉求",
                                 description="问题")  # an ordinary appeal keeps its class's limit
    assert workflow.deadline_for(plain, "single", plain.received_at) == workdays.deadline(
        plain.received_at, 3, tz="Asia/Shanghai")

    client.force_login(enterprise)  # an unlisted item cannot be requested by an enterprise
    assert client.get(f"/catalog/{hidden.code}/request/").status_code == 404
    client.force_login(desk)  # the front desk files for an enterprise (walk-in), accepted and routed
    assert client.get(f"/catalog/{hidden.code}/request/").status_code == 200
    response = client.post(f"/catalog/{single.code}/request/", {"enterprise_uscc": w.ent_west.uscc,
                                                                 "description": "窗口代办"})
    e = Appeal.objects.get(pk=int(response["Location"].split("/")[2]))
    assert e.enterprise == w.ent_west and e.channel.code == "walk_in" and e.status == "assigned"
    assert e.events.get(action="accept").actor == desk
    assert timezone.now() < e.due_at


def test_api(client):
    w = World("sa")
    ensure_default_channels()
    item = make_item(w, "sa-1", units=[w.dept], section=w.section, days=2)
    hidden = make_item(w, "sa-2", units=[w.dept], listed=False)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {w.token(w.users[Role.ENTERPRISE])}"}
    url = f"/api/v1/services/{item.code}/requests"
    body = {"description": "申请办理", "contact_phone": "0571-00000000"}
    first = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1", **auth)
    assert first.status_code == 201, first.content
    again = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1", **auth)
    assert again.status_code == 201 and again.json()["number"] == first.json()["number"]
    assert Appeal.objects.count() == 1 and AppealItem.objects.get().request
    assert first.json()["status"] == "assigned"
    assert client.post(url, {"description": ""}, content_type="application/json", **auth).status_code == 400
    assert client.post(url, {}, content_type="application/json", **auth).status_code in (400, 422)
    assert client.post(f"/api/v1/services/{hidden.code}/requests", body, content_type="application/json",
                       **auth).status_code == 404
    assert client.post("/api/v1/services/nothing/requests", body, content_type="application/json",
                       **auth).status_code == 404
    staff = {"HTTP_AUTHORIZATION": f"Bearer {w.token(w.users[Role.FRONT_DESK])}"}
    filed = client.post(url, {**body, "enterprise_uscc": w.ent_west.uscc, "channel": "walk_in"},
                        content_type="application/json", **staff)
    assert filed.status_code == 201 and Appeal.objects.get(number=filed.json()["number"]).enterprise == w.ent_west
