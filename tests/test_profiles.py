"""Enterprise profiles: the qiantang preset, imports of departmental data, the push API, history and
facts, dimension scores, dynamic tags from rules, and the tag library pages."""

import datetime
import io
import json
from decimal import Decimal

import openpyxl
import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from qifu.accounts.models import Role
from qifu.audit.models import AuditEntry
from qifu.enterprises.models import Enterprise, Tag
from qifu.org import preset
from qifu.profiles import catalog, facts, presets, services
from qifu.profiles.importer import import_values
from qifu.profiles.models import Dimension, Indicator, IndicatorValue, TagRule

from .world import World, credit_code

pytestmark = pytest.mark.django_db

SEED_DIMENSIONS = ["企业规模稳定性", "企业科技创新力", "融资需求", "经营风险", "司法风险"]
Y2024, Y2025 = datetime.date(2024, 12, 31), datetime.date(2025, 12, 31)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world():
    w = World()
    presets.load("qiantang", region=w.region)
    return w


def indicator(world, code) -> Indicator:
    return Indicator.objects.get(region=world.region, code=code)


def put(world, enterprise, as_of=Y2025, **values):
    items = [services.NewValue(enterprise.pk, indicator(world, code), value, as_of, "test")
             for code, value in values.items()]
    return services.write_values(items)


def tag_names(enterprise) -> set[str]:
    return set(Enterprise.objects.get(pk=enterprise.pk).tags.values_list("name", flat=True))


def csv_bytes(text: str, encoding="utf-8") -> io.BytesIO:
    data = io.BytesIO(text.encode(encoding))
    data.name = "data.csv"
    return data


# ---- the preset -------------------------------------------------------------------------------------

def test_qiantang_preset_has_the_seeds_five_dimensions_over_23_indicators_and_loads_idempotently():
    preset.load("qiantang")  # the region preset loads the profile preset too
    region = preset.Region.objects.get(code="qiantang")
    assert list(Dimension.objects.filter(region=region).values_list("name", flat=True)) == SEED_DIMENSIONS
    indicators = Indicator.objects.filter(region=region)
    assert indicators.count() == 23
    assert all(i.dimension_id for i in indicators)
    assert {"registration", "tax", "social_insurance", "tags"} <= set(indicators.values_list("category", flat=True))
    for code in ("employees", "revenue", "tax_paid", "rd_expense", "patents"):
        assert indicators.filter(code=code).exists(), code
    assert {d.name: d.indicators.count() > 0 for d in Dimension.objects.filter(region=region)} == {
        name: True for name in SEED_DIMENSIONS}
    rules = TagRule.objects.filter(region=region)
    assert {"规上工业", "科技型中小企业", "小升规"} <= set(rules.values_list("tag__name", flat=True))
    assert all(r.tag.kind == Tag.Kind.DYNAMIC for r in rules)

    counts = (Dimension.objects.count(), Indicator.objects.count(), TagRule.objects.count(), Tag.objects.count())
    snapshot = list(Indicator.objects.values())
    audit = AuditEntry.objects.count()
    preset.load("qiantang")
    assert presets.load("qiantang") == {"dimensions": 5, "indicators": 23, "tag_rules": len(rules)}
    assert (Dimension.objects.count(), Indicator.objects.count(), TagRule.objects.count(),
            Tag.objects.count()) == counts
    assert list(Indicator.objects.values()) == snapshot
    assert AuditEntry.objects.count() == audit


def test_presets_without_a_profile_load_nothing_and_other_regions_are_untouched():
    preset.load("xiaoshan")
    assert Indicator.objects.count() == 0
    assert presets.load("xiaoshan") is None


