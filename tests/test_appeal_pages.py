"""Appeal pages: registering walk-ins (one or several problems, all or nothing), the list and its filters,
one appeal with its action forms, the enterprise's own online submission, and who sees what."""

import datetime

import pytest
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel, Rating
from qifu.org.models import Department, Section

from .world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ensure_default_channels()
    w = World()
    w.third_dept = Department.objects.create(region=w.region, code="w-scj", name="市场监管局")
    w.talent = Section.objects.create(region=w.region, code="w-talent", name="人才服务板块", kind="talent",
                                      node=w.center, lead_department=w.other_dept)
    return w


def login(client, user):
    client.force_login(user)
    return client


def intake(world, *problems, **fields):
    """The POST of the intake form: the shared part and one row per problem."""
    data = {
        "enterprise_q": world.ent_east.name, "enterprise_uscc": world.ent_east.uscc, "contact_name": "王经理",
        "contact_phone": "13800001234", "channel": "walk_in", "category": "", "intake_key": "",
        "problem-TOTAL_FORMS": str(len(problems)), "problem-INITIAL_FORMS": "0",
        "problem-MIN_NUM_FORMS": "1", "problem-MAX_NUM_FORMS": "20",
    }
    for i, problem in enumerate(problems):
        for key, value in problem.items():
            data[f"problem-{i}-{key}"] = value
    data.update(fields)
    return data


def register(world, title="厂房消防验收咨询", who=Role.FRONT_DESK, enterprise=None, **kwargs):
    appeal, _ = workflow.register(actor=world.users[who], enterprise=enterprise or world.ent_east,
                                  channel=Channel.objects.get(code=kwargs.pop("channel", "walk_in")), title=title,
                                  description="需要哪些材料？", contact_phone="13800001234", **kwargs)
    return appeal


def act(world, appeal, action, who, **payload):
    appeal.refresh_from_db()
    return workflow.perform(appeal.pk, action, world.users[who], appeal.version, **payload)


# --- registering walk-ins ----------------------------------------------------------------------------

def test_front_desk_registers_one_walk_in_problem(client, world):
    login(client, world.users[Role.FRONT_DESK])
    assert client.get("/appeals/new/").status_code == 200
    r = client.post("/appeals/new/", intake(world, {"title": "厂房消防验收咨询", "description": "需要哪些材料？"}))
    assert r.status_code == 302, r.content.decode()
    appeal = Appeal.objects.get()
    assert appeal.status == "accepted" and appeal.enterprise == world.ent_east
    assert appeal.channel.code == "walk_in" and appeal.contact_name == "王经理"
    assert appeal.created_by == world.users[Role.FRONT_DESK] and appeal.received_node == world.center
    page = client.get(r["Location"]).content.decode()
    assert 'data-testid="created-appeals"' in page and appeal.number in page and f"/appeals/{appeal.pk}/" in page


def test_several_problems_raised_together_become_several_appeals(client, world):
    login(client, world.users[Role.FRONT_DESK])
    r = client.post("/appeals/new/", intake(
        world,
        {"title": "用工招聘", "description": "招不到技术工人"},
        {"title": "政策咨询", "description": "研发补助怎么申请", "on_spot": "on", "resolution": "solved",
         "answer": "已当场讲解申报流程。", "rating": "none"},
        {"title": "", "description": ""},  # an added row left blank is ignored
        category="single",
    ))
    assert r.status_code == 302, r.content.decode()
    appeals = {a.title: a for a in Appeal.objects.all()}
    assert set(appeals) == {"用工招聘", "政策咨询"}
    assert appeals["用工招聘"].status == "accepted" and appeals["用工招聘"].category == "single"
    on_spot = appeals["政策咨询"]
    assert on_spot.status == "closed" and on_spot.solved_on_spot and on_spot.reply == "已当场讲解申报流程。"
    page = client.get(r["Location"]).content.decode()
    assert appeals["用工招聘"].number in page and on_spot.number in page


