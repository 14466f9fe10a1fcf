"""The UI in a real browser: the appeal list's deadline column at 1366 px, the unread badge on a phone, the
confirmation step before an appeal is closed, and the API docs served from the vendored Swagger UI."""

import pytest

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel
from qifu.enterprises.models import Enterprise
from qifu.notify import notify
from qifu.org.models import Department

from ..world import World, credit_code
from .conftest import login
from .test_appeal_flow import handled_appeal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    ensure_default_channels()
    return World()


@pytest.fixture
def laptop(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_the_appeal_lists_deadline_column_is_in_view_at_1366_px(laptop, world):
    long_dept = Department.objects.create(region=world.region, code="w-long", name="区市场监督管理局（知识产权局）综合执法大队")
    for i in range(6):
        enterprise = Enterprise.objects.create(
            region=world.region, uscc=credit_code(), name=f"杭州钱塘新区长名称示范智能装备制造股份有限公司第{i}分公司",
            jurisdiction=world.east, industry="C3489", size="small")
        appeal, _ = workflow.register(
            actor=world.users[Role.FRONT_DESK], enterprise=enterprise, channel=Channel.objects.get(code="walk_in"),
            title="新建厂房消防验收、排污许可和用电增容需要同时办理，希望各部门联合指导并加快审批进度",
            description="内容", category="single")
        workflow.perform(appeal.pk, "assign", world.users[Role.DISPATCHER], appeal.version,
                         lead_department=long_dept.code)
    login(laptop, world.users[Role.DISPATCHER].username)
    laptop.goto("/appeals/")
    header = laptop.locator('[data-testid="appeal-due-header"]')
    header.wait_for()
    box = laptop.evaluate("""() => {
        const wrap = document.querySelector('[data-testid="appeal-table"]').closest('.table-responsive');
        const due = document.querySelector('[data-testid="appeal-due-header"]').getBoundingClientRect();
        return {scroll: wrap.scrollWidth, client: wrap.clientWidth, right: due.right,
                wrapRight: wrap.getBoundingClientRect().right, viewport: window.innerWidth};
    }""")
    assert box["scroll"] <= box["client"] + 1, box  # no horizontal scrolling needed
    assert box["right"] <= box["wrapRight"] + 1 and box["right"] <= box["viewport"], box
    assert laptop.locator('[data-testid="appeal-due"]').first.is_visible()


def test_the_unread_badge_shows_in_the_collapsed_navbar_on_a_phone(phone, world):
    user = world.users[Role.ENTERPRISE]
    notify(user, "test.hello", "您有一条新消息", "正文")
    notify(user, "test.hello", "您还有一条新消息", "正文")
    login(phone, user.username)
    phone.goto("/")
    assert not phone.locator("#mainnav").is_visible()  # the menu is collapsed at phone width
    badge = phone.locator('[data-testid="inbox-unread-phone"]')
    assert badge.is_visible() and badge.inner_text() == "2"
    phone.click('[data-testid="inbox-phone"]')
    phone.wait_for_url("**/inbox/")


def test_closing_an_appeal_asks_for_confirmation_first(phone, world):
    appeal = handled_appeal(world)
    login(phone, world.users[Role.ENTERPRISE].username)
    phone.goto(f"/appeals/{appeal.pk}/")
    phone.click('[data-testid="confirm-star-5"]')
    phone.click('[data-testid="do-confirm"]')
    dialog = phone.locator('[data-testid="confirm-dialog"]')
    assert dialog.is_visible() and "关闭" in dialog.inner_text()
    phone.click('[data-testid="confirm-cancel"]')
    assert not dialog.is_visible()
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.HANDLED  # nothing was sent
    phone.click('[data-testid="do-confirm"]')
    with phone.expect_navigation():
        phone.click('[data-testid="confirm-ok"]')
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.CLOSED


def test_the_api_docs_load_swagger_ui_from_this_server(page, live_server):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/api/v1/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "qifu API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".swagger-ui .opblock").count() > 10  # the operations are listed
    assert requests and all(url.startswith(live_server.url) for url in requests), requests
