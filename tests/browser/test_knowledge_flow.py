"""The case library in a real browser, on a phone: the lead unit's handler opens a solved appeal, clicks 发布为案例,
reads the anonymized text and publishes; the enterprise finds the case by searching the knowledge base, without the
enterprise's name or the source appeal."""

import pytest

from qifu.accounts.models import Role
from qifu.appeals import routing
from qifu.knowledge.models import CaseStudy

from ..test_knowledge import appeal, secrets
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_handler_publishes_a_solved_case_and_the_enterprise_reads_it_anonymized(phone):
    from qifu.appeals.channels import ensure_default_channels
    from qifu.appeals.models import Channel

    from ..world import World

    routing.clear_cache()
    ensure_default_channels()
    w = World("kb")
    w.channel, w.n = Channel.objects.get(code="walk_in"), 0
    a = appeal(w, "东方演示科技有限公司厂房消防验收", "东方演示科技新建厂房即将竣工，联系人王小明，电话13812345678。",
               reply="已指导东方演示科技有限公司准备消防验收材料。")
    page = phone
    login(page, w.users[Role.HANDLER].username)
    page.goto(f"/appeals/{a.pk}/")
    page.click('[data-testid="publish-case"]')
    page.wait_for_load_state("networkidle")
    assert page.input_value("#id_title") == "某企业厂房消防验收"
    problem = page.input_value("#id_problem")
    assert "东方演示科技" not in problem and "13812345678" not in problem and "某联系人" in problem
    page.fill("#id_legal_basis", "《建设工程消防设计审查验收管理暂行规定》")
    with page.expect_navigation():
        page.click('[data-testid="do-publish-case"]')
    assert page.locator('[data-testid="case-state"]').inner_text() == "已发布"
    case = CaseStudy.objects.get()
    page.context.clear_cookies()
    login(page, w.users[Role.ENTERPRISE].username)
    page.goto("/knowledge/")
    page.fill("#id_q", "消防验收")
    with page.expect_navigation():
        page.click('[data-testid="filter"]')
    page.click('[data-testid="case-row"]')
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/knowledge/cases/{case.pk}/")
    html = page.content()
    assert all(secret not in html for secret in secrets(w)) and a.number not in html
    assert page.locator('[data-testid="source-appeal"]').count() == 0
