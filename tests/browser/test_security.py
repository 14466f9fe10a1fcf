"""Security flows in Chromium: sign-in lockout, the forced change of an initial password, and the pages
working under the Content-Security-Policy (no violation reported, htmx, ECharts and the admin working)."""

import pytest

from qifu.accounts.models import Role, User

from ..world import World
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    world = World()
    admin = world.users[Role.ADMIN]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return world


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(page, world):
    user = world.users[Role.DISPATCHER]
    for attempt in range(4):
        login(page, user.username, "wrong-password")
        assert "用户名或密码错误" in page.content(), attempt
    login(page, user.username, "wrong-password")
    locked = page.locator('[data-testid="locked-out"]')
    assert "登录失败次数过多" in locked.inner_text() and "后再试" in locked.inner_text()
    page.click("text=返回登录")
    page.wait_for_url("**/login/")
    login(page, user.username)  # the right password, while locked
    assert page.locator('[data-testid="locked-out"]').is_visible()
    assert page.locator('[data-testid="whoami"]').count() == 0


def test_an_initial_password_must_be_changed_before_any_page(page, world):
    clerk = User(username="newclerk", region=world.region, node=world.center)
    clerk.set_initial_password("Initial-Pass-2026")
    clerk.save()
    clerk.grant(Role.FRONT_DESK)
    login(page, "newclerk", "Initial-Pass-2026")
    page.wait_for_url("**/password/")
    assert page.locator('[data-testid="password-change-required"]').is_visible()
    page.goto("/enterprises/")
    page.wait_for_url("**/password/")
    page.fill("#id_old_password", "Initial-Pass-2026")
    page.fill("#id_new_password1", "short")
    page.fill("#id_new_password2", "short")
    page.click('[data-testid="change-password"]')
    assert "此密码太短" in page.locator('[data-testid="error-new_password2"]').inner_text()
    page.fill("#id_old_password", "Initial-Pass-2026")
    page.fill("#id_new_password1", "My-Own-Choice-2026")
    page.fill("#id_new_password2", "My-Own-Choice-2026")
    with page.expect_navigation():
        page.click('[data-testid="change-password"]')
    page.locator('[data-testid="home-front_desk"]').wait_for()
    assert "密码已修改" in page.content()
    page.goto("/enterprises/")
    assert "/enterprises/" in page.url
    page.click("text=退出")
    page.wait_for_url("**/login/")
    login(page, "newclerk", "My-Own-Choice-2026")
    assert page.locator('[data-testid="home-front_desk"]').is_visible()
    page.click('[data-testid="password-change-link"]')  # the user menu links to the change page
    page.wait_for_url("**/password/")
    assert page.locator('[data-testid="password-change-required"]').count() == 0


def test_pages_work_under_the_content_security_policy(page, world):
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda error: violations.append(str(error)))
    login(page, world.users[Role.LEADER].username)
    page.locator("#chart-industry canvas").wait_for()  # ECharts draws from front/charts.js
    page.click("text=退出")
    login(page, world.users[Role.FRONT_DESK].username)
    page.goto("/enterprises/")
    page.fill('input[name="q"]', "东方")  # htmx search, eval-free config
    page.locator(f"text={world.ent_east.name}").first.wait_for()
    page.goto("/appeals/new/")
    problems = page.locator(".problem")
    before = problems.count()
    page.click('[data-testid="add-problem"]')  # appeals/intake.js
    assert problems.count() == before + 1
    page.goto(f"/enterprises/{world.ent_east.pk}/edit/")
    assert "form-control" in page.locator("#id_name").get_attribute("class")  # front/qifu.js
    page.click("text=退出")
    login(page, world.users[Role.ADMIN].username)
    for url in ["/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{world.users[Role.HANDLER].pk}/change/",
                "/admin/accounts/user/add/", "/admin/audit/auditentry/", "/admin/axes/accessattempt/"]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
    page.goto("/admin/accounts/user/")
    page.locator("#searchbar").wait_for()
    assert violations == []
