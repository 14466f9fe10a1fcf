"""The statistics page (/stats/appeals/) and the leader's and supervisor's home figures, on the hand-built October
2026 of tests/test_appeal_stats.py: the page, its Excel download and the API agree; every received and overdue
figure opens the list it counts; scopes; bad input is a 400 page with a Chinese message."""

import io
import re

import pytest
from django.core.exceptions import PermissionDenied

from qifu.accounts.models import Role
from qifu.appeals import stats, stats_views

from .test_appeal_stats import EXPECTED_ROWS, EXPECTED_TOTAL, w  # noqa: F401 - the hand-built month

PAGE = "/stats/appeals/"


def page(client, user, query=""):
    client.force_login(user)
    return client.get(f"{PAGE}?{query}" if query else PAGE)


def numbers(client, url):
    r = client.get(url)
    assert r.status_code == 200, url
    return set(re.findall(r'data-testid="appeal-number">([^<]+)<', r.content.decode()))


def of(w, *names):  # noqa: F811
    return {w.cases[n].number for n in names}


def test_the_page_agrees_with_the_api(client, w):  # noqa: F811
    leader = w.users[Role.LEADER]
    r = page(client, leader, "month=2026-10&by=department")
    assert r.status_code == 200
    api = client.get("/api/v1/stats/appeals?month=2026-10&by=department").json()  # the same session
    assert api["total"] == EXPECTED_TOTAL
    total = {cell["metric"]: cell["value"] for cell in r.context["total"]}
    assert total == api["total"]
    rows = {row["key"]: {cell["metric"]: cell["value"] for cell in row["cells"]} for row in r.context["rows"]}
    assert rows == {row["key"]: {m: row[m] for m in stats.METRICS} for row in api["rows"]}
    html = r.content.decode()
    assert "60.0%" in html and "66.7%" in html  # rates as percentages
    assert "发改局" in html and "人社局" in html
    for label in stats.LABELS.values():
        assert str(label) in html  # every metric, in Chinese
    assert "诉求统计" in html and 'data-chart="appeal-trend"' not in html  # the trend comes after the page
    assert r.context["trend_url"] == "/stats/appeals/trend/?month=2026-10" and 'hx-trigger="load"' in html
    fragment = client.get(r.context["trend_url"])
    assert fragment.status_code == 200 and 'data-chart="appeal-trend"' in fragment.content.decode()
    trend = fragment.context["trend"]
    assert trend["labels"][-1] == "2026-10" and len(trend["labels"]) == 6
    assert trend["received"][-1] == 7 and trend["on_time_rate"][-1] == 60.0
    assert client.get("/stats/appeals/trend/?from=2026-10-01&to=2026-10-31").context["trend"] == trend
    assert client.get("/stats/appeals/trend/?month=2026-13").status_code == 400
    # a range gives the same figures as its month
    r = page(client, leader, "from=2026-10-01&to=2026-10-31&by=department")
    assert {cell["metric"]: cell["value"] for cell in r.context["total"]} == EXPECTED_TOTAL


def test_every_received_and_overdue_figure_opens_the_list_it_counts(client, w):  # noqa: F811
    leader = w.users[Role.LEADER]
    r = page(client, leader, "month=2026-10&by=department")
    total = {cell["metric"]: cell["url"] for cell in r.context["total"]}
    assert numbers(client, total["received"]) == of(w, "B", "C", "D", "E", "F", "G", "I")
    assert numbers(client, total["overdue_open"]) == of(w, "D", "F", "I")
    rows = {row["key"]: {cell["metric"]: cell["url"] for cell in row["cells"]} for row in r.context["rows"]}
    assert rows["w-fgj"]["overdue_open"] == ("/appeals/?lead_department=w-fgj&received_after=2026-10-01"
                                             "&received_before=2026-11-01&overdue=yes")
    assert numbers(client, rows["w-fgj"]["overdue_open"]) == of(w, "D", "F")
    assert len(of(w, "D", "F")) == EXPECTED_ROWS["w-fgj"]["overdue_open"]
    assert numbers(client, rows["w-fgj"]["received"]) == of(w, "B", "D", "F")
    assert rows[None]["received"] is None  # no unit: nothing to filter on
    assert 'data-testid="row-link-overdue_open"' in r.content.decode()
    # other groupings: channel and class filter the list too
    for by, name in (("channel", "channel"), ("category", "category"), ("section", "section"), ("node", "node")):
        figures = page(client, leader, f"month=2026-10&by={by}").context
        for row in figures["rows"]:
            cells = {cell["metric"]: cell for cell in row["cells"]}
            if row["key"]:
                assert f"{name}={row['key']}" in cells["received"]["url"]
                assert len(numbers(client, cells["received"]["url"])) == cells["received"]["value"], (by, row)
    # jurisdictions: the list has no such filter, so no link
    rows = page(client, leader, "month=2026-10&by=jurisdiction").context["rows"]
    assert all(cell["url"] is None for row in rows for cell in row["cells"])


