"""Demo appointments and queue numbers (预约办事 / 取号): a slot plan for each window of the demo center and for the
enterprise-opening service item, their slots on the coming working days (the region's `bookings` rule: hours, slot
length, places), a few fictional bookings (the demo enterprise's and the front desk's for walk-in callers) and a
few queue numbers today. Names and phone numbers are fictional. Idempotent: a region with slot plans is left alone."""

import datetime

from django.utils import timezone

from qifu.accounts.models import User
from qifu.bookings import services
from qifu.bookings.models import Slot, SlotPlan
from qifu.catalog.models import ServiceItem
from qifu.org.models import ServiceNode

# name, phone — booked by the front desk for callers
CALLERS = [("周女士", "13900000101"), ("吴先生", "13900000102"), ("郑女士", "13900000103")]


def load(region) -> int:
    center = region.nodes.filter(kind=ServiceNode.Kind.CENTER).order_by("code").first()
    if center is None or SlotPlan.objects.filter(region=region).exists():
        return 0
    windows = list(center.windows.order_by("sort_order", "code"))
    for window in windows:
        SlotPlan.objects.create(region=region, node=center, window=window)
    item = ServiceItem.objects.filter(region=region, code="qt-gx-138").first()  # 免费刻章 (企业开办), seed 003 附件4
    if item is not None:
        SlotPlan.objects.create(region=region, node=center, service=item, capacity=4)
    created = services.generate(region)
    _bookings(region, center)
    _queue(center, windows)
    return created


def _bookings(region, center) -> None:
    enterprise_user = User.objects.filter(username="enterprise", region=region).first()
    desk = User.objects.filter(username="frontdesk", region=region).first()
    soon = timezone.now() + datetime.timedelta(hours=3)
    upcoming = Slot.objects.filter(node=center, start__gte=soon).order_by("start", "id")
    if enterprise_user is not None and enterprise_user.enterprise_id:
        slot = upcoming.filter(window__isnull=False).first()
        if slot is not None:
            services.book(enterprise_user, slot, name=enterprise_user.display_name or "陈经理", phone="13800000100",
                          enterprise=enterprise_user.enterprise, note="企业设立登记咨询")
    if desk is not None:
        for (name, phone), slot in zip(CALLERS, list(upcoming.filter(booked=0)[:len(CALLERS) * 3])[1::3], strict=False):
            services.book(desk, slot, name=name, phone=phone, note="电话预约")


def _queue(center, windows) -> None:
    desk = User.objects.filter(username="frontdesk", node=center).first()
    for window, count in zip(windows[:3], (4, 2, 1), strict=False):
        for _i in range(count):
            services.take_ticket(None, window)
        if desk is not None:
            services.call_next(desk, window)