def test_a_bad_row_saves_nothing_and_says_what_is_wrong_next_to_the_row(client, world):
    login(client, world.users[Role.FRONT_DESK])
    r = client.post("/appeals/new/", intake(
        world,
        {"title": "用工招聘", "description": "招不到技术工人"},
        {"title": "政策咨询", "description": "", "on_spot": "on", "resolution": "solved", "answer": ""},
    ))
    assert r.status_code == 200
    page = r.content.decode()
    assert 'data-testid="error-problem-1-description"' in page and 'data-testid="error-problem-1-answer"' in page
    assert 'data-testid="error-problem-0-' not in page
    assert not Appeal.objects.exists()


def test_a_row_the_workflow_refuses_rolls_back_the_rows_before_it(client, world, monkeypatch):
    real = workflow.register

    def refuse_the_second(**kwargs):
        if kwargs["title"] == "第二个":
            raise workflow.TransitionError("工作流拒绝了这一行")
        return real(**kwargs)

    monkeypatch.setattr(workflow, "register", refuse_the_second)
    login(client, world.users[Role.FRONT_DESK])
    r = client.post("/appeals/new/", intake(world, {"title": "第一个", "description": "一"},
                                            {"title": "第二个", "description": "二"}))
    assert r.status_code == 200
    page = r.content.decode()
    assert 'data-testid="problem-1-error"' in page and "工作流拒绝了这一行" in page
    assert not Appeal.objects.exists()


def test_the_enterprise_may_be_typed_as_a_credit_code_or_its_exact_name(client, world):
    login(client, world.users[Role.FRONT_DESK])
    row = {"title": "咨询", "description": "内容"}
    assert client.post("/appeals/new/", intake(world, row, enterprise_uscc="",
                                               enterprise_q=world.ent_west.uscc)).status_code == 302
    assert client.post("/appeals/new/", intake(world, row, enterprise_uscc="",
                                               enterprise_q=world.ent_east.name)).status_code == 302
    assert sorted(Appeal.objects.values_list("enterprise__name", flat=True)) == sorted(
        [world.ent_west.name, world.ent_east.name])
    r = client.post("/appeals/new/", intake(world, row, enterprise_uscc="", enterprise_q="演示"))
    assert r.status_code == 200 and 'data-testid="error-enterprise"' in r.content.decode()
    bad = world.ent_east.uscc[:-1] + ("0" if world.ent_east.uscc[-1] != "0" else "1")
    r = client.post("/appeals/new/", intake(world, row, enterprise_uscc="", enterprise_q=bad))
    assert r.status_code == 200 and 'data-testid="error-enterprise"' in r.content.decode()
    assert Appeal.objects.count() == 2


def test_the_live_enterprise_search_shows_only_enterprises_this_user_may_serve(client, world):
    login(client, world.station_user)  # the east station's front desk
    page = client.get("/appeals/new/enterprises/", {"enterprise_q": "演示"}).content.decode()
    assert world.ent_east.name in page and world.ent_west.name not in page
    assert f'data-pick-uscc="{world.ent_east.uscc}"' in page


def test_only_intake_roles_register_walk_ins(client, world):
    for role in (Role.HANDLER, Role.LEADER, Role.ENTERPRISE):
        login(client, world.users[role])
        assert client.get("/appeals/new/").status_code == 403, role
    login(client, world.users[Role.LIAISON])
    assert client.get("/appeals/new/").status_code == 200


# --- the list ---------------------------------------------------------------------------------------

@pytest.fixture
def cases(world):
    """Appeals that differ in one thing each, so each filter keeps exactly the ones it should."""
    c = {}
    c["assigned"] = register(world, "甲 已交办", category="single")
    act(world, c["assigned"], "classify", Role.DISPATCHER, category="single", section="w-policy")
    act(world, c["assigned"], "assign", Role.DISPATCHER, lead_department="w-fgj")
    c["whistle"] = register(world, "乙 吹哨件", category="whistle")
    act(world, c["whistle"], "classify", Role.DISPATCHER, category="whistle", section="w-talent")
    act(world, c["whistle"], "assign", Role.DISPATCHER, lead_department="w-rsj", assisting_departments=["w-scj"])
    c["station"] = register(world, "丙 驿站受理", who=Role.ADMIN, received_node=world.station, category="single")
    long_ago = timezone.now() - datetime.timedelta(days=20)
    c["overdue"] = register(world, "丁 超期件", category="simple", received_at=long_ago)
    return c


