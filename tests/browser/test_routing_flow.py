"""Routing suggestions in a real browser: the front desk registers a walk-in appeal, types the problem, sees the
suggested section and lead unit and the similar closed cases, accepts the section with the button, registers, and
the appeal has that section."""

import pytest

from qifu.accounts.models import Role
from qifu.appeals import routing
from qifu.appeals.models import Appeal

from ..test_routing import fill, make_world
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_front_desk_accepts_the_suggested_section(page):
    routing.clear_cache()
    w = make_world()
    fill(w)
    login(page, w.users[Role.FRONT_DESK].username)
    page.goto("/appeals/new/")
    page.fill('[data-testid="enterprise-search"]', "东方演示")
    page.click('[data-pick-uscc]')
    page.fill("#id_problem-0-title", "消防验收咨询")
    page.fill("#id_problem-0-description", "新厂房竣工后，消防验收需要准备哪些材料？")
    suggestion = page.locator('[data-testid="problem-0-suggestion"] [data-testid="suggestion"]')
    suggestion.wait_for()
    assert page.locator('[data-testid="suggested-section"]').inner_text() == "项目服务板块"
    assert page.locator('[data-testid="suggested-lead"]').inner_text() == "住建局"
    assert "厂房消防验收" in page.locator('[data-testid="similar-case"]').first.locator("xpath=..").inner_text()
    assert page.input_value("#id_problem-0-section") == ""
    page.click('[data-testid="accept-section"]')
    assert page.input_value("#id_problem-0-section") == "rt-project"
    with page.expect_navigation():
        page.click('[data-testid="register"]')
    page.wait_for_load_state("networkidle")
    assert page.locator('[data-testid="created-appeal"]').is_visible()
    appeal = Appeal.objects.get(title="消防验收咨询")
    assert appeal.section.code == "rt-project"
    assert appeal.enterprise == w.ent_east


def test_an_added_problem_gets_its_own_suggestion(page):
    routing.clear_cache()
    w = make_world()
    fill(w)
    login(page, w.users[Role.DISPATCHER].username)
    page.goto("/appeals/new/")
    page.click('[data-testid="add-problem"]')
    page.fill("#id_problem-1-title", "招聘会")
    page.fill("#id_problem-1-description", "缺少操作工，希望对接劳务资源和招聘会")
    page.locator('[data-testid="problem-1-suggestion"] [data-testid="suggestion"]').wait_for()
    page.locator('[data-testid="problem-1-suggestion"] [data-testid="accept-section"]').click()
    assert page.input_value("#id_problem-1-section") == "rt-talent"
    assert page.input_value("#id_problem-0-section") == ""
