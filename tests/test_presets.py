"""Region presets: each reproduces its seed's organization; loading is validated, atomic and idempotent."""

import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from qifu.audit.models import AuditEntry
from qifu.org import preset
from qifu.org.models import Department, Jurisdiction, Region, Section, ServiceNode, Window, Zone

MODELS = (Region, Jurisdiction, Department, ServiceNode, Section, Zone, Window)
PRESETS = ["huzhou", "qiantang", "taizhou", "wuxing", "xiaoshan"]
PREFIX = {"huzhou": "hz-", "qiantang": "qt-", "taizhou": "tz-", "wuxing": "wx-", "xiaoshan": "xs-"}


def row_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


def sections_with_leads(region: str) -> dict[str, str | None]:
    return {
        s.name: (s.lead_department.name if s.lead_department else None)
        for s in Section.objects.filter(region__code=region).select_related("lead_department")
    }


def node(code: str) -> ServiceNode:
    return ServiceNode.objects.select_related("parent", "jurisdiction").get(code=code)


# ---- the files themselves ---------------------------------------------------------------------------------


def test_the_five_presets_are_available():
    assert preset.available() == PRESETS


def test_codes_are_unique_across_all_presets():
    seen: dict[str, str] = {}
    for name in PRESETS:
        data = preset.read(name)
        for kind in preset.SPEC:
            for item in data[kind]:
                assert item["code"] not in seen, f"{item['code']} in {name} and {seen.get(item['code'])}"
                seen[item["code"]] = name


@pytest.mark.parametrize("name", PRESETS)
def test_every_code_carries_its_region_prefix(name):
    data = preset.read(name)
    assert data["region"]["code"] == name
    for kind in preset.SPEC:
        for item in data[kind]:
            assert item["code"].startswith(PREFIX[name]), item["code"]


@pytest.mark.parametrize("name", PRESETS)
def test_coordinates_lie_in_zhejiang(name):
    for item in preset.read(name)["nodes"]:
        if item.get("latitude") is not None:
            assert Decimal("27") <= item["latitude"] <= Decimal("31.2"), item["code"]
            assert Decimal("118") <= item["longitude"] <= Decimal("123"), item["code"]


