"""The policy calculator in the product: the library and its validation, YAML import/export, explanations,
政策找人 (matching, incremental re-matching, notifications once), 免申即享 payouts, applications as a state
machine with working-day review limits, performance figures and their Excel file, and the API's scoping."""

import datetime
import io
import sys
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.enterprises.models import Enterprise, Tag
from qifu.notify.models import Notification
from qifu.policies import applications, explanations, forms, matches, performance, services
from qifu.policies.models import (
    Application,
    ApplicationEvent,
    ClauseMatches,
    Payout,
    Policy,
    PolicyClause,
    PolicyStatus,
)
from qifu.profiles import facts as profile_facts
from qifu.profiles.models import Indicator, IndicatorValue
from qifu.rules import clauses as cl
from qifu.rules import yamlio
from qifu.rules.values import RuleError
from qifu.workcal import workdays

from .world import World, credit_code

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")

YAML = """
policies:
  - code: W-RD
    title: 研发补助办法
    level: district
    department: w-fgj
    issuer: 示范区发改局
    document_number: 示发改〔2026〕1号
    contact: 张老师 0571-0000001
    effective_from: 2020-01-01
    effective_to: 2099-12-31
    clauses:
      - code: W-RD-1
        title: 研发费用补助
        no_application: true
        conditions:
          all:
            - {field: rd_expense, op: ">=", value: 1000000}
            - {field: employees, op: "<", value: 300}
        benefit: "min(rd_expense * 0.1, 1000000)"
      - code: W-RD-2
        title: 研发申报奖励
        conditions: {field: industry, op: prefix, value: [I, C]}
        benefit: "50000"
        apply_from: 2020-01-01
        apply_to: 2099-12-31
        review_days: 3
        materials: [申报书, 审计报告]
  - code: W-TAG
    title: 标签政策
    level: city
    effective_from: 2020-01-01
    clauses:
      - code: W-TAG-1
        title: 专精特新奖励
        conditions:
          any:
            - {has_tag: 专精特新}
            - not: {field: size, op: "==", value: medium}
        benefit: "bracket(employees, [[0, 10000], [100, 30000]])"
"""


def set_value(enterprise, indicator, value, as_of=datetime.date(2025, 12, 31)):
    IndicatorValue.objects.update_or_create(enterprise=enterprise, indicator=indicator, as_of=as_of,
                                            defaults={"value_number": Decimal(str(value))})


@pytest.fixture
def world():
    w = World()
    w.ind = {code: Indicator.objects.create(region=w.region, code=code, name=name, datatype="number", unit=unit)
             for code, name, unit in [("employees", "参保人数", "人"), ("rd_expense", "研发费用", "元"),
                                      ("revenue", "营业收入", "元")]}
    set_value(w.ent_east, w.ind["employees"], 50)
    set_value(w.ent_east, w.ind["rd_expense"], 2_000_000)
    set_value(w.ent_west, w.ind["employees"], 400)
    w.ent_blank = Enterprise.objects.create(region=w.region, uscc=credit_code(), name="空白数据有限公司")
    w.section.specialists.add(w.users[Role.SPECIALIST])
    return w


@pytest.fixture
def library(world):
    services.import_yaml(YAML, world.region.code)
    for policy in Policy.objects.all():
        services.publish(policy)
    return {c.code: c for c in PolicyClause.objects.all()}


def stored_pairs(enterprises=None):
    """Every stored (enterprise, clause) pair, decoded (`matches.pairs`)."""
    return matches.pairs((enterprises or Enterprise.objects.all()).values_list("pk", flat=True))


def statuses(clause_code):
    return {m.enterprise_id: (m.status, m.amount, m.missing) for m in stored_pairs() if m.clause.code == clause_code}


# --- the library -------------------------------------------------------------------------------------

def test_a_clause_the_engine_cannot_read_is_refused_with_its_message(world):
    policy = Policy.objects.create(region=world.region, code="W-X", title="x", department=world.dept)
    with pytest.raises(ValidationError) as error:
        PolicyClause(policy=policy, code="W-X-1", title="x", conditions={"all": []}).save()
    assert "all 需要非空列表" in str(error.value)
    with pytest.raises(ValidationError) as error:
        PolicyClause(policy=policy, code="W-X-2", title="x", benefit="rd_expense ** 2").save()
    assert "不允许使用运算符 **" in str(error.value)
    assert not PolicyClause.objects.exists()