def test_a_manual_tag_named_by_a_rule_becomes_dynamic(world):
    Tag.objects.create(name="规上工业x", kind=Tag.Kind.MANUAL)
    Tag.objects.filter(name="规上工业").delete()
    manual = Tag.objects.create(name="规上工业", kind=Tag.Kind.MANUAL)
    presets.load("qiantang", region=world.region)
    manual.refresh_from_db()
    assert manual.kind == Tag.Kind.DYNAMIC
    assert Tag.objects.get(name="规上工业x").kind == Tag.Kind.MANUAL


def test_a_broken_profile_preset_names_every_bad_entry(tmp_path, world):
    data = yaml.safe_load((presets.PRESET_DIR / "qiantang.yaml").read_text(encoding="utf-8"))
    data["indicators"][0]["score"] = "__import__('os')"
    data["indicators"][1]["datatype"] = "money"
    data["indicators"][2]["dimension"] = "nowhere"
    data["tag_rules"][0]["conditions"] = {"all": [{"field": "no_such_field", "op": ">", "value": 1}]}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError) as exc:
        presets.load(path=path, region=world.region)
    message = str(exc.value)
    for fragment in ("indicators[0]", "indicators[1]", "money", "nowhere", "no_such_field"):
        assert fragment in message


def test_the_catalog_lists_base_fields_then_the_regions_indicators(world):
    fields = catalog.fields(world.region)
    codes = [f.code for f in fields]
    assert codes[:5] == ["industry", "size", "registration_date", "jurisdiction", "tags"]
    assert len(codes) == 5 + 23
    employees = next(f for f in fields if f.code == "employees")
    assert (employees.label, employees.datatype, employees.unit) == ("参保人数", "number", "人")
    assert [f.code for f in catalog.fields(world.region.code)] == codes
    assert [f.code for f in catalog.fields("elsewhere")] == codes[:5]


# ---- imports ----------------------------------------------------------------------------------------

def test_a_csv_with_codes_and_chinese_names_imports_values(world):
    a, b = world.ent_east, world.ent_west
    text = ("统一社会信用代码,企业名称,参保人数（人）,revenue,高新技术企业认定,纳税信用等级,数据日期,序号\n"
            f"{a.uscc},东方,120,\"25,000,000\",是,A,2025-12-31,1\n"
            f"{b.uscc},西方,80,,否,B,2025/12/31,2\n")
    report = import_values(csv_bytes(text, "gbk"), world.region, source="qt-rsj")
    assert report.ok, report.errors
    assert (report.imported_rows, report.created, report.skipped) == (2, 7, 0)
    assert report.ignored_columns == ["序号"]
    f = facts.enterprise_facts(a)
    assert (f["employees"], f["revenue"], f["high_tech_enterprise"], f["tax_credit_rating"]) == (
        120.0, 25_000_000.0, True, "A")
    assert "revenue" not in facts.enterprise_facts(b)  # an empty cell is no value
    value = IndicatorValue.objects.get(enterprise=a, indicator__code="employees")
    assert (value.as_of, value.source) == (Y2025, "qt-rsj")
    assert AuditEntry.objects.filter(content_type__model="indicatorvalue", action="create").count() == 7


def test_any_bad_row_imports_nothing_and_the_report_names_rows(world):
    a, b = world.ent_east, world.ent_west
    stranger = credit_code()
    text = ("uscc,employees,revenue,high_tech_enterprise,as_of\n"
            f"{a.uscc},120,1000,yes,2025-12-31\n"
            f"{b.uscc},many,1000,maybe,2025-12-31\n"
            f"{stranger},5,,,2025-12-31\n"
            f"{a.uscc[:-1]}X,5,,,2025-12-31\n"
            f"{a.uscc},7,,,2099-01-01\n")
    report = import_values(csv_bytes(text), world.region)
    assert not report.ok
    assert report.created == 0 and report.skipped == 5
    assert IndicatorValue.objects.count() == 0
    problems = {(e.row_number, e.field) for e in report.errors}
    assert {(3, "employees"), (3, "high_tech_enterprise"), (4, "uscc"), (5, "uscc"), (6, "as_of")} <= problems
    assert 2 not in {e.row_number for e in report.errors}

    report = import_values(csv_bytes(text), world.region, skip_bad_rows=True)
    assert (report.imported_rows, report.skipped, report.created) == (1, 4, 3)
    assert facts.enterprise_facts(a)["employees"] == 120.0
    assert "employees" not in facts.enterprise_facts(b)


