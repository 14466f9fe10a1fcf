"""Appeals through the API: the closed loop, the "135" clock in working days, whistle conversion,
idempotency, optimistic versions, wrong transitions and confidentiality."""

import datetime

import pytest

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Rating
from qifu.org.models import Department

from .world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ensure_default_channels()
    w = World()
    w.third_dept = Department.objects.create(region=w.region, code="w-scj", name="市场监管局")
    w.tokens = {role: w.token(user) for role, user in w.users.items()}
    w.tokens["west"] = w.token(w.west_user)
    return w


class Api:
    def __init__(self, client, world):
        self.client, self.world = client, world

    def call(self, method, path, who, data=None, **headers):
        token = self.world.tokens[who]
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}
        if method == "get":
            return self.client.get(path, data or {}, **kwargs)
        return self.client.post(path, data or {}, content_type="application/json", **kwargs)

    def file(self, who=Role.FRONT_DESK, **fields):
        body = {"enterprise_uscc": self.world.ent_east.uscc, "title": "厂房消防验收咨询",
                "description": "新厂房消防验收需要哪些材料？", "channel": "walk_in", "contact_name": "演示联系人",
                "contact_phone": "13800001234", **fields}
        return self.call("post", "/api/v1/appeals", who, body)

    def act(self, appeal_id, action, who, **body):
        if "version" not in body:
            body["version"] = self.get(appeal_id, Role.ADMIN)["version"]
        return self.call("post", f"/api/v1/appeals/{appeal_id}/actions/{action}", who, body)

    def get(self, appeal_id, who):
        return self.call("get", f"/api/v1/appeals/{appeal_id}", who).json()


@pytest.fixture
def api(client, world):
    return Api(client, world)


def test_the_whole_loop_register_classify_assign_reply_handled_confirm_closed(api, world):
    r = api.file(category="single", received_at="2026-11-20T10:00:00+08:00")
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["status"] == "accepted" and created["number"].startswith("W-20261120-")
    assert created["category"] == "single"
    # Received Friday 20 November 2026: 3 working days end Wednesday 25 November.
    assert created["due_at"].startswith("2026-11-25T23:59:59")
    aid = created["id"]

    assert api.act(aid, "classify", Role.DISPATCHER, category="single", scope="chain", section="w-policy").status_code == 200
    r = api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj", assisting_departments=["w-rsj"])
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    assert r.json()["lead_department"] == "w-fgj" and r.json()["assisting_departments"] == ["w-rsj"]
    assert api.act(aid, "reply", Role.HANDLER, resolution="solved", text="所需材料清单已发送。").status_code == 200
    r = api.act(aid, "mark_handled", Role.HANDLER)
    assert r.status_code == 200 and r.json()["status"] == "handled"
    r = api.act(aid, "confirm", Role.ENTERPRISE, solved=True, rating=5, comment="很快")
    assert r.status_code == 200, r.content
    closed = r.json()
    assert closed["status"] == "closed" and closed["resolution"] == "solved"
    assert [e["action"] for e in closed["events"]] == [
        "submit", "accept", "classify", "assign", "reply", "mark_handled", "confirm"]
    rating = Rating.objects.get(appeal_id=aid)
    assert rating.stars == 5 and rating.solved and rating.lead_department.code == "w-fgj"


def test_the_dissatisfied_path_sends_the_case_back_and_counts_it(api, world):
    aid = api.file(category="simple").json()["id"]
    api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj")
    api.act(aid, "reply", Role.HANDLER, resolution="explained", text="条件暂不具备，已说明。")
    api.act(aid, "mark_handled", Role.HANDLER)
    r = api.act(aid, "reject_result", Role.ENTERPRISE, rating=2, comment="没有解决")
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    assert r.json()["dissatisfied_count"] == 1
    # confirm with solved=false is the same refusal, not a closure
    api.act(aid, "mark_handled", Role.HANDLER)
    r = api.act(aid, "confirm", Role.ENTERPRISE, solved=False, rating=1)
    assert r.status_code == 400
    assert api.get(aid, Role.ADMIN)["status"] == "handled"