def test_the_clause_form_puts_the_engines_message_on_the_conditions_and_saves_nothing(world):
    policy = Policy.objects.create(region=world.region, code="W-X", title="x", department=world.dept)
    data = {"code": "W-X-1", "title": "x", "benefit": "min(rd_expense * 0.1, 100)", "review_days": 20,
            "sort_order": 0, "conditions_json": '{"all": [{"field": "employees", "op": "~", "value": 3}]}'}
    form = forms.ClauseForm(data, policy=policy)
    assert not form.is_valid()
    assert "未知运算符" in form.errors["conditions_json"][0]
    form = forms.ClauseForm({**data, "conditions_json": '{"field": "employees", "op": "<", "value": "many"}'},
                            policy=policy)
    assert not form.is_valid() and "many" in form.errors["conditions_json"][0]
    form = forms.ClauseForm({**data, "conditions_json": "", "benefit": "min(rd_expense"}, policy=policy)
    assert not form.is_valid() and "benefit" in form.errors
    assert not PolicyClause.objects.exists()
    form = forms.ClauseForm({**data, "conditions_json": '{"all": [{"field": "employees", "op": "between", '
                                                        '"value": [10, 300]}, {"not": {"has_tag": "失信"}}]}'},
                            policy=policy)
    assert form.is_valid(), form.errors
    clause = form.save()
    assert clause.conditions == {"all": [{"field": "employees", "op": "between", "value": [10, 300]},
                                         {"not": {"has_tag": "失信"}}]}
    assert clause.spec().conditions is not None


# --- YAML ------------------------------------------------------------------------------------------

def test_import_is_idempotent_by_code_and_export_round_trips(world):
    counts = services.import_yaml(YAML, world.region.code)
    assert counts == {"policies": 2, "clauses": 3, "created": 2, "updated": 0}
    again = services.import_yaml(YAML, world.region.code)
    assert again == {"policies": 2, "clauses": 3, "created": 0, "updated": 2}
    assert Policy.objects.count() == 2 and PolicyClause.objects.count() == 3
    policy = Policy.objects.get(code="W-RD")
    assert policy.department == world.dept and policy.status == PolicyStatus.DRAFT
    assert policy.document_number == "示发改〔2026〕1号"
    assert PolicyClause.objects.get(code="W-RD-2").materials == ["申报书", "审计报告"]

    exported = services.export_yaml(world.region.code)
    original = {c.code: yamlio.clause_to_data(c, p) for p in yamlio.parse_policies(YAML) for c in p.clauses}
    parsed = yamlio.parse_policies(exported)
    assert {c.code: yamlio.clause_to_data(c, p) for p in parsed for c in p.clauses} == original
    assert [(p.code, p.level, p.department, p.effective_from) for p in parsed] == [
        ("W-RD", "district", "w-fgj", datetime.date(2020, 1, 1)), ("W-TAG", "city", "", datetime.date(2020, 1, 1))]
    services.import_yaml(exported, world.region.code)
    assert services.export_yaml(world.region.code) == exported


def test_an_import_with_any_mistake_imports_nothing(world):
    bad = YAML + """
  - code: W-BAD
    title: 错误
    level: district
    clauses:
      - {code: W-BAD-1, title: x, benefit: "rd_expense +"}
"""
    with pytest.raises(RuleError, match="policies\\[2\\].clauses\\[0\\]"):
        services.import_yaml(bad, world.region.code)
    with pytest.raises(RuleError, match="没有代码为"):
        services.import_yaml(YAML.replace("w-fgj", "w-nope"), world.region.code)
    assert not Policy.objects.exists()


def test_the_command_imports_exports_and_matches(world, tmp_path, capsys):
    source = tmp_path / "policies.yaml"
    source.write_text(YAML, encoding="utf-8")
    call_command("policy", "import", str(source), "--region", world.region.code)
    assert "imported 2 policies, 3 clauses" in capsys.readouterr().out
    target = tmp_path / "out.yaml"
    call_command("policy", "export", "--region", world.region.code, "--output", str(target))
    assert [p.code for p in yamlio.parse_policies(target.read_text(encoding="utf-8"))] == ["W-RD", "W-TAG"]
    Policy.objects.update(status=PolicyStatus.PUBLISHED)
    call_command("policy", "match", "--region", world.region.code)
    assert "3 enterprises × 3 clauses" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no region"):
        call_command("policy", "export", "--region", "nowhere")


# --- explanations ---------------------------------------------------------------------------------

def test_explain_prints_each_condition_with_its_value_and_result(world, library, capsys):
    lines = explanations.explain(world.ent_east.uscc, "W-RD-1")
    text = "\n".join(lines)
    assert "all of → true" in text
    assert "rd_expense >= 1000000 = 2000000.0 → true" in text
    assert "employees < 300 = 50.0 → true" in text
    assert "result: eligible" in text
    blank = "\n".join(explanations.explain(world.ent_blank.uscc, "W-RD-1", "2026-06-01"))
    assert "rd_expense >= 1000000 = (no data) → unknown" in blank
    assert "missing: employees, rd_expense" in blank
    call_command("policy", "explain", "--uscc", world.ent_west.uscc, "--clause", "W-RD-1")
    assert "employees < 300 = 400.0 → false" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no enterprise with the credit code"):
        call_command("policy", "explain", "--uscc", "91330000000000000X", "--clause", "W-RD-1")
    with pytest.raises(CommandError, match="no clause with the code W-NOPE"):
        call_command("policy", "explain", "--uscc", world.ent_east.uscc, "--clause", "W-NOPE")


# --- matching ---------------------------------------------------------------------------------------

