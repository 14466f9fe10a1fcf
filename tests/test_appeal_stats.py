"""Appeal statistics (docs/appeals.md, "Statistics: definitions") pinned on a hand-built October 2026 — National
Day 1–7 October off, Saturday 10 October a make-up working day — by total and by lead unit; scopes; the API and its
Excel workbook agree; bad input is 400; the appeals list's received_after / received_before.

The month, as the leader of the district sees it (all cases of enterprise 东方, except G: 西方):

    A  single, received Wed 30 Sep 10:00 (September), 发改局; handled Fri 9 Oct 15:00 (due Sat 10 Oct: on time);
       confirmed Mon 12 Oct, 5 stars, resolution solved
    B  single, received Thu 8 Oct 09:00, 发改局 (due Mon 12 Oct); handled Tue 13 Oct (late); confirmed 14 Oct with
       2 stars (差评), resolution explained
    C  single, received Fri 9 Oct 11:00, 发改局, reassigned Mon 12 Oct to 人社局 (→ whistle, due Thu 15 Oct);
       handled Wed 14 Oct (on time), sent back Thu 15 Oct with 1 star (fresh limit: due Thu 22 Oct), handled again
       Fri 23 Oct (late) and waiting for the enterprise
    D  simple, received Mon 26 Oct 09:00, 发改局 (due Tue 27 Oct), handled 27 Oct 17:00 (on time); sent back Mon 2 Nov
       (fresh limit: Tue 3 Nov), still open: overdue now
    E  single, received Tue 20 Oct 10:00, solved on the spot 10:30, no rating, resolution solved (no lead unit)
    F  single, received Thu 1 Oct 10:00 (a holiday), 发改局 (due Sat 10 Oct), never handled: overdue now; escalated
       (request Mon 12 Oct, approved by the task force Tue 13 Oct)
    G  received Mon 5 Oct (enterprise 西方), withdrawn Tue 6 Oct
    I  submitted online by the enterprise Sat 31 Oct 23:30, accepted Mon 2 Nov 09:00: overdue now
    X  another region's case, received and handled in October: never counts
"""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qifu.accounts.models import Role, User
from qifu.appeals import stats, workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel
from qifu.org.models import Body, BodyMembership

from .world import World

TZ = ZoneInfo("Asia/Shanghai")
OCTOBER = stats.month_period("2026-10")


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=TZ)


def register(w, received, category="single", *, enterprise=None, actor=None, channel="window") -> Appeal:
    appeal, _new = workflow.register(actor=actor or w.users[Role.FRONT_DESK], enterprise=enterprise or w.ent_east,
                                     channel=Channel.objects.get(code=channel), title=f"诉求 {received}",
                                     description="描述", category=category, received_at=at(received))
    return appeal


def act(appeal, action, actor, when, **payload) -> Appeal:
    appeal.refresh_from_db()
    return workflow.perform(appeal.pk, action, actor, appeal.version, at=at(when), **payload)


def handle(w, appeal, when, actor=None, resolution="solved"):
    actor = actor or w.users[Role.HANDLER]
    act(appeal, "reply", actor, when, resolution=resolution, text="已答复企业")
    act(appeal, "mark_handled", actor, when)


