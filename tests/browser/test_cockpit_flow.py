"""The leader's cockpit clicked through in a real browser, on the hand-built October 2026 of
tests/test_appeal_stats.py: from the home's figures to the statistics page, October by lead unit, the trend chart
drawn, then the overdue figure of 发改局 opens the list of its overdue cases; and the home's overdue-by-unit link
(the bar in the ECharts chart, and the link under it) does the same."""

import pytest

from qifu.appeals import stats_views

from ..test_appeal_stats import w  # noqa: F401 - the hand-built month
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def listed(page) -> set[str]:
    return set(page.locator('[data-testid="appeal-number"]').all_inner_texts())


def test_the_leader_clicks_through_from_the_overdue_figure_to_the_overdue_list(page, w):  # noqa: F811
    overdue = {w.cases[n].number for n in ("D", "F")}
    login(page, w.users["leader"].username)

    # the home: this month's figures, linked to the statistics page
    assert page.locator('[data-testid="home-appeal-figures"]').is_visible()
    page.click('[data-testid="home-card-overdue_open"]')
    page.wait_for_url("**/stats/appeals/")
    assert page.locator('[data-testid="stats-table"]').is_visible()

    # October 2026, by lead unit; the trend chart is drawn (a canvas in its box)
    page.fill("#stats-month", "2026-10")
    page.select_option("#stats-by-month", "department")
    with page.expect_navigation():
        page.click('[data-testid="stats-month-submit"]')
    assert page.locator('[data-testid="stats-period"]').inner_text() == "2026-10"
    page.wait_for_selector('[data-testid="stats-trend"] canvas')
    assert page.locator('[data-testid="card-overdue_open"]').inner_text() == "3"
    row = page.locator('[data-testid="stats-row"][data-key="w-fgj"]')
    assert row.locator('[data-metric="on_time_rate"]').inner_text() == "66.7%"

    # the unit's overdue figure → the appeals list, filtered, with the overdue cases on it
    link = row.locator('[data-testid="row-link-overdue_open"]')
    assert link.inner_text() == "2"
    with page.expect_navigation():
        link.click()
    page.wait_for_url("**/appeals/?*overdue=yes*")
    assert listed(page) == overdue
    assert page.input_value("#id_lead_department") == "w-fgj"
    assert page.input_value("#id_overdue") == "yes"
    assert page.input_value("#id_received_after") == "2026-10-01"


def test_the_homes_overdue_by_unit_opens_the_list(page, w, monkeypatch):  # noqa: F811
    monkeypatch.setattr(stats_views, "this_month", lambda zone: "2026-10")  # the live server runs in this process
    login(page, w.users["leader"].username)
    overdue = {w.cases[n].number for n in ("D", "F")}
    page.wait_for_selector('[data-testid="home-overdue-chart"][data-chart-ready] canvas')  # the bars have grown in
    # the bar of 发改局 (2 cases): half way up, where ECharts drew it
    box = page.locator('[data-testid="home-overdue-chart"]').bounding_box()
    x, y = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.querySelector('[data-testid="home-overdue-chart"]'));
        return chart.convertToPixel({seriesIndex: 0}, [0, 1]);
    }""")
    with page.expect_navigation():
        page.mouse.click(box["x"] + x, box["y"] + y)
    assert "lead_department=w-fgj" in page.url and "overdue=yes" in page.url
    assert listed(page) == overdue
    # and the unit's link under the chart, for those who do not click charts
    page.go_back()
    with page.expect_navigation():
        page.click('[data-testid="home-overdue-unit"]')
    assert listed(page) == overdue


def test_the_leader_clicks_a_day_and_the_escalations_on_the_cockpit(page, w, monkeypatch):  # noqa: F811
    import datetime

    from qifu.front import views as front

    monkeypatch.setattr(front, "today_in", lambda zone: datetime.date(2026, 10, 31))
    monkeypatch.setattr(stats_views, "this_month", lambda zone: "2026-10")
    login(page, w.users["leader"].username)
    chart = '[data-testid="home-daily-chart"]'
    page.wait_for_selector(f"{chart}[data-chart-ready] canvas")
    # the last bar: 31 October, one appeal received (I, submitted at 23:30 Shanghai time)
    page.locator(chart).scroll_into_view_if_needed()
    box = page.locator(chart).bounding_box()
    x, y = page.evaluate("""(selector) => {
        const chart = echarts.getInstanceByDom(document.querySelector(selector));
        return chart.convertToPixel({seriesIndex: 0}, [29, 0.5]);
    }""", chart)
    with page.expect_navigation():
        page.mouse.click(box["x"] + x, box["y"] + y)
    assert "received_after=2026-10-31" in page.url and "received_before=2026-11-01" in page.url
    assert listed(page) == {w.cases["I"].number}
    assert page.input_value("#id_received_after") == "2026-10-31"

    # the escalation figure: the cases at the task force, still open → the escalated list
    page.go_back()
    figure = page.locator('[data-testid="home-escalation-level-2"]')
    assert figure.locator('[data-testid="count-escalation-level-2"]').inner_text() == "1"
    with page.expect_navigation():
        figure.click()
    page.wait_for_url("**/appeals/escalated/?level=2&open=yes")
    assert listed(page) == {w.cases["F"].number}
