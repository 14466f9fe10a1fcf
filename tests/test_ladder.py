"""The escalation ladder (提级协调), its meetings and the fallback lane (兜底办), through the API and the domain:
who may request and decide, what a request needs, what approval and refusal do, the 提级协调审批表, meetings with
their agenda and tasks, and the fallback classes with their deliberations."""

import datetime
import io
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qifu.accounts.models import Role, User
from qifu.appeals import escalation, workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, AppealTask, Channel, Meeting
from qifu.audit.models import AuditEntry
from qifu.notify.models import Notification
from qifu.org.models import Body, BodyMembership, Department
from qifu.workcal import workdays

from .world import World

pytestmark = pytest.mark.django_db

FILES = ("handling_statement", "meeting_minutes", "sign_in_sheet")
RECEIVED = "2026-11-16T09:00:00+08:00"  # a Monday


def _user(w, name, role, **place):
    user = User.objects.create_user(f"{w.region.code}-{name}", password="pw-12345", region=w.region, **place)
    user.grant(role)
    return user


@pytest.fixture
def w(settings, tmp_path):
    """A World with the ladder's bodies: the task force (level 2, its inspection group), the weekly coordination
    meeting (level 3, chaired by the world's leader), the principal leaders (4) and the fallback task force; a
    street and a platform as units."""
    settings.MEDIA_ROOT = tmp_path
    ensure_default_channels()
    w = World()
    w.street = Department.objects.create(region=w.region, code="w-street", name="东街道", kind="street")
    w.platform = Department.objects.create(region=w.region, code="w-platform", name="医药港管理办公室", kind="platform")
    w.task_force = Body.objects.create(region=w.region, code="w-zb", name="工作专班", kind="task_force",
                                       escalation_level=2)
    w.inspection = Body.objects.create(region=w.region, code="w-zb-dc", name="督查考评组", kind="group",
                                       function="inspection", parent=w.task_force)
    w.meeting_body = Body.objects.create(region=w.region, code="w-zlh", name="企业服务问题协调周例会",
                                         kind="coordination_meeting", escalation_level=3)
    w.principal = Body.objects.create(region=w.region, code="w-zyld", name="区主要领导", kind="principal_leaders",
                                      escalation_level=4)
    w.fallback = Body.objects.create(region=w.region, code="w-ddb", name="兜底办专班", kind="fallback_task_force")
    w.supervisor = w.users[Role.SUPERVISOR]
    w.leader = w.users[Role.LEADER]
    w.handler = w.users[Role.HANDLER]
    w.task_force_handler = _user(w, "tf-handler", Role.HANDLER, department=w.other_dept)  # another unit's officer
    w.boss = _user(w, "boss", Role.LEADER)
    w.secretary = _user(w, "secretary", Role.SUPERVISOR)  # takes the minutes of the meeting, does not decide
    w.fallback_clerk = _user(w, "fallback", Role.FRONT_DESK, node=w.center)
    w.street_handler = _user(w, "street", Role.HANDLER, department=w.street)
    for body, user, role in [(w.task_force, w.supervisor, "member"), (w.inspection, w.supervisor, "member"),
                             (w.task_force, w.task_force_handler, "member"), (w.meeting_body, w.leader, "chair"),
                             (w.meeting_body, w.secretary, "member"), (w.principal, w.boss, "member"),
                             (w.fallback, w.fallback_clerk, "member")]:
        BodyMembership.objects.create(body=body, user=user, role=role)
    return w


