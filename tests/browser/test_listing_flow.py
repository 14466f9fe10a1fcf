"""Listing approval (服务上架审批) clicked through on a phone: a unit submits the listing form, the platform sends it
back with reasons, the unit corrects it, the platform approves it, and only then the enterprise finds it."""

import pytest

from qifu.accounts.models import Role
from qifu.catalog.models import Listing

from ..world import World
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, user):
    page.context.clear_cookies()
    login(page, user.username)


def submit(page, testid):
    with page.expect_navigation():
        page.click(f'[data-testid="{testid}"]')


def test_a_listing_is_rejected_with_reasons_corrected_and_approved(phone):
    w = World("lb")
    page = phone
    sign_in(page, w.users[Role.HANDLER])
    page.goto("/catalog/listings/")
    page.click('[data-testid="new-listing"]')
    page.fill("#id_name", "企业人才招聘线上服务")
    page.check("#id_service_type_0")  # 人才服务
    page.fill("#id_description", "招聘")
    page.fill("#id_online_channel", "https://example.invalid/recruit")
    page.fill("#id_provider_opinion", "同意上架")
    page.fill("#id_provider_head", "张主任")
    page.fill("#id_provider_signed_on", "2026-12-01")
    page.select_option("#id_lead_unit", str(w.other_dept.pk))
    page.fill("#id_lead_opinion", "同意")
    page.fill("#id_lead_head", "李局长")
    page.fill("#id_lead_signed_on", "2026-12-02")
    page.check("#id_internal_checked")
    submit(page, "submit-listing")
    assert page.locator('[data-testid="listing-state"]').inner_text() == "待审核"
    listing = Listing.objects.get()

    sign_in(page, w.users[Role.DISPATCHER])
    page.click('[data-testid="home-listings"]')
    page.click('[data-testid="listing-row"]')
    page.check("#id_lawful")
    page.check("#id_accurate")
    page.fill("#id_reasons", "服务说明不完整：缺少办理对象")
    submit(page, "reject-listing")
    assert page.locator('[data-testid="listing-state"]').inner_text() == "审核未通过"

    sign_in(page, w.users[Role.HANDLER])
    page.goto(f"/catalog/listings/{listing.pk}/")
    assert "缺少办理对象" in page.locator('[data-testid="listing-reasons"]').inner_text()
    page.click('[data-testid="correct-listing"]')
    page.fill("#id_description", "为区内企业线上发布招聘信息、对接人才")
    page.check("#id_internal_checked")
    submit(page, "submit-listing")
    assert page.locator('[data-testid="listing-state"]').inner_text() == "待审核"

    sign_in(page, w.users[Role.ENTERPRISE])
    page.goto("/catalog/?q=人才招聘")
    assert page.locator('[data-testid="catalog-row"]').count() == 0  # not approved yet

    sign_in(page, w.users[Role.DISPATCHER])
    page.goto(f"/catalog/listings/{listing.pk}/")
    for name in ("lawful", "complete", "accurate"):
        page.check(f"#id_{name}")
    submit(page, "approve-listing")
    assert page.locator('[data-testid="listing-state"]').inner_text() == "已通过"

    sign_in(page, w.users[Role.ENTERPRISE])
    page.goto("/catalog/?q=人才招聘")
    assert page.locator('[data-testid="catalog-row"]').inner_text().startswith("企业人才招聘线上服务")
