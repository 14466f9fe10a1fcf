"""The demo region: the qiantang preset, a few hundred fictional enterprises and one user per role.

Everything here is made up (people are obviously fictional, codes are valid but random).
Loading twice changes nothing.
"""

import datetime
import random

from django.db import transaction

from qifu.accounts.models import Role, User
from qifu.enterprises.models import Enterprise, Tag
from qifu.lib import uscc
from qifu.org import preset
from qifu.org.models import Jurisdiction, Post, Region, RosterShift, ServiceNode

REGION = "qiantang"
PASSWORD = "qifu2026"
ENTERPRISE_COUNT = 300
DIVISION = "330114"  # 钱塘区

# username, role, display name
USERS = [
    ("admin", Role.ADMIN, "管理员（演示）"),
    ("frontdesk", Role.FRONT_DESK, "前台小吕（演示）"),
    ("dispatcher", Role.DISPATCHER, "调度小周（演示）"),
    ("handler", Role.HANDLER, "部门经办小郑（演示）"),
    ("chief", Role.CHIEF_SPECIALIST, "首席专员小钱（演示）"),
    ("specialist", Role.SPECIALIST, "服务专员小孙（演示）"),
    ("liaison", Role.LIAISON, "助企员小李（演示）"),
    ("supervisor", Role.SUPERVISOR, "督查小吴（演示）"),
    ("leader", Role.LEADER, "分管领导老冯（演示）"),
    ("enterprise", Role.ENTERPRISE, "企业联系人小陈（演示）"),
    ("station", Role.FRONT_DESK, "驿站值守小卫（演示）"),
]

INDUSTRIES = [
    ("C2720", "生物医药"), ("C2770", "医疗器械"), ("C3670", "汽车零部件"), ("C3982", "电子元件"),
    ("C3831", "电机"), ("C3489", "智能装备"), ("C2669", "新材料"), ("C3311", "金属结构"),
    ("I6513", "软件"), ("I6450", "互联网科技"), ("M7320", "工程研发"), ("M7520", "科技服务"),
    ("F5179", "贸易"), ("G5990", "物流"), ("L7212", "企业管理咨询"), ("C1391", "食品"),
]
SIZES = ["micro"] * 4 + ["small"] * 4 + ["medium"] * 2 + ["large"]
TAGS = ["专精特新", "规上工业", "高新技术企业", "科技型中小企业", "小升规", "外资企业", "上市后备"]
WORDS = "云帆 星辰 启明 海川 青禾 锦程 恒泰 瑞丰 博远 汇智 睿达 鼎新 嘉和 晟华 宏毅 卓越 易通 宇航 澜舟 若水".split()
ROADS = ["福城路", "文渊路", "学林街", "围垦街", "江东大道", "青六路", "纬七路", "经二路", "海达路", "临江大道"]


def _jurisdictions(region: Region) -> list[Jurisdiction]:
    below = list(region.jurisdictions.filter(level__in=["township", "park"]).order_by("code"))
    return below or list(region.jurisdictions.filter(level="district"))


def _org_body(rng: random.Random) -> str:
    return "".join(rng.choice(uscc.CHARSET[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))


def _enterprises(region: Region) -> int:
    rng = random.Random(2026)
    places = _jurisdictions(region)
    tags = {name: Tag.objects.get_or_create(name=name, defaults={"category": "演示"})[0] for name in TAGS}
    existing = set(Enterprise.objects.filter(region=region).values_list("uscc", flat=True))
    names: set[str] = set()
    for i in range(ENTERPRISE_COUNT):
        code, word = INDUSTRIES[i % len(INDUSTRIES)]
        while True:
            name = f"杭州{rng.choice(WORDS)}{rng.choice(WORDS)}{word}有限公司"
            if name not in names:
                names.add(name)
                break
        credit_code = uscc.make("91", DIVISION, _org_body(rng))
        place = places[i % len(places)] if places else None
        size = rng.choice(SIZES)
        registered = datetime.date(2005, 1, 1) + datetime.timedelta(days=rng.randrange(0, 7000))
        chosen = rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2]))
        address = f"浙江省杭州市钱塘区{place.name if place else ''}{rng.choice(ROADS)}{rng.randrange(1, 999)}号"
        if credit_code in existing:
            continue
        enterprise = Enterprise.objects.create(
            region=region, uscc=credit_code, name=name, registered_address=address, jurisdiction=place,
            industry=code, size=size, registration_date=registered,
        )
        if chosen:
            enterprise.tags.set([tags[t] for t in chosen])
    return Enterprise.objects.filter(region=region).count()