def _scalar(world, on):
    expected = {}
    for enterprise in Enterprise.objects.filter(region=world.region):
        facts = profile_facts.enterprise_facts(enterprise, on=on)
        for clause in PolicyClause.objects.all():
            outcome = cl.evaluate(clause.spec(), facts, on)
            if outcome.eligible is not False:
                status = "eligible" if outcome.eligible is True else "unknown"
                amount = None if outcome.amount is None else Decimal(str(round(outcome.amount, 2)))
                expected[(enterprise.pk, clause.code)] = (status, amount, outcome.missing)
    return expected


def _clause_rows_agree():
    """The two stored forms agree: each clause row's counts, total and ids are what the enterprises' rows say,
    and each enterprise row's text is what the Python encoder writes for its pairs (the Polars one wrote it)."""
    from qifu.policies.models import EnterpriseMatches

    expected: dict[int, dict] = {}
    for m in stored_pairs():
        row = expected.setdefault(m.clause_id, {"eligible": set(), "unknown": set(), "amount": Decimal(0)})
        row[m.status].add(m.enterprise_id)
        row["amount"] += (m.amount or 0) if m.status == "eligible" else 0
    for row in ClauseMatches.objects.all():
        want = expected.pop(row.clause_id, {"eligible": set(), "unknown": set(), "amount": Decimal(0)})
        assert (row.eligible, row.unknown, row.amount) == (len(want["eligible"]), len(want["unknown"]), want["amount"])
        assert (set(matches.decode_ids(row.eligible_ids)), set(matches.decode_ids(row.unknown_ids))) == (
            want["eligible"], want["unknown"])
    assert not expected  # every clause with pairs has its row
    for row in EnterpriseMatches.objects.all():
        assert matches.encode_pairs((c, *v) for c, v in matches.decode_pairs(row.pairs).items()) == row.pairs


def _stored():
    return {(m.enterprise_id, m.clause.code): (m.status, m.amount, m.missing) for m in stored_pairs()}


@pytest.mark.parametrize("vectorized", [True, False])
def test_match_region_equals_the_scalar_engine_for_every_enterprise_and_clause(world, library, monkeypatch,
                                                                               vectorized):
    if not vectorized:
        monkeypatch.setitem(sys.modules, "qifu.rules.batch", None)  # import fails: scalar path
    on = services.today()
    summary = services.match_region(world.region.code)
    expected = _scalar(world, on)
    assert _stored() == expected
    assert summary.eligible == sum(v[0] == "eligible" for v in expected.values())
    east, west, blank = world.ent_east.pk, world.ent_west.pk, world.ent_blank.pk
    assert expected[(east, "W-RD-1")] == ("eligible", Decimal("200000.00"), [])
    assert (west, "W-RD-1") not in expected
    assert expected[(blank, "W-RD-1")] == ("unknown", None, ["employees", "rd_expense"])
    assert expected[(east, "W-TAG-1")] == ("eligible", Decimal("10000.00"), [])
    _clause_rows_agree()


def test_a_draft_or_retired_policy_is_not_matched(world, library):
    policy = Policy.objects.get(code="W-TAG")
    services.retire(policy)
    services.match_region(world.region.code)
    assert not any(m.clause.policy_id == policy.pk for m in stored_pairs())
    assert not ClauseMatches.objects.filter(clause__policy=policy).exists()
    assert statuses("W-RD-1")
    _clause_rows_agree()


def test_an_enterprise_is_rematched_when_its_data_changes(world, library, django_capture_on_commit_callbacks):
    west = world.ent_west
    assert west.pk not in statuses("W-TAG-1")
    tag = Tag.objects.create(name="专精特新")
    with django_capture_on_commit_callbacks() as callbacks:
        west.tags.add(tag)  # the registry's tags: re-matched after the commit
    assert west.pk not in statuses("W-TAG-1") and len(callbacks) == 1
    callbacks[0]()
    assert statuses("W-TAG-1")[west.pk] == ("eligible", Decimal("30000.00"), [])
    _clause_rows_agree()
    blank = world.ent_blank
    blank.industry = "C3670"
    with django_capture_on_commit_callbacks(execute=True):
        blank.save()
    assert statuses("W-RD-2")[blank.pk][0] == "eligible"
    set_value(blank, world.ind["employees"], 20)
    set_value(blank, world.ind["rd_expense"], 10)
    services.rematch_enterprise(blank)  # profile data: the profiles app calls this
    assert blank.pk not in statuses("W-RD-1")
    set_value(world.ent_west, world.ind["employees"], 200)
    set_value(world.ent_west, world.ind["rd_expense"], 5_000_000)
    services.rematch_enterprises([world.ent_west.pk, blank.pk])  # a whole import at once, vectorized
    assert statuses("W-RD-1")[world.ent_west.pk] == ("eligible", Decimal("500000.00"), [])
    assert _stored() == _scalar(world, services.today())
    _clause_rows_agree()


def test_a_clause_is_rematched_when_it_changes(world, library):
    clause = library["W-RD-1"]
    clause.conditions = {"field": "employees", "op": ">", "value": 300}
    clause.save()
    services.after_clause_change(clause)
    assert set(statuses("W-RD-1")) == {world.ent_west.pk, world.ent_blank.pk}
    # Eligible, but the amount needs rd_expense, which west has not given.
    assert statuses("W-RD-1")[world.ent_west.pk] == ("eligible", None, ["rd_expense"])