def titles(client, **params):
    r = client.get("/appeals/", params)
    assert r.status_code == 200
    page = r.content.decode()
    return {t for t in ("甲 已交办", "乙 吹哨件", "丙 驿站受理", "丁 超期件") if t in page}


def test_the_filters_narrow_the_list(client, world, cases):
    login(client, world.users[Role.DISPATCHER])
    assert titles(client) == {"甲 已交办", "乙 吹哨件", "丙 驿站受理", "丁 超期件"}
    assert titles(client, status="assigned") == {"甲 已交办", "乙 吹哨件"}
    assert titles(client, status="accepted") == {"丙 驿站受理", "丁 超期件"}
    assert titles(client, category="whistle") == {"乙 吹哨件"}
    assert titles(client, lead_department="w-fgj") == {"甲 已交办"}
    assert titles(client, section="w-talent") == {"乙 吹哨件"}
    assert titles(client, node="w-station") == {"丙 驿站受理"}
    assert titles(client, overdue="yes") == {"丁 超期件"}
    assert titles(client, overdue="no") == {"甲 已交办", "乙 吹哨件", "丙 驿站受理"}
    assert titles(client, q="吹哨") == {"乙 吹哨件"}
    assert titles(client, status="assigned", section="w-policy") == {"甲 已交办"}


def test_an_overdue_case_shows_by_how_many_working_days_in_red(client, world, cases):
    login(client, world.users[Role.DISPATCHER])
    page = client.get("/appeals/", {"overdue": "yes"}).content.decode()
    assert 'class="text-danger fw-semibold" data-testid="overdue"' in page
    page = client.get("/appeals/", {"status": "assigned"}).content.decode()
    assert 'data-testid="time-left"' in page and 'data-testid="overdue"' not in page


def test_htmx_filter_updates_return_only_the_results(client, world, cases):
    login(client, world.users[Role.DISPATCHER])
    r = client.get("/appeals/", {"category": "whistle"}, HTTP_HX_REQUEST="true")
    page = r.content.decode()
    assert "乙 吹哨件" in page and "甲 已交办" not in page and "<html" not in page


def test_the_list_is_paginated_by_25(client, world):
    for n in range(27):
        register(world, f"批量 {n:02d}")
    login(client, world.users[Role.DISPATCHER])
    first = client.get("/appeals/").content.decode()
    assert first.count('data-testid="appeal-row"') == 25 and "1 / 2" in first
    second = client.get("/appeals/", {"page": 2}).content.decode()
    assert second.count('data-testid="appeal-row"') == 2


def test_a_handler_lists_only_its_departments_cases(client, world, cases):
    login(client, world.users[Role.HANDLER])  # w-fgj
    assert titles(client) == {"甲 已交办"}


def test_an_enterprise_user_gets_cards_of_its_own_appeals(client, world, cases):
    register(world, "西方企业的诉求", enterprise=world.ent_west)
    login(client, world.users[Role.ENTERPRISE])
    page = client.get("/appeals/").content.decode()
    assert 'data-testid="appeal-cards"' in page and 'data-testid="appeal-table"' not in page
    assert "甲 已交办" in page and "西方企业的诉求" not in page
    assert "我的诉求" in page


# --- one appeal -------------------------------------------------------------------------------------

def test_another_enterprises_user_gets_404(client, world):
    appeal = register(world)
    login(client, world.west_user)
    assert client.get(f"/appeals/{appeal.pk}/").status_code == 404
    assert client.post(f"/appeals/{appeal.pk}/actions/withdraw/", {"version": appeal.version,
                                                                      "reason": "x"}).status_code == 404
    login(client, world.users[Role.ENTERPRISE])
    assert client.get(f"/appeals/{appeal.pk}/").status_code == 200