class Api:
    def __init__(self, client, w):
        self.client, self.w = client, w

    def _auth(self, user):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.w.token(user)}"}

    def get(self, aid, user=None):
        return self.client.get(f"/api/v1/appeals/{aid}", **self._auth(user or self.w.users[Role.ADMIN])).json()

    def act(self, aid, action, user, **body):
        body.setdefault("version", self.get(aid)["version"])
        return self.client.post(f"/api/v1/appeals/{aid}/actions/{action}", body, content_type="application/json",
                                **self._auth(user))

    def upload(self, aid, user, kind, name="说明.pdf"):
        return self.client.post(f"/api/v1/appeals/{aid}/attachments",
                                {"file": SimpleUploadedFile(name, b"%PDF-1.4 ladder"), "kind": kind},
                                **self._auth(user))

    def files(self, aid, user):
        for kind in FILES:
            r = self.upload(aid, user, kind, name=f"{kind}.pdf")
            assert r.status_code == 201, r.content
            assert r.json()["kind"] == kind

    def case(self, category="whistle", lead=None):
        appeal, _new = workflow.register(
            actor=self.w.users[Role.FRONT_DESK], enterprise=self.w.ent_east,
            channel=Channel.objects.get(code="walk_in"),
            title="园区道路积水", description="雨天积水严重，涉及多个部门。", category=category,
            received_at=datetime.datetime.fromisoformat(RECEIVED))
        appeal = workflow.perform(appeal.pk, "assign", self.w.users[Role.DISPATCHER], appeal.version,
                                  lead_department=lead or self.w.dept.code,
                                  assisting_departments=[self.w.other_dept.code])
        return appeal.pk

    def escalate(self, aid, user, **body):
        return self.act(aid, "escalate", user, reason=body.pop("reason", "部门协调后仍不能解决，申请提级协调"),
                        statement=body.pop("statement", "已召开专题协调会，主办和协办部门意见不一致。"), **body)


@pytest.fixture
def api(client, w):
    return Api(client, w)


def test_a_case_climbs_the_ladder_from_the_units_to_the_principal_leaders(api, w):
    aid = api.case()
    detail = api.get(aid, w.handler)
    assert (detail["escalation_level"], detail["escalation_pending"]) == (1, False)
    assert "escalate" in detail["actions"] and "decide_escalation" not in detail["actions"]

    # the lead unit asks: the three files first, then the request with the form's fields
    r = api.escalate(aid, w.handler)
    assert r.status_code == 400 and "办理情况说明" in r.json()["detail"]  # nothing uploaded yet
    api.files(aid, w.handler)
    r = api.escalate(aid, w.handler)
    assert r.status_code == 200, r.content
    data = r.json()
    assert (data["escalation_level"], data["escalation_pending"]) == (1, True)
    assert data["events"][-1]["action"] == "escalate"
    assert data["events"][-1]["data"]["to_level"] == 2 and len(data["events"][-1]["data"]["attachments"]) == 3
    assert api.escalate(aid, w.handler).status_code == 400  # one request at a time

    # the task force decides (its members; nobody else) and hears of the request
    assert Notification.objects.filter(recipient=w.supervisor, event="appeal.escalate").exists()
    assert not Notification.objects.filter(recipient=w.leader, event="appeal.escalate").exists()
    assert list(escalation.pending_escalations(w.supervisor)) == [Appeal.objects.get(pk=aid)]
    assert list(escalation.pending_escalations(w.leader)) == []
    assert "decide_escalation" in api.get(aid, w.supervisor)["actions"]
    assert api.act(aid, "decide_escalation", w.leader, approve=True).status_code == 403
    r = api.act(aid, "decide_escalation", w.task_force_handler, approve=True, note="同意专班协调")
    assert r.status_code == 200, r.content
    assert (r.json()["escalation_level"], r.json()["escalation_pending"]) == (2, False)
    assert r.json()["coordinating_body"] == "工作专班"
    assert list(escalation.pending_escalations(w.supervisor)) == []

    # level 2 → 3: a member of the task force asks; the files must be new for this level
    assert api.escalate(aid, w.supervisor).status_code == 400
    api.files(aid, w.supervisor)
    assert api.escalate(aid, w.supervisor, reason="专班协调后仍未解决").status_code == 200
    assert list(escalation.pending_escalations(w.leader)) == [Appeal.objects.get(pk=aid)]
    assert api.act(aid, "decide_escalation", w.secretary, approve=True).status_code == 403  # a member, not the chair
    assert api.act(aid, "decide_escalation", w.supervisor, approve=True).status_code == 403
    r = api.act(aid, "decide_escalation", w.leader, approve=True, note="提交周例会研究")
    assert r.status_code == 200 and r.json()["escalation_level"] == 3
    assert r.json()["coordinating_body"] == "企业服务问题协调周例会"

    # level 3 → 4: the chair asks, the principal leaders decide
    api.files(aid, w.leader)
    assert api.escalate(aid, w.leader, reason="涉及主办部门变更").status_code == 200
    r = api.act(aid, "decide_escalation", w.boss, approve=True, lead_department=w.street.code,
                assisting_departments=[w.platform.code])
    assert r.status_code == 200 and r.json()["escalation_level"] == 4
    assert r.json()["lead_department"] == "w-street" and r.json()["assisting_departments"] == ["w-platform"]
    api.files(aid, w.boss)
    r = api.escalate(aid, w.boss)
    assert r.status_code == 400 and "最高" in r.json()["detail"]
    actions = [e["action"] for e in api.get(aid)["events"]]
    assert actions.count("escalate") == 3 and actions.count("decide_escalation") == 3
    # the events are the truth: replaying them gives the same ladder state
    appeal = Appeal.objects.get(pk=aid)
    state = workflow.replay(appeal)
    assert (state["escalation_level"], state["escalation_requested_at"]) == (4, None)
    assert AuditEntry.objects.filter(object_id=str(aid), action="transition",
                                     after__action="decide_escalation").count() == 3