def test_closure_needs_the_departments_handled_first(api, world):
    aid = api.file(category="simple").json()["id"]
    api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj")
    r = api.act(aid, "confirm", Role.ENTERPRISE, solved=True, rating=5)
    assert r.status_code == 400 and r.json()["detail"]
    assert api.get(aid, Role.ADMIN)["status"] == "assigned"


def test_handled_needs_a_reply_first(api, world):
    aid = api.file(category="simple").json()["id"]
    api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj")
    assert api.act(aid, "mark_handled", Role.HANDLER).status_code == 400


def test_a_stale_version_gets_409_and_changes_nothing(api, world):
    aid = api.file(category="single").json()["id"]
    version = api.get(aid, Role.ADMIN)["version"]
    assert api.act(aid, "assign", Role.DISPATCHER, version=version, lead_department="w-fgj").status_code == 200
    r = api.act(aid, "reassign", Role.DISPATCHER, version=version, lead_department="w-rsj", reason="职责")
    assert r.status_code == 409
    after = api.get(aid, Role.ADMIN)
    assert after["lead_department"] == "w-fgj" and after["version"] == version + 1


def test_an_unknown_action_or_bad_input_is_400(api, world):
    aid = api.file(category="single").json()["id"]
    assert api.act(aid, "teleport", Role.DISPATCHER).status_code == 400
    assert api.act(aid, "assign", Role.DISPATCHER, lead_department="nope").status_code == 400
    assert api.act(aid, "classify", Role.DISPATCHER, category="urgent").status_code == 400


def test_only_the_right_role_may_act(api, world):
    aid = api.file(category="single").json()["id"]
    assert api.act(aid, "assign", Role.HANDLER, lead_department="w-fgj").status_code in (403, 404)
    api.act(aid, "assign", Role.DISPATCHER, lead_department="w-rsj")
    # the handler's department (w-fgj) is not the lead: it cannot reply
    assert api.act(aid, "reply", Role.HANDLER, resolution="solved", text="x").status_code in (403, 404)


def test_idempotency_key_returns_the_same_appeal(api, world):
    first = api.call("post", "/api/v1/appeals", Role.FRONT_DESK, {
        "enterprise_uscc": world.ent_east.uscc, "title": "重复提交", "description": "网络重试", "channel": "hotline",
    }, HTTP_IDEMPOTENCY_KEY="abc-123")
    again = api.call("post", "/api/v1/appeals", Role.FRONT_DESK, {
        "enterprise_uscc": world.ent_east.uscc, "title": "重复提交", "description": "网络重试", "channel": "hotline",
    }, HTTP_IDEMPOTENCY_KEY="abc-123")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Appeal.objects.filter(title="重复提交").count() == 1


class TestClock:
    def test_single_across_national_day(self, api, world):
        r = api.file(category="single", received_at="2026-09-30T16:00:00+08:00")
        assert r.json()["due_at"].startswith("2026-10-10T23:59:59")  # Saturday make-up day

    def test_simple_before_spring_festival(self, api, world):
        r = api.file(category="simple", received_at="2026-02-13T10:00:00+08:00")
        assert r.json()["due_at"].startswith("2026-02-14T23:59:59")

    def test_whistle_across_labour_day(self, api, world):
        r = api.file(category="whistle", received_at="2026-04-30T09:00:00+08:00")
        assert r.json()["due_at"].startswith("2026-05-11T23:59:59")

    def test_without_a_class_the_case_counts_as_whistle_until_classified(self, api, world):
        r = api.file(received_at="2026-11-20T10:00:00+08:00")
        assert r.json()["category"] == "whistle" and r.json()["due_at"].startswith("2026-11-27")
        aid = r.json()["id"]
        r = api.act(aid, "classify", Role.DISPATCHER, category="simple")
        assert r.json()["due_at"].startswith("2026-11-23")  # from the original acceptance

    def test_reassigning_a_single_case_makes_it_whistle_without_resetting_the_clock(self, api, world):
        aid = api.file(category="single", received_at="2026-09-30T16:00:00+08:00").json()["id"]
        api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj")
        r = api.act(aid, "reassign", Role.DISPATCHER, lead_department="w-rsj", reason="不属于本部门职责")
        body = r.json()
        assert body["category"] == "whistle" and body["converted_to_whistle"] is True
        # 5 working days from the original acceptance on 30 September (not from the reassignment).
        assert body["due_at"].startswith("2026-10-13T23:59:59")
        assert body["events"][-1]["note"] == "不属于本部门职责"

    def test_a_reassignment_needs_a_reason(self, api, world):
        aid = api.file(category="single").json()["id"]
        api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj")
        assert api.act(aid, "reassign", Role.DISPATCHER, lead_department="w-rsj").status_code == 400

    def test_time_left_and_overdue_in_working_days(self, api, world):
        aid = api.file(category="simple", received_at="2026-11-02T09:00:00+08:00").json()["id"]
        body = api.get(aid, Role.ADMIN)
        assert body["overdue"] is True and body["workdays_left"] < -10
        listed = api.call("get", "/api/v1/appeals", Role.ADMIN, {"overdue": "true"}).json()["items"]
        assert aid in [a["id"] for a in listed]


