"""`qifu bench stats`: a month's appeal statistics and the appeals list at a million appeals (issue 9).

It loads `appeals` synthetic appeals WITH THEIR EVENTS into a region of its own (`bench-stats`, left in place) of
the configured database, then times the product's own path, from and to the database:

1. `stats.compute(user, month, by="department")` for a district-wide leader (jurisdiction = the district, as the
   demo's leader) and a region-wide supervisor;
2. the appeals list as users hit it, through Django's test Client (in process: URL routing, middleware, session,
   the view or the API, the template or the JSON): the page `/appeals/?…` and `GET /api/v1/appeals?…&limit=20`
   with several filter combinations.

The data. Two years of appeals (received 2024-12-01 … 2026-11-30, local time; events after 2026-11-30 are cut off,
so the newest cases are still open) in one district of 20 streets, 40 units, 9 sections, 6 service nodes and
`appeals / 20` enterprises. Each appeal gets the events the workflow writes, with the same `data` keys
(`workflow.build_data`): submit, accept (category, accepted_at, due_at by the working-day calendar), classify
(section; 5 % into the fallback lane with its reasons), assign (lead and assisting units), sometimes
request_input/give_input, reassign (second assignments; a single-unit case passed on becomes a whistle case),
escalate + decide_escalation (approved, or refused and followed by a second assignment), reply, mark_handled,
confirm or reject_result (and the `Rating` rows they write), solve_on_spot, withdraw. The appeal's derived columns
(status, due_at, handled_at, lead unit, escalation level, …) are those the events give (`workflow.replay` agrees:
tests/test_bench_stats.py). Not written: audit trail entries, notifications, revisits (statistics read none).

The hash chain: every event's `digest`, `prev_hash` and `hash` are computed here in Python with
`qifu.audit.chain` (the same functions `seal_events` uses), so `qifu audit verify` accepts the loaded events. The
append-only triggers refuse UPDATE, DELETE and TRUNCATE only: loading is plain INSERTs (COPY on PostgreSQL,
`bulk_create` elsewhere), no trigger is suspended. `--reload` removes the region's appeals with the owner's path
(`qifu.audit.protect.suspended`, as a data migration or the test suite's flush does).

The region's description is the marker: a complete load of the same size and seed is reused, anything else is
removed and loaded again.
"""

from __future__ import annotations

import bisect
import datetime
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection, transaction

REGION = "bench-stats"
PREFIX = "bs"
ZONE = ZoneInfo("Asia/Shanghai")
FIRST_DAY = datetime.date(2024, 12, 1)
END_DAY = datetime.date(2026, 12, 1)  # exclusive: nothing happens after 2026-11-30 (local)
CUTOFF = datetime.datetime.combine(END_DAY, datetime.time(0), tzinfo=ZONE)
MONTH = "2026-10"
BATCH = 20_000  # appeals per COPY / bulk_create round
UTC = datetime.timezone.utc

STREETS = ["河庄", "义蓬", "新湾", "临江", "前进", "白杨", "下沙", "江东", "新湾东", "头蓬", "南阳", "靖江",
           "瓜沥", "党湾", "益农", "衙前", "坎山", "党山", "宁围", "新街"]
UNITS = ["区发改局", "区经信局", "区科技局", "区商务局", "区市场监管局", "区人社局", "区住建局", "区规划资源分局",
         "区生态环境分局", "区交通运输局", "区水利局", "区农业农村局", "区文旅局", "区卫健局", "区应急管理局",
         "区税务局", "区财政局", "区金融办", "区数据局", "区司法局", "区教育局", "区民政局", "区城管局",
         "区消防救援大队", "区公安分局", "区医保分局", "区统计局", "区投促局", "区人才办", "区供电公司",
         "区水务集团", "区燃气公司", "区通信管理办", "区建设发展集团", "区城投集团", "区国资办", "区审批局",
         "区综合行政执法局", "区退役军人局", "区档案馆"]
SECTIONS = ["项目服务", "人才服务", "政策服务", "科技服务", "开放服务", "金融服务", "法律服务", "诉求办理", "兜底服务"]
PROBLEMS = ["厂房用地指标审批进度咨询", "员工子女入学协调", "高新技术企业认定政策咨询", "供电线路改造排期",
            "道路施工影响货车通行", "污水管网接入申请", "人才公寓申请条件", "研发费用加计扣除辅导", "出口退税进度",
            "消防验收整改意见不一致", "企业融资贷款对接", "周边路灯不亮影响夜班通勤", "招工难需对接人力资源市场",
            "知识产权纠纷法律咨询", "环评手续办理时限", "天然气管道接入费用", "厂区周边交通信号灯设置",
            "专精特新申报材料指导", "食品经营许可变更", "施工许可证办理卡点", "政府采购款项支付进度",
            "公交线路延伸到园区", "5G基站信号覆盖不足", "社保补贴申领", "数据出境安全评估咨询"]
