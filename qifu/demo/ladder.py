"""The demo's escalation ladder, weekly coordination meeting and fallback lane (all fictional), built through the
same workflow as real cases (events with back-dated times):

- the bodies' demo members: `supervisor` in the task force (专班) and its inspection group (督查考评组) and, as the
  task force runs the meeting (专班办会), in the weekly coordination meeting; `leader` chairs that meeting;
  `principal` is one of the principal leaders; `fallback` is a member of the “兜底办”专班;
- seven cases on the ladder: three coordinated by the task force (one of them since solved, one whose request
  to go up awaits the leader's decision), two at the weekly meeting, one request awaiting the task force, and
  one refused → a second assignment to a street and a platform;
- last week's coordination meeting: its agenda, minutes with files, decisions with tasks (done, open, overdue);
- four fallback cases (现场办 ×2, 局长办, 研讨办 with its 一事一议 deliberation).

Loading twice changes nothing.
"""

import datetime
import zoneinfo

from django.core.files.base import ContentFile
from django.utils import timezone

from qifu.accounts.models import Role, User
from qifu.appeals import escalation, workflow
from qifu.appeals.models import AppealAttachment, AppealEvent, Channel, Meeting, MeetingAttachment
from qifu.enterprises.models import Enterprise
from qifu.org.models import Body, BodyMembership, Department, Jurisdiction
from qifu.workcal import workdays

PASSWORD = "qifu2026"
# username, role, display name, place (department code or None), bodies (code, role)
USERS = [
    ("principal", Role.LEADER, "区主要领导老沈（演示）", None, [("qt-zyld", "member")]),
    ("fallback", Role.HANDLER, "兜底办专班小韩（演示）", "qt-spj", [("qt-ddb", "member")]),
]
MEMBERSHIPS = [  # existing demo users in the bodies
    ("supervisor", "qt-zb", "member"), ("supervisor", "qt-zb-dc", "member"), ("supervisor", "qt-zlh", "member"),
    ("leader", "qt-zlh", "chair"),
]

FILES = {
    "handling_statement": ("问题办理情况说明.txt", "问题描述、协调情况、不能解决的原因、下一步计划（演示）"),
    "meeting_minutes": ("协调会议记录.txt", "专题协调会议记录：参会单位意见及分歧（演示）"),
    "sign_in_sheet": ("协调会签到表.txt", "签到：主办部门、协办部门、属地街道（演示）"),
}


def _zone(region):
    return zoneinfo.ZoneInfo(region.rule("time_zone"))


def _workday_back(n: int) -> datetime.date:
    """The working day `n` working days before today (0: today, or the last working day)."""
    day = timezone.localdate()
    while not workdays.is_workday(day):
        day -= datetime.timedelta(days=1)
    while n > 0:
        day -= datetime.timedelta(days=1)
        if workdays.is_workday(day):
            n -= 1
    return day


def _at(region, day: datetime.date, hour: float) -> datetime.datetime:
    at = datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=_zone(region)) + datetime.timedelta(hours=hour)
    return min(at, timezone.now() - datetime.timedelta(minutes=5))


def members(region) -> dict[str, User]:
    people = {u.username: u for u in User.objects.filter(username__in=["supervisor", "leader", "handler", "admin",
                                                                        "dispatcher", "frontdesk", "principal",
                                                                        "fallback"])}
    district = Jurisdiction.objects.filter(region=region, level="district").order_by("code").first()
    for username, role, display_name, department, bodies in USERS:
        user = people.get(username)
        if user is None:
            dept = Department.objects.filter(code=department).first() if department else None
            user = User(username=username, display_name=display_name, region=region, department=dept,
                        jurisdiction=district if role == Role.LEADER else None)
            user.set_password(PASSWORD)
            user.save()
            people[username] = user
        user.grant(role)
    own = [(username, code, member_role) for username, _r, _n, _d, bodies in USERS for code, member_role in bodies]
    for username, code, member_role in MEMBERSHIPS + own:
        body = Body.objects.filter(region=region, code=code).first()
        if body is not None and username in people:
            BodyMembership.objects.get_or_create(body=body, user=people[username], defaults={"role": member_role})
    return people


