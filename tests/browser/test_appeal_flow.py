"""The appeal's closed loop clicked through in a real browser: front desk → dispatcher → handler → the
enterprise on its phone; the dissatisfied path; an online submission accepted by a dispatcher."""

import pytest

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel, OfficerRating, Rating
from qifu.enterprises.models import LiaisonOfficer

from ..world import World
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    ensure_default_channels()  # live-server tests flush the database, channels included
    return World()


def sign_in(page, user):
    page.context.clear_cookies()
    login(page, user.username)


def status_of(page) -> str:
    return page.locator('[data-testid="status"]').first.inner_text()


def open_appeal(page, appeal):
    page.click(f'[data-testid="appeal-number"] >> text={appeal.number}')
    page.wait_for_url(f"**/appeals/{appeal.pk}/")


def do(page, action):
    """Submit one action form (answering the confirmation step where there is one) and wait for the page."""
    with page.expect_navigation():
        page.click(f'[data-testid="do-{action}"]')
        if page.locator(f'[data-testid="action-{action}"][data-confirm]').count():
            page.click('[data-testid="confirm-ok"]')
    page.wait_for_load_state("networkidle")


def handled_appeal(world) -> Appeal:
    """An appeal the department has handled, waiting for the enterprise's answer."""
    users = world.users
    appeal, _ = workflow.register(actor=users[Role.FRONT_DESK], enterprise=world.ent_east,
                                  channel=Channel.objects.get(code="walk_in"), title="排污许可咨询",
                                  description="排污许可证续期需要什么材料？", category="single")
    for who, action, payload in [
        (Role.DISPATCHER, "assign", {"lead_department": world.dept.code}),
        (Role.HANDLER, "reply", {"resolution": "explained", "text": "条件暂不具备，已解释说明。"}),
        (Role.HANDLER, "mark_handled", {}),
    ]:
        appeal.refresh_from_db()
        workflow.perform(appeal.pk, action, users[who], appeal.version, **payload)
    appeal.refresh_from_db()
    return appeal


def test_the_full_loop_from_walk_in_to_closed(page, phone, world):
    # 1. The front desk registers two problems of a walk-in enterprise it finds by name.
    sign_in(page, world.users[Role.FRONT_DESK])
    page.click('[data-testid="home-register-appeal"]')
    page.wait_for_url("**/appeals/new/")
    page.fill('[data-testid="enterprise-search"]', "东方")
    page.locator(f'[data-testid="enterprise-match"] >> text={world.ent_east.name}').click()
    assert world.ent_east.uscc in page.locator('[data-testid="enterprise-picked"]').inner_text()
    page.fill("#id_contact_name", "王经理")
    page.fill("#id_contact_phone", "13800001234")
    page.select_option("#id_category", label="单一部门（3 个工作日）")
    page.fill("#id_problem-0-title", "新厂房消防验收")
    page.fill("#id_problem-0-description", "新厂房消防验收需要哪些材料，多久能办完？")
    page.click('[data-testid="add-problem"]')
    page.fill("#id_problem-1-title", "研发补助咨询")
    page.fill("#id_problem-1-description", "研发费用补助怎么申请？")
    page.click('[data-testid="register"]')
    page.wait_for_url("**/appeals/new/?created=*")
    created = page.locator('[data-testid="created-appeals"]')
    assert "已登记 2 件诉求" in created.inner_text()
    appeal = Appeal.objects.get(title="新厂房消防验收")
    assert appeal.status == "accepted" and appeal.enterprise == world.ent_east
    assert Appeal.objects.get(title="研发补助咨询").status == "accepted"
    assert appeal.number in created.inner_text()

    # 2. The dispatcher classifies it and assigns it to a lead and an assisting department.
    sign_in(page, world.users[Role.DISPATCHER])
    page.goto("/appeals/")
    open_appeal(page, appeal)
    assert status_of(page) == "已受理"
    page.select_option("#id_classify_scope", label="链上：产业链")
    page.select_option("#id_classify_section", label="政策服务板块")
    do(page, "classify")
    page.select_option("#id_assign_lead_department", label="发改局")
    page.locator('[data-testid="action-assign"]').get_by_label("人社局").check()
    do(page, "assign")
    assert status_of(page) == "办理中"
    assert page.locator('[data-testid="lead-department"]').inner_text() == "发改局"
    assert page.locator('[data-testid="assisting-departments"]').inner_text() == "人社局"
    assert page.locator('[data-testid="assignment-slip"]').get_attribute("href") == \
        f"/appeals/{appeal.pk}/assignment-slip.docx"

    # 3. The lead department's handler replies and marks it handled.
    sign_in(page, world.users[Role.HANDLER])
    page.click('[data-testid="home-being-handled"]')
    open_appeal(page, appeal)
    reply = page.locator('[data-testid="action-reply"]')
    reply.get_by_label("依法依规解决").check()
    reply.locator("textarea").fill("验收材料清单已发至企业邮箱，5 个工作日内可完成验收。")
    do(page, "reply")
    do(page, "mark_handled")
    assert status_of(page) == "已办结"

    # 4. The enterprise, on its phone, follows the progress, confirms it solved and gives 5 stars.
    LiaisonOfficer.objects.create(user=world.users[Role.LIAISON], region=world.region).enterprises.add(world.ent_east)
    login(phone, world.users[Role.ENTERPRISE].username)
    phone.click('[data-testid="home-my-appeals"]')
    phone.wait_for_url("**/appeals/")
    card = phone.locator('[data-testid="appeal-card"]', has_text="新厂房消防验收")
    assert "已办结" in card.inner_text()
    card.click()
    phone.wait_for_url(f"**/appeals/{appeal.pk}/")
    timeline = phone.locator('[data-testid="timeline"]').inner_text()
    for step in ("受理", "交办", "答复", "办结"):
        assert step in timeline
    assert "验收材料清单" in phone.locator('[data-testid="appeal-reply"]').inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    # Closing needs an explicit answer: without one the form says so and nothing changes.
    phone.locator('[data-testid="action-confirm"] textarea').fill("办得很快，谢谢！")
    do(phone, "confirm")
    assert phone.locator('[data-testid="error-confirm-rating"]').is_visible()
    assert status_of(phone) == "已办结"
    assert phone.locator('[data-testid="confirm-star-none"]').inner_text() == "不评价"
    phone.click('[data-testid="confirm-star-5"]')
    phone.locator('[data-testid="action-confirm"] textarea').fill("办得很快，谢谢！")
    do(phone, "confirm")
    assert status_of(phone) == "已销号"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    appeal.refresh_from_db()
    assert appeal.status == "closed" and appeal.closed_at is not None
    rating = Rating.objects.get(appeal=appeal)
    assert rating.solved and rating.stars == 5 and rating.rated and rating.comment == "办得很快，谢谢！"

    # 5. Its liaison officer (助企员) is paired with it: the enterprise answers about the officer — "not rated".
    phone.click('[data-testid="officer-star-none"]')
    with phone.expect_navigation():
        phone.click('[data-testid="do-officer-rating"]')
    assert phone.locator('[data-testid="rating-not-rated"]').count() == 1
    officer_rating = OfficerRating.objects.get(appeal=appeal)
    assert (officer_rating.direction, officer_rating.rated, officer_rating.stars) == ("enterprise_to_officer", False,
                                                                                      None)


