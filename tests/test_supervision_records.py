"""Supervision slips (督办单), follow-ups and leader instructions in the domain: who may, what is checked, what is
recorded and who is told. Bad input changes nothing."""

import datetime

import pytest
from django.utils import timezone

from qifu.accounts.models import Role, User
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.errors import NotAllowed, TransitionError
from qifu.appeals.models import Appeal, Channel
from qifu.audit.models import AuditEntry
from qifu.notify.models import Notification
from qifu.org.models import Body, BodyMembership
from qifu.supervision import records
from qifu.supervision.models import LeaderInstruction, Record, Slip
from qifu.workcal import workdays

from .world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    ensure_default_channels()
    w = World()
    w.supervisor = w.users[Role.SUPERVISOR]
    w.supervisor.jurisdiction = w.district
    w.supervisor.save()
    w.task_force = Body.objects.create(region=w.region, code="w-zb", name="工作专班", kind="task_force")
    w.group = Body.objects.create(region=w.region, code="w-zb-dc", name="督查考评组", kind="group",
                                  function="inspection", parent=w.task_force)
    w.member = User.objects.create_user("w-tf", password="pw-12345", region=w.region, jurisdiction=w.district)
    w.member.grant(Role.LIAISON)  # not a supervisor by role: a member of the task force's inspection group
    BodyMembership.objects.create(body=w.group, user=w.member)
    w.other_handler = User.objects.create_user("w-other", password="pw-12345", region=w.region,
                                               department=w.other_dept)
    w.other_handler.grant(Role.HANDLER)
    appeal, _ = workflow.register(actor=w.users[Role.FRONT_DESK], enterprise=w.ent_east,
                                  channel=Channel.objects.get(code="window"), title="用电增容", description="描述",
                                  category="whistle")
    w.appeal = workflow.perform(appeal, "assign", w.users[Role.DISPATCHER], appeal.version,
                                lead_department=w.dept.code, assisting_departments=[w.other_dept.code])
    return w


def test_a_slip_numbered_dated_with_the_seeds_fields_told_to_the_units(w):
    slip = records.issue_slip(w.appeal.pk, w.supervisor, task="请加快办理", requirements="两个工作日内书面答复",
                              cc="区委办", contact_name="专班办公室", contact_phone="0571-1234", remarks="无")
    year = timezone.localdate().year
    assert slip.number == f"W-DB-{year}-0001" and slip.issued_on == timezone.localdate()
    assert slip.lead_department == w.dept and list(slip.assisting_departments.all()) == [w.other_dept]
    assert slip.reply_due == workdays.shift_workdays(timezone.localdate(), 2)  # region rule slip_reply_workdays
    assert slip.state() == "awaiting"
    record = Record.objects.get(slip=slip)
    assert record.kind == "slip" and {t["id"] for t in record.told} == {w.users[Role.HANDLER].pk, w.other_handler.pk}
    assert Notification.objects.filter(event="supervision.slip", recipient=w.other_handler).exists()
    second = records.issue_slip(w.appeal.pk, w.member, task="再次督办", requirements="当日答复")
    assert second.number == f"W-DB-{year}-0002"  # a task-force member issues slips too
    assert AuditEntry.objects.filter(content_type__app_label="supervision", content_type__model="slip").count() >= 2


def test_only_supervisors_and_the_task_force_issue_slips(w):
    for who in (w.users[Role.HANDLER], w.users[Role.DISPATCHER], w.users[Role.LEADER]):
        with pytest.raises((NotAllowed, Appeal.DoesNotExist)):
            records.issue_slip(w.appeal.pk, who, task="督办", requirements="答复")
    with pytest.raises(Appeal.DoesNotExist):  # an enterprise does not even see it as a case to supervise
        records.issue_slip(w.appeal.pk, w.west_user, task="督办", requirements="答复")
    assert not Slip.objects.exists() and not Record.objects.exists()