def test_newly_eligible_enterprises_are_notified_once_with_the_reason(world, library,
                                                                      django_capture_on_commit_callbacks):
    east_user = world.users[Role.ENTERPRISE]
    notes = Notification.objects.filter(recipient=east_user, event="policy.eligible")
    # One message per publication, listing every clause newly qualified for, with amounts and reasons.
    assert notes.count() == 2
    body = notes.get(body__contains="研发费用补助").body
    assert "研发申报奖励" in body and "200,000.00" in body and "研发费用" in body
    assert not [m for m in matches.for_enterprise(world.ent_east) if m.status == "eligible" and not m.notified]
    services.match_region(world.region.code)
    services.rematch_clause(library["W-RD-1"])
    assert notes.count() == 2
    west_notes = Notification.objects.filter(recipient=world.west_user, event="policy.eligible")
    before = west_notes.count()
    with django_capture_on_commit_callbacks(execute=True):
        world.ent_west.tags.add(Tag.objects.create(name="专精特新"))
    assert west_notes.count() == before + 1
    assert "专精特新奖励" in west_notes.latest("id").subject
    # Unknown matches (data missing) are not pushed.
    assert not [m for m in matches.for_enterprise(world.ent_blank) if m.status == "unknown" and m.notified]


# --- 免申即享 -------------------------------------------------------------------------------------------

def test_no_application_clause_confirm_then_pay(world, library, client):
    clause = library["W-RD-1"]
    handler = world.users[Role.HANDLER]
    assert [m.enterprise_id for m in services.confirmable(clause)] == [world.ent_east.pk]
    with pytest.raises(services.PayoutError):
        services.confirm_payouts(clause, [world.ent_blank.pk], handler)  # unknown: not on the list
    [payout] = services.confirm_payouts(clause, [world.ent_east.pk], handler)
    assert (payout.status, payout.amount, payout.approved_by) == ("approved", Decimal("200000.00"), handler)
    assert not services.confirmable(clause)
    with pytest.raises(services.PayoutError):
        services.record_payment(payout, handler, paid_amount="250000", paid_on=services.today())
    services.record_payment(payout, handler, paid_amount="200000", paid_on=services.today(), reference="GK-1")
    payout.refresh_from_db()
    assert (payout.status, payout.paid_amount, payout.reference) == ("paid", Decimal("200000.00"), "GK-1")
    with pytest.raises(services.PayoutError):
        services.record_payment(payout, handler, paid_amount="1", paid_on=services.today())
    with pytest.raises(services.PayoutError, match="不能免申即享"):
        services.confirm_payouts(library["W-RD-2"], [world.ent_east.pk], handler)

    client.force_login(world.users[Role.ENTERPRISE])
    page = client.get("/policies/mine/").content.decode()
    assert 'data-testid="payout" data-status="paid"' in page


def test_only_the_issuing_department_confirms_the_list_in_the_pages(world, library, client):
    clause = library["W-RD-1"]
    client.force_login(world.users[Role.FRONT_DESK])
    assert client.get(f"/policies/clauses/{clause.pk}/confirm/").status_code == 403
    client.force_login(world.users[Role.HANDLER])
    assert world.ent_east.name in client.get(f"/policies/clauses/{clause.pk}/confirm/").content.decode()
    response = client.post(f"/policies/clauses/{clause.pk}/confirm/", {"enterprise": [world.ent_east.pk]})
    assert response.status_code == 302
    payout = Payout.objects.get()
    response = client.post(f"/policies/payouts/{payout.pk}/pay/", {
        f"p{payout.pk}-paid_amount": "200000", f"p{payout.pk}-paid_on": services.today().isoformat(),
        f"p{payout.pk}-reference": "GK-9"})
    assert response.status_code == 302
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.reference == "GK-9"


# --- applications ----------------------------------------------------------------------------------