def test_a_refusal_is_a_second_assignment_with_a_fresh_time_limit(api, w):
    aid = api.case(category="whistle")
    api.files(aid, w.handler)
    assert api.escalate(aid, w.handler).status_code == 200
    refuse = {"approve": False, "note": "不符合提级条件，重新交办"}
    r = api.act(aid, "decide_escalation", w.supervisor, **refuse)
    assert r.status_code == 400 and "lead_department" in r.json()["detail"]
    r = api.act(aid, "decide_escalation", w.supervisor, **refuse, lead_department=w.street.code)
    assert r.status_code == 400 and "assisting_departments" in r.json()["detail"]
    r = api.act(aid, "decide_escalation", w.supervisor, approve=False, lead_department=w.street.code,
                assisting_departments=[w.platform.code, w.dept.code])
    assert r.status_code == 400 and "note" in r.json()["detail"]
    version = api.get(aid)["version"]
    before = timezone.now()
    r = api.act(aid, "decide_escalation", w.supervisor, **refuse, lead_department=w.street.code,
                assisting_departments=[w.platform.code, w.dept.code])
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["version"] == version + 2  # the decision, then the second assignment
    decision, second = data["events"][-2], data["events"][-1]
    assert (decision["action"], decision["data"]["approve"]) == ("decide_escalation", False)
    assert second["action"] == "reassign" and second["data"]["second_assignment"] is True
    assert (data["lead_department"], sorted(data["assisting_departments"])) == ("w-street", ["w-fgj", "w-platform"])
    assert (data["escalation_level"], data["escalation_pending"], data["status"]) == (1, False, "assigned")
    # the whistle's 5 working days start again from the decision (region rule second_assignment_resets_deadline)
    expected = workdays.deadline(before, 5, end_of_day="24:00", tz="Asia/Shanghai")
    assert datetime.datetime.fromisoformat(data["due_at"]) == expected
    # the street's handler now leads it and may ask again (with new files)
    assert "escalate" in api.get(aid, w.street_handler)["actions"]
    assert api.escalate(aid, w.street_handler).status_code == 400


def test_without_the_reset_rule_a_second_assignment_keeps_the_deadline(api, w):
    w.region.config = {"second_assignment_resets_deadline": False}
    w.region.save()
    aid = api.case(category="single")
    due = api.get(aid)["due_at"]
    api.files(aid, w.handler)
    api.escalate(aid, w.handler)
    r = api.act(aid, "decide_escalation", w.supervisor, approve=False, note="重新交办",
                lead_department=w.other_dept.code, assisting_departments=[w.street.code])
    assert r.status_code == 200 and r.json()["due_at"] == due
    # two lead units for a single-department case: it becomes a whistle case (seed 003 line 1305)
    assert r.json()["category"] == "whistle" and r.json()["converted_to_whistle"] is True