def _users(region: Region) -> None:
    center = region.nodes.filter(kind=ServiceNode.Kind.CENTER).order_by("code").first()
    station = region.nodes.filter(kind=ServiceNode.Kind.STATION).order_by("code").first()
    district = region.jurisdictions.filter(level="district").order_by("code").first()
    sections = list(region.sections.order_by("sort_order", "code"))
    appeals = next((s for s in sections if s.kind == "appeals"), sections[0] if sections else None)
    demo_enterprise = Enterprise.objects.filter(region=region).order_by("id").first()
    place = {
        "admin": {},
        "frontdesk": {"node": center},
        "dispatcher": {"node": center},
        "handler": {"department": appeals.lead_department if appeals else None},
        "chief": {"node": center},
        "specialist": {"node": center},
        "liaison": {"jurisdiction": district},
        "supervisor": {"jurisdiction": district},
        "leader": {"jurisdiction": district},
        "enterprise": {"enterprise": demo_enterprise},
        "station": {"node": station or center},
    }
    for username, role, display_name in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, display_name=display_name, region=region, **place[username])
            user.set_password(PASSWORD)
            if role == Role.ADMIN:
                user.is_staff = user.is_superuser = True
            user.save()
        user.grant(role)
    # Every other unit has its own (fictional) handler, so chases and slips reach somebody; they sign in through
    # 浙政钉 in real life, so in the demo they have no password.
    handler_dept = place["handler"]["department"]
    for dept in region.departments.exclude(pk=getattr(handler_dept, "pk", None)).order_by("code"):
        user, created = User.objects.get_or_create(
            username=f"handler-{dept.code}",
            defaults={"display_name": f"{dept.name}经办人（演示）", "region": region, "department": dept})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.grant(Role.HANDLER)
    # The demo liaison officer (助企员) follows the demo enterprise and some others (pairings: the admin's
    # 助企员 page, qifu.enterprises.LiaisonOfficer).
    from qifu.enterprises.models import LiaisonOfficer

    officer, _new = LiaisonOfficer.objects.get_or_create(user=User.objects.get(username="liaison"),
                                                         defaults={"region": region})
    paired = list(Enterprise.objects.filter(region=region).order_by("id").values_list("pk", flat=True)[:30])
    officer.enterprises.add(*paired)
    chief, specialist = User.objects.get(username="chief"), User.objects.get(username="specialist")
    for section in sections[:3]:
        if section.chief_specialist_id is None:
            section.chief_specialist = chief
            section.save()
        section.specialists.add(specialist)
        Post.objects.get_or_create(
            code=f"{section.code}-desk",
            defaults={"region": region, "node": section.node or center, "section": section,
                      "title": f"{section.name}服务岗", "holder": chief, "backup": specialist},
        )
    if station:
        today = datetime.date.today()
        for offset in range(14):
            day = today + datetime.timedelta(days=offset)
            if day.weekday() in (1, 3):  # two clerks rotate into the park station twice a week
                RosterShift.objects.get_or_create(node=station, user=specialist if offset % 2 else chief, date=day)


def load() -> dict:
    with transaction.atomic():
        preset.load(REGION)
        region = Region.objects.get(code=REGION)
        count = _enterprises(region)
        _users(region)
        from . import profiles

        profiles.load(region)
        from . import policies

        policies.load(region)
        from . import appeals

        appeal_count = appeals.load(region)
        from . import ladder

        ladder.load(region)
        from . import supervision

        supervision.load(region)
        from . import knowledge

        knowledge.load(region)
        from . import catalog

        catalog.load(region)
        from . import bookings

        bookings.load(region)
        from . import frontdesk

        frontdesk.load(region)
        from . import ranking

        ranking.load(region)
        from . import scenarios

        scenarios.load(region)
    return {
        "region": region.name, "enterprises": count, "sections": region.sections.count(),
        "nodes": region.nodes.count(), "appeals": appeal_count,
    }


def logins() -> list[tuple[str, str, str]]:
    from . import ladder

    return [(username, Role(role).label, PASSWORD) for username, role, _ in USERS] + ladder.logins()