def _files(clause):
    return {name: SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.4 demo") for i, name in enumerate(clause.materials)}


def test_applications_are_refused_outside_the_window_or_without_materials(world, library):
    clause = library["W-RD-2"]
    user = world.users[Role.ENTERPRISE]
    clause.apply_from, clause.apply_to = datetime.date(2020, 1, 1), datetime.date(2020, 12, 31)
    clause.save()
    with pytest.raises(applications.ApplicationError, match="2020-12-31 截止"):
        applications.submit(clause, world.ent_east, user, _files(clause))
    clause.apply_from, clause.apply_to = datetime.date(2099, 1, 1), None
    clause.save()
    with pytest.raises(applications.ApplicationError, match="2099-01-01 开始"):
        applications.submit(clause, world.ent_east, user, _files(clause))
    clause.apply_from = None
    clause.save()
    with pytest.raises(applications.ApplicationError, match="审计报告"):
        applications.submit(clause, world.ent_east, user, {"申报书": SimpleUploadedFile("a.pdf", b"x")})
    with pytest.raises(applications.ApplicationError):
        applications.submit(library["W-RD-1"], world.ent_east, user, {})  # 免申即享: nothing to apply for
    assert not Application.objects.exists()


def test_an_application_moves_through_its_state_machine_as_events(world, library):
    clause = library["W-RD-2"]
    user, handler = world.users[Role.ENTERPRISE], world.users[Role.HANDLER]
    submitted_at = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=TZ)  # a Monday
    application = applications.submit(clause, world.ent_east, user, _files(clause), note="请审核", at=submitted_at)
    assert application.status == "submitted"
    assert application.review_due == workdays.deadline(submitted_at, 3, tz="Asia/Shanghai")
    assert application.review_due == datetime.datetime(2026, 1, 8, 23, 59, 59, tzinfo=TZ)
    assert [m.name for m in application.materials.all()] == ["申报书", "审计报告"]
    with pytest.raises(applications.ApplicationError, match="已申报过该条款"):
        applications.submit(clause, world.ent_east, user, _files(clause))

    assert application.workdays_left(datetime.datetime(2026, 1, 12, 12, 0, tzinfo=TZ)) == -1.5  # overdue
    assert application.is_overdue(datetime.datetime(2026, 1, 12, 12, 0, tzinfo=TZ))

    with pytest.raises(applications.ApplicationError):
        applications.perform(application, "approve", handler)  # not under review yet
    with pytest.raises(applications.NotAllowed):
        applications.perform(application, "start_review", user)  # the enterprise does not review itself
    with pytest.raises(Application.DoesNotExist):
        applications.perform(application, "start_review", world.users[Role.FRONT_DESK])  # not even visible
    applications.perform(application, "start_review", handler, application.version)
    with pytest.raises(applications.StaleVersion):
        applications.perform(application, "reject", handler, 1, note="x")
    with pytest.raises(applications.ApplicationError, match="理由"):
        applications.perform(application, "reject", handler)
    application = applications.perform(application, "approve", handler, note="符合条件")
    assert (application.status, application.amount) == ("approved", Decimal("50000.00"))  # the estimate
    payout = Payout.objects.get(application=application)
    services.record_payment(payout, handler, paid_amount="48000", paid_on=services.today(), reference="GK-2")
    application.refresh_from_db()
    assert application.status == "paid"
    events = list(application.events.values_list("action", "from_status", "to_status"))
    assert events == [("submit", "", "submitted"), ("start_review", "submitted", "under_review"),
                      ("approve", "under_review", "approved"), ("pay", "approved", "paid")]
    assert applications.replay(application) == {k: getattr(application, k) for k in applications.DERIVED}
    event = ApplicationEvent.objects.first()
    event.note = "changed"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_a_rejected_application_can_be_made_again(world, library):
    clause = library["W-RD-2"]
    user, handler = world.users[Role.ENTERPRISE], world.users[Role.HANDLER]
    application = applications.submit(clause, world.ent_east, user, _files(clause))
    applications.perform(application, "start_review", handler)
    applications.perform(application, "reject", handler, note="材料不全")
    assert Notification.objects.filter(recipient=user, event="policy.application_rejected").exists()
    assert applications.submit(clause, world.ent_east, user, _files(clause)).status == "submitted"


def test_an_enterprise_applies_in_the_pages_and_the_department_decides(world, library, client):
    clause = library["W-RD-2"]
    client.force_login(world.users[Role.ENTERPRISE])
    detail = client.get(f"/policies/{clause.policy_id}/").content.decode()
    assert 'data-testid="my-status" data-status="eligible"' in detail and 'data-testid="apply"' in detail
    response = client.post(f"/policies/clauses/{clause.pk}/apply/", {
        "note": "请审核", "material_0": SimpleUploadedFile("a.pdf", b"%PDF-1.4 a"), "material_1": SimpleUploadedFile("b.pdf", b"%PDF-1.4 b")})
    application = Application.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/policies/applications/{application.pk}/"
    material = application.materials.first()
    assert client.get(f"/policies/applications/{application.pk}/materials/{material.pk}/").status_code == 200
    client.force_login(world.west_user)
    assert client.get(f"/policies/applications/{application.pk}/").status_code == 404
    assert client.get(f"/policies/applications/{application.pk}/materials/{material.pk}/").status_code == 404

    client.force_login(world.users[Role.HANDLER])
    page = client.get(f"/policies/applications/{application.pk}/").content.decode()
    assert 'data-testid="do-start_review"' in page and 'data-testid="review-left"' in page
    client.post(f"/policies/applications/{application.pk}/actions/start_review/", {"version": 1})
    client.post(f"/policies/applications/{application.pk}/actions/approve/",
                {"version": 2, "approve-amount": "40000", "approve-note": "同意"})
    application.refresh_from_db()
    assert (application.status, application.amount, application.decision_note) == ("approved", Decimal("40000.00"),
                                                                                     "同意")
    assert Payout.objects.get(application=application).amount == Decimal("40000.00")
    client.force_login(world.users[Role.FRONT_DESK])
    assert client.get(f"/policies/applications/{application.pk}/").status_code == 404


