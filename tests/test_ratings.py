"""Ratings (好差评, seed 000 机制保障; seed 003 line 1437): closing a case records the enterprise's answer explicitly
(1–5 stars or "not rated" — a missing answer is refused and changes nothing); "not rated" is counted as such, never
as 0 stars; the sums per case, lead unit, section and liaison officer on a hand-built set (page, Excel and API agree);
the two-way rating — the enterprise rates its liaison officer, the paired officer rates the lead unit — and who may."""

import datetime
import io

import pytest

from qifu.accounts.models import Role, User
from qifu.appeals import ratings, workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, AppealEvent, Channel, OfficerRating, Rating
from qifu.audit.models import AuditEntry
from qifu.enterprises.models import LiaisonOfficer

from .world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    ensure_default_channels()
    return World()


def register(w, enterprise=None, title="厂房消防验收咨询"):
    appeal, _ = workflow.register(actor=w.users[Role.FRONT_DESK], enterprise=enterprise or w.ent_east,
                                  channel=Channel.objects.get(code="walk_in"), title=title, description="需要哪些材料？",
                                  category="single")
    return appeal


def handled(w, enterprise=None, lead=None, section=None, title="厂房消防验收咨询"):
    appeal = register(w, enterprise, title)
    dispatcher, handler = w.users[Role.DISPATCHER], w.users[Role.HANDLER]
    if section:
        workflow.perform(appeal.pk, "classify", dispatcher, category="single", section=section)
    workflow.perform(appeal.pk, "assign", dispatcher, lead_department=lead or w.dept.code)
    actor = handler if (lead or w.dept.code) == w.dept.code else User.objects.get(is_superuser=True)
    workflow.perform(appeal.pk, "reply", actor, resolution="solved", text="已答复")
    workflow.perform(appeal.pk, "mark_handled", actor)
    return Appeal.objects.get(pk=appeal.pk)


@pytest.fixture
def admin(db):
    return User.objects.create_superuser("root", password="pw-12345")


# --- the answer is required ----------------------------------------------------------------------------------

def snapshot(appeal):
    appeal.refresh_from_db()
    return (appeal.status, appeal.version, appeal.events.count(), Rating.objects.filter(appeal=appeal).count())


@pytest.mark.parametrize("missing", [{}, {"rating": ""}, {"rating": None}])
def test_closing_without_a_rating_answer_is_refused_and_changes_nothing(w, missing):
    appeal = handled(w)
    before = snapshot(appeal)
    with pytest.raises(workflow.TransitionError, match="none"):
        workflow.perform(appeal.pk, "confirm", w.users[Role.ENTERPRISE], solved=True, comment="好", **missing)
    assert snapshot(appeal) == before
    for wrong in (0, 6, "five", True, 4.5):
        with pytest.raises(workflow.TransitionError):
            workflow.perform(appeal.pk, "confirm", w.users[Role.ENTERPRISE], rating=wrong)
    assert snapshot(appeal) == before


def test_solved_on_the_spot_needs_the_answer_too(w, client):
    appeal = register(w)
    before = snapshot(appeal)
    with pytest.raises(workflow.TransitionError):
        workflow.perform(appeal.pk, "solve_on_spot", w.users[Role.FRONT_DESK], resolution="solved", text="当场答复")
    assert snapshot(appeal) == before
    # the intake page: the on-the-spot row without the rating is refused next to the row, nothing registered
    client.force_login(w.users[Role.FRONT_DESK])
    data = {"enterprise_q": w.ent_east.name, "enterprise_uscc": w.ent_east.uscc, "contact_name": "", "contact_phone": "",
            "channel": "walk_in", "category": "", "intake_key": "", "problem-TOTAL_FORMS": "1",
            "problem-INITIAL_FORMS": "0", "problem-MIN_NUM_FORMS": "1", "problem-MAX_NUM_FORMS": "20",
            "problem-0-title": "政策咨询", "problem-0-description": "研发补助", "problem-0-on_spot": "on",
            "problem-0-resolution": "solved", "problem-0-answer": "已讲解"}
    count = Appeal.objects.count()
    r = client.post("/appeals/new/", data)
    assert r.status_code == 200 and 'data-testid="error-problem-0-rating"' in r.content.decode()
    assert Appeal.objects.count() == count
    r = client.post("/appeals/new/", {**data, "problem-0-rating": "4"})
    assert r.status_code == 302
    rating = Rating.objects.get(appeal__title="政策咨询")
    assert (rating.stars, rating.rated, rating.solved) == (4, True, True)


