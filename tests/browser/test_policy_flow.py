"""The policy calculator clicked through in a real browser: policy staff build a clause with the form (no code)
and publish it; the enterprise sees the match with its amount and what data is missing; a 免申即享 list is
confirmed and the payment recorded."""

import datetime
from decimal import Decimal

import pytest

from qifu.accounts.models import Role
from qifu.policies import matches, services
from qifu.policies.models import ClauseMatches, Payout, Policy, PolicyClause
from qifu.profiles.models import Indicator, IndicatorValue

from ..world import World
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = datetime.date(2025, 12, 31)


@pytest.fixture
def world():
    w = World()
    indicators = {code: Indicator.objects.create(region=w.region, code=code, name=name, datatype="number", unit=unit)
                  for code, name, unit in [("employees", "参保人数", "人"), ("rd_expense", "研发费用", "元"),
                                           ("revenue", "营业收入", "元")]}
    for enterprise, values in ((w.ent_east, {"employees": 50, "rd_expense": 2_000_000}),
                               (w.ent_west, {"employees": 120, "rd_expense": 3_000_000, "revenue": 90_000_000})):
        for code, value in values.items():
            IndicatorValue.objects.create(enterprise=enterprise, indicator=indicators[code],
                                          value_number=Decimal(value), as_of=AS_OF)
    return w


def sign_in(page, user):
    page.context.clear_cookies()
    login(page, user.username)


def rows(page):
    return page.locator('[data-testid="builder"] [data-testid="cond-row"]')


def root_button(page, testid):
    return page.locator(f'#builder > [data-testid="cond-group"] > .group-actions > [data-testid="{testid}"]')