# --- performance ------------------------------------------------------------------------------------

def test_performance_figures_and_the_excel_file(world, library, client):
    policy = Policy.objects.get(code="W-RD")
    policy.published_at = datetime.datetime(2026, 1, 1, 9, 0, tzinfo=TZ)
    policy.save()
    handler = world.users[Role.HANDLER]
    [payout] = services.confirm_payouts(library["W-RD-1"], [world.ent_east.pk], handler)
    services.record_payment(payout, handler, paid_amount="200000", paid_on=datetime.date(2026, 1, 11))
    clause = library["W-RD-2"]
    application = applications.submit(clause, world.ent_west, world.west_user, _files(clause))
    applications.perform(application, "start_review", handler)
    applications.perform(application, "approve", handler, amount="50000")
    services.record_payment(Payout.objects.get(application=application), handler, paid_amount="45000",
                            paid_on=datetime.date(2026, 1, 21))

    f = performance.figures(policy)
    assert (f.eligible, f.unknown, f.applied, f.granted, f.paid) == (2, 1, 1, 2, 2)
    assert (f.approved_amount, f.paid_amount) == (Decimal("250000.00"), Decimal("245000.00"))
    assert f.median_days_to_payout == 15.0  # 10 and 20 days after publication
    sizes = {s.key: s for s in f.by_size}
    assert sizes["small"].eligible == 1 and sizes["small"].granted == 1 and sizes["small"].coverage == 1.0
    jurisdictions = {s.key: (s.enterprises, s.eligible, s.granted, s.paid_amount) for s in f.by_jurisdiction}
    assert jurisdictions["w-west"] == (1, 1, 1, Decimal("45000.00"))
    assert jurisdictions[""] == (1, 0, 0, Decimal(0))  # the enterprise without a jurisdiction

    client.force_login(world.users[Role.LEADER])
    response = client.get(f"/policies/{policy.pk}/performance.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["概况", "条款", "按规模", "按行业", "按辖区"]  # named in Chinese
    summary = book["概况"]
    assert summary["A1"].value == "W-RD"
    assert [summary.cell(row=r, column=2).value for r in range(3, 12)] == [2, 1, 1, 2, 2, 250000.0, 245000.0, 1.0,
                                                                           15.0]
    rows = list(book["条款"].iter_rows(min_row=2, values_only=True))
    assert rows == [("W-RD-1", "研发费用补助", True, 1, 1, 0, 1, 200000.0, 200000.0),
                    ("W-RD-2", "研发申报奖励", False, 2, 1, 1, 1, 50000.0, 45000.0)]
    by_jurisdiction = [r[1:] for r in book["按辖区"].iter_rows(min_row=2, values_only=True)]
    assert (1, 1, 0, 1, 200000.0, 1.0) in by_jurisdiction  # 东街道: eligible, granted (免申即享), paid
    assert client.get(f"/policies/{policy.pk}/performance/").status_code == 200
    client.force_login(world.users[Role.ENTERPRISE])
    assert client.get(f"/policies/{policy.pk}/performance.xlsx").status_code == 403


# --- who sees and edits ---------------------------------------------------------------------------

def test_who_may_edit_a_policy(world, library, client):
    policy = Policy.objects.get(code="W-RD")
    for role, status in [(Role.HANDLER, 200), (Role.SPECIALIST, 200), (Role.ADMIN, 200), (Role.FRONT_DESK, 403),
                         (Role.DISPATCHER, 403)]:
        client.force_login(world.users[role])
        assert client.get(f"/policies/{policy.pk}/edit/").status_code == status, role
    other = world.users[Role.HANDLER]
    other.department = world.other_dept
    other.save()
    client.force_login(other)
    assert client.get(f"/policies/{policy.pk}/edit/").status_code == 403
    assert client.get(f"/policies/{policy.pk}/").status_code == 200  # read-only


def test_enterprises_see_only_published_policies(world, library, client):
    draft = Policy.objects.create(region=world.region, code="W-DRAFT", title="草稿政策", department=world.dept)
    client.force_login(world.users[Role.ENTERPRISE])
    page = client.get("/policies/").content.decode()
    assert "研发补助办法" in page and "草稿政策" not in page
    assert client.get(f"/policies/{draft.pk}/").status_code == 404
    client.force_login(world.users[Role.FRONT_DESK])
    assert "草稿政策" in client.get("/policies/").content.decode()


def test_the_enterprise_sees_its_matches_with_amounts_and_missing_data(world, library, client):
    client.force_login(world.users[Role.ENTERPRISE])
    page = client.get("/policies/mine/").content.decode()
    assert 'data-testid="eligible-total" data-value="260000.00"' in page  # 200,000 + 50,000 + 10,000
    home = client.get("/").content.decode()
    assert 'data-testid="home-policy-total" data-value="260000.00"' in home
    assert 'data-clause="W-RD-2"' in page and 'data-testid="apply"' in page
    set_value(world.ent_east, world.ind["employees"], 0)
    IndicatorValue.objects.filter(enterprise=world.ent_east, indicator=world.ind["rd_expense"]).delete()
    services.rematch_enterprise(world.ent_east)
    page = client.get("/policies/mine/").content.decode()
    assert 'data-clause="W-RD-1" data-status="unknown"' in page
    assert 'data-testid="missing-field">研发费用<' in page  # the catalog's label, not the code


def test_the_builder_checks_formulas_and_tries_a_draft(world, library, client):
    client.force_login(world.users[Role.HANDLER])
    policy = Policy.objects.get(code="W-RD")
    assert client.get(f"/policies/{policy.pk}/clauses/new/").status_code == 200
    bad = client.post("/policies/builder/check/", {"benefit": "min(rd_expense"}).content.decode()
    assert 'data-testid="benefit-error"' in bad
    good = client.post("/policies/builder/check/", {"benefit": "min(rd_expense * 0.1, 1000000)"}).content.decode()
    assert 'data-testid="benefit-ok"' in good and "rd_expense" in good
    tried = client.post("/policies/builder/try/", {
        "try_enterprise": world.ent_east.pk, "benefit": "rd_expense * 0.2",
        "conditions_json": '{"all": [{"field": "employees", "op": ">=", "value": 10}]}'}).content.decode()
    assert 'data-status="eligible"' in tried and 'data-testid="try-amount">400,000' in tried
    client.force_login(world.users[Role.ENTERPRISE])
    assert client.post("/policies/builder/check/", {"benefit": "1"}).status_code == 403


def test_publishing_through_the_page_matches_the_clauses(world, client):
    services.import_yaml(YAML, world.region.code)
    policy = Policy.objects.get(code="W-RD")
    client.force_login(world.users[Role.HANDLER])
    assert client.post(f"/policies/{policy.pk}/publish/").status_code == 302
    policy.refresh_from_db()
    assert policy.status == "published" and policy.published_at
    assert statuses("W-RD-1")[world.ent_east.pk][0] == "eligible"
    assert not any(m.clause.policy.code == "W-TAG" for m in stored_pairs())


def test_the_import_page_refuses_a_handler_importing_another_departments_policy(world, client):
    client.force_login(world.users[Role.HANDLER])
    other = YAML.replace("department: w-fgj", "department: w-rsj")
    response = client.post("/policies/import/", {"text": other, "region": world.region.code})
    assert response.status_code == 403
    response = client.post("/policies/import/", {"text": YAML.replace("rd_expense *", "rd_expense **"),
                                                 "region": world.region.code})
    assert 'data-testid="form-error"' in response.content.decode()
    response = client.post("/policies/import/", {"text": YAML, "region": world.region.code})
    assert response.status_code == 302 and Policy.objects.count() == 2
    assert client.get(f"/policies/export.yaml?region={world.region.code}").content.decode().startswith("policies:")


# --- API -------------------------------------------------------------------------------------------

def _get(client, path, token):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def _post(client, path, token, data=None, **kwargs):
    return client.post(path, data, HTTP_AUTHORIZATION=f"Bearer {token}", **kwargs)


def test_the_api_is_scoped_like_the_pages(world, library, client):
    draft = Policy.objects.create(region=world.region, code="W-DRAFT", title="草稿政策", department=world.dept)
    east = world.token(world.users[Role.ENTERPRISE])
    west = world.token(world.west_user)
    staff = world.token(world.users[Role.HANDLER])

    listed = _get(client, "/api/v1/policies", east).json()
    assert {p["code"] for p in listed["items"]} == {"W-RD", "W-TAG"}
    assert _get(client, f"/api/v1/policies/{draft.pk}", east).status_code == 404
    detail = _get(client, f"/api/v1/policies/{library['W-RD-1'].policy_id}", east).json()
    assert [c["code"] for c in detail["clauses"]] == ["W-RD-1", "W-RD-2"]
    assert _get(client, f"/api/v1/policies/{draft.pk}", staff).status_code == 200

    mine = _get(client, f"/api/v1/enterprises/{world.ent_east.pk}/matches", east).json()
    assert {(m["clause"], m["status"], m["amount"]) for m in mine["items"]} == {
        ("W-RD-1", "eligible", "200000.00"), ("W-RD-2", "eligible", "50000.00"), ("W-TAG-1", "eligible", "10000.00")}
    assert _get(client, f"/api/v1/enterprises/{world.ent_west.pk}/matches", east).status_code == 404
    blank = _get(client, f"/api/v1/enterprises/{world.ent_blank.pk}/matches", staff).json()
    rd = next(m for m in blank["items"] if m["clause"] == "W-RD-1")
    assert rd["missing"] == ["employees", "rd_expense"] and rd["missing_labels"] == ["参保人数", "研发费用"]

    clause = library["W-RD-2"]
    files = {"material_0": SimpleUploadedFile("a.pdf", b"%PDF-1.4 a"), "material_1": SimpleUploadedFile("b.pdf", b"%PDF-1.4 b")}
    response = _post(client, f"/api/v1/clauses/{clause.pk}/applications", east, {"note": "API", **files})
    assert response.status_code == 201, response.content
    application = response.json()
    assert application["status"] == "submitted" and application["materials"] == ["申报书", "审计报告"]
    again = _post(client, f"/api/v1/clauses/{clause.pk}/applications", east,
                  {"material_0": SimpleUploadedFile("a.pdf", b"%PDF-1.4 a"), "material_1": SimpleUploadedFile("b.pdf", b"%PDF-1.4 b")})
    assert again.status_code == 400 and "已申报过该条款" in again.json()["detail"]
    assert _post(client, f"/api/v1/clauses/{clause.pk}/applications", staff, {}).status_code == 403
    assert _get(client, f"/api/v1/applications/{application['id']}", west).status_code == 404
    assert _get(client, "/api/v1/applications", west).json()["count"] == 0
    moved = _post(client, f"/api/v1/applications/{application['id']}/actions/start_review", staff,
                  {"version": 1}, content_type="application/json")
    assert moved.status_code == 200 and moved.json()["status"] == "under_review"
    assert _post(client, f"/api/v1/applications/{application['id']}/actions/approve", east, {"version": 2},
                 content_type="application/json").status_code == 403

    confirmed = _post(client, f"/api/v1/clauses/{library['W-RD-1'].pk}/payouts", staff,
                      {"enterprise_ids": [world.ent_east.pk]}, content_type="application/json")
    assert confirmed.status_code == 201
    payout_id = confirmed.json()[0]["id"]
    assert _post(client, f"/api/v1/clauses/{library['W-RD-1'].pk}/payouts", east,
                 {"enterprise_ids": [world.ent_east.pk]}, content_type="application/json").status_code == 403
    assert _get(client, "/api/v1/payouts", east).json()["count"] == 1
    assert _get(client, "/api/v1/payouts", west).json()["count"] == 0
    paid = _post(client, f"/api/v1/payouts/{payout_id}/pay", staff,
                 {"paid_amount": "200000", "paid_on": services.today().isoformat(), "reference": "API-1"},
                 content_type="application/json")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert _post(client, f"/api/v1/payouts/{payout_id}/pay", west,
                 {"paid_amount": "1", "paid_on": "2026-01-01"}, content_type="application/json").status_code == 404


def test_the_openapi_schema_lists_the_policy_endpoints(world, client):
    client.force_login(world.users[Role.ADMIN])
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/policies", "/api/v1/policies/{policy_id}", "/api/v1/policies/import",
                 "/api/v1/enterprises/{enterprise_id}/matches", "/api/v1/clauses/{clause_id}/applications",
                 "/api/v1/payouts"):
        assert path in paths, path