def test_the_api_refuses_a_missing_answer_with_400_and_takes_none(w):
    from django.test import Client

    appeal = handled(w)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {w.token(w.users[Role.ENTERPRISE])}")
    url = f"/api/v1/appeals/{appeal.pk}/actions/confirm"
    r = api.post(url, {"version": appeal.version, "solved": True}, content_type="application/json")
    assert r.status_code == 400 and "none" in r.json()["detail"]
    r = api.post(url, {"version": appeal.version, "rating": 0}, content_type="application/json")
    assert r.status_code == 400
    assert snapshot(appeal)[0] == "handled"
    r = api.post(url, {"version": appeal.version, "rating": "none", "comment": "不想评"}, content_type="application/json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "closed"
    assert [(x["kind"], x["stars"], x["rated"], x["solved"]) for x in body["ratings"]] == [
        ("enterprise", None, False, True)]


def test_the_confirm_page_shows_a_form_error_without_an_answer(w, client):
    appeal = handled(w)
    client.force_login(w.users[Role.ENTERPRISE])
    r = client.post(f"/appeals/{appeal.pk}/actions/confirm/", {"version": appeal.version, "comment": "好"})
    assert r.status_code == 400
    page = r.content.decode()
    assert 'data-testid="error-confirm-rating"' in page and 'data-testid="confirm-star-none"' in page
    assert snapshot(appeal)[:3] == ("handled", appeal.version, appeal.events.count())
    r = client.post(f"/appeals/{appeal.pk}/actions/confirm/", {"version": appeal.version, "rating": "none"})
    assert r.status_code == 302
    page = client.get(f"/appeals/{appeal.pk}/").content.decode()
    assert 'data-testid="rating-not-rated"' in page


def test_not_rated_is_stored_as_such_and_left_out_of_the_average(w):
    a, b = handled(w), handled(w)
    workflow.perform(a.pk, "confirm", w.users[Role.ENTERPRISE], rating="none")
    workflow.perform(b.pk, "confirm", w.users[Role.ENTERPRISE], rating="4")
    none = Rating.objects.get(appeal=a)
    assert (none.stars, none.rated) == (None, False)
    assert AppealEvent.objects.get(appeal=a, action="confirm").data["rated"] is False
    total, rows = ratings.rows_of(w.users[Role.LEADER])
    assert (total["count"], total["rated"], total["not_rated"], total["average"]) == (2, 1, 1, 4.0)  # not 2.0
    assert total["satisfied"] == 2 and total["dissatisfied"] == 0


def test_sending_back_keeps_its_rules_stars_optional(w):
    appeal = handled(w)
    with pytest.raises(workflow.TransitionError):  # the comment is still required
        workflow.perform(appeal.pk, "reject_result", w.users[Role.ENTERPRISE], rating=2)
    workflow.perform(appeal.pk, "reject_result", w.users[Role.ENTERPRISE], comment="仍未解决")
    rating = Rating.objects.get(appeal=appeal)
    assert (rating.solved, rating.stars, rating.rated) == (False, None, False)


# --- the sums --------------------------------------------------------------------------------------------------

@pytest.fixture
def rated_set(w, admin):
    """A: 东方, 政策服务板块, 发改局: closed 5★. B: 东方, 政策服务板块, 发改局: sent back 2★, then closed not rated.
    C: 西方, no section, 人社局: closed 3★. D: 西方, solved on the spot, not rated (no unit, no section)."""
    enterprise = w.users[Role.ENTERPRISE]
    a = handled(w, section=w.section.code, title="A")
    workflow.perform(a.pk, "confirm", enterprise, rating=5)
    b = handled(w, section=w.section.code, title="B")
    workflow.perform(b.pk, "reject_result", enterprise, rating=2, comment="没解决")
    workflow.perform(b.pk, "reply", w.users[Role.HANDLER], resolution="solved", text="再次答复")
    workflow.perform(b.pk, "mark_handled", w.users[Role.HANDLER])
    workflow.perform(b.pk, "confirm", enterprise, rating="none")
    c = handled(w, enterprise=w.ent_west, lead=w.other_dept.code, title="C")
    workflow.perform(c.pk, "confirm", w.west_user, rating=3)
    d = register(w, enterprise=w.ent_west, title="D")
    workflow.perform(d.pk, "solve_on_spot", w.users[Role.FRONT_DESK], resolution="solved", text="当场", rating="none")
    return {x.title: x for x in (a, b, c, d)}


def keyed(rows):
    return {row["key"]: {k: row[k] for k in ratings.COLUMNS} for row in rows}


def test_sums_per_unit_section_and_case(w, rated_set):
    leader = w.users[Role.LEADER]
    total, rows = ratings.rows_of(leader, "department")
    assert total == {"count": 5, "rated": 3, "not_rated": 2, "average": 3.33, "satisfied": 4, "dissatisfied": 1,
                     "dissatisfied_share": 0.2}
    assert keyed(rows) == {
        w.dept.code: {"count": 3, "rated": 2, "not_rated": 1, "average": 3.5, "satisfied": 2, "dissatisfied": 1,
                      "dissatisfied_share": 0.3333},
        w.other_dept.code: {"count": 1, "rated": 1, "not_rated": 0, "average": 3.0, "satisfied": 1, "dissatisfied": 0,
                            "dissatisfied_share": 0.0},
        None: {"count": 1, "rated": 0, "not_rated": 1, "average": None, "satisfied": 1, "dissatisfied": 0,
               "dissatisfied_share": 0.0},
    }
    _total, rows = ratings.rows_of(leader, "section")
    assert {k: (v["count"], v["rated"], v["average"]) for k, v in keyed(rows).items()} == {
        w.section.code: (3, 2, 3.5), None: (2, 1, 3.0)}
    _total, rows = ratings.rows_of(leader, "case")
    numbers = {a.number: t for t, a in rated_set.items()}
    assert {numbers[k]: (v["count"], v["not_rated"], v["dissatisfied"]) for k, v in keyed(rows).items()} == {
        "A": (1, 0, 0), "B": (2, 1, 1), "C": (1, 0, 0), "D": (1, 1, 0)}
    # a unit's handler sees its own unit's only
    _total, rows = ratings.rows_of(w.users[Role.HANDLER], "department")
    assert list(keyed(rows)) == [w.dept.code]


def test_the_page_the_excel_and_the_api_agree(w, rated_set, client):
    from openpyxl import load_workbook

    leader = w.users[Role.LEADER]
    client.force_login(leader)
    page = client.get("/appeals/ratings/?by=section")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="rating-total"' in html and w.section.name in html
    xlsx = client.get("/appeals/ratings/?by=department&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    lines = list(sheet.iter_rows(values_only=True))
    header = lines[1]
    assert header[2:] == ("答复数", "已评价", "不评价", "平均星级", "满意", "不满意", "不满意占比")
    total_line = lines[2]
    assert total_line[2:] == (5, 3, 2, 3.33, 4, 1, 0.2)
    by_code = {line[0]: line[2:] for line in lines[3:]}
    assert by_code[w.dept.code] == (3, 2, 1, 3.5, 2, 1, 0.3333)
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Bearer {w.token(leader)}")
    body = api.get("/api/v1/ratings?by=department").json()
    assert body["total"]["count"] == 5 and keyed(body["rows"]) == keyed(ratings.rows_of(leader, "department")[1])
    assert api.get("/api/v1/ratings?by=nothing").status_code == 400
    assert api.get("/api/v1/ratings?by=section&source=officer").status_code == 400
    month = f"{datetime.date.today():%Y-%m}"
    assert api.get(f"/api/v1/ratings?month={month}").json()["total"]["count"] == 5
    assert api.get("/api/v1/ratings?month=2020-01").json()["total"]["count"] == 0
    for role in (Role.ENTERPRISE, Role.LIAISON):
        client.force_login(w.users[role])
        assert client.get("/appeals/ratings/").status_code == 403
    assert Client(HTTP_AUTHORIZATION=f"Bearer {w.token(w.users[Role.ENTERPRISE])}").get(
        "/api/v1/ratings").status_code == 403


def test_the_case_page_and_the_api_show_its_ratings(w, rated_set, client):
    b = rated_set["B"]
    client.force_login(w.users[Role.ENTERPRISE])
    html = client.get(f"/appeals/{b.pk}/").content.decode()
    assert html.count('data-testid="rating" data-kind="enterprise"') == 2
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Bearer {w.token(w.users[Role.DISPATCHER])}")
    body = api.get(f"/api/v1/appeals/{b.pk}").json()
    assert [(x["solved"], x["stars"], x["rated"]) for x in body["ratings"]] == [(False, 2, True), (True, None, False)]


# --- the two-way rating ----------------------------------------------------------------------------------------

@pytest.fixture
def paired(w):
    officer = LiaisonOfficer.objects.create(user=w.users[Role.LIAISON], region=w.region)
    officer.enterprises.add(w.ent_east)
    return officer


def closed(w, enterprise=None, title="厂房消防验收咨询"):
    appeal = handled(w, enterprise=enterprise, title=title)
    who = w.users[Role.ENTERPRISE] if (enterprise or w.ent_east) == w.ent_east else w.west_user
    workflow.perform(appeal.pk, "confirm", who, rating=4)
    return Appeal.objects.get(pk=appeal.pk)


def test_the_enterprise_rates_its_liaison_officer_once(w, paired, client):
    appeal = closed(w)
    enterprise = w.users[Role.ENTERPRISE]
    client.force_login(enterprise)
    assert 'data-testid="officer-rating-form"' in client.get(f"/appeals/{appeal.pk}/").content.decode()
    r = client.post(f"/appeals/{appeal.pk}/officer-rating/", {"rating": "5", "comment": "跟进及时"})
    assert r.status_code == 302
    rating = OfficerRating.objects.get(appeal=appeal)
    assert (rating.direction, rating.officer, rating.stars, rating.rated, rating.department) == (
        "enterprise_to_officer", paired, 5, True, w.dept)
    assert rating.closing_seq == appeal.version
    assert AuditEntry.objects.filter(object_id=str(rating.pk), content_type__model="officerrating").exists()
    assert 'data-testid="officer-rating-form"' not in client.get(f"/appeals/{appeal.pk}/").content.decode()
    with pytest.raises(workflow.TransitionError):
        ratings.rate(appeal.pk, enterprise, 3)
    with pytest.raises(workflow.TransitionError):  # an answer is required here too
        ratings.rate(closed(w).pk, enterprise, "")


def test_another_enterprise_cannot_rate_and_an_unpaired_case_has_no_officer(w, paired):
    appeal = closed(w)
    with pytest.raises(Appeal.DoesNotExist):
        ratings.rate(appeal.pk, w.west_user, 5)
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Bearer {w.token(w.west_user)}")
    assert api.post(f"/api/v1/appeals/{appeal.pk}/officer-rating", {"rating": 5},
                    content_type="application/json").status_code == 404
    west = closed(w, enterprise=w.ent_west)
    with pytest.raises(workflow.TransitionError, match="助企员|liaison"):
        ratings.rate(west.pk, w.west_user, 5)
    assert not OfficerRating.objects.exists()


def test_the_paired_officer_rates_the_lead_unit_an_unpaired_one_cannot(w, paired, client):
    appeal = closed(w)
    other = User.objects.create_user("w-liaison-2", password="pw-12345", region=w.region, jurisdiction=w.district)
    other.grant(Role.LIAISON)
    LiaisonOfficer.objects.create(user=other, region=w.region).enterprises.add(w.ent_west)
    assert Appeal.objects.filter(pk=appeal.pk).exists()
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Bearer {w.token(other)}")
    r = api.post(f"/api/v1/appeals/{appeal.pk}/officer-rating", {"rating": 4}, content_type="application/json")
    assert r.status_code == 403  # sees the case (its area) but is not paired with the enterprise
    dispatcher = Client(HTTP_AUTHORIZATION=f"Bearer {w.token(w.users[Role.DISPATCHER])}")
    assert dispatcher.post(f"/api/v1/appeals/{appeal.pk}/officer-rating", {"rating": 4},
                           content_type="application/json").status_code == 403
    officer = w.users[Role.LIAISON]
    client.force_login(officer)
    home = client.get("/").content.decode()
    assert 'data-testid="count-to-rate">1<' in home and appeal.number in home
    api = Client(HTTP_AUTHORIZATION=f"Bearer {w.token(officer)}")
    r = api.post(f"/api/v1/appeals/{appeal.pk}/officer-rating", {"rating": "none", "comment": "未跟进到结果"},
                 content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["direction"] == "officer_to_unit" and r.json()["rated"] is False and r.json()["stars"] is None
    assert r.json()["department"] == w.dept.code
    assert 'data-testid="count-to-rate">0<' in client.get("/").content.decode()
    assert api.post(f"/api/v1/appeals/{appeal.pk}/officer-rating", {"rating": 3},
                    content_type="application/json").status_code == 400  # once per closing
    assert api.post(f"/api/v1/appeals/{appeal.pk}/officer-rating", {"rating": 9},
                    content_type="application/json").status_code == 400
    # an open case of a paired enterprise: not yet
    open_case = handled(w)
    assert api.post(f"/api/v1/appeals/{open_case.pk}/officer-rating", {"rating": 3},
                    content_type="application/json").status_code == 400
    # the enterprise does not see the officer's rating of the unit; staff do
    mine = Client(HTTP_AUTHORIZATION=f"Bearer {w.token(w.users[Role.ENTERPRISE])}").get(f"/api/v1/appeals/{appeal.pk}")
    assert [x["kind"] for x in mine.json()["ratings"]] == ["enterprise"]
    staff = Client(HTTP_AUTHORIZATION=f"Bearer {w.token(w.users[Role.LEADER])}").get(f"/api/v1/appeals/{appeal.pk}")
    assert [x["kind"] for x in staff.json()["ratings"]] == ["enterprise", "officer_to_unit"]


def test_figures_by_officer_and_the_officers_monthly_stars(w, paired):
    from qifu.appeals import stats

    enterprise, officer = w.users[Role.ENTERPRISE], w.users[Role.LIAISON]
    for stars in (5, 2, "none"):
        ratings.rate(closed(w).pk, enterprise, stars)
    unit_rated = closed(w)
    ratings.rate(unit_rated.pk, officer, 4)
    total, rows = ratings.rows_of(w.users[Role.LEADER], "officer")
    assert keyed(rows) == {officer.username: {"count": 3, "rated": 2, "not_rated": 1, "average": 3.5, "satisfied": 2,
                                              "dissatisfied": 1, "dissatisfied_share": 0.3333}}
    total, rows = ratings.rows_of(w.users[Role.LEADER], "department", "officer")
    assert keyed(rows)[w.dept.code]["average"] == 4.0 and total["count"] == 1
    month = stats.month_period(f"{datetime.date.today():%Y-%m}", "Asia/Shanghai")
    assert ratings.officer_stars(paired, month) == 3.5  # "none" is not 0 stars
    assert ratings.officer_stars(paired, stats.month_period("2020-01", "Asia/Shanghai")) is None


def test_a_reopened_and_closed_again_case_is_rated_again(w, paired):
    w.region.config = {**(w.region.config or {}), "revisit_ratio": 1.0}
    w.region.save()
    appeal = closed(w)
    enterprise = w.users[Role.ENTERPRISE]
    ratings.rate(appeal.pk, enterprise, 5)
    workflow.record_revisit(appeal.revisits.get().pk, w.users[Role.DISPATCHER], "dissatisfied", "仍未解决")
    workflow.perform(appeal.pk, "reply", w.users[Role.HANDLER], resolution="solved", text="再次处理")
    workflow.perform(appeal.pk, "mark_handled", w.users[Role.HANDLER])
    workflow.perform(appeal.pk, "confirm", enterprise, rating=4)
    ratings.rate(appeal.pk, enterprise, 3)
    assert OfficerRating.objects.filter(appeal=appeal).count() == 2


def test_pairings_import_all_or_nothing(w, tmp_path):
    from django.core.management import CommandError, call_command

    good = tmp_path / "pairs.csv"
    good.write_text(f"助企员账号,统一社会信用代码\n{w.users[Role.LIAISON].username},{w.ent_east.uscc}\n"
                    f"{w.users[Role.LIAISON].username},{w.ent_west.uscc}\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"username,uscc\n{w.users[Role.LIAISON].username},{w.ent_east.uscc}\n"
                   f"{w.users[Role.HANDLER].username},{w.ent_west.uscc}\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("enterprise", "pair", str(bad), "--region", w.region.code)
    assert not LiaisonOfficer.objects.exists()
    call_command("enterprise", "pair", str(good), "--region", w.region.code)
    officer = LiaisonOfficer.objects.get(user=w.users[Role.LIAISON])
    assert set(officer.enterprises.all()) == {w.ent_east, w.ent_west}