class TestConfidentiality:
    def test_an_enterprise_cannot_read_or_act_on_another_enterprises_appeal(self, api, world):
        aid = api.file(category="single").json()["id"]
        assert api.call("get", f"/api/v1/appeals/{aid}", "west").status_code == 404
        r = api.call("post", f"/api/v1/appeals/{aid}/actions/withdraw", "west", {"reason": "x", "version": 2})
        assert r.status_code == 404
        assert aid not in [a["id"] for a in api.call("get", "/api/v1/appeals", "west").json()["items"]]
        assert api.call("get", f"/api/v1/appeals/{aid}", Role.ENTERPRISE).status_code == 200

    def test_an_enterprise_files_online_and_waits_for_acceptance(self, api, world):
        r = api.call("post", "/api/v1/appeals", Role.ENTERPRISE, {"title": "用工招聘", "description": "需要招聘支持"})
        assert r.status_code == 201 and r.json()["status"] == "submitted" and r.json()["due_at"] is None
        aid = r.json()["id"]
        r = api.act(aid, "accept", Role.DISPATCHER, category="single")
        assert r.json()["status"] == "accepted" and r.json()["due_at"]

    def test_an_enterprise_cannot_file_for_another(self, api, world):
        r = api.call("post", "/api/v1/appeals", Role.ENTERPRISE, {
            "enterprise_uscc": world.ent_west.uscc, "title": "冒名", "description": "x"})
        assert r.status_code == 403

    def test_handlers_see_only_their_departments_cases(self, api, world):
        aid = api.file(category="single").json()["id"]
        assert api.call("get", f"/api/v1/appeals/{aid}", Role.HANDLER).status_code == 404
        api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj")
        assert api.call("get", f"/api/v1/appeals/{aid}", Role.HANDLER).status_code == 200

    def test_contact_phones_are_masked_for_roles_that_do_not_call_back(self, api, world):
        aid = api.file(category="single").json()["id"]
        api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj")
        assert api.get(aid, Role.HANDLER)["contact_phone"] == "13800001234"
        assert api.get(aid, Role.LEADER)["contact_phone"] == "138****1234"

    def test_supervisors_see_their_jurisdiction_only(self, api, world):
        aid = api.file(category="single").json()["id"]  # ent_east; supervisor covers the west
        assert api.call("get", f"/api/v1/appeals/{aid}", Role.SUPERVISOR).status_code == 404


def test_the_state_is_the_events(api, world):
    aid = api.file(category="single", received_at="2026-09-30T16:00:00+08:00").json()["id"]
    api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj", assisting_departments=["w-scj"])
    api.act(aid, "reassign", Role.DISPATCHER, lead_department="w-rsj", reason="职责")
    api.act(aid, "reply", Role.ADMIN, resolution="policy_study", text="研究完善政策")
    appeal = Appeal.objects.get(pk=aid)
    state = workflow.replay(appeal)
    for name, value in state.items():
        if name == "assisting_departments":
            assert value == sorted(appeal.assisting_departments.values_list("pk", flat=True))
        else:
            assert getattr(appeal, name) == value, name