def test_a_file_without_dates_needs_a_default_and_a_header_needs_uscc_and_indicators(world):
    a = world.ent_east
    report = import_values(csv_bytes(f"uscc,employees\n{a.uscc},10\n"), world.region)
    assert [(e.row_number, e.field) for e in report.errors] == [(2, "as_of")]
    report = import_values(csv_bytes(f"uscc,employees\n{a.uscc},10\n"), world.region, as_of=Y2024)
    assert report.ok and report.created == 1
    report = import_values(csv_bytes("name,employees\nx,10\n"), world.region, as_of=Y2024)
    assert [e.field for e in report.errors] == ["uscc"]
    report = import_values(csv_bytes(f"uscc,colour\n{a.uscc},red\n"), world.region, as_of=Y2024)
    assert [e.field for e in report.errors] == ["indicator"]


def test_excel_import_and_the_cli_command(world, tmp_path, capsys):
    a = world.ent_east
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["统一社会信用代码", "有效专利数", "研发费用", "数据日期"])
    sheet.append([a.uscc, 12, 3500000.5, datetime.datetime(2025, 12, 31)])
    path = tmp_path / "tax.xlsx"
    workbook.save(path)
    out = io.StringIO()
    call_command("profile", "import", str(path), "--region", world.region.code, "--source", "qt-swuj", stdout=out)
    assert "1 rows imported" in out.getvalue()
    assert facts.enterprise_facts(a)["rd_expense"] == 3500000.5
    assert IndicatorValue.objects.get(indicator__code="patents").source == "qt-swuj"

    bad = tmp_path / "bad.csv"
    bad.write_text(f"uscc,patents,as_of\n{a.uscc},lots,2025-12-31\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("profile", "import", str(bad), "--region", world.region.code, stdout=io.StringIO())
    out = io.StringIO()
    call_command("profile", "apply-tags", "--region", world.region.code, stdout=out)
    assert "2 enterprises evaluated" in out.getvalue()


def test_a_handler_imports_only_its_departments_indicators_on_the_page(client, world):
    employees = indicator(world, "employees")
    employees.source = world.dept.code
    employees.save()
    handler = world.users[Role.HANDLER]
    client.force_login(handler)
    a = world.ent_east
    good = csv_bytes(f"uscc,employees,as_of\n{a.uscc},42,2025-12-31\n")
    response = client.post("/profiles/import/", {"file": good})
    assert response.status_code == 200
    assert IndicatorValue.objects.get(indicator=employees).source == world.dept.code
    other = csv_bytes(f"uscc,revenue,as_of\n{a.uscc},42,2025-12-31\n")
    response = client.post("/profiles/import/", {"file": other})
    assert 'data-ok="false"' in response.content.decode()
    assert not IndicatorValue.objects.filter(indicator__code="revenue").exists()
    client.force_login(world.users[Role.FRONT_DESK])
    assert client.get("/profiles/import/").status_code == 403


# ---- history and facts ------------------------------------------------------------------------------

def test_history_keeps_older_values_and_facts_pick_the_latest_as_of_a_date(world):
    a = world.ent_east
    put(world, a, as_of=Y2024, revenue=10_000_000, employees=50)
    put(world, a, as_of=Y2025, revenue=30_000_000)
    assert IndicatorValue.objects.filter(enterprise=a, indicator__code="revenue").count() == 2
    assert facts.enterprise_facts(a)["revenue"] == 30_000_000.0
    assert facts.enterprise_facts(a)["employees"] == 50.0
    mid = facts.enterprise_facts(a, on=datetime.date(2025, 6, 30))
    assert (mid["revenue"], mid["employees"]) == (10_000_000.0, 50.0)
    assert "revenue" not in facts.enterprise_facts(a, on=datetime.date(2024, 1, 1))

    # the same value again changes nothing; a different value for a known date replaces it
    result = put(world, a, as_of=Y2025, revenue=30_000_000)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    result = put(world, a, as_of=Y2025, revenue=31_000_000)
    assert (result.created, result.updated) == (0, 1)
    assert IndicatorValue.objects.filter(enterprise=a, indicator__code="revenue").count() == 2
    assert AuditEntry.objects.filter(content_type__model="indicatorvalue", action="update").count() == 1


def test_facts_frame_equals_enterprise_facts_for_every_enterprise_in_four_queries(world,
                                                                                   django_assert_max_num_queries):
    rng_values = [(i * 1_000_000, i * 3, i % 2 == 0) for i in range(12)]
    for i, (revenue, employees, tech) in enumerate(rng_values):
        name = f"企业{i}" + (',"甲"\n乙' if i == 7 else "")  # CSV's separator, quote and line break
        e = Enterprise.objects.create(region=world.region, uscc=credit_code(), name=name,
                                      industry="C3670" if i % 3 else "", size="small" if i % 4 else "",
                                      registration_date=datetime.date(2010 + i, 1, 1) if i % 5 else None,
                                      jurisdiction=world.east if i % 2 else None)
        if i % 6 == 5:
            continue  # no profile data at all
        put(world, e, as_of=Y2024, revenue=revenue + 1, employees=employees)
        put(world, e, revenue=revenue, high_tech_enterprise=tech, tax_credit_rating="AB"[i % 2])
        if i % 3 == 0:
            put(world, e, as_of=Y2025, srdi_level="省级")
    Enterprise.objects.filter(name="企业3").first().tags.add(Tag.objects.create(name="手工"))
    everyone = Enterprise.objects.filter(region=world.region)
    for on in (None, datetime.date(2025, 6, 30)):
        with django_assert_max_num_queries(4):
            frame = facts.facts_frame(everyone, on=on)
        assert frame.height == everyone.count()
        rows = {row["id"]: row for row in frame.to_dicts()}
        for e in everyone.select_related("region", "jurisdiction"):
            expected = facts.enterprise_facts(e, on)
            got = {k: v for k, v in rows[e.pk].items() if v is not None and k != "id"}
            assert got == expected, e.name
    frame = facts.facts_frame(everyone, fields={"revenue", "nothing_here"})
    assert "nothing_here" in frame.columns and "revenue" in frame.columns and "employees" not in frame.columns
    assert frame["nothing_here"].null_count() == frame.height


# ---- scores -----------------------------------------------------------------------------------------

def test_dimension_scores_are_weighted_means_of_known_indicator_scores(world):
    a = world.ent_east
    put(world, a, employees=250, registered_capital=1000, lawsuits_defendant=1, enforcement_cases=0)
    profile = services.enterprise_profile(Enterprise.objects.get(pk=a.pk))
    scores = {d["code"]: d["score"] for d in profile["dimensions"]}
    # employees 250 → 50 (weight 2), registered capital 1000 → 80 (weight 1)
    assert scores["scale_stability"] == 60.0
    # lower is better: one lawsuit → 100 − 20 = 80 (weight 1), no enforcement → 100 (weight 2)
    assert scores["judicial_risk"] == 93.3
    assert scores["innovation"] is None and scores["financing_need"] is None
    assert profile["overall"] == round((60.0 + 93.3) / 2, 1)
    rows = {r["code"]: r for r in profile["indicators"]}
    employees = rows["employees"]
    assert (employees["value"], employees["source"], employees["as_of"]) == (250.0, "test", Y2025)
    assert rows["revenue"]["value"] is None and rows["revenue"]["score"] is None
    assert profile["known"] == 4


def test_an_indicator_score_is_clamped_and_text_and_bool_scores_work(world):
    employees, rating, abnormal = indicator(world, "employees"), indicator(world, "tax_credit_rating"), indicator(
        world, "abnormal_operation")
    assert services.indicator_score(employees, {"employees": 5000.0}) == 100.0
    assert services.indicator_score(employees, {}) is None
    assert services.indicator_score(rating, {"tax_credit_rating": "B"}) == 80.0
    assert services.indicator_score(abnormal, {"abnormal_operation": True}) == 0.0
    assert services.indicator_score(abnormal, {"abnormal_operation": False}) == 100.0


# ---- dynamic tags -----------------------------------------------------------------------------------

def test_tag_rules_add_and_remove_only_dynamic_tags_and_unknown_gives_no_tag(world):
    west = world.ent_west  # industry C3670
    east = world.ent_east  # I6513
    handmade = Tag.objects.create(name="重点企业", kind=Tag.Kind.MANUAL)
    orphan = Tag.objects.create(name="无规则动态", kind=Tag.Kind.DYNAMIC)
    west.tags.add(handmade, orphan)
    east.tags.add(Tag.objects.get(name="规上工业"))  # wrongly set: east is not industry

    put(world, west, as_of=Y2024, revenue=30_000_000)
    assert "规上工业" in tag_names(west)
    services.apply_tag_rules()
    assert "规上工业" not in tag_names(east)  # industry I: false, removed
    put(world, west, as_of=Y2025, revenue=15_000_000)  # fell below: re-applied automatically
    names = tag_names(west)
    assert "规上工业" not in names and "小升规" in names
    assert {"重点企业", "无规则动态"} <= names  # manual and rule-less dynamic tags untouched

    # unknown: employees missing, so 科技型中小企业 cannot be decided and is not given
    put(world, west, invention_patents=3)
    assert "科技型中小企业" not in tag_names(west)
    put(world, west, employees=100)
    assert "科技型中小企业" in tag_names(west)

    # a deactivated rule leaves its tag alone; a reactivated one decides again
    rule = TagRule.objects.get(region=world.region, tag__name="小升规")
    rule.active = False
    rule.save()
    put(world, west, as_of=Y2025, revenue=50_000_000)
    assert "小升规" in tag_names(west)
    rule.active = True
    rule.save()
    services.apply_tag_rules([west.pk])
    assert "小升规" not in tag_names(west) and "规上工业" in tag_names(west)
    assert AuditEntry.objects.filter(content_type__model="enterprise", note="tag rules").exists()


def test_a_value_saved_on_its_own_re_applies_the_rules_after_commit(world, django_capture_on_commit_callbacks):
    west = world.ent_west
    with django_capture_on_commit_callbacks(execute=True):
        value = IndicatorValue(enterprise=west, indicator=indicator(world, "revenue"), as_of=Y2025)
        value.set_value("number", 25_000_000)
        value.save()
    assert "规上工业" in tag_names(west)


def test_the_periodic_job_applies_the_rules(world):
    from qifu import jobs

    put(world, world.ent_west, revenue=25_000_000)
    world.ent_west.tags.clear()
    jobs.registered_tasks()["profiles.apply_tag_rules"]()
    assert "规上工业" in tag_names(world.ent_west)


def test_rules_may_use_other_dynamic_tags(world):
    west = world.ent_west
    star = Tag.objects.create(name="工业之星", kind=Tag.Kind.DYNAMIC)
    TagRule.objects.create(region=world.region, tag=star, conditions={
        "all": [{"has_tag": "规上工业"}, {"field": "tax_paid", "op": ">=", "value": 1_000_000}]})
    put(world, west, revenue=30_000_000, tax_paid=2_000_000)
    assert {"规上工业", "工业之星"} <= tag_names(west)


def test_a_rule_on_a_manual_tag_is_refused(world):
    from django.core.exceptions import ValidationError

    rule = TagRule(region=world.region, tag=Tag.objects.create(name="手工标签"), conditions={"has_tag": "x"})
    with pytest.raises(ValidationError):
        rule.full_clean()
    with pytest.raises(ValidationError):
        TagRule(region=world.region, tag=Tag.objects.get(name="小升规"), conditions={"field": "x"}).full_clean()


# ---- the API ----------------------------------------------------------------------------------------

def push(client, token, items):
    return client.post("/api/v1/profiles/values", json.dumps(items), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def test_an_admin_pushes_values_and_bad_items_store_nothing(client, world):
    token = world.token(world.users[Role.ADMIN])
    a = world.ent_east
    good = [
        {"uscc": a.uscc, "indicator": "employees", "value": 80, "as_of": "2025-12-31", "source": "qt-rsj"},
        {"uscc": a.uscc, "indicator": "纳税信用等级", "value": "A", "as_of": "2025-12-31"},
        {"uscc": a.uscc, "indicator": "dishonest_debtor", "value": False, "as_of": "2025-12-31"},
    ]
    bad = [
        {"uscc": a.uscc, "indicator": "employees", "value": "80", "as_of": "2025-06-30"},
        {"uscc": a.uscc, "indicator": "dishonest_debtor", "value": 0, "as_of": "2025-06-30"},
        {"uscc": a.uscc, "indicator": "employees", "value": 81, "as_of": "2025-12-31"},
        {"uscc": a.uscc, "indicator": "nope", "value": 1, "as_of": "2025-12-31"},
        {"uscc": credit_code(), "indicator": "employees", "value": 1, "as_of": "2025-12-31"},
        {"uscc": a.uscc, "indicator": "employees", "value": 1, "as_of": "31/12/2025"},
        {"uscc": a.uscc, "indicator": "employees", "value": 1, "as_of": "2099-01-01"},
    ]
    response = push(client, token, good + bad)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["index"], e["field"]) for e in errors} == {
        (3, "value"), (4, "value"), (5, "indicator"), (6, "indicator"), (7, "uscc"), (8, "as_of"), (9, "as_of")}
    assert IndicatorValue.objects.count() == 0

    response = push(client, token, good)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 3
    value = IndicatorValue.objects.get(indicator__code="tax_credit_rating")
    assert value.source == "qt-swuj"  # defaults to the indicator's department
    assert value.imported_by == world.users[Role.ADMIN]
    assert push(client, token, good).json() == {"created": 0, "updated": 0, "unchanged": 3, "tags_added": 0,
                                                "tags_removed": 0}