def _files(appeal, actor, at):
    for kind, (name, text) in FILES.items():
        attachment = workflow.attach(appeal.pk, actor, ContentFile(text.encode("utf-8"), name=name), kind=kind)
        AppealAttachment.objects.filter(pk=attachment.pk).update(uploaded_at=at)


def _case(region, people, enterprise, title, description, category, received, lead, assisting=()):
    dispatcher = people["dispatcher"]
    appeal, _new = workflow.register(
        actor=people["frontdesk"], enterprise=enterprise, channel=Channel.objects.get(code="hotline"),
        title=title, description=description, contact_name="演示·联系人", contact_phone="13900001111",
        category=category, received_at=received)
    at = received + datetime.timedelta(hours=1)
    return workflow.perform(appeal.pk, "assign", dispatcher, lead_department=lead,
                            assisting_departments=list(assisting), at=at), at


def _escalate(region, appeal, actor, at, reason, statement):
    _files(appeal, actor, at - datetime.timedelta(hours=1))
    return workflow.perform(appeal.pk, "escalate", actor, reason=reason, statement=statement, at=at)


def _decide(appeal, actor, at, approve=True, note="", **units):
    return workflow.perform(appeal.pk, "decide_escalation", actor, approve=approve, note=note, at=at, **units)


def load(region) -> int:
    """The demo's ladder and fallback lane in `region` (the qiantang demo region); returns the cases made."""
    if Body.objects.filter(region=region).count() == 0:
        return 0
    people = members(region)
    if AppealEvent.objects.filter(appeal__region=region, action__in=("escalate", "deliberate")).exists():
        return 0
    enterprises = list(Enterprise.objects.filter(region=region).order_by("id")[120:140])
    handler, supervisor, leader = people["handler"], people["supervisor"], people["leader"]
    lead = handler.department.code if handler.department_id else "qt-jxkj"
    day = _workday_back
    made = 0

    # 1. coordinated by the task force
    a, t = _case(region, people, enterprises[0], "园区道路积水跨部门协调",
                 "园区门口道路雨天积水严重，排水、道路、属地多家单位均表示不属于本单位职责。", "whistle",
                 _at(region, day(14), 9.5), lead, ["qt-zjj", "qt-jd-xiasha"])
    _escalate(region, a, handler, _at(region, day(8), 15), "主办和协办部门意见不一致，部门层面无法解决，申请提级协调。",
              "已与企业电话沟通3次；经信科技局分管领导召开专题协调会1次，住建局、下沙街道反馈均不属本单位职责。")
    _decide(a, supervisor, _at(region, day(7), 10), note="同意提级，由专班问题协调组牵头协调。")
    made += 1

    # 2. and 3. at the weekly coordination meeting
    at_meeting = []
    for i, (title, description, assisting) in enumerate([
        ("厂房土地证历史遗留问题", "厂房建成多年，因历史原因土地证一直未能办理，影响企业融资。", ["qt-ghzy", "qt-zjj"]),
        ("企业用电增容与管线迁改", "新增生产线急需用电增容，涉及管线迁改和道路开挖审批。", ["qt-zjj", "qt-jd-baiyang"]),
    ]):
        a, t = _case(region, people, enterprises[1 + i], title, description, "whistle", _at(region, day(24 - i), 9),
                     lead, assisting)
        _escalate(region, a, handler, _at(region, day(18 - i), 14), "涉及历史遗留问题，部门层面无法解决。",
                  "已召开两次专题协调会，主办和协办部门对办理路径存在分歧。")
        _decide(a, supervisor, _at(region, day(17 - i), 10), note="同意，专班协调。")
        _escalate(region, a, supervisor, _at(region, day(12 - i), 16), "专班协调后仍需分管区领导协调。",
                  "专班召开协调会1次，明确了各方意见，仍需区领导层面统筹。")
        _decide(a, leader, _at(region, day(11 - i), 9), note="提交企业服务问题协调周例会研究。")
        at_meeting.append(a)
        made += 1

    # last week's weekly coordination meeting: agenda, minutes, decisions → tasks
    body = Body.objects.get(region=region, code="qt-zlh")
    held = day(5)
    meeting = escalation.schedule_meeting(body, held, supervisor,
                                          title=f"企业服务问题协调周例会（{held:%Y年%m月%d日}）")
    Meeting.objects.filter(pk=meeting.pk).update(created_at=_at(region, held, 8))
    escalation.record_minutes(meeting, supervisor, "分管区领导主持，专班办会。会议研究了土地证历史遗留、用电增容两件诉求，"
                                                   "明确了牵头单位、时间节点和办结要求。")
    for kind, (name, text) in (("meeting_minutes", ("周例会会议纪要.txt", "会议纪要（演示）")),
                               ("sign_in_sheet", ("周例会签到表.txt", "签到表（演示）"))):
        attachment = MeetingAttachment(meeting=meeting, name=name, kind=kind, uploaded_by=supervisor)
        attachment.file.save(name, ContentFile(text.encode("utf-8")), save=False)
        attachment.save()
    first, second = (meeting.agenda.get(appeal=a) for a in at_meeting)
    done = escalation.decide_item(first, leader, conclusion="由市规划资源局钱塘分局牵头，住建局配合，分类处置历史遗留问题。",
                                  task="提交土地证补办方案", owner_user="handler", due_on=held)
    escalation.complete_task(done, handler, "方案已提交规划资源分局。")
    escalation.decide_item(first, leader, conclusion="由市规划资源局钱塘分局牵头，住建局配合，分类处置历史遗留问题。",
                           task="完成土地证补办前置审查", owner_department="qt-ghzy",
                           due_on=held + datetime.timedelta(days=14))
    escalation.decide_item(second, leader, conclusion="住建局牵头管线迁改，白杨街道做好道路开挖协调。",
                           task="完成管线迁改施工审批", owner_department="qt-zjj",
                           due_on=held + datetime.timedelta(days=3))

    # 4. a request awaiting the task force
    a, t = _case(region, people, enterprises[3], "污水纳管跨区域协调",
                 "扩建后排水量增加，纳管涉及相邻街道管网，各方对接口位置意见不一。", "whistle", _at(region, day(6), 10), lead,
                 ["qt-zjj", "qt-jd-hezhuang"])
    _escalate(region, a, handler, _at(region, day(1), 11), "跨区域管网接口问题部门层面难以协调，申请提级。",
              "已组织住建局、河庄街道召开协调会，接口位置仍未达成一致。")
    made += 1

    # 5. at the task force, its request to go up awaiting the leader's decision
    a, t = _case(region, people, enterprises[4], "夜班员工公交线路开通",
                 "园区夜班员工下班后无公交可乘，需新开或延长线路，涉及交通、属地和公交公司。", "whistle",
                 _at(region, day(13), 9), lead, ["qt-jtj", "qt-jd-yipeng"])
    _escalate(region, a, handler, _at(region, day(7), 16), "涉及公交线网调整，部门层面无法决定。",
              "交通运输局认为需区级统筹；义蓬街道支持但无权限。")
    _decide(a, supervisor, _at(region, day(6), 10), note="同意，专班协调。")
    _escalate(region, a, supervisor, _at(region, day(2), 15), "需分管区领导统筹公交线网调整。",
              "专班协调会明确需区级层面决策线网调整和运营补贴。")
    made += 1

    # 6. refused: a second assignment to a street and a platform
    a, t = _case(region, people, enterprises[5], "出口退税与海关数据比对",
                 "出口退税因海关数据比对不一致迟迟未到账，企业资金周转压力大。", "single", _at(region, day(4), 10), lead)
    _escalate(region, a, handler, _at(region, day(2), 10), "涉及海关和税务数据，申请提级。",
              "已与企业沟通，经信科技局无相关职能。")
    _decide(a, supervisor, _at(region, day(1), 14), approve=False,
            note="不符合提级条件：属单一事项，应由属地和综保区牵头协调海关、税务办理。",
            lead_department="qt-jd-xiasha", assisting_departments=["qt-zbb", "qt-swuj"])
    made += 1

    # 7. coordinated by the task force, then solved
    a, t = _case(region, people, enterprises[6], "外籍专家工作许可加急", "外籍技术专家工作许可办理时间较长，影响项目进度。",
                 "single", _at(region, day(20), 9), lead, ["qt-gafj"])
    _escalate(region, a, handler, _at(region, day(16), 15), "涉及公安出入境，部门层面无法加急。", "已与公安分局沟通两次。")
    _decide(a, supervisor, _at(region, day(15), 10), note="同意，专班协调公安分局加急办理。")
    reply_at = _at(region, day(12), 16)
    workflow.perform(a.pk, "reply", people["admin"], resolution="solved", text="经专班协调，工作许可已加急办结。",
                     at=reply_at)
    workflow.perform(a.pk, "mark_handled", people["admin"], at=reply_at)
    workflow.perform(a.pk, "confirm", people["admin"], solved=True, rating=5, comment="专班协调很给力",
                     at=_at(region, day(11), 10))
    made += 1

    made += _fallback(region, people, enterprises[7:])
    return made


