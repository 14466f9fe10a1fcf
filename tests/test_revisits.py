"""Revisits (回访): which closed cases are called back (seed 000: 20% of ordinary cases, every difficult case and
complaint; Huzhou: all), reproducibly; the queue, its scope and its export; recording outcomes — a dissatisfied
call reopens the case with a fresh time limit, as an event that replay() agrees with; the API; 好差评 per unit."""

import datetime
import io

import pytest

from qifu.accounts.models import Role, User
from qifu.appeals import revisits, workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Category, Channel, Revisit
from qifu.audit.models import AuditEntry
from qifu.org.models import Region

from .world import World

pytestmark = pytest.mark.django_db

RECEIVED = datetime.datetime.fromisoformat("2026-11-16T09:00:00+08:00")  # a Monday


@pytest.fixture
def w():
    ensure_default_channels()
    return World()


def closed_case(w, *, category="single", channel="walk_in", dissatisfied=False, rating=4, ratio=None):
    if ratio is not None:
        w.region.config = {**(w.region.config or {}), "revisit_ratio": ratio}
        w.region.save()
    desk, dispatcher, handler = w.users[Role.FRONT_DESK], w.users[Role.DISPATCHER], w.users[Role.HANDLER]
    appeal, _ = workflow.register(actor=desk, enterprise=w.ent_east, channel=Channel.objects.get(code=channel),
                                  title="园区道路积水", description="雨天积水严重。", category=category,
                                  received_at=RECEIVED)
    workflow.perform(appeal.pk, "assign", dispatcher, lead_department=w.dept.code)
    for round_ in range(2 if dissatisfied else 1):
        workflow.perform(appeal.pk, "reply", handler, resolution="solved", text="已疏通排水管网")
        workflow.perform(appeal.pk, "mark_handled", handler)
        if dissatisfied and round_ == 0:
            workflow.perform(appeal.pk, "reject_result", desk, rating=2, comment="仍有积水")
    workflow.perform(appeal.pk, "confirm", w.users[Role.ENTERPRISE], rating=rating)
    return Appeal.objects.get(pk=appeal.pk)


def test_the_sample_share_is_the_ratio_and_the_same_case_is_always_in_or_out():
    keys = [revisits.sample_key("qiantang", f"QT-20261116-{n:04d}") for n in range(1, 1001)]
    assert all(0 <= k < 1 for k in keys)
    share = sum(k < 0.2 for k in keys) / len(keys)
    assert 0.17 <= share <= 0.23
    assert keys == [revisits.sample_key("qiantang", f"QT-20261116-{n:04d}") for n in range(1, 1001)]
    assert revisits.sample_key("huzhou", "QT-20261116-0001") != keys[0]  # the region is part of the key


def test_ordinary_cases_follow_the_key_difficult_and_complaints_always(w):
    w.region.config = {"revisit_ratio": 0.0}
    w.region.save()
    ordinary = closed_case(w)
    assert not ordinary.revisits.exists()
    assert revisits.sampled(ordinary) == ""
    whistle = closed_case(w, category="whistle")
    assert whistle.revisits.get().reason == "difficult"
    dissatisfied = closed_case(w, dissatisfied=True)
    assert dissatisfied.revisits.get().reason == "difficult"
    complaint = closed_case(w, channel="bad_review")
    assert complaint.revisits.get().reason == "complaint"
    # the sample key decides ordinary cases: in at 1.0, and the same answer every time
    w.region.config = {"revisit_ratio": 1.0}
    w.region.save()
    again = closed_case(w)
    assert again.revisits.get().reason == "sample"
    w.region.config = {"revisit_ratio": 0.2}
    w.region.save()
    expected = revisits.sample_key(w.region.code, ordinary.number) < 0.2
    fresh = Appeal.objects.select_related("region").get(pk=ordinary.pk)
    assert (revisits.sampled(fresh) == "sample") is expected
    assert (revisits.sampled(fresh) == "sample") is expected


def test_escalated_and_fallback_cases_are_difficult(w):
    rules = w.region.rules
    case = Appeal(region=w.region, category=Category.SINGLE, escalation_level=2, dissatisfied_count=0)
    assert revisits.difficulties(case, rules) == ["escalated"]
    case = Appeal(region=w.region, category=Category.FALLBACK_CHIEF, escalation_level=1, dissatisfied_count=0)
    assert revisits.difficulties(case, rules) == ["fallback"]
    case = Appeal(region=w.region, category=Category.SINGLE, escalation_level=1, dissatisfied_count=0)
    assert revisits.difficulties(case, rules) == []


def test_about_a_fifth_of_1000_ordinary_closed_cases_are_revisited(w):
    numbers = [f"{w.region.code.upper()}-20261116-{n:04d}" for n in range(1, 1001)]
    region = w.region
    chosen = [revisits.sampled(Appeal(region=region, number=n, category=Category.SINGLE, escalation_level=1,
                                      dissatisfied_count=0, channel=Channel.objects.get(code="walk_in")))
              for n in numbers]
    share = chosen.count("sample") / 1000
    assert 0.17 <= share <= 0.23
    assert set(chosen) == {"sample", ""}