def test_only_admins_and_handlers_push_and_handlers_only_their_departments_data(client, world):
    a = world.ent_east
    employees = indicator(world, "employees")
    employees.source = world.dept.code
    employees.save()
    item = {"uscc": a.uscc, "indicator": "employees", "value": 9, "as_of": "2025-12-31"}
    for role in (Role.FRONT_DESK, Role.ENTERPRISE, Role.LEADER):
        assert push(client, world.token(world.users[role]), [item]).status_code == 403, role
    handler = world.token(world.users[Role.HANDLER])
    assert push(client, handler, [item]).status_code == 200
    assert IndicatorValue.objects.get().source == world.dept.code
    response = push(client, handler, [dict(item, source="qt-rsj")])
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "source"
    response = push(client, handler, [dict(item, indicator="revenue")])
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "source"
    other = World("o")
    presets.load("qiantang", region=other.region)
    response = push(client, handler, [dict(item, uscc=other.ent_east.uscc)])
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "uscc"


def test_the_profile_endpoint_is_scoped_like_enterprises(client, world):
    a, b = world.ent_east, world.ent_west
    put(world, a, employees=250, revenue=1_000_000, high_tech_enterprise=True)
    token = world.token(world.users[Role.ENTERPRISE])  # linked to ent_east
    response = client.get(f"/api/v1/enterprises/{a.pk}/profile", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    body = response.json()
    assert body["uscc"] == a.uscc
    assert [d["name"] for d in body["dimensions"]] == SEED_DIMENSIONS
    rows = {r["code"]: r for r in body["indicators"]}
    assert (rows["employees"]["value"], rows["employees"]["as_of"], rows["employees"]["source"]) == (
        250.0, "2025-12-31", "test")
    assert rows["high_tech_enterprise"]["value"] is True
    assert rows["patents"]["value"] is None
    assert "科技型中小企业" in {t["name"] for t in body["tags"] if t["kind"] == "dynamic"}
    assert client.get(f"/api/v1/enterprises/{b.pk}/profile",
                      HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404
    old = client.get(f"/api/v1/enterprises/{a.pk}/profile?on=2024-01-01", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert {r["code"]: r["value"] for r in old.json()["indicators"]}["employees"] is None


# ---- pages ------------------------------------------------------------------------------------------

def test_the_enterprise_page_shows_the_profile_card(client, world):
    a = world.ent_east
    put(world, a, employees=250, registered_capital=1000)
    client.force_login(world.users[Role.ENTERPRISE])
    html = client.get(f"/enterprises/{a.pk}/").content.decode()
    assert 'data-testid="profile-radar"' in html
    assert 'data-indicator="employees" data-value="250.0"' in html
    assert 'data-dimension="scale_stability" data-score="60.0"' in html
    assert 'data-testid="manual-tags"' not in html  # an enterprise does not tag itself


def test_a_region_without_a_profile_shows_no_card_to_its_enterprises(client):
    bare = World("b")
    client.force_login(bare.users[Role.ENTERPRISE])
    html = client.get(f"/enterprises/{bare.ent_east.pk}/").content.decode()
    assert 'data-testid="profile-card"' not in html
    client.force_login(bare.users[Role.HANDLER])  # who may still set manual tags there
    assert 'data-testid="profile-empty"' in client.get(f"/enterprises/{bare.ent_east.pk}/").content.decode()


def test_the_tag_library_lists_tags_with_counts_and_rules(client, world):
    put(world, world.ent_west, revenue=30_000_000)
    client.force_login(world.users[Role.FRONT_DESK])
    html = client.get("/tags/").content.decode()
    assert 'data-tag="规上工业" data-kind="dynamic" data-count="1"' in html
    assert 'data-testid="edit-rule"' not in html  # front desk reads only
    assert client.post("/tags/", {"name": "x"}).status_code == 403
    client.force_login(world.users[Role.ENTERPRISE])
    assert client.get("/tags/").status_code == 403


def test_a_handler_adds_manual_tags_and_edits_rules(client, world):
    client.force_login(world.users[Role.HANDLER])
    response = client.post("/tags/", {"name": "链主企业", "category": "重点"})
    tag = Tag.objects.get(name="链主企业")
    assert tag.kind == Tag.Kind.MANUAL and response.status_code == 302
    client.post(f"/tags/{tag.pk}/", {"uscc": world.ent_east.uscc})
    assert "链主企业" in tag_names(world.ent_east)
    client.post(f"/enterprises/{world.ent_west.pk}/manual-tags/", {"tag": tag.pk, "action": "add"})
    assert "链主企业" in tag_names(world.ent_west)
    client.post(f"/enterprises/{world.ent_west.pk}/manual-tags/", {"tag": tag.pk, "action": "remove"})
    assert "链主企业" not in tag_names(world.ent_west)
    dynamic = Tag.objects.get(name="规上工业")
    assert client.post(f"/enterprises/{world.ent_west.pk}/manual-tags/",
                       {"tag": dynamic.pk, "action": "add"}).status_code == 404

    put(world, world.ent_west, employees=30)
    rule_yaml = "all:\n  - {field: employees, op: '>=', value: 20}\n"
    response = client.post("/tags/rules/new/", {"tag": "用工大户", "conditions": rule_yaml, "active": "on"})
    assert response.status_code == 302
    assert Tag.objects.get(name="用工大户").kind == Tag.Kind.DYNAMIC
    assert "用工大户" in tag_names(world.ent_west)
    rule = TagRule.objects.get(tag__name="用工大户")
    response = client.post(f"/tags/rules/{rule.pk}/edit/", {"conditions": "{field: employees, op: '>=', value: 50}",
                                                            "active": "on"})
    assert response.status_code == 302
    assert "用工大户" not in tag_names(world.ent_west)
    response = client.post(f"/tags/rules/{rule.pk}/edit/", {"conditions": "{field: colour, op: '==', value: 1}"})
    assert response.status_code == 200 and 'data-testid="field-error"' in response.content.decode()
    response = client.post("/tags/rules/new/", {"tag": "链主企业", "conditions": "{has_tag: x}"})
    assert response.status_code == 200 and not TagRule.objects.filter(tag=tag).exists()

    client.force_login(world.users[Role.FRONT_DESK])
    assert client.get("/tags/rules/new/").status_code == 403


# ---- demo -------------------------------------------------------------------------------------------

def test_demo_profiles_give_most_enterprises_values_and_load_idempotently(world):
    from qifu.demo import profiles as demo

    for i in range(6):
        Enterprise.objects.create(region=world.region, uscc=credit_code(), name=f"演示{i}", industry="C2720",
                                  size="medium")
    assert demo.load(world.region) > 0
    per_enterprise = {e.pk: e.indicator_values.values("indicator").distinct().count()
                      for e in Enterprise.objects.filter(region=world.region)}
    assert all(n >= 10 for n in per_enterprise.values())
    assert any(n < 23 for n in per_enterprise.values())  # some values unknown on purpose
    audit = AuditEntry.objects.count()
    assert demo.load(world.region) == 0
    assert AuditEntry.objects.count() == audit
    assert IndicatorValue.objects.filter(value_number__isnull=False).exclude(
        value_number=Decimal(0)).exists()


@pytest.mark.django_db
def test_new_profile_data_rematches_the_enterprise_for_policies(django_capture_on_commit_callbacks):
    """A departmental push that makes an enterprise eligible shows up in its matches at once."""
    from qifu.policies import matches
    from qifu.policies import services as policy_services
    from qifu.profiles import services as profile_services
    from qifu.profiles.models import Indicator

    from .world import World

    world = World("pm")
    Indicator.objects.create(region=world.region, code="employees", name="参保人数", datatype="number")
    policy_services.import_yaml(
        "policies:\n  - code: PM-1\n    title: 稳岗补助\n    level: district\n    clauses:\n"
        "      - code: PM-1-1\n        title: 稳岗\n        no_application: true\n"
        "        conditions: {field: employees, op: '>=', value: 50}\n        benefit: 'employees * 100'\n",
        world.region.code)
    from qifu.policies.models import Policy

    for policy in Policy.objects.filter(region=world.region):
        policy_services.publish(policy)
    before = next((m for m in matches.pairs([world.ent_east.pk]) if m.clause.code == "PM-1-1"), None)
    assert before is None or before.status == "unknown"
    indicator = Indicator.objects.get(region=world.region, code="employees")
    with django_capture_on_commit_callbacks(execute=True):  # re-matched after the commit
        profile_services.write_values([profile_services.NewValue(
            enterprise_id=world.ent_east.pk, indicator=indicator, value=80, as_of=datetime.date(2026, 6, 30),
            source="pm-rsj")])
    (match,) = [m for m in matches.pairs([world.ent_east.pk]) if m.clause.code == "PM-1-1"]
    assert match.status == "eligible" and float(match.amount) == 8000