def test_the_list_page_filters_by_day_of_receipt(client, w):  # noqa: F811
    client.force_login(w.users[Role.LEADER])
    assert numbers(client, "/appeals/?received_after=2026-10-31") == of(w, "I")  # 23:30 Shanghai time
    assert numbers(client, "/appeals/?received_after=2026-10-26&received_before=2026-10-31") == of(w, "D")
    assert numbers(client, "/appeals/?channel=online") == of(w, "I")
    html = client.get("/appeals/").content.decode()
    assert 'type="date" name="received_after"' in html and 'name="received_before"' in html


def test_the_landing_is_this_month_by_lead_unit(client, w, monkeypatch):  # noqa: F811
    monkeypatch.setattr(stats_views, "this_month", lambda zone: "2026-10")
    r = page(client, w.users[Role.LEADER])
    assert r.status_code == 200 and r.context["period"].label == "2026-10" and r.context["by"] == "department"
    r = page(client, w.users[Role.LEADER], "by=section")  # this month, by section
    assert r.status_code == 200 and r.context["period"].label == "2026-10" and r.context["by"] == "section"
    r = page(client, w.users[Role.LEADER], "month=2026-10")  # total only
    assert r.status_code == 200 and r.context["rows"] == [] and 'data-testid="stats-table"' not in r.content.decode()


def test_scopes(client, w):  # noqa: F811
    handler = page(client, w.users[Role.HANDLER], "month=2026-10&by=department")
    assert handler.status_code == 200
    assert {cell["metric"]: cell["value"] for cell in handler.context["total"]} == EXPECTED_ROWS["w-fgj"]
    assert [row["key"] for row in handler.context["rows"]] == ["w-fgj"]
    west = page(client, w.users[Role.SUPERVISOR], "month=2026-10")
    assert {cell["metric"]: cell["value"] for cell in west.context["total"]}["received"] == 1  # G only
    for role in (Role.DISPATCHER, Role.ADMIN):
        assert page(client, w.users[role], "month=2026-10").status_code == 200
    assert page(client, w.users[Role.ENTERPRISE], "month=2026-10").status_code == 403
    assert client.get("/stats/appeals/trend/?month=2026-10").status_code == 403  # the trend fragment too
    assert page(client, w.west_user).status_code == 403
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the login page