def test_only_the_lead_unit_and_the_coordinating_body_may_ask_and_only_the_next_body_decides(api, w, client):
    aid = api.case()
    api.files(aid, w.handler)
    for user in (w.users[Role.DISPATCHER], w.users[Role.ADMIN], w.supervisor, w.leader, w.boss, w.fallback_clerk):
        r = api.escalate(aid, user)
        assert r.status_code in (403, 404), (user.username, r.status_code)
        if r.status_code == 403:
            assert "escalate" not in api.get(aid, user)["actions"]
    r = api.escalate(aid, w.task_force_handler)  # assisting unit's officer who is also in the task force: not yet
    assert r.status_code == 403  # level 1 is coordinated by the lead unit, not by the task force
    assert api.escalate(aid, w.handler).status_code == 200
    for user in (w.handler, w.users[Role.DISPATCHER], w.users[Role.ADMIN], w.leader, w.boss):
        assert api.act(aid, "decide_escalation", user, approve=True).status_code in (403, 404)
    # version required, stale refused, wrong state refused — nothing changes
    r = client.post(f"/api/v1/appeals/{aid}/actions/decide_escalation", {"approve": True},
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {w.token(w.supervisor)}")
    assert r.status_code == 400
    assert api.act(aid, "decide_escalation", w.supervisor, approve=True, version=1).status_code == 409
    assert api.act(aid, "decide_escalation", w.supervisor, approve="maybe").status_code == 400
    assert api.get(aid)["escalation_pending"] is True
    accepted, _new = workflow.register(actor=w.users[Role.FRONT_DESK], enterprise=w.ent_east,
                                       channel=Appeal.objects.get(pk=aid).channel, title="新诉求", description="说明")
    assert api.escalate(accepted.pk, w.users[Role.ADMIN]).status_code == 400  # not assigned yet


def test_a_request_lapses_when_the_case_is_handled_and_a_bad_file_kind_is_refused(api, w):
    aid = api.case()
    r = api.upload(aid, w.handler, "minutes_of_something")
    assert r.status_code == 400
    api.files(aid, w.handler)
    api.escalate(aid, w.handler)
    assert api.act(aid, "reply", w.handler, resolution="solved", text="协调解决").status_code == 200
    r = api.act(aid, "mark_handled", w.handler)
    assert r.status_code == 200 and r.json()["escalation_pending"] is False
    assert list(escalation.pending_escalations(w.supervisor)) == []
    assert api.act(aid, "decide_escalation", w.supervisor, approve=True).status_code == 400


def test_task_force_members_see_the_escalated_cases(api, w):
    aid = api.case()
    outsider = _user(w, "outsider", Role.HANDLER, department=w.street)
    assert api.get(aid, w.task_force_handler)["id"] == aid  # assisting unit
    assert "id" not in api.get(aid, outsider)
    api.files(aid, w.handler)
    api.escalate(aid, w.handler)
    BodyMembership.objects.create(body=w.task_force, user=outsider)
    assert api.get(aid, outsider)["escalation_pending"] is True


def test_the_escalation_approval_form_has_the_seeds_fields(api, w, client):
    from docx import Document

    aid = api.case()
    client.force_login(w.handler)
    assert client.get(f"/appeals/{aid}/escalation-form.docx").status_code == 400  # nothing requested yet
    api.files(aid, w.handler)
    api.escalate(aid, w.handler, reason="协调无果，申请提级", statement="已两次召开协调会，仍存在分歧")
    api.act(aid, "decide_escalation", w.supervisor, approve=True, note="同意，由专班牵头协调")
    r = client.get(f"/appeals/{aid}/escalation-form.docx")
    assert r.status_code == 200 and "提级协调审批表" in unquote(r["Content-Disposition"])
    doc = Document(io.BytesIO(r.content))
    assert doc.paragraphs[0].text == "企业问题提级协调审批表"
    cells = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert list(cells) == ["企业名称", "问题描述", "前期协调情况", "属地", "主办部门", "协办部门", "主办部门意见", "专班意见",
                           "主办部门分管区领导意见", "书记/区长意见"]
    assert cells["企业名称"] == w.ent_east.name and cells["属地"] == "东街道"
    assert cells["前期协调情况"] == "已两次召开协调会，仍存在分歧"
    assert cells["主办部门"] == "发改局" and cells["协办部门"] == "人社局"
    assert "申请提级协调：协调无果，申请提级" in cells["主办部门意见"] and "主办部门盖章" in cells["主办部门意见"]
    assert "同意提级协调：同意，由专班牵头协调" in cells["专班意见"]
    assert cells["书记/区长意见"].startswith("\n") or "书记/区长签字" in cells["书记/区长意见"]
    assert "附件：" in doc.paragraphs[-1].text
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get(f"/appeals/{aid}/escalation-form.docx").status_code == 403


# --- meetings ------------------------------------------------------------------------------------------------

def _to_level_3(api, w, aid):
    api.files(aid, w.handler)
    api.escalate(aid, w.handler)
    api.act(aid, "decide_escalation", w.supervisor, approve=True)
    api.files(aid, w.supervisor)
    api.escalate(aid, w.supervisor)
    api.act(aid, "decide_escalation", w.leader, approve=True)


def test_the_weekly_meeting_agenda_is_its_unsettled_cases_and_decisions_become_tracked_tasks(api, w):
    at_three, waiting, settled, below = api.case(), api.case(), api.case(), api.case()
    for aid in (at_three, settled):
        _to_level_3(api, w, aid)
    api.files(waiting, w.handler)
    api.escalate(waiting, w.handler)
    api.act(waiting, "decide_escalation", w.supervisor, approve=True)
    api.files(waiting, w.supervisor)
    api.escalate(waiting, w.supervisor)  # awaits the meeting's chair
    api.act(settled, "reply", w.handler, resolution="solved", text="已解决")
    api.act(settled, "mark_handled", w.handler)

    with pytest.raises(workflow.NotAllowed):
        escalation.schedule_meeting(w.meeting_body, datetime.date.today(), w.supervisor)
    meeting = escalation.schedule_meeting(w.meeting_body, datetime.date.today(), w.secretary)
    assert [i.appeal_id for i in meeting.agenda.order_by("order")] == [at_three, waiting]
    assert below not in [i.appeal_id for i in meeting.agenda.all()]

    item = meeting.agenda.get(appeal_id=at_three)
    with pytest.raises(workflow.TransitionError):  # a task needs an owner
        escalation.decide_item(item, w.secretary, conclusion="明确由东街道牵头", task="三日内完成排水改造方案",
                               due_on=datetime.date.today())
    with pytest.raises(workflow.TransitionError):  # and a deadline not before the meeting
        escalation.decide_item(item, w.secretary, conclusion="明确由东街道牵头", task="方案", owner_department="w-street",
                               due_on=datetime.date.today() - datetime.timedelta(days=1))
    task = escalation.decide_item(item, w.leader, conclusion="明确由东街道牵头", task="三日内完成排水改造方案",
                                  owner_department="w-street", due_on=datetime.date.today() + datetime.timedelta(days=3))
    late = escalation.decide_item(item, w.leader, conclusion="明确由东街道牵头", task="报送进展",
                                  owner_user=w.handler.username, due_on=datetime.date.today())
    AppealTask.objects.filter(pk=late.pk).update(due_on=datetime.date.today() - datetime.timedelta(days=1))
    tasks = {t["text"]: t for t in api.get(at_three, w.handler)["tasks"]}
    assert tasks["三日内完成排水改造方案"]["owner"] == "东街道" and tasks["三日内完成排水改造方案"]["state"] == "open"
    assert tasks["报送进展"]["state"] == "overdue" and tasks["报送进展"]["owner_user"] == w.handler.username
    assert meeting.agenda.get(appeal_id=at_three).conclusion == "明确由东街道牵头"

    with pytest.raises(workflow.NotAllowed):
        escalation.complete_task(task, w.handler)  # not the owner unit's
    escalation.complete_task(task, w.street_handler, "方案已报送")
    assert api.get(at_three)["tasks"][0]["state"] in ("done", "overdue")
    assert {t["text"]: t["state"] for t in api.get(at_three)["tasks"]}["三日内完成排水改造方案"] == "done"
    with pytest.raises(workflow.TransitionError):
        escalation.complete_task(task, w.street_handler)
    assert AuditEntry.objects.filter(content_type__model="appealtask", object_id=str(task.pk)).count() == 2


# --- the fallback lane ---------------------------------------------------------------------------------------

def test_the_fallback_lane_has_its_3135_limits_reasons_and_deliberations(api, w):
    aid = api.case(category="single")
    clerk = w.fallback_clerk
    r = api.act(aid, "classify", clerk, category="fallback_deliberation")
    assert r.status_code == 400 and "fallback_reasons" in r.json()["detail"]
    r = api.act(aid, "classify", clerk, category="fallback_deliberation", fallback_reasons=["no_lead", "nonsense"])
    assert r.status_code == 400
    assert api.act(aid, "classify", clerk, category="simple").status_code == 403  # the task force: the lane only
    r = api.act(aid, "classify", clerk, category="fallback_deliberation", fallback_reasons=["no_lead", "no_precedent"])
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["fallback_reasons"] == ["no_lead", "no_precedent"]
    accepted = datetime.datetime.fromisoformat(RECEIVED)
    assert datetime.datetime.fromisoformat(data["due_at"]) == workdays.deadline(accepted, 5, tz="Asia/Shanghai")
    assert "deliberate" in data["actions"]

    # the fallback task force handles its cases: reassign, reply, deliberate (一事一议)
    assert api.act(aid, "reassign", clerk, lead_department=w.street.code, reason="由属地牵头").status_code == 200
    today = timezone.localdate()
    assert api.act(aid, "deliberate", clerk, held_on=str(today + datetime.timedelta(days=1)), participants="审批局",
                   conclusion="x").status_code == 400
    assert api.act(aid, "deliberate", clerk, held_on=str(today), participants="", conclusion="x").status_code == 400
    r = api.act(aid, "deliberate", clerk, held_on=str(today), participants="审批局、住建局、东街道",
                conclusion="由东街道牵头，住建局配合，两周内完成")
    assert r.status_code == 200
    assert r.json()["events"][-1]["data"] == {"held_on": str(today), "participants": "审批局、住建局、东街道",
                                              "conclusion": "由东街道牵头，住建局配合，两周内完成"}
    # an outsider neither sees nor touches the lane's cases
    assert api.act(aid, "deliberate", w.users[Role.LIAISON], held_on=str(today), participants="a",
                   conclusion="b").status_code in (403, 404)
    assert api.act(aid, "reply", clerk, resolution="solved", text="已协调解决").status_code == 200
    assert api.act(aid, "mark_handled", clerk).status_code == 200

    # on the spot 1, chief 3 working days; intake does not put a case into the lane without reasons
    other = api.case(category="simple")
    r = api.act(other, "classify", w.users[Role.DISPATCHER], category="fallback_chief",
                fallback_reasons=["special_group"])
    assert datetime.datetime.fromisoformat(r.json()["due_at"]) == workdays.deadline(accepted, 3, tz="Asia/Shanghai")
    assert api.act(other, "deliberate", clerk, held_on=str(today), participants="a", conclusion="b").status_code == 400
    r = api.act(other, "classify", w.users[Role.DISPATCHER], category="fallback_on_spot")
    assert r.json()["fallback_reasons"] == ["special_group"]  # kept within the lane
    assert datetime.datetime.fromisoformat(r.json()["due_at"]) == workdays.deadline(accepted, 1, tz="Asia/Shanghai")
    r = api.act(other, "classify", w.users[Role.DISPATCHER], category="whistle")
    assert r.json()["fallback_reasons"] == []
    filed = api.client.post("/api/v1/appeals", {"enterprise_uscc": w.ent_east.uscc, "title": "t", "description": "d",
                                                "channel": "walk_in", "category": "fallback_on_spot"},
                            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {w.token(clerk)}")
    assert filed.status_code == 400


def test_meeting_records_are_audited_and_scheduling_needs_a_member(w):
    meeting = escalation.schedule_meeting(w.task_force, datetime.date.today(), w.supervisor, title="专班协调会")
    assert Meeting.objects.get(pk=meeting.pk).title == "专班协调会"
    escalation.record_minutes(meeting, w.supervisor, "研究了两件诉求。")
    assert AuditEntry.objects.filter(content_type__model="meeting", object_id=str(meeting.pk)).count() == 2
    with pytest.raises(workflow.NotAllowed):
        escalation.record_minutes(meeting, w.leader, "x")
    with pytest.raises(workflow.TransitionError):
        escalation.schedule_meeting(w.task_force, datetime.date(1999, 1, 1), w.supervisor)