WORDS = "云帆 星辰 启明 海川 青禾 锦程 恒泰 瑞丰 博远 汇智 睿达 鼎新 嘉和 晟华 宏毅 卓越 易通 宇航 澜舟 若水".split()
TRADES = ["生物医药", "医疗器械", "汽车零部件", "电子元件", "智能装备", "新材料", "软件", "贸易", "物流", "食品"]
RESOLUTIONS = ["solved"] * 82 + ["explained"] * 8 + ["policy_study"] * 5 + ["persuaded"] * 5
STARS = [5] * 62 + [4] * 20 + [3] * 6 + [2] * 3 + [1] * 1 + [None] * 8


def marker(appeals: int, seed: int) -> str:
    return f"qifu bench stats v2: {appeals} appeals, seed {seed}, complete"


@dataclass
class Figures:
    appeals: int
    events: int = 0
    loaded: bool = False
    load_seconds: float = 0.0
    mix: dict = field(default_factory=dict)
    timings: dict[str, list[float]] = field(default_factory=dict)  # label → seconds of each run
    checks: dict[str, bool] = field(default_factory=dict)
    month: str = MONTH


# --- the region ------------------------------------------------------------------------------------------

@dataclass
class Org:
    region: object
    district: object
    streets: list
    units: list  # Department ids
    sections: list  # Section ids
    nodes: list  # ServiceNode ids
    channels: list  # Channel ids
    body2: int
    leader: object
    supervisor: object
    dispatcher: object
    handlers: dict  # department id → user id


def _org() -> Org:
    from qifu.accounts.models import Role, User
    from qifu.appeals.channels import ensure_default_channels
    from qifu.appeals.models import Channel
    from qifu.org.models import Body, Department, Jurisdiction, Region, Section, ServiceNode

    ensure_default_channels()
    with transaction.atomic():
        region, _ = Region.objects.get_or_create(code=REGION, defaults={
            "name": "统计基准区（合成数据）", "config": {"appeal_number_prefix": "BS"}})
        district, _ = Jurisdiction.objects.get_or_create(
            code=f"{PREFIX}-district", defaults={"region": region, "name": "基准区", "level": "district"})
        streets = []
        for i, name in enumerate(STREETS, start=1):
            street, _ = Jurisdiction.objects.get_or_create(
                code=f"{PREFIX}-street-{i:02d}",
                defaults={"region": region, "name": f"{name}街道", "level": "township", "parent": district})
            streets.append(street)
        units = [Department.objects.get_or_create(code=f"{PREFIX}-unit-{i:02d}",
                                                  defaults={"region": region, "name": name})[0]
                 for i, name in enumerate(UNITS, start=1)]
        nodes = [ServiceNode.objects.get_or_create(code=f"{PREFIX}-center", defaults={
            "region": region, "name": "基准区企业综合服务中心", "kind": "center", "jurisdiction": district})[0]]
        for i, street in enumerate(streets[:5], start=1):
            nodes.append(ServiceNode.objects.get_or_create(code=f"{PREFIX}-station-{i}", defaults={
                "region": region, "name": f"{street.name}企业服务驿站", "kind": "station", "parent": nodes[0],
                "jurisdiction": street})[0])
        sections = [Section.objects.get_or_create(code=f"{PREFIX}-section-{i}", defaults={
            "region": region, "name": f"{name}板块", "node": nodes[0], "lead_department": units[i - 1],
            "sort_order": i})[0] for i, name in enumerate(SECTIONS, start=1)]
        body2, _ = Body.objects.get_or_create(code=f"{PREFIX}-task-force", defaults={
            "region": region, "name": "基准区企业服务专班", "kind": "task_force", "escalation_level": 2})

        def user(username, role, **place):
            found = User.objects.filter(username=username).first()
            if found is None:
                found = User(username=username, display_name=username, region=region, **place)
                found.set_unusable_password()
                found.save()
            found.grant(role)
            return found

        leader = user(f"{PREFIX}-leader", Role.LEADER, jurisdiction=district)
        supervisor = user(f"{PREFIX}-supervisor", Role.SUPERVISOR)
        dispatcher = user(f"{PREFIX}-dispatcher", Role.DISPATCHER, node=nodes[0])
        handlers = {u.pk: user(f"{PREFIX}-handler-{i:02d}", Role.HANDLER, department=u).pk
                    for i, u in enumerate(units, start=1)}
    channels = list(Channel.objects.order_by("sort_order", "code").values_list("pk", flat=True))
    return Org(region, district, streets, [u.pk for u in units], [s.pk for s in sections], [n.pk for n in nodes],
               channels, body2.pk, leader, supervisor, dispatcher, handlers)