@pytest.mark.parametrize("query", [
    "month=2026-13", "month=26-10", "month=abcd-ef", "month=1999-12", "month=2026-10&by=unit",
    "month=2026-10&from=2026-10-01&to=2026-10-31", "from=2026-10-01", "to=2026-10-31",
    "from=2026-10-31&to=2026-10-01", "from=2025-01-01&to=2026-10-31", "from=2026-02-30&to=2026-03-01",
    "from=1&to=2", "from=2026-10-01T00:00&to=2026-10-02", "by=unit",
])
def test_bad_input_is_a_400_page_with_a_chinese_message(client, w, query):  # noqa: F811
    r = page(client, w.users[Role.LEADER], query)
    assert r.status_code == 400, query
    message = r.context["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert message in r.content.decode()
    assert 'data-testid="stats-month-form"' in r.content.decode()  # the form again, to correct it


def test_a_nul_byte_is_refused_before_the_page(client, w):  # noqa: F811
    r = page(client, w.users[Role.LEADER], "month=2026-10&by=%00")
    assert r.status_code == 400 and "请求有误" in r.content.decode()


def test_the_excel_link_is_the_apis_workbook(client, w):  # noqa: F811
    from openpyxl import load_workbook

    leader = w.users[Role.LEADER]
    r = page(client, leader, "month=2026-10&by=department")
    url = r.context["xlsx_url"]
    assert url == "/api/v1/stats/appeals?month=2026-10&by=department&format=xlsx"
    assert f'href="{url.replace("&", "&amp;")}"' in r.content.decode()
    book = client.get(url)
    assert book.status_code == 200 and book["Content-Type"].startswith("application/vnd.openxmlformats")
    values = [list(row) for row in load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True)]
    assert values[0][:2] == ["诉求统计", "2026-10"] and values[1][1] == "牵头单位"
    assert dict(zip(stats.METRICS, values[2][2:])) == EXPECTED_TOTAL
    r = page(client, leader, "from=2026-10-01&to=2026-10-08")
    assert r.context["xlsx_url"] == "/api/v1/stats/appeals?from=2026-10-01&to=2026-10-08&format=xlsx"
    assert client.get(r.context["xlsx_url"]).status_code == 200


def test_the_homes_show_this_months_figures(client, w, monkeypatch):  # noqa: F811
    monkeypatch.setattr(stats_views, "this_month", lambda zone: "2026-10")
    client.force_login(w.users[Role.LEADER])
    r = client.get("/")
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="home-appeal-figures"' in html
    cards = {card["metric"]: card["text"] for card in r.context["appeal_cards"]}
    assert cards == {"received": "7", "handled": "5", "on_time_rate": "60.0%", "satisfaction_rate": "66.7%",
                     "overdue_open": "3"}
    assert html.count('href="/stats/appeals/"') >= 5
    chart = r.context["overdue_by_unit"]
    assert chart["labels"] == ["发改局"] and chart["values"] == [2]
    assert chart["links"] == ["/appeals/?lead_department=w-fgj&received_after=2026-10-01"
                              "&received_before=2026-11-01&overdue=yes"]
    assert numbers(client, chart["links"][0]) == of(w, "D", "F")
    assert 'data-chart="overdue-by-unit"' in html and 'data-testid="home-overdue-unit"' in html
    assert 'data-testid="home-to-decide"' in html and 'data-testid="home-instructed"' in html  # kept
    # the supervisor of the west street: G only, nothing overdue
    client.force_login(w.users[Role.SUPERVISOR])
    r = client.get("/")
    cards = {card["metric"]: card["text"] for card in r.context["appeal_cards"]}
    assert cards["received"] == "1" and cards["overdue_open"] == "0" and cards["on_time_rate"] == "—"
    assert 'data-testid="home-no-overdue"' in r.content.decode()


def test_the_homes_default_to_the_current_month(client, w):  # noqa: F811
    client.force_login(w.users[Role.LEADER])
    r = client.get("/")
    assert r.status_code == 200 and r.context["appeal_month"] == stats_views.this_month("Asia/Shanghai")


def test_the_navigation_links_the_page_for_the_roles_that_may_see_it(client, w):  # noqa: F811
    for role in (Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER, Role.HANDLER, Role.ADMIN):
        client.force_login(w.users[role])
        assert f'href="{PAGE}"' in client.get("/").content.decode(), role
    client.force_login(w.users[Role.ENTERPRISE])
    assert f'href="{PAGE}"' not in client.get("/").content.decode()


# --- received and closed per day (stats.daily) and the cockpit -----------------------------------------------