def test_not_solved_sends_the_case_back_to_the_handler(page, phone, world):
    appeal = handled_appeal(world)
    login(phone, world.users[Role.ENTERPRISE].username)
    phone.goto(f"/appeals/{appeal.pk}/")
    assert status_of(phone) == "已办结"
    phone.locator('[data-testid="action-reject_result"] textarea').fill("还是没有解决，请再协调。")
    do(phone, "reject_result")
    assert status_of(phone) == "办理中"
    assert phone.locator('[data-testid="dissatisfied-count"]').inner_text() == "1"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    appeal.refresh_from_db()
    assert appeal.status == "assigned" and appeal.dissatisfied_count == 1
    # Back on the handler's desk, to answer again.
    sign_in(page, world.users[Role.HANDLER])
    page.goto(f"/appeals/{appeal.pk}/")
    assert status_of(page) == "办理中"
    assert page.locator('[data-testid="action-reply"]').is_visible()


def test_the_enterprise_submits_online_from_its_phone_and_a_dispatcher_accepts_it(page, phone, world):
    login(phone, world.users[Role.ENTERPRISE].username)
    phone.click('[data-testid="home-submit-appeal"]')
    phone.wait_for_url("**/appeals/submit/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.fill("#id_title", "新产线用电增容")
    phone.fill("#id_description", "新产线下月投产，需要增容 800 千伏安。")
    phone.click('[data-testid="submit"]')
    appeal = Appeal.objects.get(title="新产线用电增容")
    phone.wait_for_url(f"**/appeals/{appeal.pk}/")
    assert status_of(phone) == "待受理"
    assert appeal.status == "submitted" and appeal.channel.code == "online"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    sign_in(page, world.users[Role.DISPATCHER])
    page.click('[data-testid="home-to-dispatch"]')
    open_appeal(page, appeal)
    page.select_option("#id_accept_category", label="单一部门（3 个工作日）")
    do(page, "accept")
    assert status_of(page) == "已受理"
    assert page.locator('[data-testid="time-left"]').is_visible()
    appeal.refresh_from_db()
    assert appeal.status == "accepted" and appeal.category == "single" and appeal.due_at is not None


def test_the_appeal_list_filters_without_reloading(page, world):
    for title, category in (("甲 单一部门件", "single"), ("乙 吹哨件", "whistle")):
        workflow.register(actor=world.users[Role.FRONT_DESK], enterprise=world.ent_east,
                          channel=Channel.objects.get(code="walk_in"), title=title, description="内容",
                          category=category)
    sign_in(page, world.users[Role.DISPATCHER])
    page.goto("/appeals/")
    results = page.locator("#appeal-results")
    assert "甲 单一部门件" in results.inner_text() and "乙 吹哨件" in results.inner_text()
    page.select_option("#id_category", label="吹哨，多部门（5 个工作日）")
    page.wait_for_url("**/appeals/?*category=whistle*")
    results.locator("text=乙 吹哨件").wait_for()
    assert "甲 单一部门件" not in results.inner_text()