def _enterprises(org: Org, count: int) -> list[int]:
    from qifu.enterprises.models import Enterprise
    from qifu.lib import uscc

    have = Enterprise.objects.filter(region=org.region).count()
    rng = random.Random(7)
    rows = []
    for i in range(have, count):
        rows.append(Enterprise(
            region=org.region, uscc=uscc.make("91", "330199", f"{i:08d}"),
            name=f"基准{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(TRADES)}有限公司{i}",
            jurisdiction=org.streets[i % len(org.streets)], industry="C3670", size="small"))
    Enterprise.objects.bulk_create(rows, batch_size=5000)
    return list(Enterprise.objects.filter(region=org.region).order_by("pk").values_list("pk", flat=True)[:count])


# --- removing a load (the owner's path) ------------------------------------------------------------------

def wipe(region) -> None:
    """Remove the region's appeals and everything hanging on them, past the append-only triggers."""
    from qifu.appeals.models import Appeal, AppealNumber
    from qifu.audit import protect

    qn = connection.ops.quote_name
    appeals = f"SELECT id FROM {qn(Appeal._meta.db_table)} WHERE region_id = %s"
    with transaction.atomic(), protect.suspended(connection), connection.cursor() as cursor:
        for rel in Appeal._meta.get_fields(include_hidden=True):
            if (rel.one_to_many or rel.one_to_one) and rel.auto_created and not rel.concrete \
                    and rel.related_model is not Appeal:
                table = rel.related_model._meta.db_table
                cursor.execute(f"DELETE FROM {qn(table)} WHERE {qn(rel.field.column)} IN ({appeals})", [region.pk])
        cursor.execute(f"UPDATE {qn(Appeal._meta.db_table)} SET merged_into_id = NULL WHERE region_id = %s",
                       [region.pk])
        cursor.execute(f"DELETE FROM {qn(Appeal._meta.db_table)} WHERE region_id = %s", [region.pk])
        AppealNumber.objects.filter(region=region).delete()


# --- the synthetic history -------------------------------------------------------------------------------

class Deadlines:
    """deadline_for(…) with a cache per (local day, working days): the same `workdays.deadline`."""

    def __init__(self, region):
        from qifu.workcal import workdays

        self.rules = region.rules
        self.cache: dict = {}
        self.workdays = workdays

    def __call__(self, category: str, start: datetime.datetime) -> datetime.datetime:
        days = self.rules["appeal_deadlines"][category]
        day = start.astimezone(ZONE).date()
        key = (day, days)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.workdays.deadline(
                start, days, end_of_day=self.rules["deadline_end_of_day"], tz=self.rules["time_zone"]).astimezone(UTC)
        return found


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(ZONE).isoformat()


HOUR = datetime.timedelta(hours=1)