def _fallback(region, people, enterprises) -> int:
    """Four cases of the “兜底办”: two 现场办 (one closed), a 局长办 closed in time, a 研讨办 with its deliberation."""
    clerk, admin = people["fallback"], people["admin"]
    spj = "qt-spj"
    day = _workday_back
    cases = [
        ("老年企业主办理营业执照变更", "企业法定代表人年逾七旬，不会使用网上系统，需代办帮办。", "fallback_on_spot",
         ["special_group"], day(3), True),
        ("无主管部门的新业态经营许可", "新业态经营项目找不到对应审批部门，多部门均表示无牵头职责。", "fallback_chief",
         ["no_lead", "no_place"], day(6), True),
        ("跨部门无先例的厂房改扩建审批", "厂房改扩建涉及规划、消防、环评多个环节，无先例可循。", "fallback_deliberation",
         ["no_precedent", "no_lead"], day(2), False),
        ("外籍人员企业开户受阻", "外籍股东无法到场办理企业银行开户，需协调代办。", "fallback_on_spot",
         ["special_group"], day(0), False),
    ]
    for enterprise, (title, description, category, reasons, received_day, closed) in zip(enterprises, cases):
        received = _at(region, received_day, 9.5)
        appeal, _new = workflow.register(
            actor=people["frontdesk"], enterprise=enterprise, channel=Channel.objects.get(code="walk_in"),
            title=title, description=description, contact_name="演示·联系人", contact_phone="13900002222",
            category="whistle", received_at=received)
        at = received + datetime.timedelta(minutes=20)
        workflow.perform(appeal.pk, "classify", people["dispatcher"], category=category, fallback_reasons=reasons,
                         at=at)
        workflow.perform(appeal.pk, "assign", clerk, lead_department=spj,
                         assisting_departments=["qt-scjgj"] if category != "fallback_on_spot" else [], at=at)
        if category == "fallback_deliberation":
            workflow.perform(appeal.pk, "deliberate", clerk, held_on=received_day,
                             participants="区行政审批局、市规划资源局钱塘分局、区住建局、属地街道",
                             conclusion="一事一议：由审批局牵头并联审查，规划、消防同步提前介入，5个工作日内答复企业。",
                             at=received + datetime.timedelta(hours=5))
        if closed:
            done = min(received + datetime.timedelta(hours=6 if category == "fallback_on_spot" else 40),
                       timezone.now() - datetime.timedelta(minutes=10))
            workflow.perform(appeal.pk, "reply", clerk, resolution="solved", text="兜底办已协调办结并答复企业。", at=done)
            workflow.perform(appeal.pk, "mark_handled", clerk, at=done)
            workflow.perform(appeal.pk, "confirm", admin, solved=True, rating=5, comment="兜底办帮了大忙",
                             at=done + datetime.timedelta(hours=1))
    return len(cases)  # the open ones are still within their limits


def logins() -> list[tuple[str, str, str]]:
    return [(username, Role(role).label, PASSWORD) for username, role, _name, _dept, _bodies in USERS]

