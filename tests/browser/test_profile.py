"""The profile card: a staff user sees the radar chart and the indicator values; an enterprise sees its own
profile at phone width."""

import datetime

import pytest

from qifu.accounts.models import Role
from qifu.profiles import presets, services
from qifu.profiles.models import Indicator

from ..world import World
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    w = World()
    presets.load("qiantang", region=w.region)
    day = datetime.date(2025, 12, 31)
    values = {"employees": 250, "registered_capital": 1000, "revenue": 30_000_000, "rd_ratio": 4.5,
              "lawsuits_defendant": 1, "tax_credit_rating": "A", "high_tech_enterprise": True}
    items = []
    for enterprise in (w.ent_east, w.ent_west):
        for code, value in values.items():
            indicator = Indicator.objects.get(region=w.region, code=code)
            items.append(services.NewValue(enterprise.pk, indicator, value, day, indicator.source))
    services.write_values(items)
    return w


def test_a_staff_user_sees_the_radar_and_the_indicator_values(page, world):
    login(page, world.users[Role.FRONT_DESK].username)
    page.goto(f"/enterprises/{world.ent_west.pk}/")
    card = page.locator('[data-testid="profile-card"]')
    card.wait_for()
    page.locator('[data-testid="profile-radar"] canvas').wait_for()
    row = page.locator('[data-indicator="employees"]')
    assert row.get_attribute("data-value") == "250.0"
    assert "250" in row.inner_text()
    assert "2025-12-31" in row.inner_text()
    assert page.locator('[data-dimension="scale_stability"]').get_attribute("data-score") != ""
    assert page.locator('[data-testid="profile-tags"] [data-tag="规上工业"]').get_attribute("data-kind") == "dynamic"


def test_an_enterprise_sees_its_own_profile_at_phone_width(phone, world):
    login(phone, world.users[Role.ENTERPRISE].username)
    phone.goto("/me/enterprise/")
    phone.locator('[data-testid="profile-card"]').wait_for()
    canvas = phone.locator('[data-testid="profile-radar"] canvas')
    canvas.wait_for()
    box = canvas.bounding_box()
    assert box is not None and 0 < box["width"] <= 375
    row = phone.locator('[data-indicator="revenue"]')
    assert "30,000,000" in row.inner_text()
    assert row.is_visible()
    # nothing overflows the phone's width
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    assert phone.locator('[data-testid="manual-tags"]').count() == 0
