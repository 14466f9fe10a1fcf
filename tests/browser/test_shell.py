"""Sign in as each role, phone-width enterprise pages, scoping by URL, forms and language."""

import pytest

from qifu.accounts.models import Role
from qifu.enterprises.models import Enterprise

from ..world import World, credit_code
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

HEADINGS = {
    Role.ADMIN: "系统管理", Role.FRONT_DESK: "前台综合受理", Role.DISPATCHER: "分拨调度",
    Role.HANDLER: "部门工作台", Role.CHIEF_SPECIALIST: "我的板块", Role.SPECIALIST: "我的板块",
    Role.LIAISON: "助企员", Role.SUPERVISOR: "督查总览", Role.LEADER: "领导驾驶舱",
    Role.ENTERPRISE: "企业专属空间",
}


@pytest.fixture
def world():
    return World()


def test_each_role_signs_in_and_sees_its_home_page(page, world):
    for role, heading in HEADINGS.items():
        login(page, world.users[role].username)
        home = page.locator(f'[data-testid="home-{role.value}"]')
        assert home.is_visible(), role
        assert heading in home.inner_text()
        page.click("text=退出")
        page.wait_for_url("**/login/")


def test_a_wrong_password_is_refused(page, world):
    login(page, world.users[Role.ADMIN].username, "wrong")
    assert "用户名或密码错误" in page.content()
    assert "/login/" in page.url


def test_an_enterprise_user_cannot_open_another_enterprise_by_url(phone, world):
    login(phone, world.users[Role.ENTERPRISE].username)
    response = phone.goto(f"/enterprises/{world.ent_west.pk}/")
    assert response.status == 404
    assert world.ent_west.name not in phone.content()
    response = phone.goto(f"/enterprises/{world.ent_east.pk}/")
    assert response.status == 200
    assert phone.locator('[data-testid="uscc"]').inner_text() == world.ent_east.uscc


def test_the_enterprise_space_works_at_phone_width(phone, world):
    login(phone, world.users[Role.ENTERPRISE].username)
    assert phone.locator('[data-testid="home-enterprise"]').is_visible()
    assert world.ent_east.name in phone.content()
    # The menu collapses behind the toggler on a phone and opens on tap.
    assert not phone.locator("#mainnav").is_visible()
    phone.click(".navbar-toggler")
    phone.locator("#mainnav").wait_for(state="visible")
    phone.click("#mainnav >> text=我的企业")
    phone.wait_for_url(f"**/enterprises/{world.ent_east.pk}/")
    # Nothing overflows the screen sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375


def test_front_desk_looks_up_and_registers_an_enterprise(page, world):
    login(page, world.users[Role.FRONT_DESK].username)
    page.fill('input[name="q"]', "东方")
    page.locator("#lookup-results >> text=" + world.ent_east.name).wait_for()
    assert world.ent_west.name not in page.locator("#lookup-results").inner_text()

    page.goto("/enterprises/new/")
    good = credit_code(4242)
    page.fill("#id_uscc", good[:-1] + ("0" if good[-1] != "0" else "1"))
    page.fill("#id_name", "浏览器登记演示有限公司")
    page.click('[data-testid="save"]')
    error = page.locator('[data-testid="error-uscc"]')
    assert "校验码（第 18 位）应为" in error.inner_text()
    assert not Enterprise.objects.filter(name="浏览器登记演示有限公司").exists()

    page.fill("#id_uscc", good)
    page.select_option("#id_jurisdiction", label="东街道")
    page.click('[data-testid="save"]')
    page.wait_for_url("**/enterprises/*/")
    assert page.locator('[data-testid="uscc"]').inner_text() == good


def test_the_language_switch_turns_the_page_english(page, world):
    login(page, world.users[Role.LEADER].username)
    page.click('[data-testid="language-switch"] >> text=English')
    page.wait_for_load_state("networkidle")
    assert "Leader's dashboard" in page.content() and "Sign out" in page.content()
    page.click('[data-testid="language-switch"] >> text=简体中文')
    page.wait_for_load_state("networkidle")
    assert "领导驾驶舱" in page.content()


def test_the_leaders_dashboard_draws_its_chart(page, world):
    login(page, world.users[Role.LEADER].username)
    page.locator("#chart-industry canvas").wait_for()
    assert page.locator('[data-testid="enterprise-count"]').inner_text() == "2"