@pytest.mark.parametrize("fields, message", [
    ({"task": "", "requirements": "答复"}, "督办任务"),
    ({"task": "督办", "requirements": "  "}, "办理要求"),
    ({"task": "x" * 10001, "requirements": "答复"}, "督办任务"),
    ({"task": "督办", "requirements": "答复", "contact_phone": "1" * 33}, "联系电话"),
    ({"task": "督办", "requirements": "答复", "reply_due": datetime.date(2020, 1, 1)}, "答复"),
    ({"task": "督办", "requirements": "答复", "lead_department": "nope"}, "nope"),
])
def test_bad_slips_are_refused_with_a_message_and_change_nothing(w, fields, message):
    with pytest.raises(TransitionError) as refused:
        records.issue_slip(w.appeal.pk, w.supervisor, **fields)
    assert message in str(refused.value)
    assert not Slip.objects.exists() and not Record.objects.exists()


def test_the_lead_unit_answers_once(w):
    slip = records.issue_slip(w.appeal.pk, w.supervisor, task="请加快办理", requirements="书面答复")
    with pytest.raises(NotAllowed):
        records.answer_slip(slip.pk, w.other_handler, "我们是协办单位")
    with pytest.raises(TransitionError):
        records.answer_slip(slip.pk, w.users[Role.HANDLER], "   ")
    answered = records.answer_slip(slip.pk, w.users[Role.HANDLER], "已现场协调，本周办结")
    assert answered.state() == "answered" and answered.answered_by == w.users[Role.HANDLER]
    assert Notification.objects.filter(event="supervision.slip_answered", recipient=w.supervisor).exists()
    with pytest.raises(TransitionError):
        records.answer_slip(slip.pk, w.users[Role.HANDLER], "再答一次")


def test_no_slip_on_a_case_no_longer_being_handled(w):
    handler = w.users[Role.HANDLER]
    appeal = workflow.perform(w.appeal, "reply", handler, w.appeal.version, resolution="solved", text="已办")
    workflow.perform(appeal, "mark_handled", handler, appeal.version)
    with pytest.raises(TransitionError):
        records.issue_slip(w.appeal.pk, w.supervisor, task="督办", requirements="答复")


def test_an_overdue_slip(w):
    slip = records.issue_slip(w.appeal.pk, w.supervisor, task="督办", requirements="答复")
    assert slip.state(today=slip.reply_due + datetime.timedelta(days=1)) == "overdue"


def test_leaders_instruct_and_the_case_is_marked(w):
    with pytest.raises(NotAllowed):
        records.instruct(w.appeal.pk, w.supervisor, "请尽快办理")
    instruction = records.instruct(w.appeal.pk, w.users[Role.LEADER], "请专班牵头解决")
    assert LeaderInstruction.objects.get() == instruction
    assert list(records.abnormal(Appeal.objects.all(), "leader_instructed")) == [w.appeal]
    assert Notification.objects.filter(event="supervision.instruction", recipient=w.users[Role.HANDLER]).exists()
    with pytest.raises(TransitionError):
        records.instruct(w.appeal.pk, w.users[Role.LEADER], "")


def test_the_task_force_follows_up_a_chase_once(w):
    from django.core.management import call_command

    call_command("sla", "sweep", "--at", (timezone.now() + datetime.timedelta(days=20)).isoformat())
    chase = Record.objects.get(kind="chase")
    with pytest.raises(NotAllowed):
        records.follow_up(chase.pk, w.users[Role.HANDLER], "自己催自己")
    done = records.follow_up(chase.pk, w.member, "已电话催办，部门承诺今日答复")
    assert done.done_by == w.member and done.done_at is not None
    with pytest.raises(TransitionError):
        records.follow_up(chase.pk, w.supervisor, "再记一次")


def test_the_task_force_and_its_groups_see_every_case_of_their_region(w):
    from qifu.accounts import scopes

    street = User.objects.create_user("w-street-officer", password="pw-12345", region=w.region)
    street.grant(Role.HANDLER)  # a unit's officer seconded to the inspection group: no case of its own
    assert not scopes.appeals(street).filter(pk=w.appeal.pk).exists()
    BodyMembership.objects.create(body=w.group, user=street)
    assert scopes.appeals(street).filter(pk=w.appeal.pk).exists()
    elsewhere = World("x")
    other, _ = workflow.register(actor=elsewhere.users[Role.FRONT_DESK], enterprise=elsewhere.ent_east,
                                 channel=Channel.objects.get(code="window"), title="他区诉求", description="描述")
    assert not scopes.appeals(street).filter(pk=other.pk).exists()
    slip = records.issue_slip(w.appeal.pk, street, task="督查发现进展缓慢", requirements="书面答复")
    assert slip.issued_by == street
