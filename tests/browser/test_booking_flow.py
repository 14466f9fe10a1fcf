"""Issue 12's Done-when for appointments, in two phones at once: two enterprises open the same slot's last place and
press "book" at the same moment — one gets the booking, the other a clear refusal in Chinese, and the database holds
exactly one booking (the conditional UPDATE and the CHECK constraint; on PostgreSQL the same is tested with eight
connections in tests/test_bookings.py)."""

import datetime

import pytest
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.bookings.models import Booking, Slot
from qifu.org.models import Window

from ..world import World
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_people_book_the_last_place_at_once_one_gets_it_the_other_a_clear_refusal(browser, live_server):
    w = World("bf")
    window = Window.objects.create(region=w.region, node=w.center, code="bf-win", name="企业开办综合受理窗口")
    start = (timezone.now() + datetime.timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    slot = Slot.objects.create(region=w.region, node=w.center, window=window, start=start,
                               end=start + datetime.timedelta(minutes=30), capacity=2, booked=1)  # one place left
    people = [(w.users[Role.ENTERPRISE], "张经理", "13800000001"), (w.west_user, "李会计", "13900000002")]
    pages = []
    day = timezone.localtime(start).date().isoformat()
    for user, name, phone in people:
        user.display_name, user.phone = name, phone
        user.save()
        context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740},
                                      is_mobile=True, has_touch=True, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, user.username)
        page.goto("/bookings/")
        page.select_option('[data-testid="pick-node"]', w.center.code)
        page.wait_for_selector('[data-testid="pick-target"]')
        page.select_option('[data-testid="pick-target"]', f"window:{window.code}")
        page.click(f'[data-testid="day"][data-day="{day}"]')
        assert "剩余 1 个名额" in page.locator('[data-testid="places-left"]').inner_text()
        assert page.locator('[data-testid="book-form"] input[name="phone"]').input_value() == phone
        pages.append(page)
    first, second = pages
    with first.expect_navigation(), second.expect_navigation():  # both press "book" before either answer comes
        first.click('[data-testid="book"]', no_wait_after=True)
        second.click('[data-testid="book"]', no_wait_after=True)
    alerts = [page.locator(".alert").first.inner_text() for page in pages]
    won = [a for a in alerts if "预约成功" in a]
    refused = [a for a in alerts if "该时段已约满" in a]
    assert len(won) == 1 and len(refused) == 1, alerts
    assert "请选择其他时段" in refused[0]
    slot.refresh_from_db()
    assert slot.booked == 2 and Booking.objects.filter(slot=slot).count() == 1
    winner = pages[alerts.index(won[0])]
    assert winner.locator('[data-testid="my-booking"]').count() == 1
    assert "已预约" in winner.locator('[data-testid="booking-status"]').first.inner_text()
    for page in pages:
        page.context.close()
