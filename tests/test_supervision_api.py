"""Supervision through the API: `supervision` and `escalation_level` on an appeal, and the five abnormal lists
(`?abnormal=warning|dissatisfied|closed_overdue|reassigned|leader_instructed`), scoped like every list."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Channel
from qifu.supervision import records

from .test_appeals_api import Api
from .world import World

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def world():
    ensure_default_channels()
    w = World()
    supervisor = w.users[Role.SUPERVISOR]
    supervisor.jurisdiction = w.district  # the task force supervises the whole district
    supervisor.save()
    w.tokens = {role: w.token(user) for role, user in w.users.items()}
    w.tokens["west"] = w.token(w.west_user)
    return w


@pytest.fixture
def api(client, world):
    return Api(client, world)


def case(w, received, category="single", enterprise=None):
    appeal, _ = workflow.register(actor=w.users[Role.FRONT_DESK], enterprise=enterprise or w.ent_east,
                                  channel=Channel.objects.get(code="window"), title="用电增容",
                                  description="新增生产线需要用电增容", category=category, received_at=at(received))
    return workflow.perform(appeal, "assign", w.users[Role.DISPATCHER], appeal.version, lead_department=w.dept.code,
                            at=at(received) + datetime.timedelta(minutes=30))


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["items"]}


def test_an_appeal_shows_its_supervision_and_level(api, world):
    appeal = case(world, "2026-09-30T10:00")
    call_command("sla", "sweep", "--at", "2026-10-12T09:30:00+08:00")
    body = api.get(appeal.pk, Role.SUPERVISOR)
    assert body["escalation_level"] == 1
    kinds = [(s["kind"], s["at"]) for s in body["supervision"]]
    assert kinds == [("warning", "2026-10-09T09:00:00+08:00"), ("chase", "2026-10-10T12:00:00+08:00"),
                     ("inspection", "2026-10-12T09:00:00+08:00")]
    chase = body["supervision"][1]
    assert chase["told"] == [world.users[Role.HANDLER].display_name or world.users[Role.HANDLER].username]
    assert chase["fired_at"].startswith("2026-10-12T09:30") and chase["lead_department"] == world.dept.code
    # the lead unit sees it on its case; the enterprise does not see the back office's supervision
    assert len(api.get(appeal.pk, Role.HANDLER)["supervision"]) == 3
    assert api.get(appeal.pk, Role.ENTERPRISE)["supervision"] == []


def test_a_slip_is_a_supervision_record_too(api, world):
    appeal = case(world, "2026-11-16T10:00")
    slip = records.issue_slip(appeal.pk, world.users[Role.SUPERVISOR], task="请加快办理", requirements="两日内书面答复")
    body = api.get(appeal.pk, Role.SUPERVISOR)
    assert [s["kind"] for s in body["supervision"]] == ["slip"]
    assert body["supervision"][0]["slip"] == slip.number and slip.number.startswith("W-DB-")
    assert body["slips"][0]["state"] in ("awaiting", "overdue") and body["slips"][0]["lead_department"] == "w-fgj"


def test_the_five_abnormal_lists(api, world):
    w = world
    handler, enterprise = w.users[Role.HANDLER], w.users[Role.ENTERPRISE]
    warned = case(w, "2026-11-16T10:00")  # single: due Thu 19 Nov, warning Wed 18 Nov 09:00
    call_command("sla", "sweep", "--at", "2026-11-18T09:30:00+08:00")
    late = case(w, "2026-11-02T10:00", category="simple")  # due 3 Nov, handled 5 Nov, confirmed
    for action, payload in (("reply", {"resolution": "solved", "text": "已办结"}), ("mark_handled", {})):
        late = workflow.perform(late, action, handler, late.version, at=at("2026-11-05T10:00"), **payload)
    late = workflow.perform(late, "confirm", enterprise, late.version, rating=2, comment="太慢")  # 1–2 stars: 差评
    unhappy = case(w, "2026-11-09T10:00")
    for action, payload in (("reply", {"resolution": "solved", "text": "已办结"}), ("mark_handled", {})):
        unhappy = workflow.perform(unhappy, action, handler, unhappy.version, **payload)
    workflow.perform(unhappy, "reject_result", enterprise, unhappy.version, comment="没解决")
    moved = case(w, "2026-11-10T10:00")
    workflow.perform(moved, "reassign", w.users[Role.DISPATCHER], moved.version, lead_department=w.other_dept.code,
                     reason="不属本部门职责")
    instructed = case(w, "2026-11-11T10:00")
    records.instruct(instructed.pk, w.users[Role.LEADER], "请专班牵头尽快解决")
    other_region = case(World("x"), "2026-11-16T10:00")  # never in this world's lists

    def listed(name, who=Role.SUPERVISOR):
        return ids(api.call("get", f"/api/v1/appeals?abnormal={name}", who))

    assert listed("warning") == {warned.pk}
    assert listed("dissatisfied") == {late.pk, unhappy.pk}
    assert listed("closed_overdue") == {late.pk}
    assert listed("reassigned") == {moved.pk}
    assert listed("leader_instructed") == {instructed.pk}
    assert other_region.pk not in set().union(*(listed(n) for n in records.ABNORMAL))
    # scoped: the other department's handler sees only its own case among them
    assert ids(api.call("get", "/api/v1/appeals?abnormal=reassigned&limit=200", Role.HANDLER)) == set()
    bad = api.call("get", "/api/v1/appeals?abnormal=late", Role.SUPERVISOR)
    assert bad.status_code == 400 and "abnormal" in bad.content.decode()
    assert ids(api.call("get", "/api/v1/appeals?escalation_level=1", Role.SUPERVISOR)) >= {warned.pk, moved.pk}
    assert ids(api.call("get", "/api/v1/appeals?escalation_level=2", Role.SUPERVISOR)) == set()
    assert api.call("get", "/api/v1/appeals?escalation_level=5", Role.SUPERVISOR).status_code == 400
    assert ids(api.call("get", "/api/v1/appeals?fallback=true", Role.SUPERVISOR)) == set()