class History:
    """Appeal rows, their events (sealed) and ratings, as the workflow would have written them."""

    APPEAL_COLUMNS = ("id", "region_id", "number", "enterprise_id", "contact_name", "contact_phone", "channel_id",
                      "title", "description", "received_at", "received_node_id", "created_by_id", "idempotency_key",
                      "idempotency_hash", "category", "scope", "section_id", "lead_department_id", "merged_into_id",
                      "status", "version", "accepted_at", "due_at", "handled_at", "closed_at", "resolution", "reply",
                      "lead_count", "dissatisfied_count", "converted_to_whistle", "solved_on_spot",
                      "escalation_level", "escalation_requested_at", "fallback_reasons")
    EVENT_COLUMNS = ("appeal_id", "seq", "action", "actor_id", "at", "from_status", "to_status", "note", "data",
                     "digest", "prev_hash", "hash")
    RATING_COLUMNS = ("appeal_id", "lead_department_id", "solved", "stars", "rated", "comment", "rated_by_id",
                      "rated_at")

    def __init__(self, org: Org, enterprises: list[int], seed: int):
        from qifu.audit import chain

        self.org = org
        self.enterprises = enterprises
        self.rng = random.Random(seed)
        self.deadline = Deadlines(org.region)
        self.rules = org.region.rules
        self.chain = chain
        self.subject = "appeals.appeal"
        # receipt days, weighted: working days 5, other days 1
        from qifu.workcal import workdays

        self.days, weights = [], []
        day = FIRST_DAY
        while day < END_DAY:
            self.days.append(day)
            weights.append(5 if workdays.is_workday(day) else 1)
            day += datetime.timedelta(days=1)
        total, running = sum(weights), 0
        self.cumulative = []
        for w in weights:
            running += w
            self.cumulative.append(running / total)
        self.numbers: dict[datetime.date, int] = {}

    # one appeal ------------------------------------------------------------------------------------------
    def receipts(self, count: int) -> list[datetime.datetime]:
        """The times of receipt of `count` appeals, oldest first: ids (and so the rows on disk) follow time, as
        they do in production, where a month's appeals and events lie near each other."""
        rng, out = self.rng, []
        for _ in range(count):
            day = self.days[min(bisect.bisect_left(self.cumulative, rng.random()), len(self.days) - 1)]
            local = datetime.datetime.combine(day, datetime.time(8, 30), tzinfo=ZONE) + datetime.timedelta(
                seconds=rng.randrange(0, 9 * 3600), microseconds=rng.randrange(0, 1_000_000))
            out.append(local.astimezone(UTC))
        out.sort()
        return out

    def appeal(self, pk: int, received: datetime.datetime):
        """(appeal row, event rows, rating rows, assisting unit ids)."""
        rng, org = self.rng, self.org
        day = received.astimezone(ZONE).date()
        n = self.numbers[day] = self.numbers.get(day, 0) + 1
        enterprise = self.enterprises[int(len(self.enterprises) * rng.random() ** 1.6)]
        online = rng.random() < 0.15
        channel = org.channels[1 if online and len(org.channels) > 1 else rng.randrange(len(org.channels))]
        node = org.nodes[0] if rng.random() < 0.7 else org.nodes[rng.randrange(len(org.nodes))]
        dispatcher = org.dispatcher.pk
        title = PROBLEMS[rng.randrange(len(PROBLEMS))]
        s = {  # the derived columns, as workflow.apply sets them
            "status": "", "category": "", "scope": "point", "section_id": None, "lead_department_id": None,
            "accepted_at": None, "due_at": None, "handled_at": None, "closed_at": None, "resolution": "", "reply": "",
            "lead_count": 0, "dissatisfied_count": 0, "converted_to_whistle": False, "solved_on_spot": False,
            "escalation_level": 1, "escalation_requested_at": None, "fallback_reasons": [], "merged_into_id": None,
        }
        events, ratings = [], []
        assisting: list[int] = []
        state = {"at": received, "prev": self.chain.GENESIS, "stop": False}

        def event(action, actor, to_status, data=None, note="", at=None):
            if state["stop"]:
                return False
            at = at or state["at"]
            if at >= CUTOFF:
                state["stop"] = True
                return False
            state["at"] = at
            data = data or {}
            seq = len(events) + 1
            frm = s["status"]
            digest = self.chain.event_digest(subject=self.subject, subject_id=pk, seq=seq, action=action,
                                             actor_id=actor, at=at, from_status=frm, to_status=to_status, note=note,
                                             data=data)
            h = self.chain.link(state["prev"], digest)
            events.append((pk, seq, action, actor, at, frm, to_status, note, json.dumps(data, ensure_ascii=False),
                           digest, state["prev"], h))
            state["prev"] = h
            # workflow.apply
            s["status"] = to_status
            for key in ("category", "scope"):
                if key in data:
                    s[key] = data[key]
            if "section" in data:
                s["section_id"] = data["section"]
            if "accepted_at" in data:
                s["accepted_at"] = at
            if "due_at" in data:
                s["due_at"] = datetime.datetime.fromisoformat(data["due_at"]).astimezone(UTC)
            if data.get("converted_to_whistle"):
                s["converted_to_whistle"] = True
            if "lead_department" in data:
                if data["lead_department"] != s["lead_department_id"]:
                    s["lead_count"] += 1
                s["lead_department_id"] = data["lead_department"]
                assisting[:] = data.get("assisting_departments", [])
            if action in ("reply", "solve_on_spot"):
                s["resolution"], s["reply"] = data["resolution"], data["text"]
            if action == "mark_handled":
                s["handled_at"] = at
            if action == "solve_on_spot":
                s["solved_on_spot"], s["handled_at"] = True, at
            if to_status == "closed":
                s["closed_at"] = at
            if action == "reject_result":
                s["dissatisfied_count"] += 1
                s["handled_at"] = None
            if "fallback_reasons" in data:
                s["fallback_reasons"] = data["fallback_reasons"]
            if action == "escalate":
                s["escalation_requested_at"] = at
            if action == "decide_escalation":
                s["escalation_requested_at"] = None
                if data.get("approve"):
                    s["escalation_level"] = data["level"]
            if to_status != "assigned":
                s["escalation_requested_at"] = None
            if action in ("confirm", "reject_result", "solve_on_spot"):  # workflow.record_rating
                ratings.append((pk, s["lead_department_id"], data.get("solved", False), data.get("rating"),
                                data.get("rated", bool(data.get("rating"))), data.get("comment", ""), actor, at))
            return True

        def later(hours_low, hours_high):
            return state["at"] + HOUR * (hours_low + (hours_high - hours_low) * rng.random())

        u = rng.random()
        category = "simple" if u < 0.2 else "single" if u < 0.72 else "whistle"
        event("submit", None if online else dispatcher, "submitted", {})
        accepted = later(0.2, 20) if online else received
        if not event("accept", dispatcher, "accepted", {
                "category": category, "accepted_at": _iso(accepted),
                "due_at": _iso(self.deadline(category, accepted))}, at=accepted):
            return self._rows(pk, day, n, enterprise, channel, node, online, title, received, s, events, ratings,
                              assisting)
        fate = rng.random()
        if fate < 0.025:
            event("withdraw", dispatcher, "withdrawn", {}, note="企业已自行解决，申请撤回", at=later(2, 60))
        elif fate < 0.10:
            event("solve_on_spot", dispatcher, "closed", {
                "resolution": "solved", "text": "窗口当场答复并办结。", "rating": rng.choice([5, 5, 5, 4, 4, 3, 2]),
                "comment": "", "solved": True}, at=later(0.1, 1))
        else:
            self._assigned_life(event, later, s, category, dispatcher, state)
        return self._rows(pk, day, n, enterprise, channel, node, online, title, received, s, events, ratings,
                          assisting)

    def _assigned_life(self, event, later, s, category, dispatcher, state):
        rng, org = self.rng, self.org
        fallback = rng.random() < 0.05
        data = {"category": category, "section": org.sections[rng.randrange(len(org.sections) - 1)]}
        if fallback:
            category = rng.choice(["fallback_on_spot", "fallback_chief", "fallback_deliberation"])
            data = {"category": category, "fallback_reasons": [rng.choice(["no_place", "no_lead", "no_precedent"])],
                    "section": org.sections[-1]}
        data["due_at"] = _iso(self.deadline(category, s["accepted_at"]))
        if not event("classify", dispatcher, "accepted", data, at=later(0.2, 4)):
            return
        lead = org.units[int(len(org.units) * rng.random() ** 1.5)]
        helpers = [d for d in {org.units[rng.randrange(len(org.units))] for _ in range(rng.choice([0, 0, 0, 1, 2]))}
                   if d != lead]
        if not event("assign", dispatcher, "assigned", {"lead_department": lead, "assisting_departments": helpers},
                     at=later(0.2, 6)):
            return
        # How long the lead unit takes, as a share of the time the class allows (>1: late; very large: stuck).
        r = rng.random()
        share = 0.1 + 0.85 * rng.random() if r < 0.70 else 1.0 + 1.5 * rng.random() if r < 0.82 else \
            3 + 300 * rng.random()
        allowed = s["due_at"] - s["accepted_at"]
        handler = org.handlers[lead]
        if rng.random() < 0.10 and helpers:
            event("request_input", handler, "assigned", {"text": "请协办单位提供意见。"}, at=later(1, 20))
            event("give_input", org.handlers[helpers[0]], "assigned", {"text": "已提供协办意见。"}, at=later(1, 30))
        if rng.random() < 0.06:  # passed to another unit (二次交办)
            other = org.units[rng.randrange(len(org.units))]
            if other != lead:
                data = {"lead_department": other, "assisting_departments": [h for h in helpers if h != other]}
                if s["category"] == "single" and s["lead_count"] + 1 >= self.rules["whistle_after_leads"]:
                    data.update({"category": "whistle", "converted_to_whistle": True,
                                 "due_at": _iso(self.deadline("whistle", s["accepted_at"]))})
                if event("reassign", dispatcher, "assigned", data, note="职能不符，改由其他单位牵头",
                         at=later(2, 30)):
                    lead, handler = other, org.handlers[other]
        if rng.random() < 0.035:  # up the ladder
            if event("escalate", handler, "assigned", {
                    "from_level": 1, "to_level": 2, "body": org.body2, "reason": "涉及多部门，需专班协调",
                    "statement": "已召开协调会，未能解决", "attachments": []}, note="涉及多部门，需专班协调",
                    at=later(4, 48)):
                if rng.random() < 0.7:
                    event("decide_escalation", dispatcher, "assigned", {
                        "approve": True, "from_level": 1, "level": 2, "body": org.body2, "note": ""},
                        at=later(4, 72))
                else:
                    note = "不符合提级条件，二次交办"
                    other = org.units[rng.randrange(len(org.units))]
                    helper = org.units[(org.units.index(other) + 1) % len(org.units)]
                    if event("decide_escalation", dispatcher, "assigned", {
                            "approve": False, "from_level": 1, "requested_level": 2, "body": org.body2,
                            "note": note}, note=note, at=later(4, 72)):
                        data = {"lead_department": other, "assisting_departments": [helper],
                                "second_assignment": True}
                        again = s["category"]
                        if again == "single" and s["lead_count"] + (other != s["lead_department_id"]) >= \
                                self.rules["whistle_after_leads"]:
                            again = "whistle"
                            data.update({"category": again, "converted_to_whistle": True})
                        if self.rules["second_assignment_resets_deadline"]:
                            data["due_at"] = _iso(self.deadline(again, state["at"]))
                        event("reassign", dispatcher, "assigned", data, note=note)
                        lead, handler = other, org.handlers[other]
        for attempt in range(2):
            handled = max(state["at"] + HOUR, s["accepted_at"] + allowed * share) if attempt == 0 else later(8, 96)
            resolution = RESOLUTIONS[rng.randrange(len(RESOLUTIONS))]
            replied = max(state["at"], handled - datetime.timedelta(minutes=5 + 50 * rng.random()))
            if not event("reply", handler, "assigned", {"resolution": resolution, "text": "已答复企业，具体见办理意见。"},
                         at=replied):
                return
            if not event("mark_handled", handler, "handled", {}, at=handled):
                return
            fate = rng.random()
            if fate < 0.05 and attempt == 0:
                rejected = later(2, 72)
                data = {"solved": False, "rating": rng.choice([1, 2]), "comment": "问题没有实际解决"}
                if self.rules["reopen_resets_deadline"]:
                    data["due_at"] = _iso(self.deadline(s["category"], rejected))
                if not event("reject_result", None, "assigned", data, at=rejected):
                    return
                continue
            if fate < 0.95:
                event("confirm", None, "closed", {"solved": True, "rating": STARS[rng.randrange(len(STARS))],
                                                  "comment": ""}, at=later(1, 96))
            return  # else: handled, the enterprise has not answered

    def _rows(self, pk, day, n, enterprise, channel, node, online, title, received, s, events, ratings, assisting):
        row = (pk, self.org.region.pk, f"BS-{day:%Y%m%d}-{n:04d}", enterprise, "联系人", "1380000" + f"{pk % 10000:04d}",
               channel, title, f"{title}，请协调解决。", received, node, None if online else self.org.dispatcher.pk,
               "", "", s["category"], s["scope"], s["section_id"], s["lead_department_id"], None,
               s["status"], len(events), s["accepted_at"], s["due_at"], s["handled_at"], s["closed_at"],
               s["resolution"], s["reply"], s["lead_count"], s["dissatisfied_count"], s["converted_to_whistle"],
               s["solved_on_spot"], s["escalation_level"], s["escalation_requested_at"],
               json.dumps(s["fallback_reasons"]))
        return row, events, ratings, assisting


