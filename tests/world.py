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
