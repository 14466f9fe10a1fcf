"""Lists stay fast: every list of the API and of the pages is cut in the database (LIMIT) and costs the same
number of queries for 5 rows as for 50 — a list that ran a query per row, or built every row before
cutting the page, fails here."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.models import Channel
from qifu.enterprises.models import Enterprise, Tag
from qifu.notify.models import Notification
from qifu.org.models import Department, Section, ServiceNode, Zone
from qifu.policies.models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    Payout,
    Policy,
    PolicyClause,
)

from .world import World, credit_code

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 50


class Rows:
    """Makes at least `n` rows behind each list (idempotent: the second call adds the difference)."""

    def __init__(self, world):
        self.w = world
        self.policy = Policy.objects.create(region=world.region, code="Q-LIST", title="清单政策", status="published",
                                            department=world.dept, effective_from=datetime.date(2020, 1, 1))
        self.clause = PolicyClause.objects.create(policy=self.policy, code="Q-LIST-1", title="条款",
                                                  materials=["申报书"])
        self.tag = Tag.objects.create(name="清单标签")
        self.channel = Channel.objects.get(code="walk_in")

    def _enterprises(self, n):
        have = list(Enterprise.objects.filter(region=self.w.region, name__startswith="清单企业"))
        for i in range(len(have), n):
            have.append(Enterprise.objects.create(region=self.w.region, uscc=credit_code(), name=f"清单企业{i:03d}",
                                                  jurisdiction=self.w.east if i % 2 else self.w.west, industry="C3670"))
        return have[:n]

    def appeals(self, n):
        desk = self.w.users[Role.FRONT_DESK]
        made = self.w.region.appeals.count()
        for i, enterprise in enumerate(self._enterprises(n)[made:], start=made):
            appeal, _new = workflow.register(
                actor=desk, enterprise=enterprise, channel=self.channel, title=f"诉求{i}", description="说明",
                category="single", received_at=timezone.now() - datetime.timedelta(hours=i))
            if i % 2:
                workflow.perform(appeal, "assign", self.w.users[Role.DISPATCHER], appeal.version,
                                 lead_department=self.w.dept.code, assisting_departments=[self.w.other_dept.code])

    def enterprises(self, n):
        for e in self._enterprises(n):
            e.tags.add(self.tag)

    def departments(self, n):
        for i in range(Department.objects.filter(code__startswith="q-d").count(), n):
            Department.objects.create(region=self.w.region, code=f"q-d{i}", name=f"部门{i}")

    def sections(self, n):
        for i in range(Section.objects.filter(code__startswith="q-s").count(), n):
            section = Section.objects.create(region=self.w.region, code=f"q-s{i}", name=f"板块{i}", kind="policy",
                                             node=self.w.center, lead_department=self.w.dept,
                                             chief_specialist=self.w.users[Role.CHIEF_SPECIALIST])
            section.specialists.add(self.w.users[Role.SPECIALIST])

    def nodes(self, n):
        for i in range(ServiceNode.objects.filter(code__startswith="q-n").count(), n):
            ServiceNode.objects.create(region=self.w.region, code=f"q-n{i}", name=f"驿站{i}", kind="station",
                                       parent=self.w.center, jurisdiction=self.w.east)

    def zones(self, n):
        for i in range(Zone.objects.filter(code__startswith="q-z").count(), n):
            Zone.objects.create(region=self.w.region, node=self.w.center, code=f"q-z{i}", name=f"专区{i}",
                                lead_department=self.w.dept, chief_receptionist=self.w.users[Role.FRONT_DESK])

    def notifications(self, n):
        for user in (self.w.users[Role.ADMIN], self.w.users[Role.ENTERPRISE]):
            for i in range(user.notifications.count(), n):
                Notification.objects.create(recipient=user, event="demo", subject=f"通知{i}", body="正文")

    def policies(self, n):
        for i in range(Policy.objects.filter(code__startswith="Q-P").count(), n):
            policy = Policy.objects.create(region=self.w.region, code=f"Q-P{i:03d}", title=f"政策{i}",
                                           status="published", department=self.w.dept,
                                           effective_from=datetime.date(2020, 1, 1))
            PolicyClause.objects.create(policy=policy, code=f"Q-P{i:03d}-1", title="条款")

    def matches(self, n):
        self.policies(n)
        from qifu.policies import matches

        clauses = PolicyClause.objects.filter(code__startswith="Q-P")[:n]
        matches.store_enterprise(self.w.ent_east.pk, [(c.pk, "eligible", Decimal("1000"), 0) for c in clauses],
                                 timezone.now())

    def applications(self, n):
        for enterprise in self._enterprises(n):
            if Application.objects.filter(clause=self.clause, enterprise=enterprise).exists():
                continue
            application = Application.objects.create(clause=self.clause, enterprise=enterprise, status="submitted",
                                                     version=1, submitted_at=timezone.now(),
                                                     review_due=timezone.now() + datetime.timedelta(days=5))
            ApplicationEvent.objects.create(application=application, seq=1, action="submit", to_status="submitted",
                                            actor=self.w.users[Role.ENTERPRISE])
            ApplicationMaterial.objects.create(application=application, name="申报书", file="x/申报书.pdf")

    def payouts(self, n):
        for enterprise in self._enterprises(n):
            Payout.objects.get_or_create(clause=self.clause, enterprise=enterprise,
                                         defaults={"amount": Decimal("5000"), "approved_by": self.w.users[Role.ADMIN]})

    def tags(self, n):
        for i in range(Tag.objects.filter(name__startswith="标签").count(), n):
            Tag.objects.create(name=f"标签{i:03d}").enterprises.add(self.w.ent_east)


@pytest.fixture
def world():
    from qifu.appeals.channels import ensure_default_channels

    ensure_default_channels()
    w = World("ql")
    w.tokens = {"admin": w.token(w.users[Role.ADMIN]), "enterprise": w.token(w.users[Role.ENTERPRISE])}
    w.rows = Rows(w)
    return w


def _queries(client, world, url, who, headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return [q["sql"] for q in captured.captured_queries], response


def _same_cost(client, world, url, who, make, rows_in):
    user = world.users[Role.ADMIN] if who == "admin" else world.users[Role.ENTERPRISE]
    headers = {}
    if url.startswith("/api/"):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens[who]}"}
    elif url.startswith("/open311/"):
        url += ("&" if "?" in url else "?") + f"api_key={world.tokens[who]}"
    else:
        client.force_login(user)
    make(SMALL)
    _queries(client, world, url, who, headers)  # warm caches (calendar, content types, session)
    small, response = _queries(client, world, url, who, headers)
    assert rows_in(response) >= SMALL, url
    make(LARGE)
    large, response = _queries(client, world, url, who, headers)
    assert rows_in(response) >= 20, url  # a page of the pages is 25 rows
    assert len(large) == len(small), (url, len(small), len(large), large)
    assert any("LIMIT" in sql.upper() for sql in large), (url, "the page is not cut in the database")


def _count(key="items"):
    return lambda r: len(r.json()[key])


API_LISTS = [
    ("/api/v1/appeals", "admin", "appeals", _count()),
    ("/api/v1/appeals?limit=1", "admin", "appeals", lambda r: r.json()["count"]),
    ("/api/v1/enterprises", "admin", "enterprises", _count()),
    ("/api/v1/departments", "admin", "departments", _count()),
    ("/api/v1/sections", "admin", "sections", _count()),
    ("/api/v1/nodes", "admin", "nodes", _count()),
    ("/api/v1/zones", "admin", "zones", _count()),
    ("/api/v1/notifications", "admin", "notifications", _count()),
    ("/api/v1/notifications", "enterprise", "notifications", _count()),
    ("/api/v1/policies", "admin", "policies", _count()),
    ("/api/v1/policies", "enterprise", "policies", _count()),
    ("/api/v1/enterprises/{ent_east}/matches", "admin", "matches", _count()),
    ("/api/v1/applications", "admin", "applications", _count()),
    ("/api/v1/payouts", "admin", "payouts", _count()),
]

PAGE_LISTS = [
    ("/appeals/", "admin", "appeals", lambda r: r.content.decode().count('href="/appeals/') - 2),
    ("/appeals/", "enterprise", "appeals", lambda r: 25),
    ("/enterprises/", "admin", "enterprises", lambda r: r.content.decode().count("清单企业")),
    ("/policies/", "admin", "policies", lambda r: r.content.decode().count("Q-P")),
    ("/policies/", "enterprise", "policies", lambda r: r.content.decode().count("Q-P")),
    ("/policies/applications/", "admin", "applications", lambda r: r.content.decode().count("清单企业")),
    ("/policies/payouts/", "admin", "payouts", lambda r: r.content.decode().count("清单企业")),
    ("/inbox/", "admin", "notifications", lambda r: r.content.decode().count("通知")),
    ("/tags/", "admin", "tags", lambda r: r.content.decode().count("标签0")),
    ("/tags/{tag}/", "admin", "enterprises", lambda r: r.content.decode().count("清单企业")),
    ("/open311/v2/requests.json", "admin", "appeals", lambda r: len(r.json())),
    ("/admin/audit/auditentry/", "admin", "appeals", lambda r: 25),
]


def _url(world, url):
    return url.format(ent_east=world.ent_east.pk, tag=world.rows.tag.pk)


@pytest.mark.parametrize("url, who, kind, rows_in", API_LISTS, ids=[f"{u} {w}" for u, w, _k, _r in API_LISTS])
def test_an_api_list_costs_the_same_for_5_and_50_rows(client, world, url, who, kind, rows_in):
    _same_cost(client, world, _url(world, url), who, getattr(world.rows, kind), rows_in)


@pytest.mark.parametrize("url, who, kind, rows_in", PAGE_LISTS, ids=[f"{u} {w}" for u, w, _k, _r in PAGE_LISTS])
def test_a_page_list_costs_the_same_for_5_and_50_rows(client, world, url, who, kind, rows_in):
    if who == "admin":
        world.users[Role.ADMIN].is_staff = world.users[Role.ADMIN].is_superuser = True
        world.users[Role.ADMIN].save()
    _same_cost(client, world, _url(world, url), who, getattr(world.rows, kind), rows_in)


def test_limit_1_reads_one_row(client, world):
    world.rows.appeals(LARGE)
    with CaptureQueriesContext(connection) as captured:
        r = client.get("/api/v1/appeals?limit=1", HTTP_AUTHORIZATION=f"Bearer {world.tokens['admin']}")
    assert r.json()["count"] == LARGE and len(r.json()["items"]) == 1
    selects = [q["sql"] for q in captured.captured_queries if 'FROM "appeals_appeal"' in q["sql"]
               and "COUNT(" not in q["sql"].upper()]
    assert selects and all("LIMIT 1" in sql.upper() for sql in selects), selects