def test_the_contact_phone_is_masked_for_a_leader_and_shown_to_the_dispatcher(client, world):
    appeal = register(world)
    login(client, world.users[Role.LEADER])
    page = client.get(f"/appeals/{appeal.pk}/").content.decode()
    assert "138****1234" in page and "13800001234" not in page
    login(client, world.users[Role.DISPATCHER])
    assert "13800001234" in client.get(f"/appeals/{appeal.pk}/").content.decode()


def test_the_detail_shows_deadline_timeline_and_only_the_users_actions(client, world):
    appeal = register(world, category="single")
    login(client, world.users[Role.DISPATCHER])
    page = client.get(f"/appeals/{appeal.pk}/").content.decode()
    assert 'data-testid="deadline"' in page and 'data-testid="time-left"' in page
    assert 'data-testid="event-submit"' in page and 'data-testid="event-accept"' in page
    assert 'data-testid="action-assign"' in page and 'data-testid="action-classify"' in page
    assert 'data-testid="action-reply"' not in page and 'data-testid="assignment-slip"' not in page
    login(client, world.users[Role.LEADER])
    assert 'data-testid="action-' not in client.get(f"/appeals/{appeal.pk}/").content.decode()


def test_assigning_through_the_form_moves_the_appeal(client, world):
    appeal = register(world, category="single")
    login(client, world.users[Role.DISPATCHER])
    r = client.post(f"/appeals/{appeal.pk}/actions/assign/", {
        "version": appeal.version, "lead_department": "w-fgj", "assisting_departments": ["w-rsj", "w-scj"]})
    assert r.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == "assigned" and appeal.lead_department == world.dept
    assert set(appeal.assisting_departments.values_list("code", flat=True)) == {"w-rsj", "w-scj"}
    page = client.get(f"/appeals/{appeal.pk}/").content.decode()
    assert 'data-testid="assignment-slip"' in page and f"/appeals/{appeal.pk}/assignment-slip.docx" in page
    assert 'data-testid="event-assign"' in page and 'data-testid="action-reassign"' in page


def test_the_whole_loop_through_the_forms(client, world):
    appeal = register(world, category="single")
    steps = [
        (Role.DISPATCHER, "classify", {"category": "single", "scope": "chain", "section": "w-policy"}),
        (Role.DISPATCHER, "assign", {"lead_department": "w-fgj", "assisting_departments": ["w-rsj"]}),
        (Role.HANDLER, "request_input", {"text": "请人社局提供意见"}),
        (Role.HANDLER, "reply", {"resolution": "solved", "text": "材料清单已发送。"}),
        (Role.HANDLER, "mark_handled", {}),
        (Role.ENTERPRISE, "confirm", {"rating": "5", "comment": "很快"}),
    ]
    for role, action, data in steps:
        appeal.refresh_from_db()
        login(client, world.users[role])
        r = client.post(f"/appeals/{appeal.pk}/actions/{action}/", {"version": appeal.version, **data})
        assert r.status_code == 302, (action, r.content.decode())
    appeal.refresh_from_db()
    assert appeal.status == "closed" and appeal.scope == "chain" and appeal.section == world.section
    rating = Rating.objects.get(appeal=appeal)
    assert rating.solved and rating.stars == 5 and rating.comment == "很快"


def test_not_solved_sends_the_case_back_to_the_handler(client, world):
    appeal = register(world, category="simple")
    act(world, appeal, "assign", Role.DISPATCHER, lead_department="w-fgj")
    act(world, appeal, "reply", Role.HANDLER, resolution="explained", text="已解释说明。")
    act(world, appeal, "mark_handled", Role.HANDLER)
    appeal.refresh_from_db()
    login(client, world.users[Role.ENTERPRISE])
    r = client.post(f"/appeals/{appeal.pk}/actions/reject_result/", {"version": appeal.version, "comment": "没解决"})
    assert r.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == "assigned" and appeal.dissatisfied_count == 1
    page = client.get(f"/appeals/{appeal.pk}/").content.decode()
    assert '<span data-testid="dissatisfied-count">1</span>' in page


