"""Demo front-desk visits (qifu.frontdesk), today: at the center a walk-in given a one-time notice, one received
under 容缺受理 with its tracking number, an answered consultation, a person without an enterprise still open, one
turned into an appeal; at the park station (industry platform 驿站) a park issue answered on the spot, a non-park
issue handed to the center's clerk in time, and one whose 10- and 30-minute limits were missed (swept here, as the
periodic sweep would). Fictional people and numbers. Idempotent: a region with visits is left alone."""

from __future__ import annotations

import datetime

from django.utils import timezone


def load(region) -> int:
    from qifu.accounts.models import User
    from qifu.catalog.models import ServiceItem
    from qifu.enterprises.models import Enterprise
    from qifu.frontdesk import visits
    from qifu.frontdesk.models import DeskVisit
    from qifu.supervision import timers
    from qifu.workcal import workdays

    if DeskVisit.objects.filter(region=region).exists():
        return 0
    clerk = User.objects.filter(username="frontdesk", region=region).first()
    station_user = User.objects.filter(username="station", region=region).first()
    center = region.nodes.filter(kind="center").order_by("code").first()
    if clerk is None or center is None:
        return 0
    now = timezone.now()
    ago = lambda minutes: now - datetime.timedelta(minutes=minutes)  # noqa: E731
    firms = list(Enterprise.objects.filter(region=region).order_by("id")[:6])
    item = ServiceItem.objects.filter(region=region, code="qt-gx-121").first()
    seal = ServiceItem.objects.filter(region=region, code="qt-gx-138").first()

    def visit(name, phone, need, *, node=center, by=clerk, enterprise=None, item=None, minutes=30, **extra):
        return visits.register(by=by, node=node, visitor_name=name, visitor_phone=phone, need=need,
                               enterprise=enterprise, item=item, now=ago(minutes), **extra)

    made = []
    first = visit("赵女士", "13900000001", "咨询信用修复，处罚已履行完毕", enterprise=firms[0] if firms else None,
                  item=item, minutes=150)
    if item is not None:
        ids = [m.pk for m in visits.guide_materials(first)][:2]
        visits.one_time_notice(first, ids, by=clerk, now=ago(140))
    made.append(first)
    second = visit("钱先生", "13900000002", "新办企业申领首套免费公章，授权委托书未带", enterprise=firms[1] if firms else None,
                   item=seal, minutes=120)
    due = workdays.add_workdays(timezone.localdate(), 3)
    visits.receive(second, by=clerk, deferred=["授权委托书"], due_on=due, now=ago(115))
    made.append(second)
    third = visit("孙先生", "13900000003", "咨询人才公寓申请条件", enterprise=firms[2] if len(firms) > 2 else None,
                  minutes=90)
    visits.conclude(third, "consultation", "已告知人才公寓申请条件及线上申请入口，并引导至人才服务板块。", by=clerk, now=ago(80))
    made.append(third)
    made.append(visit("李女士", "0571-86000004", "个人来访：咨询社保卡补办地点", minutes=20))
    if len(firms) > 3:
        fourth = visit("周先生", "13900000005", "厂房消防验收迟迟未安排，影响投产", enterprise=firms[3], minutes=60)
        visits.to_appeal(fourth, by=clerk, title="厂房消防验收迟迟未安排", description="企业反映厂房消防验收迟迟未安排，影响投产。")
        made.append(fourth)

    station = region.nodes.filter(kind="station", station_type__in=region.rule("station_response_types") or []) \
        .order_by("code").first()
    if station is not None and station_user is not None:
        park = visit("吴经理", "13900000006", "园区内道路临时占道施工，车辆进出不便", node=station, by=station_user,
                     enterprise=firms[4] if len(firms) > 4 else None, minutes=15)
        visits.mark_on_site(park, by=station_user, now=ago(9))
        visits.mark_park_issue(park, True, by=station_user)
        visits.conclude(park, "consultation", "园区管委会现场协调施工方错峰作业，当场解决。", by=station_user, now=ago(5))
        handed = visit("郑经理", "13900000007", "出口退税办理进度咨询（非园区类问题）", node=station, by=station_user,
                       enterprise=firms[5] if len(firms) > 5 else None, minutes=45)
        visits.mark_on_site(handed, by=station_user, now=ago(39))
        visits.mark_park_issue(handed, False, by=station_user)
        visits.handover(handed, clerk, by=station_user, note="非园区类问题，转行政办事员跟进到底。", now=ago(25))
        late = visit("冯先生", "13900000008", "企业用工备案系统无法登录", node=station, by=station_user, minutes=50)
        made += [park, handed, late]
        timers.sweep(now, only=("frontdesk.deskvisit", [late.pk, park.pk, handed.pk]))
    return len(made)
