"""Listing approval (服务上架审批, seed 003 lines 1684–1782; issue 11 item 3): a unit submits the listing form, the
platform (dispatchers) sends it back with reasons, the unit corrects it, the platform approves it; only listed items
reach enterprises; a change to a listed item waits for approval; the review deadline is a supervision timer; dynamic
adjustment lists low-volume items and lists due for their periodic review."""

import datetime

import pytest
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.audit.models import AuditEntry
from qifu.catalog import listing, services
from qifu.catalog.models import AppealItem, Listing, ListReview, ServiceItem
from qifu.notify.models import Notification
from qifu.supervision import timers
from qifu.supervision.models import Timer

from .world import World

pytestmark = pytest.mark.django_db


def form(w, **changes) -> dict:
    data = {"name": "企业人才招聘线上服务", "service_type": "talent", "description": "为企业线上发布招聘信息",
            "online_channel": "https://example.invalid/recruit", "provider_unit": w.dept,
            "provider_opinion": "同意上架", "provider_head": "张主任", "provider_signed_on": datetime.date(2026, 12, 1),
            "lead_unit": w.other_dept, "lead_opinion": "同意", "lead_head": "李局长",
            "lead_signed_on": datetime.date(2026, 12, 2), "remarks": "", "internal_checked": True}
    data.update(changes)
    return data


def post_form(w, **changes) -> dict:
    data = form(w, **changes)
    data["provider_unit"], data["lead_unit"] = data["provider_unit"].pk, data["lead_unit"].pk
    data = {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in data.items()}
    if not data["internal_checked"]:
        del data["internal_checked"]
    return data