@pytest.mark.parametrize("code", ["huzhou", "wuxing"])
def test_huzhou_revisits_all(code):
    from qifu.org import preset

    preset.load(code)
    region = Region.objects.get(code=code)
    assert region.rule("revisit_ratio") == 1.0
    assert all(revisits.sample_key(code, f"HZ-20261116-{n:04d}") < 1.0 for n in range(200))


def test_a_revisit_is_due_in_five_working_days_and_solved_on_the_spot_cases_are_sampled_too(w):
    case = closed_case(w, category="whistle")
    revisit = case.revisits.get()
    assert revisit.state == "pending" and revisit.closing_seq == case.version
    assert revisit.due_at > case.closed_at
    w.region.config = {"revisit_ratio": 1.0}
    w.region.save()
    appeal, _ = workflow.register(actor=w.users[Role.FRONT_DESK], enterprise=w.ent_east,
                                  channel=Channel.objects.get(code="walk_in"), title="咨询政策", description="咨询。",
                                  category="simple")
    workflow.perform(appeal.pk, "solve_on_spot", w.users[Role.FRONT_DESK], resolution="solved", text="当场答复",
                     rating="none")
    assert Revisit.objects.filter(appeal_id=appeal.pk).exists()


def test_a_dissatisfied_revisit_reopens_the_case_with_a_fresh_deadline(w):
    case = closed_case(w, category="whistle")
    revisit = case.revisits.get()
    old_due = case.due_at
    desk = w.users[Role.FRONT_DESK]
    with pytest.raises(workflow.TransitionError):
        workflow.record_revisit(revisit.pk, desk, "dissatisfied", "")  # say why
    workflow.record_revisit(revisit.pk, desk, "dissatisfied", "积水问题又出现了")
    case.refresh_from_db()
    assert case.status == "assigned" and case.lead_department_id == w.dept.pk
    assert case.dissatisfied_count == 1 and case.closed_at is None and case.handled_at is None
    assert case.due_at > old_due
    event = case.events.order_by("-seq").first()
    assert event.action == "revisit_reopen" and event.from_status == "closed" and event.data["revisit"] == revisit.pk
    state = workflow.replay(case)
    for name in workflow.DERIVED:
        assert state[name] == getattr(case, name), name
    revisit.refresh_from_db()
    assert revisit.state == "done" and revisit.outcome == "dissatisfied" and revisit.done_by == desk
    assert AuditEntry.objects.filter(object_id=str(revisit.pk), action="update").exists()
    with pytest.raises(workflow.TransitionError):
        workflow.record_revisit(revisit.pk, desk, "satisfied")  # once
    # handled and closed again: a new closure, a new revisit (a difficult case now)
    handler = w.users[Role.HANDLER]
    workflow.perform(case.pk, "reply", handler, resolution="solved", text="再次疏通")
    workflow.perform(case.pk, "mark_handled", handler)
    workflow.perform(case.pk, "confirm", w.users[Role.ENTERPRISE], rating=5)
    assert case.revisits.count() == 2


def test_the_reopen_action_needs_a_dissatisfied_revisit(w):
    case = closed_case(w, category="whistle")
    with pytest.raises(workflow.TransitionError):
        workflow.perform(case.pk, "revisit_reopen", w.users[Role.DISPATCHER], comment="想重开")
    assert "revisit_reopen" not in [a.name for a in workflow.available_actions(w.users[Role.DISPATCHER], case)]


@pytest.mark.parametrize("outcome", ["satisfied", "unreachable"])
def test_satisfied_and_unreachable_do_not_reopen(w, outcome):
    case = closed_case(w, category="whistle")
    workflow.record_revisit(case.revisits.get().pk, w.users[Role.DISPATCHER], outcome, "")
    case.refresh_from_db()
    assert case.status == "closed" and case.dissatisfied_count == 0
    assert case.revisits.get().outcome == outcome
    with pytest.raises(workflow.TransitionError):
        workflow.record_revisit(case.revisits.get().pk, w.users[Role.DISPATCHER], "nonsense")


def test_who_sees_and_records_revisits(w):
    case = closed_case(w, category="whistle")
    revisit = case.revisits.get()
    for role in (Role.FRONT_DESK, Role.DISPATCHER, Role.ADMIN):
        assert revisits.queue(w.users[role]).filter(pk=revisit.pk).exists(), role
    for role in (Role.HANDLER, Role.ENTERPRISE, Role.LEADER, Role.LIAISON):
        assert not revisits.queue(w.users[role]).exists(), role
    # a specialist sees the cases of their section and node (this one was received at the center)
    assert revisits.queue(w.users[Role.SPECIALIST]).filter(pk=revisit.pk).exists()
    other = World("o")
    outsider = User.objects.create_user("o-desk2", password="pw-12345", region=other.region, node=other.center)
    outsider.grant(Role.FRONT_DESK)
    assert not revisits.queue(outsider).exists()
    with pytest.raises(Revisit.DoesNotExist):
        workflow.record_revisit(revisit.pk, outsider, "satisfied")
    with pytest.raises(workflow.NotAllowed):
        workflow.record_revisit(revisit.pk, w.users[Role.HANDLER], "satisfied")  # sees the case, does not call
    with pytest.raises(workflow.NotAllowed):
        workflow.record_revisit(revisit.pk, w.users[Role.ENTERPRISE], "dissatisfied", "不满意")
    assert Revisit.objects.get(pk=revisit.pk).state == "pending"