# --- loading ---------------------------------------------------------------------------------------------

def load(org: Org, appeals: int, seed: int, log=print) -> int:
    """Write `appeals` appeals with their events, ratings and assisting units. Returns the number of events."""
    from django.db.models import Max

    from qifu.appeals.models import Appeal, AppealEvent, AppealNumber, Rating

    assisting_model = Appeal.assisting_departments.through
    for model, written in ((Appeal, History.APPEAL_COLUMNS), (AppealEvent, ("id", *History.EVENT_COLUMNS)),
                           (Rating, ("id", *History.RATING_COLUMNS))):
        columns = {f.column for f in model._meta.concrete_fields}
        if columns != set(written):  # a new column needs a value here (as the workflow writes it)
            raise RuntimeError(f"{model.__name__} columns changed: {sorted(columns ^ set(written))}")
    enterprises = _enterprises(org, max(50, appeals // 20))
    history = History(org, enterprises, seed)
    receipts = history.receipts(appeals)
    first = (Appeal.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    postgres = connection.vendor == "postgresql"
    events_total, started = 0, time.perf_counter()
    for start in range(0, appeals, BATCH):
        size = min(BATCH, appeals - start)
        appeal_rows, event_rows, rating_rows, assisting_rows = [], [], [], []
        for pk in range(first + start, first + start + size):
            row, events, ratings, assisting = history.appeal(pk, receipts[pk - first])
            appeal_rows.append(row)
            event_rows += events
            rating_rows += ratings
            assisting_rows += [(pk, d) for d in assisting]
        with transaction.atomic():
            if postgres:
                _copy(Appeal, History.APPEAL_COLUMNS, appeal_rows)
                _copy(AppealEvent, History.EVENT_COLUMNS, event_rows)
                _copy(Rating, History.RATING_COLUMNS, rating_rows)
                _copy(assisting_model, ("appeal_id", "department_id"), assisting_rows)
            else:
                _bulk(Appeal, History.APPEAL_COLUMNS, appeal_rows)
                # plain INSERTs of rows already sealed (bulk_create of the event manager would seal them again)
                _bulk(AppealEvent, History.EVENT_COLUMNS, event_rows, manager=AppealEvent._base_manager)
                _bulk(Rating, History.RATING_COLUMNS, rating_rows)
                _bulk(assisting_model, ("appeal_id", "department_id"), assisting_rows)
        events_total += len(event_rows)
        done = start + size
        if done == appeals or done % 100_000 == 0:
            log(f"  loaded {done:,} appeals, {events_total:,} events ({time.perf_counter() - started:.0f} s)")
    AppealNumber.objects.bulk_create(
        [AppealNumber(region=org.region, day=day, last=n) for day, n in history.numbers.items()],
        update_conflicts=True, unique_fields=["region", "day"], update_fields=["last"])
    _reset_sequences([Appeal])
    return events_total


def _copy(model, columns, rows) -> None:
    if not rows:
        return
    qn = connection.ops.quote_name
    sql = f"COPY {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _bulk(model, columns, rows, manager=None) -> None:
    if not rows:
        return
    fields = {f.column: f.attname for f in model._meta.concrete_fields}
    objs = []
    for row in rows:
        obj = model()
        for column, value in zip(columns, row):
            if column in ("data", "fallback_reasons"):
                value = json.loads(value)
            setattr(obj, fields[column], value)
        objs.append(obj)
    (manager or model._default_manager).bulk_create(objs, batch_size=2000)


def _reset_sequences(models) -> None:
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def analyze() -> None:
    if connection.vendor == "postgresql" and not connection.in_atomic_block:  # VACUUM: index-only scans
        with connection.cursor() as cursor:
            for table in ("appeals_appeal", "appeals_appealevent", "appeals_rating", "appeals_appeal_assisting_departments",
                          "enterprises_enterprise"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def mix(region) -> dict:
    from django.db.models import Count

    from qifu.appeals.models import Appeal, AppealEvent

    statuses = dict(Appeal.objects.filter(region=region).order_by().values_list("status").annotate(n=Count("pk")))
    events = AppealEvent.objects.filter(appeal__region=region).count()
    return {"statuses": statuses, "events": events}


# --- timing ----------------------------------------------------------------------------------------------

def _times(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def list_queries(org: Org) -> list[tuple[str, str]]:
    """(label, query string) of the list filters users set, in the page's form (dates)."""
    from qifu.org.models import Department, Section

    unit = Department.objects.get(pk=org.units[0]).code
    section = Section.objects.get(pk=org.sections[2]).code
    return [
        ("status=assigned&received_after=2026-10-01", "status=assigned&received_after=2026-10-01"),
        ("no filter (first page)", ""),
        ("overdue=yes", "overdue=yes"),
        ("section + status=closed", f"section={section}&status=closed"),
        ("lead unit + October", f"lead_department={unit}&received_after=2026-10-01&received_before=2026-11-01"),
        ("q=用地 (title text)", "q=用地"),
        ("q=enterprise name part", "q=晟华鼎新"),
        ("escalation_level=2", "escalation_level=2"),
        ("abnormal=dissatisfied", "abnormal=dissatisfied"),
        ("abnormal=reassigned + October", "abnormal=reassigned&received_after=2026-10-01&received_before=2026-11-01"),
    ]


def _api_query(query: str) -> str:
    """The page's dates as the API's instants (local midnight, +08:00)."""
    parts = []
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        if key in ("received_after", "received_before"):
            value = f"{value}T00:00:00%2B08:00"
        elif key == "overdue":
            value = "true"
        parts.append(f"{key}={value}")
    return "&".join(parts + ["limit=20"])


def prepare(figures: Figures, appeals: int, seed: int, reload: bool, log=print) -> Org:
    """The region with `appeals` appeals and their events: reused when a complete load of the same size and seed
    is there (and `reload` is not asked), else removed and loaded again. Fills `figures` (load time, mix)."""
    from qifu.org.models import Region

    org = _org()
    region = Region.objects.get(pk=org.region.pk)
    want = marker(appeals, seed)
    if region.description == want and not reload:
        log(f"reusing the loaded data ({want})")
    else:
        if region.appeals.exists():
            log("removing the region's earlier appeals (owner's path, triggers suspended)")
            t = time.perf_counter()
            wipe(region)
            log(f"  removed in {time.perf_counter() - t:.1f} s")
        Region.objects.filter(pk=region.pk).update(description="")
        t = time.perf_counter()
        figures.events = load(org, appeals, seed, log=log)
        figures.load_seconds = time.perf_counter() - t
        figures.loaded = True
        log(f"loaded {appeals:,} appeals and {figures.events:,} events in {figures.load_seconds:.0f} s")
        t = time.perf_counter()
        analyze()
        log(f"VACUUM ANALYZE: {time.perf_counter() - t:.0f} s")
        Region.objects.filter(pk=region.pk).update(description=want)
    figures.mix = mix(region)
    figures.events = figures.mix["events"]
    log(f"appeals by status: {figures.mix['statuses']}; events: {figures.events:,}")
    return org


def run(appeals: int, seed: int = 1, reload: bool = False, repeat: int = 5, month: str = MONTH,
        lists: bool = True, time_stats: bool = True, log=print) -> Figures:
    from django.test import Client

    from qifu.appeals import stats

    figures = Figures(appeals, month=month)
    org = prepare(figures, appeals, seed, reload, log)

    period = stats.month_period(month)
    for who, user in (("leader (district)", org.leader), ("supervisor (region)", org.supervisor)) if time_stats else ():
        result = stats.compute(user, period, by="department")
        label = f"stats {month} by unit, {who}"
        figures.timings[label] = _times(lambda u=user: stats.compute(u, period, by="department"), repeat)
        log(f"{label}: {_summary(figures.timings[label])}; received {result.total['received']:,}, handled "
            f"{result.total['handled']:,}, on time {result.total['on_time_rate']}, overdue open "
            f"{result.total['overdue_open']:,}, escalated {result.total['escalated']:,}, dissatisfied "
            f"{result.total['dissatisfied']:,}, {len(result.rows)} rows")
        figures.checks[f"stats for the {who} under 1 s (median)"] = statistics.median(figures.timings[label]) < 1.0
    if lists:
        client = Client()
        client.force_login(org.dispatcher)
        for label, query in list_queries(org):
            for kind, url in (("page", f"/appeals/?{query}"), ("API", f"/api/v1/appeals?{_api_query(query)}")):
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: {response.status_code}")
                body = response.json() if kind == "API" else None
                count = body["count"] if body else None
                more = "more than " if body and body.get("count_capped") else ""
                name = f"{kind} {label}"
                figures.timings[name] = _times(lambda u=url: client.get(u), repeat)
                log(f"{name}: {_summary(figures.timings[name])}" + (
                    f"; {more}{count:,} rows match" if count is not None else ""))
                figures.checks[f"{name} under 200 ms (median)"] = statistics.median(figures.timings[name]) < 0.2
    return figures


def _summary(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:,.0f} ms, best {min(seconds) * 1000:,.0f} ms " \
           f"({len(seconds)} runs)"