@pytest.fixture
def days(db):
    """Four local days of November 2026 (Asia/Shanghai), the day boundary included:

        N1 received Mon 2 Nov 23:30 (+08:00; 15:30 UTC the 2nd)     → received on the 2nd, open
        N2 received Tue 3 Nov 00:10 (+08:00; 16:10 UTC the 2nd!)    → received on the 3rd, open
        N3 received Sun 1 Nov 10:00, solved on the spot 10:30        → received and closed on the 1st
        N4 received Sun 1 Nov 11:00, 发改局, confirmed Tue 3 Nov 00:30 → received the 1st, closed the 3rd
           (16:30 UTC the 2nd)
        N5 received Mon 2 Nov 10:00, 人社局, still open
        X  another region's, received and closed on the 2nd: never counts
    """
    from qifu.appeals.channels import ensure_default_channels

    from .test_appeal_stats import act, handle, register
    from .world import World

    ensure_default_channels()
    w = World()
    dispatcher, desk = w.users[Role.DISPATCHER], w.users[Role.FRONT_DESK]
    w.cases = {}
    w.cases["N1"] = register(w, "2026-11-02T23:30")
    w.cases["N2"] = register(w, "2026-11-03T00:10")
    n3 = w.cases["N3"] = register(w, "2026-11-01T10:00")
    act(n3, "solve_on_spot", desk, "2026-11-01T10:30", resolution="solved", text="当场解答", rating="none")
    n4 = w.cases["N4"] = register(w, "2026-11-01T11:00")
    act(n4, "assign", dispatcher, "2026-11-01T11:30", lead_department=w.dept.code)
    handle(w, n4, "2026-11-02T10:00")
    act(n4, "confirm", dispatcher, "2026-11-03T00:30", solved=True, rating=5)
    n5 = w.cases["N5"] = register(w, "2026-11-02T10:00")
    act(n5, "assign", dispatcher, "2026-11-02T10:30", lead_department=w.other_dept.code)
    x = World("x")
    other = register(x, "2026-11-02T09:00")
    act(other, "solve_on_spot", x.users[Role.FRONT_DESK], "2026-11-02T09:30", resolution="solved", text="当场解答",
        rating="none")
    return w


def test_received_and_closed_per_day_in_shanghai_days(client, days):
    import datetime

    leader = days.users[Role.LEADER]
    today = datetime.date(2026, 11, 4)
    series = stats.daily(leader, 5, today=today)
    assert [(d["day"].isoformat(), d["received"], d["closed"]) for d in series] == [
        ("2026-10-31", 0, 0), ("2026-11-01", 2, 1), ("2026-11-02", 2, 0), ("2026-11-03", 1, 1), ("2026-11-04", 0, 0)]
    for d in series:  # each day is the statistics' definition over that one day
        total = stats.compute(leader, stats.range_period(d["day"], d["day"])).total
        assert (total["received"], total["closed"]) == (d["received"], d["closed"]), d
    # each day's list: the rows counted
    client.force_login(leader)
    assert numbers(client, "/appeals/?received_after=2026-11-02&received_before=2026-11-03") == of(days, "N1", "N5")
    assert numbers(client, "/appeals/?received_after=2026-11-03&received_before=2026-11-04") == of(days, "N2")
    assert numbers(client, "/appeals/?closed_after=2026-11-03&closed_before=2026-11-04") == of(days, "N4")
    assert numbers(client, "/appeals/?closed_after=2026-11-01&closed_before=2026-11-02") == of(days, "N3")
    assert numbers(client, "/appeals/?closed_after=2026-11-02&closed_before=2026-11-03") == set()
    # scopes: a handler counts its unit's cases only; an enterprise none
    handler = stats.daily(days.users[Role.HANDLER], 5, today=today)
    assert [(d["received"], d["closed"]) for d in handler] == [(0, 0), (1, 0), (0, 0), (0, 1), (0, 0)]  # N4
    with pytest.raises(PermissionDenied):
        stats.daily(days.users[Role.ENTERPRISE], 5, today=today)