@pytest.fixture
def w(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ensure_default_channels()
    w = World()
    w.task_force = Body.objects.create(region=w.region, code="w-zb", name="工作专班", kind="task_force",
                                       escalation_level=2)
    w.tf = User.objects.create_user("w-tf", password="pw-12345", region=w.region, department=w.other_dept)
    w.tf.grant(Role.HANDLER)
    BodyMembership.objects.create(body=w.task_force, user=w.tf)
    desk, dispatcher, handler, admin = (w.users[r] for r in (Role.FRONT_DESK, Role.DISPATCHER, Role.HANDLER,
                                                              Role.ADMIN))
    w.cases = {}

    a = w.cases["A"] = register(w, "2026-09-30T10:00")
    act(a, "assign", dispatcher, "2026-09-30T10:30", lead_department=w.dept.code)
    handle(w, a, "2026-10-09T15:00")
    act(a, "confirm", dispatcher, "2026-10-12T10:00", solved=True, rating=5)

    b = w.cases["B"] = register(w, "2026-10-08T09:00")
    act(b, "assign", dispatcher, "2026-10-08T09:30", lead_department=w.dept.code)
    handle(w, b, "2026-10-13T10:00", resolution="explained")
    act(b, "confirm", dispatcher, "2026-10-14T10:00", solved=True, rating=2)

    c = w.cases["C"] = register(w, "2026-10-09T11:00")
    act(c, "assign", dispatcher, "2026-10-09T11:30", lead_department=w.dept.code)
    act(c, "reassign", dispatcher, "2026-10-12T09:00", lead_department=w.other_dept.code, reason="职能不符")
    handle(w, c, "2026-10-14T16:00", actor=admin)
    act(c, "reject_result", dispatcher, "2026-10-15T09:00", rating=1, comment="没有解决")
    handle(w, c, "2026-10-23T10:00", actor=admin)

    d = w.cases["D"] = register(w, "2026-10-26T09:00", "simple")
    act(d, "assign", dispatcher, "2026-10-26T09:30", lead_department=w.dept.code)
    handle(w, d, "2026-10-27T17:00")
    act(d, "reject_result", dispatcher, "2026-11-02T10:00", comment="还需补充")

    e = w.cases["E"] = register(w, "2026-10-20T10:00")
    act(e, "solve_on_spot", desk, "2026-10-20T10:30", resolution="solved", text="当场解答",
        rating="none")

    f = w.cases["F"] = register(w, "2026-10-01T10:00")
    act(f, "assign", dispatcher, "2026-10-01T10:30", lead_department=w.dept.code)
    for kind in ("handling_statement", "meeting_minutes", "sign_in_sheet"):
        workflow.attach(f, handler, SimpleUploadedFile(f"{kind}.pdf", b"%PDF-1.4 stats"), kind=kind)
    act(f, "escalate", handler, "2026-10-12T10:00", reason="部门协调后仍不能解决", statement="已召开专题协调会")
    act(f, "decide_escalation", w.tf, "2026-10-13T10:00", approve=True, note="同意专班协调")

    g = w.cases["G"] = register(w, "2026-10-05T10:00", enterprise=w.ent_west)
    act(g, "withdraw", desk, "2026-10-06T10:00", reason="企业自行解决")

    i = w.cases["I"] = register(w, "2026-10-31T23:30", actor=w.users[Role.ENTERPRISE], channel="online")
    act(i, "accept", dispatcher, "2026-11-02T09:00", category="single")

    x = World("x")
    other = register(x, "2026-10-12T09:00")
    act(other, "assign", x.users[Role.DISPATCHER], "2026-10-12T09:30", lead_department=x.dept.code)
    handle(x, other, "2026-10-13T09:00")
    w.x = x
    return w


def wd(*parts: float) -> float:
    return sum(parts)


# Working days from acceptance to the handling counted: A 30 Sep 10:00 → 9 Oct 15:00 (14/24 + 8 Oct + 15/24);
# B 8 Oct 09:00 → 13 Oct 10:00 (15/24 + 9, 10 (make-up), 12 + 10/24); C 9 Oct 11:00 → 23 Oct 10:00 (13/24 + 10, 12–16,
# 19–22 + 10/24); D 26 Oct 09:00 → 27 Oct 17:00 (15/24 + 17/24); E half an hour.
DAYS = {"A": wd(14 / 24, 1, 15 / 24), "B": wd(15 / 24, 3, 10 / 24), "C": wd(13 / 24, 1, 5, 4, 10 / 24),
        "D": wd(15 / 24, 17 / 24), "E": 0.5 / 24}


def avg(*names):
    return round(sum(DAYS[n] for n in names) / len(names), 2)


EXPECTED_TOTAL = {
    "received": 7,            # B C D E F G I (A is September's; X another region's)
    "accepted": 6,            # B C D E F G (I accepted in November)
    "handled": 5,             # A B C D E (D counts: handled in October, sent back in November)
    "handled_on_time": 3,     # A D E (B late; C's last handling late against its fresh limit)
    "on_time_rate": 0.6,
    "closed": 3,              # A B E
    "solved_rate": 0.6667,    # A E solved; B explained
    "satisfied": 2,           # A (5 stars) E (no rating); B rated 2 stars
    "satisfaction_rate": 0.6667,
    "overdue_open": 3,        # D F I: received in October, being handled, past the deadline now
    "escalated": 1,           # F
    "reassigned": 1,          # C
    "dissatisfied": 2,        # B (2 stars) C (sent back); D's sending back is November's
    "avg_workdays_to_handle": avg("A", "B", "C", "D", "E"),
}

EXPECTED_ROWS = {
    "w-fgj": {"received": 3, "accepted": 3, "handled": 3, "handled_on_time": 2, "on_time_rate": 0.6667,
              "closed": 2, "solved_rate": 0.5, "satisfied": 1, "satisfaction_rate": 0.5, "overdue_open": 2,
              "escalated": 1, "reassigned": 0, "dissatisfied": 1, "avg_workdays_to_handle": avg("A", "B", "D")},
    "w-rsj": {"received": 1, "accepted": 1, "handled": 1, "handled_on_time": 0, "on_time_rate": 0.0,
              "closed": 0, "solved_rate": None, "satisfied": 0, "satisfaction_rate": None, "overdue_open": 0,
              "escalated": 0, "reassigned": 1, "dissatisfied": 1, "avg_workdays_to_handle": avg("C")},
    None: {"received": 3, "accepted": 2, "handled": 1, "handled_on_time": 1, "on_time_rate": 1.0,
           "closed": 1, "solved_rate": 1.0, "satisfied": 1, "satisfaction_rate": 1.0, "overdue_open": 1,
           "escalated": 0, "reassigned": 0, "dissatisfied": 0, "avg_workdays_to_handle": avg("E")},
}


def test_the_calendar_of_the_month_is_what_the_expectations_assume(w):
    c = w.cases
    for name in c:
        c[name].refresh_from_db()
    assert c["A"].due_at == at("2026-10-10T23:59:59")  # across National Day, onto the make-up Saturday
    assert c["B"].due_at == at("2026-10-12T23:59:59")
    assert c["C"].due_at == at("2026-10-22T23:59:59") and c["C"].category == "whistle"
    assert c["D"].due_at == at("2026-11-03T23:59:59") and c["D"].status == "assigned"
    assert c["F"].due_at == at("2026-10-10T23:59:59") and c["F"].escalation_level == 2
    assert c["I"].accepted_at == at("2026-11-02T09:00")


def test_every_metric_of_the_month_in_total_and_by_lead_unit(w):
    leader = w.users[Role.LEADER]
    figures = stats.compute(leader, OCTOBER)
    assert figures.total == EXPECTED_TOTAL
    assert figures.rows == []
    by_unit = stats.compute(leader, OCTOBER, by="department")
    assert by_unit.total == EXPECTED_TOTAL
    rows = {row["key"]: row for row in by_unit.rows}
    assert set(rows) == set(EXPECTED_ROWS)
    for key, expected in EXPECTED_ROWS.items():
        assert {m: rows[key][m] for m in stats.METRICS} == expected, key
    assert rows["w-fgj"]["name"] == "发改局" and rows["w-rsj"]["name"] == "人社局"
    assert rows[None]["name"] == "（无）"
    assert list(rows) == ["w-fgj", "w-rsj", None]  # most received first, the cases without a unit last


def test_the_other_groupings_add_up_to_the_total(w):
    leader = w.users[Role.LEADER]
    for by in stats.GROUPS:
        figures = stats.compute(leader, OCTOBER, by=by)
        for metric in ("received", "handled", "closed", "overdue_open", "dissatisfied"):
            assert sum(row[metric] for row in figures.rows) == EXPECTED_TOTAL[metric], (by, metric)
    jurisdictions = {r["key"]: r["received"] for r in stats.compute(leader, OCTOBER, by="jurisdiction").rows}
    assert jurisdictions == {"w-east": 6, "w-west": 1}
    categories = {r["key"]: r["received"] for r in stats.compute(leader, OCTOBER, by="category").rows}
    assert categories == {"single": 5, "whistle": 1, "simple": 1}


def test_a_date_range_counts_local_days_inclusive(w):
    leader = w.users[Role.LEADER]
    # 1–8 October: F received 1 Oct (holiday), G 5 Oct, B 8 Oct; A and F's neighbours outside
    figures = stats.compute(leader, stats.range_period(datetime.date(2026, 10, 1), datetime.date(2026, 10, 8)))
    assert figures.total["received"] == 3
    # 31 October alone: I at 23:30 local (15:30 UTC) is in it
    assert stats.compute(leader, stats.range_period(datetime.date(2026, 10, 31),
                                                    datetime.date(2026, 10, 31))).total["received"] == 1
    november = stats.compute(leader, stats.month_period("2026-11")).total
    assert (november["received"], november["accepted"], november["dissatisfied"]) == (0, 1, 1)  # I; D sent back
    assert november["handled"] == 0 and november["on_time_rate"] is None and november["avg_workdays_to_handle"] is None


def test_scopes(w):
    # a handler sees its unit's cases only: exactly its unit's row as the leader sees it
    mine = stats.compute(w.users[Role.HANDLER], OCTOBER).total
    assert mine == EXPECTED_ROWS["w-fgj"]
    # the supervisor of the west street sees G only
    west = stats.compute(w.users[Role.SUPERVISOR], OCTOBER).total
    assert (west["received"], west["accepted"], west["handled"]) == (1, 1, 0)
    # the other region's leader sees only its own case
    theirs = stats.compute(w.x.users[Role.LEADER], OCTOBER).total
    assert (theirs["received"], theirs["handled"], theirs["handled_on_time"]) == (1, 1, 1)
    # an enterprise: none
    with pytest.raises(stats.PermissionDenied):
        stats.compute(w.users[Role.ENTERPRISE], OCTOBER)


def test_trend_by_month(w):
    months = stats.trend(w.users[Role.LEADER], 3, today=datetime.date(2026, 11, 15))
    assert [m["month"] for m in months] == ["2026-09", "2026-10", "2026-11"]
    assert months[1] == {"month": "2026-10", **EXPECTED_TOTAL}
    assert months[0]["received"] == 1 and months[2]["accepted"] == 1


# --- the API ----------------------------------------------------------------------------------------------

def get(client, w, user, path):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {w.token(user)}")


def test_the_api_and_its_excel_workbook_agree(client, w):
    from openpyxl import load_workbook

    leader = w.users[Role.LEADER]
    r = get(client, w, leader, "/api/v1/stats/appeals?month=2026-10&by=department")
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["total"] == EXPECTED_TOTAL
    assert {row["key"]: {m: row[m] for m in stats.METRICS} for row in data["rows"]} == EXPECTED_ROWS

    r = get(client, w, leader, "/api/v1/stats/appeals?month=2026-10&by=department&format=xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][:2] == ["诉求统计", "2026-10"]
    header = values[1]
    assert header[:2] == ["代码", "牵头单位"] and "按期办结率" in header and "满意率" in header
    assert len(header) == 2 + len(stats.METRICS)
    assert values[2][:2] == [None, "合计"]
    assert dict(zip(stats.METRICS, values[2][2:])) == data["total"]
    assert [row[:2] for row in values[3:]] == [[row["key"], row["name"]] for row in data["rows"]]
    for row, json_row in zip(values[3:], data["rows"]):
        assert dict(zip(stats.METRICS, row[2:])) == {m: json_row[m] for m in stats.METRICS}

    r = get(client, w, leader, "/api/v1/stats/appeals?from=2026-10-01&to=2026-10-31")
    assert r.status_code == 200 and r.json() == {"total": EXPECTED_TOTAL, "rows": []}


@pytest.mark.parametrize("query", [
    "", "month=2026-13", "month=2026-1", "month=26-10", "month=abcd-ef", "month=1999-12", "month=2026-10&by=unit",
    "month=2026-10&from=2026-10-01&to=2026-10-31", "from=2026-10-01", "to=2026-10-31", "from=2026-10-31&to=2026-10-01",
    "from=2025-01-01&to=2026-10-31", "from=2026-02-30&to=2026-03-01", "from=1&to=2", "month=2026-10&format=pdf",
    "month=9999-12", "from=0001-01-01&to=0001-01-02",
])
def test_bad_input_is_400_with_a_chinese_message(client, w, query):
    r = get(client, w, w.users[Role.LEADER], f"/api/v1/stats/appeals?{query}")
    assert r.status_code == 400, (query, r.content)
    detail = r.json()["detail"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in detail), detail


def test_who_may_ask(client, w):
    assert get(client, w, w.users[Role.ENTERPRISE], "/api/v1/stats/appeals?month=2026-10").status_code == 403
    assert client.get("/api/v1/stats/appeals?month=2026-10").status_code == 401
    r = get(client, w, w.users[Role.HANDLER], "/api/v1/stats/appeals?month=2026-10")
    assert r.status_code == 200 and r.json()["total"] == EXPECTED_ROWS["w-fgj"]


def test_a_year_is_the_longest_range(client, w):
    leader = w.users[Role.LEADER]
    assert get(client, w, leader, "/api/v1/stats/appeals?from=2026-01-01&to=2026-12-31").status_code == 200
    assert get(client, w, leader, "/api/v1/stats/appeals?from=2025-12-31&to=2026-12-31").status_code == 200  # 366
    assert get(client, w, leader, "/api/v1/stats/appeals?from=2025-12-30&to=2026-12-31").status_code == 400


# --- the list's date filters ------------------------------------------------------------------------------

def test_the_list_filters_by_time_of_receipt(client, w):
    leader = w.users[Role.LEADER]

    def numbers(query):
        r = get(client, w, leader, f"/api/v1/appeals?limit=200&{query}")
        assert r.status_code == 200, r.content
        return {row["number"] for row in r.json()["items"]}

    def of(*names):
        return {w.cases[n].number for n in names}

    october = "received_after=2026-10-01T00:00:00%2B08:00&received_before=2026-11-01T00:00:00%2B08:00"
    assert numbers(october) == of("B", "C", "D", "E", "F", "G", "I")
    # the same instant in UTC; after is inclusive, before exclusive
    assert numbers("received_after=2026-10-31T15:30:00Z") == of("I")
    assert numbers("received_before=2026-10-31T15:30:00Z&received_after=2026-10-26T09:00:00%2B08:00") == of("D")
    # the figure and its list: overdue_open is the list of overdue cases received in the month
    assert numbers(f"{october}&overdue=true") == of("D", "F", "I")
    assert len(numbers(f"{october}&overdue=true")) == EXPECTED_TOTAL["overdue_open"]


@pytest.mark.parametrize("query", [
    "received_after=2026-10-01", "received_after=2026-10-01T00:00:00", "received_before=yesterday",
    "received_before=2026-13-01T00:00:00%2B08:00", "received_after=0001-01-01T00:00:00%2B14:00",
])
def test_the_list_refuses_bad_times(client, w, query):
    r = get(client, w, w.users[Role.LEADER], f"/api/v1/appeals?{query}")
    assert r.status_code == 400, (query, r.content)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])


