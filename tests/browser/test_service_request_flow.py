"""Issue 11's Done-when, clicked through on a phone: an enterprise finds a service by searching in Chinese, opens
its guide and requests it; the request reaches the item's unit, which handles it within the item's time limit; the
enterprise confirms and rates it — the appeal machinery throughout."""

import pytest

from qifu.accounts.models import Role
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal
from qifu.catalog.models import ServiceGuide, ServiceItem
from qifu.workcal import workdays

from ..world import World
from .conftest import login
from .test_appeal_flow import do, open_appeal, status_of

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, user):
    page.context.clear_cookies()
    login(page, user.username)


def test_an_enterprise_searches_opens_the_guide_and_requests_a_service_the_unit_handles_it(phone):
    ensure_default_channels()
    w = World("rq")
    item = ServiceItem.objects.create(region=w.region, code="rq-1", name="企业开办全程导办", provider_side="government",
                                      section=w.section, units_text="发改局", content="新办企业全程帮办代办")
    item.units.set([w.dept])
    ServiceGuide.objects.create(item=item, handling_unit="发改局", time_limit="3个工作日", time_limit_days=3,
                                conditions="新设立企业")
    page = phone
    sign_in(page, w.users[Role.ENTERPRISE])
    page.goto("/search/?q=开办企业")  # a synonym of 企业开办
    page.click('[data-testid="search-hit"][data-kind="service"] >> text=企业开办全程导办')
    page.wait_for_url(f"**/catalog/{item.code}/")
    assert "3个工作日" in page.locator('[data-testid="guide"]').inner_text()
    page.click('[data-testid="request-service"]')
    page.fill("#id_description", "新公司需要办理营业执照和公章")
    page.fill("#id_contact_phone", "0571-00000000")
    with page.expect_navigation():
        page.click('[data-testid="submit-request"]')
    appeal = Appeal.objects.get()
    page.wait_for_url(f"**/appeals/{appeal.pk}/")
    assert "企业开办全程导办" in page.locator('[data-testid="appeal-service-item"]').inner_text()
    assert appeal.lead_department == w.dept and appeal.status == "assigned"
    assert appeal.due_at == workdays.deadline(appeal.received_at, 3, tz="Asia/Shanghai")

    sign_in(page, w.users[Role.HANDLER])
    page.click('[data-testid="home-being-handled"]')
    open_appeal(page, appeal)
    reply = page.locator('[data-testid="action-reply"]')
    reply.get_by_label("依法依规解决").check()
    reply.locator("textarea").fill("已受理，营业执照和公章将于明日发放。")
    do(page, "reply")
    do(page, "mark_handled")
    assert status_of(page) == "已办结"
    appeal.refresh_from_db()
    assert appeal.handled_at <= appeal.due_at  # in time

    sign_in(page, w.users[Role.ENTERPRISE])
    page.goto(f"/appeals/{appeal.pk}/")
    page.click('[data-testid="confirm-star-5"]')
    page.locator('[data-testid="action-confirm"] textarea').fill("很快，谢谢")
    do(page, "confirm")
    assert status_of(page) == "已销号"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
