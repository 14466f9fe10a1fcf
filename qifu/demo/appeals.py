"""Fictional appeals for the demo region, in every status. Built through the same workflow as real ones
(events with back-dated times), so every figure on the pages is derived. As in a center that works: most cases are
handled within their limit (about one in eight late), older cases have moved on, and the supervision timers of each
case fire as its history passes them (a warning or a chase before a late answer)."""

import datetime
import random

from django.utils import timezone

from qifu.accounts.models import User
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel, Resolution
from qifu.enterprises.models import Enterprise
from qifu.supervision import appeal_timers, timers

COUNT = 240

PROBLEMS = [
    ("厂房消防验收咨询", "新建厂房即将竣工，想了解消防验收需要准备的材料和流程。"),
    ("高层次人才子女入学", "公司引进的博士希望子女就近入学，咨询办理流程。"),
    ("研发费用加计扣除", "去年研发投入较大，咨询加计扣除政策的申报口径。"),
    ("园区道路积水", "园区门口道路雨天积水严重，影响员工通勤和货车进出。"),
    ("员工公交线路", "夜班员工下班后无公交可乘，希望增设或延长线路。"),
    ("出口退税进度", "上季度出口退税迟迟未到账，资金周转压力大。"),
    ("用电增容", "新增生产线需要用电增容，希望加快审批和施工。"),
    ("融资贷款对接", "企业扩产需要中长期贷款，希望对接合作银行。"),
    ("商标被抢注", "公司品牌在海外被抢注，寻求法律援助。"),
    ("招工难", "一线操作工缺口较大，希望对接劳务资源和招聘会。"),
    ("污水纳管", "扩建后排水量增加，需办理污水纳管手续。"),
    ("专精特新申报", "想申报省级专精特新中小企业，咨询条件和材料。"),
    ("外籍专家工作许可", "外籍技术专家来华工作许可办理时间较长。"),
    ("周边噪声扰民投诉", "相邻工地夜间施工，影响员工宿舍休息。"),
    ("土地证办理", "厂房土地证历史遗留问题，长期未能办理。"),
]
REPLIES = {
    Resolution.SOLVED: "已按政策办理完毕，具体结果已电话告知企业联系人。",
    Resolution.POLICY_STUDY: "诉求合理，现行政策尚无明确规定，已纳入政策研究计划。",
    Resolution.EXPLAINED: "目前客观条件尚不具备，已向企业说明情况，后续条件成熟时优先解决。",
    Resolution.PERSUADED: "经核实诉求不符合相关规定，已向企业耐心解释并做好引导。",
}
CONTACTS = ["演示·陈经理", "演示·王主管", "演示·李总", "演示·赵会计", "演示·周工"]


def _at(base: datetime.datetime, hours: float) -> datetime.datetime:
    """`hours` after `base`, but never in the future (and never before `base`)."""
    latest = timezone.now() - datetime.timedelta(minutes=1)
    return max(base, min(base + datetime.timedelta(hours=hours), latest))


LATE = 0.12  # the share of cases answered after their deadline


def _handle(appeal, actor, t: datetime.datetime, *, late: bool, rng: random.Random) -> datetime.datetime | None:
    """Reply and mark handled within the deadline (or, when `late`, up to two and a half days after it), running
    the case's supervision timers up to that moment first. None (nothing done) when that moment is still to come."""
    appeal.refresh_from_db()
    if late:
        when = appeal.due_at + datetime.timedelta(hours=rng.uniform(2, 60))
    else:
        when = t + (appeal.due_at - t) * rng.uniform(0.1, 0.9)
    if when >= timezone.now() - datetime.timedelta(minutes=1):
        return None
    when = max(when, t)
    timers.sweep(when - datetime.timedelta(minutes=1), only=(appeal_timers.SUBJECT, [appeal.pk]))
    resolution = rng.choice([Resolution.SOLVED] * 6 + [Resolution.POLICY_STUDY, Resolution.EXPLAINED,
                                                       Resolution.PERSUADED])
    workflow.perform(appeal, "reply", actor, resolution=resolution, text=REPLIES[resolution], at=when)
    workflow.perform(appeal, "mark_handled", actor, at=when)
    return when