def test_the_api_imports_yaml_for_staff_only(world, client):
    admin = world.token(world.users[Role.ADMIN])
    east = world.token(world.users[Role.ENTERPRISE])
    response = _post(client, f"/api/v1/policies/import?region={world.region.code}", admin, YAML,
                     content_type="application/yaml")
    assert response.status_code == 200 and response.json() == {"policies": 2, "clauses": 3, "created": 2,
                                                                "updated": 0}
    assert _post(client, "/api/v1/policies/import", east, YAML, content_type="application/yaml").status_code == 403
    bad = _post(client, f"/api/v1/policies/import?region={world.region.code}", admin, "policies: 3",
                content_type="application/yaml")
    assert bad.status_code == 400 and "policies:" in bad.json()["detail"]


def test_demo_policies_load_match_and_are_idempotent(db):
    from qifu.demo import policies as demo_policies
    from qifu.org import preset

    preset.load("qiantang")
    from qifu.org.models import Region

    region = Region.objects.get(code="qiantang")
    for i in range(5):
        Enterprise.objects.create(region=region, uscc=credit_code(), name=f"演示{i}有限公司", industry="C3670",
                                  size="small")
    first = demo_policies.load(region)
    assert first["policies"] >= 20 and first["clauses"] >= 25
    assert Policy.objects.filter(region=region, status="published").count() == first["policies"]
    assert demo_policies.load(region)["policies"] == first["policies"]
    assert PolicyClause.objects.filter(policy__region=region).count() == first["clauses"]
    assert timezone.now()  # loaded without errors twice
    # The compact storage (status, amount, missing fields as a bit mask) answers like the scalar engine
    # for every demo enterprise × clause in force.
    services.match_region(region.code)
    on = services.today()
    in_force = services.clauses_in_force(region, on)
    expected = {}
    for enterprise in Enterprise.objects.filter(region=region):
        facts = profile_facts.enterprise_facts(enterprise, on=on)
        for clause, spec in in_force:
            outcome = cl.evaluate(spec, facts, on)
            if outcome.eligible is not False:
                amount = None if outcome.amount is None else Decimal(str(round(outcome.amount, 2)))
                expected[(enterprise.pk, clause.code)] = ("eligible" if outcome.eligible is True else "unknown",
                                                          amount, outcome.missing)
    stored = {(m.enterprise_id, m.clause.code): (m.status, m.amount, m.missing)
              for m in stored_pairs(Enterprise.objects.filter(region=region))}
    assert stored == expected
    assert any(v[0] == "unknown" and v[2] for v in expected.values())  # some pairs wait for missing data
