"""The monthly ranking (晾晒) in a real browser, on the hand-built October 2026 of tests/test_ranking.py: the leader
opens the ranking from the navigation, October's bar chart is drawn and the bar of the first department opens its
appeals of the month; the supervisor enters a figure with the page's form and the table changes; on a phone the
page fits the screen (the tables scroll inside their boxes)."""

import pytest

from ..test_ranking import w  # noqa: F401 - the hand-built month
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_leader_clicks_a_units_bar_and_gets_its_appeals(page, w):  # noqa: F811
    login(page, w.users["leader"].username)
    with page.expect_navigation():
        page.click('nav a[href="/stats/ranking/"]')
    page.goto("/stats/ranking/?month=2026-10")
    first = page.locator('[data-group="departments"] [data-testid="ranking-row"]').first
    assert first.get_attribute("data-key") == "w-fgj"
    assert first.locator('[data-field="rank"]').inner_text() == "1"
    assert first.locator('[data-field="last_rank"]').inner_text() == "2"
    assert first.locator('[data-field="change"]').inner_text() == "↑1"
    chart = '[data-group="departments"] [data-testid="ranking-chart"]'
    page.wait_for_selector(f"{chart}[data-chart-ready] canvas")
    box = page.locator(chart).bounding_box()
    x, y = page.evaluate("""(selector) => {
        const el = document.querySelector(selector);
        const chart = echarts.getInstanceByDom(el);
        const value = chart.getOption().series[0].data[0];
        return chart.convertToPixel({seriesIndex: 0}, [value / 2, 0]);
    }""", chart)
    with page.expect_navigation():
        page.mouse.click(box["x"] + x, box["y"] + y)
    assert "lead_department=w-fgj" in page.url and "received_after=2026-10-01" in page.url
    numbers = set(page.locator('[data-testid="appeal-number"]').all_inner_texts())
    assert {w.c1.number, w.c2.number} <= numbers


def test_the_supervisor_enters_a_figure(page, w):  # noqa: F811
    login(page, w.users["supervisor"].username)
    page.goto("/stats/ranking/?month=2026-10")
    row = page.locator('[data-group="departments"] [data-testid="ranking-row"][data-key="w-rsj"]')
    assert row.locator('[data-field="cases"]').inner_text().startswith("10")
    page.select_option("#entry-unit", "w-rsj")
    page.select_option("#entry-input", "cases")
    page.fill("#entry-value", "1")
    with page.expect_navigation():
        page.click('[data-testid="entry-submit"]')
    row = page.locator('[data-group="departments"] [data-testid="ranking-row"][data-key="w-rsj"]')
    assert row.locator('[data-field="cases"]').inner_text().startswith("5")
    page.click('[data-testid="ranking-entry"] details summary')  # the month's entries, folded away
    assert "人社局" in page.locator('[data-testid="ranking-entered"]').inner_text()


def test_the_page_fits_a_phone(phone, w):  # noqa: F811
    login(phone, w.users["leader"].username)
    phone.goto("/stats/ranking/?month=2026-10")
    phone.wait_for_selector('[data-testid="ranking-chart"][data-chart-ready] canvas')
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1