def test_a_stale_version_shows_the_message_and_changes_nothing(client, world):
    appeal = register(world, category="single")
    loaded_version = appeal.version
    act(world, appeal, "assign", Role.DISPATCHER, lead_department="w-fgj")  # someone else, meanwhile
    appeal.refresh_from_db()
    version_after, events_after = appeal.version, appeal.events.count()
    login(client, world.users[Role.DISPATCHER])
    r = client.post(f"/appeals/{appeal.pk}/actions/reassign/", {
        "version": loaded_version, "lead_department": "w-rsj", "reason": "职责不符"}, follow=True)
    assert r.status_code == 200
    assert "此诉求已被他人更新" in r.content.decode()
    appeal.refresh_from_db()
    assert appeal.lead_department == world.dept and appeal.version == version_after
    assert appeal.events.count() == events_after


def test_a_refused_transition_shows_the_workflows_message(client, world):
    appeal = register(world, category="single")
    act(world, appeal, "assign", Role.DISPATCHER, lead_department="w-fgj")
    appeal.refresh_from_db()
    login(client, world.users[Role.HANDLER])
    r = client.post(f"/appeals/{appeal.pk}/actions/mark_handled/", {"version": appeal.version})
    assert r.status_code == 400
    assert 'data-testid="action-error"' in r.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == "assigned"


def test_a_role_that_may_not_act_is_refused(client, world):
    appeal = register(world, category="single")
    login(client, world.users[Role.LEADER])
    r = client.post(f"/appeals/{appeal.pk}/actions/assign/", {"version": appeal.version, "lead_department": "w-fgj"})
    assert r.status_code == 403
    appeal.refresh_from_db()
    assert appeal.status == "accepted"


def test_reassigning_needs_a_reason(client, world):
    appeal = register(world, category="single")
    act(world, appeal, "assign", Role.DISPATCHER, lead_department="w-fgj")
    appeal.refresh_from_db()
    login(client, world.users[Role.DISPATCHER])
    r = client.post(f"/appeals/{appeal.pk}/actions/reassign/", {"version": appeal.version, "lead_department": "w-rsj"})
    assert r.status_code == 400 and 'data-testid="error-reason"' in r.content.decode()
    r = client.post(f"/appeals/{appeal.pk}/actions/reassign/", {"version": appeal.version, "lead_department": "w-rsj",
                                                                 "reason": "职责属人社局"})
    assert r.status_code == 302
    appeal.refresh_from_db()
    assert appeal.lead_department == world.other_dept


# --- an enterprise's own online appeal -----------------------------------------------------------------

def test_an_enterprise_submits_online_and_it_waits_for_a_dispatcher(client, world):
    login(client, world.users[Role.ENTERPRISE])
    assert client.get("/appeals/submit/").status_code == 200
    r = client.post("/appeals/submit/", {"title": "用电增容", "description": "新产线需要增容", "contact_name": "李四",
                                         "contact_phone": "13900002222"})
    assert r.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.status == "submitted" and appeal.enterprise == world.ent_east and appeal.channel.code == "online"
    assert r["Location"] == f"/appeals/{appeal.pk}/"
    login(client, world.users[Role.DISPATCHER])
    r = client.post(f"/appeals/{appeal.pk}/actions/accept/", {"version": appeal.version, "category": "single"})
    assert r.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == "accepted" and appeal.due_at is not None


def test_staff_do_not_use_the_enterprise_submission_page(client, world):
    login(client, world.users[Role.FRONT_DESK])
    assert client.get("/appeals/submit/").status_code == 403


# --- navigation ------------------------------------------------------------------------------------

def test_the_menu_offers_appeals_by_role(client, world):
    login(client, world.users[Role.ENTERPRISE])
    page = client.get("/").content.decode()
    assert "我的诉求" in page and 'href="/appeals/new/"' not in page and 'href="/appeals/submit/"' in page
    login(client, world.users[Role.FRONT_DESK])
    page = client.get("/").content.decode()
    assert 'href="/appeals/new/"' in page and ">诉求<" in page
    login(client, world.users[Role.ADMIN])
    assert client.get("/").content.decode().count('class="nav-link" href="/appeals/"') == 1
