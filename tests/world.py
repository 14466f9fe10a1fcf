"""A small fictional region with one user per role, built directly (no preset) for fast tests."""

import itertools

from qifu.accounts.models import ApiToken, Role, User
from qifu.enterprises.models import Enterprise
from qifu.lib import uscc
from qifu.org.models import Department, Jurisdiction, Region, Section, ServiceNode

_serial = itertools.count(1)


def credit_code(n: int | None = None) -> str:
    n = next(_serial) if n is None else n
    return uscc.make("91", "330114", f"{n:08d}")


class World:
    def __init__(self, code: str = "w"):
        self.region = Region.objects.create(code=code, name=f"{code}区")
        self.province = Jurisdiction.objects.create(region=self.region, code=f"{code}-p", name="浙江省", level="province")
        self.district = Jurisdiction.objects.create(region=self.region, code=f"{code}-d", name="示范区", level="district",
                                                    parent=self.province)
        self.east = Jurisdiction.objects.create(region=self.region, code=f"{code}-east", name="东街道", level="township",
                                                parent=self.district)
        self.west = Jurisdiction.objects.create(region=self.region, code=f"{code}-west", name="西街道", level="township",
                                                parent=self.district)
        self.center = ServiceNode.objects.create(region=self.region, code=f"{code}-center", name="示范中心",
                                                kind="center", jurisdiction=self.district)
        self.station = ServiceNode.objects.create(region=self.region, code=f"{code}-station", name="东驿站",
                                                 kind="station", parent=self.center, jurisdiction=self.east)
        self.dept = Department.objects.create(region=self.region, code=f"{code}-fgj", name="发改局")
        self.other_dept = Department.objects.create(region=self.region, code=f"{code}-rsj", name="人社局")
        self.section = Section.objects.create(region=self.region, code=f"{code}-policy", name="政策服务板块",
                                              kind="policy", node=self.center, lead_department=self.dept)
        self.ent_east = Enterprise.objects.create(region=self.region, uscc=credit_code(), name="东方演示科技有限公司",
                                                  jurisdiction=self.east, industry="I6513", size="small")
        self.ent_west = Enterprise.objects.create(region=self.region, uscc=credit_code(), name="西方演示制造有限公司",
                                                  jurisdiction=self.west, industry="C3670", size="medium")
        self.users = {}
        places = {
            Role.ADMIN: {},
            Role.FRONT_DESK: {"node": self.center},
            Role.DISPATCHER: {"node": self.center},
            Role.HANDLER: {"department": self.dept},
            Role.CHIEF_SPECIALIST: {"node": self.center},
            Role.SPECIALIST: {"node": self.center},
            Role.LIAISON: {"jurisdiction": self.district},
            Role.SUPERVISOR: {"jurisdiction": self.west},
            Role.LEADER: {"jurisdiction": self.district},
            Role.ENTERPRISE: {"enterprise": self.ent_east},
        }
        for role, place in places.items():
            user = User.objects.create_user(f"{code}-{role}", password="pw-12345", region=self.region, **place)
            user.grant(role)
            self.users[role] = user
        self.station_user = User.objects.create_user(f"{code}-station", password="pw-12345", region=self.region,
                                                     node=self.station)
        self.station_user.grant(Role.FRONT_DESK)
        self.west_user = User.objects.create_user(f"{code}-west-ent", password="pw-12345", region=self.region,
                                                  enterprise=self.ent_west)
        self.west_user.grant(Role.ENTERPRISE)

    def token(self, user) -> str:
        return ApiToken.objects.issue(user)[1]


def populated(code: str = "fz") -> World:
    """A World with something behind every list and id: three appeals (one assigned), the policy library
    of tests/test_policies.py published and matched, an approved application with its payout, and
    notifications. `w.ids` maps each API path parameter to existing ids."""
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile

    from qifu.appeals import workflow
    from qifu.appeals.channels import ensure_default_channels
    from qifu.appeals.models import Appeal, Channel
    from qifu.notify import notify
    from qifu.policies import applications, services
    from qifu.policies.models import Application, Payout, Policy, PolicyClause

    from .test_policies import YAML

    ensure_default_channels()
    w = World(code)
    services.import_yaml(YAML.replace("w-fgj", f"{code}-fgj"), w.region.code)
    for policy in Policy.objects.all():
        services.publish(policy)
    desk, walk_in = w.users[Role.FRONT_DESK], Channel.objects.get(code="walk_in")
    for i in range(3):
        appeal, _new = workflow.register(actor=desk, enterprise=w.ent_east, channel=walk_in, title=f"演示诉求{i}",
                                         description="消防验收咨询", category="single",
                                         received_at=datetime.datetime.fromisoformat("2026-11-20T10:00:00+08:00"))
    w.assigned = workflow.perform(appeal.pk, "assign", w.users[Role.DISPATCHER], appeal.version,
                                  lead_department=w.dept.code)
    clause = PolicyClause.objects.get(code="W-RD-2")
    application = applications.submit(clause, w.ent_east, w.users[Role.ENTERPRISE], {
        name: SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.4 demo") for i, name in enumerate(clause.materials)})
    applications.perform(application, "start_review", w.users[Role.ADMIN], application.version)
    applications.perform(application, "approve", w.users[Role.ADMIN], application.version + 1, amount="50000")
    notify([w.users[Role.ADMIN], w.users[Role.ENTERPRISE]], "demo", "演示通知", "正文")
    w.application = application
    w.ids = {
        "appeal_id": list(Appeal.objects.values_list("pk", flat=True)),
        "enterprise_id": [w.ent_east.pk, w.ent_west.pk],
        "policy_id": list(Policy.objects.values_list("pk", flat=True)),
        "clause_id": list(PolicyClause.objects.values_list("pk", flat=True)),
        "application_id": list(Application.objects.values_list("pk", flat=True)),
        "payout_id": list(Payout.objects.values_list("pk", flat=True)),
        "notification_id": [n.pk for u in (w.users[Role.ADMIN], w.users[Role.ENTERPRISE]) for n in u.notifications.all()],
    }
    return w
