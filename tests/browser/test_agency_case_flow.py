"""Issue 12's Done-when, on a phone (375 × 812): an enterprise opens 工业项目开工, starts it as an agency case and sees
its own checklist and its own flow chart (专属办事流程图) — the stages in order, "you are here" on the first."""

from pathlib import Path

import pytest

from qifu.accounts.models import Role
from qifu.scenarios import presets
from qifu.scenarios.models import AgencyCase

from ..world import World
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE = Path(__file__).resolve().parent.parent / "scenarios_sample.yaml"


@pytest.fixture
def tall_phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 812},
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_an_enterprise_starts_industrial_project_start_and_follows_its_checklist_and_flow_chart(tall_phone):
    w = World("ab")
    presets.load(SAMPLE, region_code=w.region.code)
    page = tall_phone
    login(page, w.users[Role.ENTERPRISE].username)
    page.goto("/scenarios/")
    page.click('[data-testid="scenario-row"][data-code="industrial-project-start"]')
    page.wait_for_url("**/scenarios/industrial-project-start/")
    assert page.locator('[data-testid="scenario-stage"]').count() == 3
    with page.expect_navigation():
        page.click('[data-testid="start-case"]')
    case = AgencyCase.objects.get()
    page.wait_for_url(f"**/agency-cases/{case.pk}/")
    assert case.enterprise == w.ent_east and case.agent == w.users[Role.FRONT_DESK]
    assert page.locator('[data-testid="case-item"]').count() == 9
    assert "建设工程施工许可（多合一）" in page.locator('[data-testid="checklist"]').inner_text()
    stages = page.locator('[data-testid="flow-stage"]')
    assert [stages.nth(i).get_attribute("data-stage") for i in range(stages.count())] == ["项目前期", "审批办理", "开工准备"]
    current = page.locator('[data-testid="flow-stage"][data-current="1"]')
    assert current.count() == 1 and current.get_attribute("data-stage") == "项目前期"
    assert current.locator('[data-testid="you-are-here"]').is_visible()
    assert page.locator('[data-testid="flow-item"]').count() == 9
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # reads on the phone without scrolling sideways
    page.goto("/")
    assert page.locator('[data-testid="count-agency"]').inner_text() == "1"