def _auth(w, user):
    return {"HTTP_AUTHORIZATION": f"Bearer {w.token(user)}"}


def test_the_api_lists_and_records(w, client):
    case = closed_case(w, category="whistle")
    revisit = case.revisits.get()
    desk = w.users[Role.FRONT_DESK]
    r = client.get("/api/v1/revisits?state=pending&limit=10", **_auth(w, desk))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 1 and body["items"][0]["appeal_number"] == case.number
    assert body["items"][0]["reason"] == "difficult"
    assert client.get("/api/v1/revisits?state=bogus", **_auth(w, desk)).status_code == 400
    assert client.get("/api/v1/revisits?limit=1000", **_auth(w, desk)).status_code == 400
    assert client.get("/api/v1/revisits", **_auth(w, w.users[Role.ENTERPRISE])).status_code == 403
    url = f"/api/v1/revisits/{revisit.pk}"
    post = {"content_type": "application/json"}
    assert client.post(url, {"outcome": "maybe"}, **post, **_auth(w, desk)).status_code == 400
    r = client.post(url, {"outcome": "dissatisfied"}, **post, **_auth(w, desk))
    assert r.status_code == 400 and "不满意" in r.json()["detail"]
    assert client.post(url, {"outcome": "satisfied"}, **post, **_auth(w, w.users[Role.HANDLER])).status_code == 403
    assert client.post("/api/v1/revisits/999999", {"outcome": "satisfied"}, **post,
                       **_auth(w, desk)).status_code == 404
    r = client.post(url, {"outcome": "dissatisfied", "note": "问题未解决"}, **post, **_auth(w, desk))
    assert r.status_code == 200, r.content
    assert r.json()["outcome"] == "dissatisfied" and r.json()["appeal_status"] == "assigned"
    assert client.post(url, {"outcome": "satisfied"}, **post, **_auth(w, desk)).status_code == 400
    r = client.get("/api/v1/revisits/ratings", **_auth(w, desk))
    assert r.status_code == 200
    assert [{k: row[k] for k in ("code", "name", "rated", "average", "bad")} for row in r.json()] == [
        {"code": w.dept.code, "name": w.dept.name, "rated": 1, "average": 4.0, "bad": 0}]


def test_the_page_filters_exports_and_records(w, client):
    case = closed_case(w, category="whistle")
    other = closed_case(w, category="whistle", rating=1)
    revisit = case.revisits.get()
    client.force_login(w.users[Role.DISPATCHER])
    page = client.get("/appeals/revisits/")
    assert page.status_code == 200
    assert case.number in page.content.decode() and other.number in page.content.decode()
    r = client.post(f"/appeals/revisits/{revisit.pk}/", {f"r{revisit.pk}-outcome": "satisfied",
                                                          f"r{revisit.pk}-note": "企业满意"})
    assert r.status_code == 302
    done = client.get("/appeals/revisits/?state=done").content.decode()
    assert case.number in done and other.number not in done
    assert client.get("/appeals/revisits/?outcome=dissatisfied").content.decode().count('data-testid="revisit-row"') == 0
    r = client.get("/appeals/revisits/?format=xlsx")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in sheet[1]][:3] == ["编号", "企业", "名称"]
    assert sheet.max_row == 3
    assert client.post(f"/appeals/revisits/{revisit.pk}/", {}).status_code == 400
    client.force_login(w.users[Role.HANDLER])
    assert client.get("/appeals/revisits/").status_code == 403
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get("/appeals/revisits/").status_code == 403
    assert client.post(f"/appeals/revisits/{revisit.pk}/", {f"r{revisit.pk}-outcome": "satisfied"}).status_code == 403


def test_ratings_by_unit(w):
    closed_case(w, rating=5, ratio=1.0)
    closed_case(w, rating=1)
    closed_case(w, rating=2)
    rows = revisits.ratings_by_unit(Appeal.objects.all())
    assert [{k: row[k] for k in ("code", "name", "rated", "average", "bad")} for row in rows] == [
        {"code": w.dept.code, "name": w.dept.name, "rated": 3, "average": round(8 / 3, 2), "bad": 2}]


def test_the_supervision_timers_plan_from_the_reopened_deadline(w):
    from qifu.supervision import timers
    from qifu.supervision.models import Timer

    case = closed_case(w, category="whistle")
    workflow.record_revisit(case.revisits.get().pk, w.users[Role.DISPATCHER], "dissatisfied", "未解决")
    case.refresh_from_db()
    timers.plan(only=("appeals.appeal", [case.pk]))
    assert Timer.objects.filter(subject_id=case.pk, deadline=case.due_at).exists()