@pytest.mark.parametrize("name", PRESETS)
def test_no_phone_numbers_or_peoples_names_from_the_seeds(name):
    text = (preset.PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert not re.search(r"1[3-9]\d{9}|0\d{2,3}-\d{7,8}|\d{8}", text)
    # A sample of names printed in the seeds (leading groups, contact columns).
    for person in ("王晓军", "郁晓红", "金承涛", "沈燕俊", "傅立春", "李路宁", "汪磊", "周永存", "高凯炀", "徐老师"):
        assert person not in text


def test_yaml_folding_does_not_leave_spaces_inside_chinese_text():
    data = preset.read("qiantang")
    assert "“4+8+1+N”架构：4端登录、8个服务板块、1个企业数据底座" in data["region"]["description"]
    assert not re.search(r"[\u4e00-\u9fff，。；、]\s+[\u4e00-\u9fff]", data["sections"][1]["description"])


# ---- each preset against its seed -------------------------------------------------------------------------


@pytest.mark.django_db
def test_qiantang_has_the_nine_sections_with_their_lead_units():
    """Seed 003 §二(五), lines 75–99."""
    preset.load("qiantang")
    assert sections_with_leads("qiantang") == {
        "项目服务板块": "区行政审批局",
        "人才服务板块": "区委组织部（人才办）",
        "科创服务板块": "区经信科技局",
        "政策服务板块": "区发展改革局",
        "金融服务板块": "区财政局",
        "开放服务板块": "区商务局",
        "法治服务板块": "区司法局",
        "“8590”诉求服务板块": "区经信科技局",
        "兜底服务板块": "区行政审批局",
    }
    ordered = list(Section.objects.filter(region__code="qiantang").values_list("kind", flat=True))
    assert ordered == ["project", "talent", "tech", "policy", "finance", "opening", "legal", "appeals", "fallback"]
    assert all(s.node.code == "qt-center" for s in Section.objects.filter(region__code="qiantang"))
    legal = Section.objects.get(code="qt-legal")
    assert {d.name for d in legal.other_departments.all()} == {"区法院", "区检察院", "区发展改革局", "区市场监管局", "区工商联"}
    tech = Section.objects.get(code="qt-tech")
    assert {d.name for d in tech.other_departments.all()} == {"区市场监管局", "科学城管理办公室"}


@pytest.mark.django_db
def test_qiantang_has_the_six_industry_platform_stations_with_their_addresses():
    """Seed 003 §二(二) (six platforms) and 附件5 (the six lists' 服务地址)."""
    preset.load("qiantang")
    stations = ServiceNode.objects.filter(region__code="qiantang", kind="station").select_related("jurisdiction")
    assert {(s.name, s.jurisdiction.name, s.address) for s in stations} == {
        ("杭州医药港生物医药产业服务驿站", "医药港", "钱塘区下沙街道福城路501号和达药谷四期6幢2楼"),
        ("大创小镇数字经济产业服务驿站", "大创小镇", "钱塘区白杨街道科技园路267号国际创博中心一楼"),
        ("前进智造园高端装备产业服务驿站", "前进智造园", "钱塘区前进街道江东一路5000号5楼"),
        ("临江高科园新材料产业服务驿站", "临江高科园", "钱塘区临江科创园（钱塘区临江街道纬五路3688号）"),
        ("综合保税区综合保税产业服务驿站", "综合保税区", "钱塘区白杨街道十二号大街18号"),
        ("钱塘芯谷集成电路产业服务驿站", "钱塘芯谷", "钱塘区江东一路与创客路交叉口"),
    }
    assert all(s.station_type == "industry_platform" and s.parent.code == "qt-center" for s in stations)
    assert all(s.jurisdiction.level == "park" and s.jurisdiction.parent.name == "钱塘区" for s in stations)
    # 附件5: 202 items in all, split 75 + 24 + 21 + 29 + 33 + 20.
    counts = [int(re.search(r"，(\d+)项", s.description).group(1)) for s in stations]
    assert sum(counts) == 202
    region = Region.objects.get(code="qiantang")
    assert (region.name, region.model_name) == ("钱塘区企业综合服务中心", "4+8+1+N")
    assert Department.objects.get(code="qt-gjzx").kind == "third_party"


@pytest.mark.django_db
def test_qiantang_hall_has_the_one_window_areas_and_windows():
    """Seed 003 政务服务“一窗通办”工作机制 (lines 471–499)."""
    preset.load("qiantang")
    assert list(Zone.objects.filter(region__code="qiantang").values_list("name", flat=True)) == [
        "综合服务区（兜底办窗口）", "自助网办服务区", "政务服务综合受理服务区",
    ]
    accept = Zone.objects.get(code="qt-zone-accept")
    assert [w.name for w in accept.windows.order_by("sort_order")] == [
        "企业开办证照联办综合受理窗口", "安居置业综合受理窗口", "纳税服务综合受理窗口", "劳动用工服务综合受理窗口",
        "公安执法综合受理窗口",
    ]


@pytest.mark.django_db
def test_xiaoshan_is_8_sections_3_zones_and_the_two_pilot_park_stations():
    """Seed 000 §二: "8+3+3+N"."""
    preset.load("xiaoshan")
    region = Region.objects.get(code="xiaoshan")
    assert region.model_name == "8+3+3+N"
    for mode in ("全链代办", "综合受理", "四端协同"):  # the 3 innovation modes
        assert mode in region.description
    assert list(Section.objects.filter(region=region).values_list("name", flat=True)) == [
        "项目服务板块", "人才服务板块", "政策服务板块", "科创服务板块", "开放服务板块", "金融服务板块", "法治服务板块",
        "诉求兜底服务板块",
    ]
    # The seed names no lead unit for any section.
    assert not Section.objects.filter(region=region, lead_department__isnull=False).exists()
    assert list(Zone.objects.filter(region=region).values_list("name", flat=True)) == [
        "“一事联办”服务专区", "新电商服务专区", "公安助企服务专区",
    ]
    center = node("xs-center")
    assert (center.kind, center.address) == ("center", "萧山区政务服务中心三楼")
    stations = ServiceNode.objects.filter(region=region, kind="station")
    assert {s.name for s in stations} == {
        "杭州湾信息港小镇园区平台分站", "中国（浙江）自贸创新中心（自贸大厦）园区平台分站",
    }
    assert all(s.station_type == "park" and s.parent_id == center.pk for s in stations)
    assert region.rule("station_on_site_minutes") == 10 and region.rule("revisit_ratio") == 0.2


@pytest.mark.django_db
def test_taizhou_is_one_city_center_and_ten_county_centers_with_4_zones_and_8_windows():
    """Seed 002 §三(一)1 "1+10+N" and §三(一)3 四区八窗."""
    preset.load("taizhou")
    city = node("tz-center")
    assert (city.name, city.kind, city.parent, city.jurisdiction.level) == ("台州市企业综合服务中心", "center", None, "city")
    counties = ServiceNode.objects.filter(region__code="taizhou", parent=city)
    assert counties.count() == 10
    assert {c.name for c in counties} == {
        "椒江区企业综合服务中心", "黄岩区企业综合服务中心", "路桥区企业综合服务中心", "临海市企业综合服务中心",
        "温岭市企业综合服务中心", "玉环市企业综合服务中心", "天台县企业综合服务中心", "仙居县企业综合服务中心",
        "三门县企业综合服务中心", "台州湾新区企业综合服务中心",
    }
    assert {(c.kind, c.station_type, c.jurisdiction.level) for c in counties} == {("center", "county_center", "district")}
    assert list(Zone.objects.filter(node=city).values_list("name", flat=True)) == [
        "诉求询导区", "综合受理区", "后台审批（服务）区", "全程代办区",
    ]
    assert list(Window.objects.filter(node=city).values_list("name", flat=True)) == [
        "项目服务窗口", "政策服务窗口", "金融服务窗口", "人才服务窗口", "法治服务窗口", "科创服务窗口", "开放服务窗口",
        "数据服务窗口",
    ]
    assert sections_with_leads("taizhou") == {
        "项目服务板块": "市发展改革委",
        "政策服务板块": "市经信局",
        "金融服务板块": "市金融办",
        "人才服务板块": "市人力社保局",
        "法治服务板块": "市司法局",
        "科创服务板块": "市科技局",
        "开放服务板块": "市商务局",
        "数据服务板块": "市大数据局",
    }
    finance = Section.objects.get(code="tz-finance")
    assert {d.name for d in finance.other_departments.all()} == {
        "国家金融监督管理局台州分行", "人民银行台州分行", "市大数据局",
    }


@pytest.mark.django_db
def test_huzhou_has_city_district_subcenter_and_station_levels():
    """Seed 001 §二 (市级、区县、驿站层面) and seed 004 (企服驿站, Wuxing's 分中心)."""
    preset.load("huzhou")
    city = node("hz-center")
    assert (city.name, city.parent, city.jurisdiction.name) == ("湖州市企业综合服务中心", None, "湖州市")
    districts = ServiceNode.objects.filter(region__code="huzhou", kind="center", parent=city)
    assert {d.jurisdiction.name for d in districts} == {"吴兴区", "南浔区", "德清县", "长兴县", "安吉县"}
    subcenters = ServiceNode.objects.filter(region__code="huzhou", kind="subcenter")
    assert {s.name for s in subcenters} == {"吴兴区物流装备企服分中心", "吴兴区童装企服分中心", "吴兴区美妆企服分中心"}
    assert {s.parent.code for s in subcenters} == {"hz-wuxing-center"}
    xiaopu, lianshi, wanda = node("hz-st-xiaopu"), node("hz-st-lianshi"), node("hz-st-wanda")
    assert (xiaopu.kind, xiaopu.station_type, xiaopu.jurisdiction.parent.name) == ("station", "township", "长兴县")
    assert (lianshi.station_type, lianshi.parent.code) == ("township", "hz-nanxun-center")
    assert wanda.station_type == "business_district"
    region = Region.objects.get(code="huzhou")
    assert "94" in region.description
    assert region.rule("revisit_ratio") == 1.0  # 001 §四(五): 全量回访
    assert Department.objects.filter(region=region, name="市政务办").exists()
    assert not Section.objects.filter(region=region).exists()  # the seeds name none


@pytest.mark.django_db
def test_wuxing_is_1_plus_3_plus_n_under_the_city_center():
    """Seed 004: 区级企服中心 + 物流装备、童装、美妆 分中心 + 企服驿站, under the Huzhou city center."""
    preset.load("wuxing")
    region = Region.objects.get(code="wuxing")
    assert region.model_name == "1+3+N"
    city, district = node("wx-hz-center"), node("wx-center")
    assert (city.parent, city.jurisdiction.level) == (None, "city")
    assert (district.parent_id, district.jurisdiction.name) == (city.pk, "吴兴区")
    children = district.children.order_by("kind", "code")
    assert [c.name for c in children if c.kind == "subcenter"] == ["美妆企服分中心", "童装企服分中心", "物流装备企服分中心"]
    assert {c.name for c in children if c.kind == "station"} == {"知识产权中心", "青创工场", "新青年服务中心", "吴所不调"}
    assert node("wx-sub-kidswear").jurisdiction.name == "织里镇"
    assert list(Section.objects.filter(region=region).values_list("name", flat=True)) == ["开放板块"]


# ---- loading ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", PRESETS)
def test_loading_twice_changes_nothing(name):
    counts = preset.load(name)
    data = preset.read(name)
    assert counts == {"regions": 1, **{kind: len(data[kind]) for kind in preset.SPEC}}
    rows, audit = row_counts(), AuditEntry.objects.count()
    assert audit >= sum(counts.values())  # the first load is on the trail
    snapshot = {m.__name__: list(m.objects.values()) for m in MODELS}
    m2m = sorted(Section.other_departments.through.objects.values_list("section_id", "department_id"))

    assert preset.load(name) == counts
    assert row_counts() == rows
    assert AuditEntry.objects.count() == audit
    assert {m.__name__: list(m.objects.values()) for m in MODELS} == snapshot
    assert sorted(Section.other_departments.through.objects.values_list("section_id", "department_id")) == m2m


@pytest.mark.django_db
def test_all_five_presets_load_side_by_side():
    for name in PRESETS:
        preset.load(name)
    assert set(Region.objects.values_list("code", flat=True)) == set(PRESETS)
    assert Section.objects.count() == 9 + 8 + 8 + 1


@pytest.mark.django_db
def test_a_changed_preset_updates_only_what_changed(tmp_path):
    preset.load("qiantang")
    data = yaml.safe_load((preset.PRESET_DIR / "qiantang.yaml").read_text(encoding="utf-8"))
    data["nodes"][1]["address"] = "钱塘区下沙街道某路1号"
    data["sections"][4]["other_departments"] = ["qt-cyjt"]
    path = tmp_path / "qiantang.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rows, audit = row_counts(), AuditEntry.objects.count()

    preset.load(path=path)

    assert row_counts() == rows
    assert node("qt-st-yyg").address == "钱塘区下沙街道某路1号"
    assert [d.code for d in Section.objects.get(code="qt-finance").other_departments.all()] == ["qt-cyjt"]
    new = AuditEntry.objects.order_by("id")[audit:]
    assert [e.action for e in new] == ["update", "update"]


BROKEN = """
region: {code: broken, name: 测试区}
jurisdictions:
  - {code: br-zj, name: 浙江省, level: province}
  - {code: br-x, name: 某区, level: county, parent: br-zj}
departments:
  - {code: br-a, name: 某局, kind: government, adress: typo}
nodes:
  - {code: br-center, name: 中心, kind: center, jurisdiction: br-nowhere}
  - {code: br-st, kind: station, jurisdiction: br-zj, parent: br-later}
sections:
  - {code: br-s, name: 板块, node: br-center, lead_department: br-missing, other_departments: [br-a, br-ghost]}
zones:
  - {code: br-center, node: br-center, name: 专区}
"""


@pytest.mark.django_db
def test_a_broken_preset_names_the_file_and_entries_and_writes_nothing(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")

    with pytest.raises(ValueError) as caught:
        preset.load(path=path)

    message = str(caught.value)
    assert str(path) in message
    for expected in (
        "jurisdictions[1] (code 'br-x'): level 'county' is not one of",
        "departments[0] (code 'br-a'): unknown key 'adress'",
        "nodes[0] (code 'br-center'): jurisdiction 'br-nowhere' is not a jurisdiction defined earlier",
        "nodes[1] (code 'br-st'): missing required key 'name'",
        "nodes[1] (code 'br-st'): parent 'br-later' is not a node defined earlier in this file (list parents before",
        "sections[0] (code 'br-s'): lead_department 'br-missing' is not a department",
        "sections[0] (code 'br-s'): 'other_departments' names unknown department 'br-ghost'",
        "zones[0] (code 'br-center'): code 'br-center' is already used by nodes[0]",
    ):
        assert expected in message
    assert row_counts() == {m.__name__: 0 for m in MODELS}
    assert AuditEntry.objects.count() == 0


def test_bad_yaml_unknown_rules_and_wrong_file_names_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("region: [unclosed", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.yaml: not valid YAML"):
        preset.read(path=bad)

    rules = tmp_path / "rules.yaml"
    rules.write_text("region: {code: rules, name: 区, config: {revisit: 1, revisit_ratio: lots}}", encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        preset.read(path=rules)
    assert "config key 'revisit' is not a rule" in str(caught.value)
    assert "config 'revisit_ratio' must be like 0.2" in str(caught.value)

    misnamed = tmp_path / "misnamed.yaml"
    misnamed.write_text("region: {code: other, name: 区}", encoding="utf-8")
    with pytest.raises(ValueError, match="must equal the file name 'misnamed'"):
        preset.read(path=misnamed)

    with pytest.raises(ValueError, match="unknown preset 'atlantis'"):
        preset.read("atlantis")


@pytest.mark.django_db
def test_a_code_owned_by_another_region_rolls_the_whole_load_back(tmp_path):
    preset.load("xiaoshan")
    rows, audit = row_counts(), AuditEntry.objects.count()
    path = tmp_path / "thief.yaml"
    path.write_text(
        "region: {code: thief, name: 别区}\n"
        "jurisdictions:\n"
        "  - {code: th-zj, name: 浙江省, level: province}\n"
        "  - {code: xs-xs, name: 萧山区, level: district, parent: th-zj}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="code 'xs-xs' already belongs to region 'xiaoshan'"):
        preset.load(path=path)
    assert row_counts() == rows
    assert AuditEntry.objects.count() == audit
    assert not Region.objects.filter(code="thief").exists()


# ---- the command ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_lists_and_loads():
    out = StringIO()
    call_command("preset", "list", stdout=out)
    listing = out.getvalue()
    for name in PRESETS:
        assert name in listing
    assert "“1+10+N”" in listing

    out = StringIO()
    call_command("preset", "load", "taizhou", stdout=out)
    assert "Loaded preset taizhou: 1 regions, 12 jurisdictions, 22 departments, 11 nodes, 8 sections, 4 zones, " \
           "8 windows." in out.getvalue()
    assert Region.objects.filter(code="taizhou").exists()

    with pytest.raises(CommandError):
        call_command("preset", "load", "atlantis")


def test_presets_ship_inside_the_package():
    assert preset.PRESET_DIR == Path(preset.__file__).resolve().parent / "presets"
