"""Issue 12's Done-when, clicked through on a phone: a clerk registers a walk-in, issues a one-time notice (the
download happens) and turns the visit into an appeal (the appeal exists, linked from the visit)."""

import io

import pytest

from qifu.accounts.models import Role
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal
from qifu.catalog.models import GuideMaterial, ServiceGuide, ServiceItem
from qifu.frontdesk.models import DeskVisit

from ..world import World
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clerk_registers_a_walk_in_issues_a_one_time_notice_and_turns_the_visit_into_an_appeal(phone):
    from docx import Document

    ensure_default_channels()
    w = World("fb")
    item = ServiceItem.objects.create(region=w.region, code="fb-1", name="食品经营许可", provider_side="government",
                                      section=w.section)
    guide = ServiceGuide.objects.create(item=item, time_limit="5个工作日")
    for i, name in enumerate(["营业执照", "经营场所证明", "食品安全管理制度"]):
        GuideMaterial.objects.create(guide=guide, name=name, requirements="原件", sort_order=i)
    page = phone
    login(page, w.users[Role.FRONT_DESK].username)
    page.click('[data-testid="home-register-visit"]')
    page.wait_for_url("**/frontdesk/new/")  # loaded, so htmx listens to the search field before it is typed in
    page.fill("#id_enterprise_q", "东方演示")
    page.click('[data-testid="enterprise-match"]')
    page.fill("#id_visitor_name", "王先生")
    page.fill("#id_visitor_phone", "13800001234")
    page.fill("#id_need", "办理食品经营许可，材料不全")
    page.select_option("#id_item", "fb-1")
    page.select_option("#id_section", w.section.code)
    with page.expect_navigation():
        page.click('[data-testid="register-visit"]')
    visit = DeskVisit.objects.get()
    assert visit.enterprise == w.ent_east and visit.owner == w.users[Role.FRONT_DESK]
    page.wait_for_url(f"**/frontdesk/{visit.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # the visit's page fits a phone

    materials = page.locator('[data-testid="material"]')
    materials.nth(0).check()
    materials.nth(2).check()
    with page.expect_navigation():
        page.click('[data-testid="issue-notice"]')
    with page.expect_download() as download:
        page.click('[data-testid="notice-download-one_time"]')
    doc = Document(io.BytesIO(open(download.value.path(), "rb").read()))
    assert [r.cells[1].text for r in doc.tables[0].rows[1:]] == ["营业执照", "食品安全管理制度"]

    page.fill("#id_title", "食品经营许可材料问题")
    with page.expect_navigation():
        page.click('[data-testid="to-appeal"]')
    appeal = Appeal.objects.get()
    visit.refresh_from_db()
    assert visit.outcome_kind == "appeal" and visit.outcome_id == appeal.pk and appeal.enterprise == w.ent_east
    page.click('[data-testid="outcome-link"]')
    page.wait_for_url(f"**/appeals/{appeal.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