def load(region) -> int:
    if Appeal.objects.filter(region=region).exists():
        return Appeal.objects.filter(region=region).count()
    ensure_default_channels()
    rng = random.Random(311)
    staff = {u.username: u for u in User.objects.filter(username__in=[
        "frontdesk", "dispatcher", "handler", "enterprise", "admin", "station"])}
    dispatcher, admin = staff["dispatcher"], staff["admin"]
    handler_dept = staff["handler"].department
    departments = list(region.departments.filter(kind="government").order_by("code"))
    sections = list(region.sections.order_by("sort_order"))
    enterprises = list(Enterprise.objects.filter(region=region).order_by("id")[:120])
    channels = list(Channel.objects.filter(active=True).exclude(code="open311"))
    demo_enterprise = staff["enterprise"].enterprise
    now = timezone.now()
    previous = None
    for i in range(COUNT):
        enterprise = demo_enterprise if i % 12 == 0 else rng.choice(enterprises)
        title, description = PROBLEMS[i % len(PROBLEMS)]
        received = now - datetime.timedelta(days=rng.uniform(0.2, 60), hours=rng.uniform(0, 8))
        category = rng.choice(["simple", "single", "single", "whistle"])
        online = i % 9 == 0
        actor = staff["enterprise"] if online and enterprise == demo_enterprise else staff["frontdesk"]
        appeal, _ = workflow.register(
            actor=actor, enterprise=enterprise, channel=rng.choice(channels), title=title, description=description,
            contact_name=rng.choice(CONTACTS), contact_phone=f"1390000{rng.randrange(1000, 9999)}",
            category=None if actor == staff["enterprise"] else category, received_at=received,
        )
        earlier, previous = previous, appeal
        stage = rng.random()
        old = (now - received).days > 7
        if old and stage < 0.35 and rng.random() < 0.95:
            stage = 0.56 + rng.random() * 0.44  # older cases have mostly moved on
        t = received
        if i % 40 == 5 and earlier is not None and appeal.status != "submitted":
            workflow.perform(appeal, "merge", dispatcher, into=earlier.number, reason="与已受理诉求重复",
                             at=_at(t, 1))
            continue
        if appeal.status == "submitted":
            if stage < 0.4:
                continue
            t = _at(t, 2)
            appeal = workflow.perform(appeal, "accept", dispatcher, category=category, at=t)
        if stage < 0.08:
            continue  # accepted, waiting for dispatch
        if stage < 0.11:
            workflow.perform(appeal, "withdraw", admin, reason="企业表示已自行解决", at=_at(t, 1))
            continue
        lead = handler_dept if i % 3 == 0 else rng.choice(departments)
        assisting = [d.code for d in rng.sample(departments, 2) if d != lead] if category == "whistle" else []
        section = rng.choice(sections)
        t = _at(t, rng.uniform(0.5, 6))
        workflow.perform(appeal, "classify", dispatcher, category=category, section=section.code,
                         scope=rng.choice(["point", "point", "point", "chain", "block"]), at=t)
        workflow.perform(appeal, "assign", dispatcher, lead_department=lead.code, assisting_departments=assisting, at=t)
        if i % 17 == 0 and category == "single":
            other = rng.choice([d for d in departments if d != lead])
            t = _at(t, 20)
            workflow.perform(appeal, "reassign", dispatcher, lead_department=other.code,
                             reason="经核实不属于本部门职责", at=t)
        if stage < 0.35:
            appeal.refresh_from_db()
            if appeal.due_at > now or rng.random() < 0.2:
                continue  # being handled: within its limit, or (a few) overdue by now
            stage = 0.35 + rng.random() * 0.65  # most cases past their limit were answered
        t = _handle(appeal, admin, t, late=rng.random() < LATE, rng=rng)
        if t is None:
            continue  # still being handled: its answer would lie in the future
        if stage < 0.55:
            continue  # handled, waiting for the enterprise
        t = _at(t, rng.uniform(1, 48))
        if stage < 0.62:
            workflow.perform(appeal, "reject_result", admin, rating=2, comment="问题没有真正解决", at=t)
            if not old:
                continue  # back with the department
            t = _handle(appeal, admin, t, late=False, rng=rng)  # handled again, in time
            if t is None:
                continue
            t = _at(t, rng.uniform(1, 24))
        stars = rng.choice([3, 4, 5, 5, 5])
        workflow.perform(appeal, "confirm", admin, solved=True, rating="none" if i % 10 == 7 else stars,
                         comment=rng.choice(["办理及时", "很满意", "", "辛苦了"]), at=t)
    _two_way(region, now)
    return Appeal.objects.filter(region=region).count()


def _two_way(region, now) -> None:
    """Two-way ratings (seed 003 line 1437) on some closed cases of the demo liaison officer's enterprises: the
    enterprise rated the officer, the officer rated the lead unit — the rest wait in the officer's queue."""
    from qifu.appeals.models import OfficerRating
    from qifu.enterprises.models import LiaisonOfficer

    officer = LiaisonOfficer.objects.filter(user__username="liaison").first()
    if officer is None:
        return
    closed = list(Appeal.objects.filter(region=region, status="closed", lead_department__isnull=False,
                                        enterprise__in=officer.enterprises.all()).order_by("closed_at", "pk"))
    for n, appeal in enumerate(closed[: len(closed) * 2 // 3]):
        at = min(appeal.closed_at + datetime.timedelta(hours=3), now)
        stars = [5, 4, 5, None, 3, 5, 2][n % 7]
        OfficerRating.objects.create(
            appeal=appeal, closing_seq=appeal.version, direction=OfficerRating.Direction.ENTERPRISE_TO_OFFICER,
            officer=officer, department=appeal.lead_department, stars=stars, rated=stars is not None,
            comment="助企员跟进及时" if stars and stars >= 4 else "", rated_at=at)
        if n % 2 == 0:
            unit = [4, 5, 3, None, 5][n % 5]
            OfficerRating.objects.create(
                appeal=appeal, closing_seq=appeal.version, direction=OfficerRating.Direction.OFFICER_TO_UNIT,
                officer=officer, department=appeal.lead_department, stars=unit, rated=unit is not None,
                comment="主办单位办理规范" if unit and unit >= 4 else "", rated_by=officer.user, rated_at=at)