@pytest.mark.parametrize("role", [Role.LEADER, Role.HANDLER, Role.SUPERVISOR])
def test_the_figures_read_from_the_events_equal_the_conditions_on_the_scope(w, role):
    """`stats._compute` reads the period's events (one set per figure), the last handlings once and the visible
    appeals by key; `stats.appeal_sets` (the ranking's and the assessments' path) puts the same conditions on the
    scope. Both count the same appeals, in total and per lead unit, whatever the period."""
    from django.db.models import Count
    from django.utils import timezone

    from qifu.accounts import scopes
    from qifu.org.models import Department

    codes = dict(Department.objects.values_list("pk", "code"))
    now = timezone.now()
    user = w.users[role]
    periods = (OCTOBER, stats.month_period("2026-11"), stats.month_period("2026-09"),
               stats.range_period(datetime.date(2026, 10, 1), datetime.date(2026, 10, 8)))
    for period in periods:
        scoped = scopes.appeals(user)
        sets = stats.appeal_sets(scoped, period, now)
        figures = stats._compute(scoped, period, "department", now)
        counted = [name for name in sets if name != "solved"]
        assert {name: figures.total[name] for name in counted} == {name: sets[name].count() for name in counted}
        solved, closed = sets["solved"].count(), sets["closed"].count()
        assert figures.total["solved_rate"] == (round(solved / closed, 4) if closed else None)
        rows = {row["key"]: row for row in figures.rows}
        for name in counted:
            per_unit = dict(sets[name].order_by().values_list("lead_department_id").annotate(n=Count("pk")))
            assert {codes.get(unit): n for unit, n in per_unit.items()} == {
                key: row[name] for key, row in rows.items() if row[name]}, (period.label, name)
    assert figures.total["received"] or role != Role.LEADER  # not vacuous: the leader's month counts