def test_withdraw_and_merge(api, world):
    a = api.file(category="single").json()
    b = api.file(category="single").json()
    r = api.act(b["id"], "merge", Role.DISPATCHER, into=a["number"], reason="同一问题")
    assert r.json()["status"] == "merged"
    r = api.act(a["id"], "withdraw", Role.ENTERPRISE, reason="已自行解决")
    assert r.json()["status"] == "withdrawn"


def test_solved_on_the_spot_closes_with_the_enterprises_confirmation(api, world):
    aid = api.file(category="simple").json()["id"]
    r = api.act(aid, "solve_on_spot", Role.FRONT_DESK, resolution="solved", text="现场解答", rating=5)
    assert r.json()["status"] == "closed"
    assert Appeal.objects.get(pk=aid).solved_on_spot


def test_openapi_documents_the_appeal_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/appeals" in paths and "/api/v1/appeals/{appeal_id}/actions/{action}" in paths


def test_received_at_cannot_be_in_the_future(api, world):
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).isoformat()
    assert api.file(received_at=future).status_code == 400


def test_notifications_go_out_with_the_transition(api, world):
    from qifu.notify.models import Notification

    aid = api.file(category="single").json()["id"]
    api.act(aid, "assign", Role.DISPATCHER, lead_department="w-fgj")
    handler_note = Notification.objects.filter(recipient=world.users[Role.HANDLER]).latest("id")
    assert handler_note.event == "appeal.assign" and Appeal.objects.get(pk=aid).number in handler_note.subject
    api.act(aid, "reply", Role.HANDLER, resolution="solved", text="已办理")
    api.act(aid, "mark_handled", Role.HANDLER)
    assert Notification.objects.filter(recipient=world.users[Role.ENTERPRISE], event="appeal.mark_handled").exists()
    # the other enterprise hears nothing about it
    assert not Notification.objects.filter(recipient=world.west_user).exists()


class TestAttachments:
    def upload(self, client, world, aid, who, name="材料.pdf", content=b"%PDF-1.4 demo"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(f"/api/v1/appeals/{aid}/attachments", {"file": SimpleUploadedFile(name, content)},
                           HTTP_AUTHORIZATION=f"Bearer {world.tokens[who]}")

    def test_the_enterprise_adds_a_file_and_those_who_may_see_the_appeal_download_it(self, client, api, world,
                                                                                    settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        aid = api.file(category="single").json()["id"]
        r = self.upload(client, world, aid, Role.ENTERPRISE)
        assert r.status_code == 201, r.content
        listed = api.get(aid, Role.ENTERPRISE)["attachments"]
        assert [a["name"] for a in listed] == ["材料.pdf"]
        client.force_login(world.users[Role.ENTERPRISE])
        download = client.get(listed[0]["url"])
        assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 demo"
        client.force_login(world.west_user)
        assert client.get(listed[0]["url"]).status_code == 404

    def test_other_enterprises_and_bad_files_are_refused(self, client, api, world, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        aid = api.file(category="single").json()["id"]
        assert self.upload(client, world, aid, "west").status_code == 404
        assert self.upload(client, world, aid, Role.FRONT_DESK, name="run.exe").status_code == 400
        assert self.upload(client, world, aid, Role.FRONT_DESK, content=b"").status_code in (400, 422)
        assert api.get(aid, Role.ADMIN)["attachments"] == []


def test_a_deadline_that_passed_on_friday_is_overdue_over_the_weekend(world):
    """No working time passes on Saturday, but the case is overdue the moment its deadline passes."""
    import datetime as dt

    from qifu.appeals.models import Channel

    appeal, _ = workflow.register(actor=world.users[Role.FRONT_DESK], enterprise=world.ent_east,
                                  channel=Channel.objects.get(code="walk_in"), title="周末超期", description="x",
                                  category="simple", received_at=dt.datetime.fromisoformat("2026-11-19T10:00:00+08:00"))
    saturday = dt.datetime.fromisoformat("2026-11-21T10:00:00+08:00")
    assert appeal.due_at.isoformat() == "2026-11-20T23:59:59+08:00"
    assert appeal.is_overdue(saturday)
    state = appeal.clock_state(saturday)
    assert state["overdue"] and state["days"] == 0
    assert not appeal.is_overdue(dt.datetime.fromisoformat("2026-11-20T23:00:00+08:00"))