def test_policy_staff_build_a_clause_with_the_form_and_publish_it_then_the_enterprise_sees_it(page, phone, world):
    sign_in(page, world.users[Role.HANDLER])
    page.goto("/policies/")
    page.click('[data-testid="new-policy"]')
    page.fill("#id_code", "W-NEW")
    page.fill("#id_title", "示范区研发创新奖励")
    page.fill("#id_effective_from", "2020-01-01")
    with page.expect_navigation():
        page.click('[data-testid="save-policy"]')
    policy = Policy.objects.get(code="W-NEW")
    assert policy.department == world.dept and policy.status == "draft"

    page.click('[data-testid="add-clause"]')
    page.fill("#id_code", "W-NEW-1")
    page.fill("#id_title", "研发费用奖励")
    # Who qualifies: industry starts with I or C, fewer than 300 employees, and (revenue ≥ 1,000,000 or 专精特新).
    root_button(page, "add-condition").click()
    rows(page).nth(0).locator('[data-testid="cond-field"]').select_option("industry")
    rows(page).nth(0).locator('[data-testid="cond-op"]').select_option("prefix")
    rows(page).nth(0).locator('[data-testid="cond-value"]').fill("I, C")
    root_button(page, "add-condition").click()
    rows(page).nth(1).locator('[data-testid="cond-field"]').select_option("employees")
    rows(page).nth(1).locator('[data-testid="cond-op"]').select_option("<")
    rows(page).nth(1).locator('[data-testid="cond-value"]').fill("300")
    root_button(page, "add-group").click()
    nested = page.locator('#builder [data-testid="cond-group"] [data-testid="cond-group"]')
    assert nested.locator('[data-testid="group-kind"]').input_value() == "any"
    rows(page).nth(2).locator('[data-testid="cond-field"]').select_option("revenue")
    rows(page).nth(2).locator('[data-testid="cond-op"]').select_option(">=")
    rows(page).nth(2).locator('[data-testid="cond-value"]').fill("1000000")
    nested.locator('[data-testid="add-condition"]').click()
    rows(page).nth(3).locator('[data-testid="cond-field"]').select_option("tags")
    rows(page).nth(3).locator('[data-testid="cond-value"]').fill("专精特新")
    # A condition added by mistake is removed again.
    root_button(page, "add-condition").click()
    assert rows(page).count() == 5
    rows(page).nth(4).locator('[data-testid="remove-condition"]').click()
    assert rows(page).count() == 4

    page.fill('[data-testid="benefit-input"]', "min(rd_expense * 0.1")
    page.locator('[data-testid="benefit-error"]').wait_for()
    page.fill('[data-testid="benefit-input"]', "min(rd_expense * 0.1, 1000000)")
    page.locator('[data-testid="benefit-ok"]').wait_for()

    # Try it on the east enterprise before saving: it may qualify, revenue is missing.
    page.select_option('[data-testid="try-enterprise"]', str(world.ent_east.pk))
    page.click('[data-testid="try"]')
    result = page.locator('#try-result [data-testid="try-result"]')
    result.wait_for()
    assert result.get_attribute("data-status") == "unknown"
    assert page.locator('[data-testid="try-amount"]').inner_text() == "200,000.00"

    with page.expect_navigation():
        page.click('[data-testid="save-clause"]')
    clause = PolicyClause.objects.get(code="W-NEW-1")
    assert clause.conditions == {"all": [
        {"field": "industry", "op": "prefix", "value": ["I", "C"]},
        {"field": "employees", "op": "<", "value": 300},
        {"any": [{"field": "revenue", "op": ">=", "value": 1000000}, {"has_tag": "专精特新"}]},
    ]}
    assert clause.benefit == "min(rd_expense * 0.1, 1000000)"

    with page.expect_navigation():
        page.click('[data-testid="publish"]')
    assert page.locator('[data-testid="policy-status"]').get_attribute("data-status") == "published"
    (east,) = [m for m in matches.pairs([world.ent_east.pk]) if m.clause_id == clause.pk]
    assert (east.status, east.amount, east.missing) == ("unknown", Decimal("200000.00"), ["revenue"])
    assert [m.status for m in matches.pairs([world.ent_west.pk]) if m.clause_id == clause.pk] == ["eligible"]

    # The enterprise, on its phone: the new match with its amount and what data is missing.
    sign_in(phone, world.users[Role.ENTERPRISE])
    phone.click('[data-testid="home-policies-link"]')
    phone.wait_for_url("**/policies/mine/")
    card = phone.locator('[data-testid="maybe-list"] [data-testid="match"][data-clause="W-NEW-1"]')
    assert card.get_attribute("data-status") == "unknown"
    assert card.locator('[data-testid="match-amount"]').inner_text() == "200,000.00"
    assert card.locator('[data-testid="missing-field"]').all_inner_texts() == ["营业收入"]
    card.locator("summary").click()
    assert card.locator('[data-testid="explanation"] li[data-result="unknown"]').count() >= 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_no_application_list_is_confirmed_and_the_payment_recorded(page, world):
    services.import_yaml("""
policies:
  - code: W-FREE
    title: 研发费用免申即享补助
    level: district
    department: w-fgj
    effective_from: 2020-01-01
    clauses:
      - code: W-FREE-1
        title: 研发费用补助（10%）
        no_application: true
        conditions: {field: rd_expense, op: ">=", value: 1000000}
        benefit: "min(rd_expense * 0.1, 1000000)"
""", world.region.code)
    policy = Policy.objects.get(code="W-FREE")
    services.publish(policy)
    assert ClauseMatches.objects.get(clause__code="W-FREE-1").eligible == 2

    sign_in(page, world.users[Role.HANDLER])
    page.goto(f"/policies/{policy.pk}/")
    page.click('[data-testid="confirm-list"]')
    assert page.locator('[data-testid="candidate"]').count() == 2
    page.check('[data-testid="select-all"]')
    assert all(box.is_checked() for box in page.locator('[data-testid="pick"]').all())
    page.click('[data-testid="confirm-payouts"]')
    dialog = page.locator('[data-testid="confirm-dialog"]')
    assert dialog.is_visible() and "不可撤销" in dialog.inner_text()
    page.click('[data-testid="confirm-cancel"]')  # cancelling sends nothing
    assert not dialog.is_visible() and not Payout.objects.filter(clause__code="W-FREE-1").exists()
    page.click('[data-testid="confirm-payouts"]')
    with page.expect_navigation():
        page.click('[data-testid="confirm-ok"]')
    assert Payout.objects.filter(clause__code="W-FREE-1", status="approved").count() == 2

    payout = Payout.objects.get(enterprise=world.ent_east)
    card = page.locator(f'[data-testid="payout"][data-id="{payout.pk}"]')
    assert card.locator(f"#id_p{payout.pk}-paid_amount").input_value() == "200000.00"
    card.locator(f"#id_p{payout.pk}-reference").fill("GK-2026-0001")
    with page.expect_navigation():
        card.locator('[data-testid="record-payment"]').click()
    payout.refresh_from_db()
    assert (payout.status, payout.paid_amount, payout.reference) == ("paid", Decimal("200000.00"), "GK-2026-0001")
    assert page.locator(f'[data-testid="payout"][data-id="{payout.pk}"]').get_attribute("data-status") == "paid"

    # The enterprise sees its payout without having applied.
    sign_in(page, world.users[Role.ENTERPRISE])
    page.goto("/policies/mine/")
    mine = page.locator('[data-testid="my-payouts"] [data-testid="payout"]')
    assert mine.get_attribute("data-status") == "paid"
    assert mine.locator('[data-testid="payout-paid"]').inner_text() == "200,000.00"