def test_rejected_with_reasons_corrected_approved_and_only_then_seen_by_enterprises(client):
    w = World("ls")
    unit, reviewer, enterprise = w.users[Role.HANDLER], w.users[Role.DISPATCHER], w.users[Role.ENTERPRISE]
    with pytest.raises(listing.ListingError):  # the unit reviews and tests the service first
        listing.submit(unit, w.region, form(w, internal_checked=False))
    assert not listing.may_submit(enterprise) and not listing.may_review(unit) and listing.may_review(reviewer)

    client.force_login(unit)
    other = client.post("/catalog/listings/new/", post_form(w, provider_unit=w.other_dept))  # for itself only
    assert other.status_code == 200 and other.context["form"].errors["provider_unit"]
    response = client.post("/catalog/listings/new/", post_form(w, description="招聘"))
    sent = Listing.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/catalog/listings/{sent.pk}/"
    item = sent.item
    assert not item.listed and sent.status == "submitted" and sent.kind == "new"
    assert sent.due_at == sent.submitted_at + datetime.timedelta(hours=24)  # the region's listing_review_hours
    assert Notification.objects.filter(recipient=reviewer, event="catalog.listing_submitted").exists()
    # unlisted: staff see it, marked; enterprises see it nowhere (services, page, API, handbook)
    assert services.items(unit).filter(pk=item.pk).exists()
    assert not services.items(enterprise).filter(pk=item.pk).exists()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {w.token(enterprise)}"}
    assert client.get("/api/v1/services", **auth).json()["count"] == 0
    assert client.get(f"/api/v1/services/{item.code}", **auth).status_code == 404
    from qifu.catalog import handbook

    assert list(handbook.items_for(w.region)) == []
    searched = client.get("/api/v1/search?q=招聘", **auth).json()  # nor in search
    assert [r for r in searched["items"] if r["kind"] == "service"] == []

    client.force_login(reviewer)
    assert client.get("/catalog/listings/?status=submitted").context["listings"].paginator.count == 1
    assert client.get("/").context["listings_to_review"] == 1
    url = f"/catalog/listings/{sent.pk}/"
    page = client.post(url, {"decision": "approve", "lawful": "on", "complete": "on"})  # accuracy not ticked
    assert page.status_code == 200 and "准确" in page.context["review_form"].non_field_errors()[0]
    assert client.post(url, {"decision": "reject"}).context["review_form"].errors["reasons"]
    client.post(url, {"decision": "reject", "lawful": "on", "accurate": "on", "reasons": "服务说明不完整：缺少办理对象"})
    sent.refresh_from_db()
    assert sent.status == "rejected" and sent.reasons.startswith("服务说明不完整") and not sent.complete
    assert Notification.objects.filter(recipient=unit, event="catalog.listing_reviewed", body=sent.reasons).exists()
    assert client.post(url, {"decision": "approve"}).status_code == 400  # not awaiting review any more

    client.force_login(unit)
    assert "缺少办理对象" in client.get(url).content.decode()
    client.post(f"/catalog/listings/{sent.pk}/correct/", post_form(w, description="为区内企业线上发布招聘信息、对接人才"))
    sent.refresh_from_db()
    assert sent.status == "submitted" and sent.rounds == 2 and sent.item.content.startswith("为区内企业")

    client.force_login(reviewer)
    client.post(url, {"decision": "approve", "lawful": "on", "complete": "on", "accurate": "on"})
    sent.refresh_from_db()
    item.refresh_from_db()
    assert sent.status == "approved" and item.listed and item.category1 == "人才服务"
    assert list(item.units.all()) == [w.dept]
    assert [i["code"] for i in client.get("/api/v1/services", **auth).json()["items"]] == [item.code]
    searched = client.get("/api/v1/search?q=招聘", **auth).json()
    assert [r["url"] for r in searched["items"] if r["kind"] == "service"] == [item.get_absolute_url()]
    steps = list(AuditEntry.objects.filter(action="transition", object_id=str(sent.pk)).order_by("id")
                 .values_list("note", flat=True))
    assert steps == ["submitted", "sent back", "corrected and submitted again", "approved"]

    # a later change goes through the same review; the approved version stays visible until then
    client.force_login(unit)
    initial = client.get(f"/catalog/{item.code}/change/").context["form"].initial
    assert initial["service_type"] == "talent" and initial["lead_unit"] == w.other_dept.pk
    client.post(f"/catalog/{item.code}/change/", post_form(w, name="企业人才招聘与培训线上服务"))
    change = Listing.objects.get(kind="change")
    item.refresh_from_db()
    assert change.status == "submitted" and item.name == "企业人才招聘线上服务"
    assert services.items(enterprise).get(pk=item.pk).name == "企业人才招聘线上服务"
    with pytest.raises(listing.ListingError):  # one open form per item
        listing.submit(unit, w.region, form(w), item=item)
    listing.review(reviewer, change, approve=True, lawful=True, complete=True, accurate=True)
    assert services.items(enterprise).get(pk=item.pk).name == "企业人才招聘与培训线上服务"

    # the queue's Excel, and the pages others may not open
    client.force_login(reviewer)
    xlsx = client.get("/catalog/listings/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get("/catalog/listings/?status=nonsense&format=xlsx").status_code == 400
    client.force_login(enterprise)
    assert client.get("/catalog/listings/").status_code == 403
    assert client.get("/catalog/listings/new/").status_code == 403
    assert client.get(url).status_code == 404


def test_an_overdue_review_fires_its_timer_once_and_a_timely_review_cancels_it():
    w = World("lt")
    unit, reviewer = w.users[Role.HANDLER], w.users[Role.DISPATCHER]
    late = listing.submit(unit, w.region, form(w))
    on_time = listing.submit(unit, w.region, form(w, name="企业融资对接线上服务", service_type="finance"))
    assert timers.sweep(late.due_at - datetime.timedelta(minutes=1)).fired == []  # planned, nothing due yet
    assert Timer.objects.filter(subject="catalog.listing").count() == 2
    listing.review(reviewer, on_time, approve=True, lawful=True, complete=True, accurate=True)
    report = timers.sweep(late.due_at + datetime.timedelta(minutes=1))
    assert len(report.fired) == 1 and late.name in report.fired[0] and report.cancelled == 1
    late.refresh_from_db()
    assert late.overdue_at == late.due_at and late.status == "submitted"
    assert Notification.objects.filter(recipient=reviewer, event="catalog.listing_overdue").count() == 1
    assert AuditEntry.objects.filter(action="overdue", object_id=str(late.pk)).count() == 1
    assert timers.sweep(late.due_at + datetime.timedelta(hours=2)).fired == []  # once
    assert Timer.objects.get(subject="catalog.listing", subject_id=on_time.pk).cancelled_at is not None


def test_dynamic_adjustment_lists_low_volume_items_and_lists_due(client):
    from qifu.appeals.channels import ensure_default_channels
    from qifu.appeals.models import Appeal, Channel

    w = World("la")
    ensure_default_channels()
    long_ago = timezone.now() - datetime.timedelta(days=100)
    used = ServiceItem.objects.create(region=w.region, code="la-1", name="用得多的服务", provider_side="government",
                                      created_at=long_ago)
    unused = ServiceItem.objects.create(region=w.region, code="la-2", name="没人用的服务", provider_side="government",
                                        created_at=long_ago)
    ServiceItem.objects.create(region=w.region, code="la-3", node=w.station, name="驿站服务",
                               provider_side="society")  # the station's list: in operation since today
    appeal = Appeal.objects.create(region=w.region, number="LA-1", enterprise=w.ent_east,
                                   channel=Channel.objects.get(code="walk_in"), title="招聘", description="招聘",
                                   received_at=timezone.now(), status="closed")
    AppealItem.objects.create(appeal=appeal, item=used)
    assert list(listing.low_volume(w.region)) == [unused, ServiceItem.objects.get(code="la-3")]
    lists = {row["code"]: row["due"] for row in listing.lists_due(w.region)}
    assert lists == {services.COMMON: True, "la-station": False}  # 3 months after the common list's first item

    reviewer = w.users[Role.DISPATCHER]
    client.force_login(reviewer)
    page = client.get("/catalog/adjustment/")
    assert page.status_code == 200 and page.context["low"].paginator.count == 2
    client.post("/catalog/adjustment/", {"list": services.COMMON, "note": "保留全部事项"})
    assert ListReview.objects.get().node is None
    assert {row["code"]: row["due"] for row in listing.lists_due(w.region)}[services.COMMON] is False
    assert client.post("/catalog/adjustment/", {"list": "nowhere"}).status_code == 400
    assert client.get("/catalog/adjustment/?format=xlsx").status_code == 200
    client.force_login(w.users[Role.HANDLER])
    assert client.get("/catalog/adjustment/").status_code == 403