def test_the_cockpit_per_day_chart_links_each_day_to_its_list(client, days, monkeypatch):
    import datetime

    from qifu.front import views as front

    monkeypatch.setattr(front, "today_in", lambda zone: datetime.date(2026, 11, 4))
    for role in (Role.LEADER, Role.SUPERVISOR):
        client.force_login(days.users[role])
        assert 'data-testid="home-cockpit-slot"' in client.get("/").content.decode()  # loaded after the page
        r = client.get("/home/cockpit/")
        assert r.status_code == 200 and 'data-chart="appeal-daily"' in r.content.decode()
        chart = r.context["daily_chart"]
        assert len(chart["labels"]) == 30 and chart["days"][-1] == "2026-11-04" and chart["labels"][-1] == "11-04"
        received_links, closed_links = chart["series_links"]
        for values, links in ((chart["received"], received_links), (chart["closed"], closed_links)):
            for n, url in zip(values, links, strict=True):
                assert len(numbers(client, url)) == n, url
        if role == Role.LEADER:
            assert chart["received"][-4:] == [2, 2, 1, 0] and chart["closed"][-4:] == [1, 0, 1, 0]
            assert received_links[-3] == "/appeals/?received_after=2026-11-02&received_before=2026-11-03"
            assert closed_links[-2] == "/appeals/?closed_after=2026-11-03&closed_before=2026-11-04"
        else:  # the west street's supervisor: none of these (all 东方's)
            assert sum(chart["received"]) == 0 == sum(chart["closed"])
        for item in r.context["daily_totals"]:
            client.get(item["url"])
            assert client.get(item["url"]).context["page"].paginator.count == item["n"], item


def test_the_cockpit_escalations_and_abnormal_lists_count_their_lists(client, w, monkeypatch):  # noqa: F811
    import datetime

    from qifu.front import views as front

    monkeypatch.setattr(front, "today_in", lambda zone: datetime.date(2026, 10, 31))
    monkeypatch.setattr(stats_views, "this_month", lambda zone: "2026-10")
    for role in (Role.LEADER, Role.SUPERVISOR):
        client.force_login(w.users[role])
        r = client.get("/home/cockpit/")  # the homes load it after the page
        html = r.content.decode()
        escalations = {item["name"]: item for item in r.context["escalations"]}
        assert set(escalations) == {"escalation-pending", "escalation-level-2", "escalation-level-3",
                                    "escalation-level-4"}
        for item in escalations.values():
            assert client.get(item["url"]).context["page"].paginator.count == item["n"], item
            assert f'data-testid="count-{item["name"]}">{item["n"]}<' in html
        abnormal = r.context["abnormal"]
        assert [a["name"] for a in abnormal] == ["warning", "dissatisfied", "closed_overdue", "reassigned",
                                                 "leader_instructed"]
        for item in abnormal:
            url = f"/supervision/abnormal/{item['name']}/"
            assert f'href="{url}"' in html
            assert client.get(url).context["page"].paginator.count == item["count"], item
        assert html.count('data-testid="abnormal-counts"') == 1  # once, the same block on both homes
        chart = r.context["daily_chart"]
        for values, links in zip((chart["received"], chart["closed"]), chart["series_links"], strict=True):
            for n, url in zip(values, links, strict=True):
                assert len(numbers(client, url)) == n, url
        if role == Role.LEADER:
            assert escalations["escalation-level-2"]["n"] == 1  # F, at the task force, still open
            assert escalations["escalation-level-2"]["url"] == "/appeals/escalated/?level=2&open=yes"
            assert numbers(client, escalations["escalation-level-2"]["url"]) == of(w, "F")
            assert {a["name"]: a["count"] for a in abnormal}["dissatisfied"] == 3  # B, C, D: all time
            assert chart["received"][-1] == 1  # I, 23:30 on the 31st
            assert sum(chart["received"]) == 6 and sum(chart["closed"]) == 3  # B C D E G I; A B E (F: 1 Oct)
        else:
            assert all(item["n"] == 0 for item in escalations.values()) and sum(chart["received"]) == 1  # G
    client.force_login(w.users[Role.HANDLER])
    assert "home-cockpit" not in client.get("/").content.decode()  # the cockpit is the leader's and the supervisor's
    assert client.get("/home/cockpit/").status_code == 403
