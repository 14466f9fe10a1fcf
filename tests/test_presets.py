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
from qifu.org.models import Body, BodyMembership, Department, Jurisdiction, Post, Region, Section, ServiceNode, Window, Zone

MODELS = (Region, Jurisdiction, Department, ServiceNode, Section, Zone, Window, Post, Body)
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


def department_names(region: str) -> set[str]:
    return set(Department.objects.filter(region__code=region).values_list("name", flat=True))


def bundle_counts(name: str) -> dict[str, int]:
    files = preset.bundle(name)
    return {"regions": len(files), **{kind: sum(len(d[kind]) for d in files) for kind in preset.SPEC}}


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
def test_qiantang_policy_section_has_its_20_policy_departments_and_platforms():
    """Seed 003 lines 809/831: 区发展改革局 leads "牵头部门和20个涉政策部门、平台" (counted, not listed there)."""
    preset.load("qiantang")
    policy = Section.objects.get(code="qt-policy")
    assert policy.lead_department.name == "区发展改革局"
    members = {d.name for d in policy.other_departments.all()}
    assert len(members) == 20
    platforms = {"医药港管理办公室", "大创小镇管理办公室", "综合保税区管理办公室", "钱塘芯谷管理办公室",
                 "临江高科园管理办公室", "前进智造园管理办公室"}
    assert platforms <= members  # the six industry platforms, each with a 政策服务 row in its station list
    assert {"区经信科技局", "区委组织部（人才办）", "区财政局", "区商务局", "区税务局", "区市场监管局",
            "区行政审批局", "区人力社保局（区委编办）", "市规划资源局钱塘分局"} <= members
    assert "区发展改革局" not in members  # the lead is not its own member


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
def test_qiantang_center_is_at_jinsha_avenue_600_with_a_second_hall_at_jiangdong_avenue_3899():
    """Seed 003 line 1567 (税务窗口: 下沙行政服务中心 金沙大道600号, 大江东行政服务中心 江东大道3899号) and lines
    2046–2057 (商事登记窗口 "金沙大道600号/江东大道3899号")."""
    preset.load("qiantang")
    center, hall = node("qt-center"), node("qt-hall-djd")
    assert center.address == "钱塘区金沙大道600号"
    assert (hall.name, hall.address, hall.parent_id) == ("大江东行政服务中心", "钱塘区江东大道3899号", center.pk)
    assert [w.name for w in hall.windows.order_by("sort_order")] == ["商事登记窗口", "税务窗口"]


@pytest.mark.django_db
def test_qiantang_hall_has_the_one_window_areas_and_windows():
    """Seed 003 政务服务“一窗通办”工作机制 (lines 471–499)."""
    preset.load("qiantang")
    assert list(Zone.objects.filter(region__code="qiantang").values_list("name", flat=True)) == [
        "综合服务区（兜底办窗口）", "自助网办服务区", "政务服务综合受理服务区", "增值服务专区",
    ]
    accept = Zone.objects.get(code="qt-zone-accept")
    assert [w.name for w in accept.windows.order_by("sort_order")] == [
        "企业开办证照联办综合受理窗口", "安居置业综合受理窗口", "纳税服务综合受理窗口", "劳动用工服务综合受理窗口",
        "公安执法综合受理窗口",
    ]


@pytest.mark.django_db
def test_qiantang_has_one_window_per_section():
    """Seed 003: each section's "七个一" includes "一个服务窗口" (lines 264–352, 2547); 政策服务专项窗口 (841),
    金融服务窗口 (887), 法治窗口 (2006); the 兜底 section's window is the 兜底办专窗."""
    preset.load("qiantang")
    value = Zone.objects.get(code="qt-zone-value")
    assert value.name == "增值服务专区"
    assert [w.name for w in value.windows.order_by("sort_order")] == [
        "项目服务窗口", "人才服务窗口", "科创服务窗口", "政策服务专项窗口", "金融服务窗口", "开放服务窗口", "法治服务窗口",
        "“8590”诉求服务窗口",
    ]
    assert Window.objects.filter(code="qt-win-fallback", name="“兜底办”专窗").exists()
    sections = Section.objects.filter(region__code="qiantang").count()
    assert value.windows.count() + 1 == sections == 9


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
    # Lines 20–24 name 公安, 市场监管, 税务 and 司法公证; lines 15 and 34 the 总部经济专班 and the 审管办; the two
    # pilot parks are platforms that lead the cases of their area (line 34).
    assert department_names("xiaoshan") == {"区审管办", "区总部经济专班", "区公安分局", "区市场监管局", "区税务局", "区司法局",
                                            "杭州湾信息港小镇", "中国（浙江）自贸创新中心"}
    assert set(Department.objects.filter(region=region, kind="platform").values_list("name", flat=True)) == {
        "杭州湾信息港小镇", "中国（浙江）自贸创新中心"}
    assert set(Window.objects.filter(region=region).values_list("name", flat=True)) == {
        "涉企税务综合受理窗口", "“办不成事”反映窗口", "司法公证专窗",
    }
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
def test_xiaoshan_zones_carry_their_lead_unit_and_chief_reception_posts(client):
    """Seed 000 lines 19–21 and 31: the 一事联办 and 新电商 zones each have 1名行政办事员 as 首席接待专员; the police
    zone is run by 公安; the park stations' 首席服务家 (line 34). Posts are vacant: people are appointed, not preset."""
    from qifu.accounts.models import ApiToken, Role, User

    preset.load("xiaoshan")
    police = Zone.objects.get(code="xs-zone-police")
    assert police.lead_department.name == "区公安分局"
    reception = Post.objects.filter(title="首席接待专员").select_related("zone")
    assert {p.zone.name for p in reception} == {"“一事联办”服务专区", "新电商服务专区"}
    assert {p.node.code for p in Post.objects.filter(title="首席服务家")} == {"xs-st-xgx", "xs-st-ftz"}
    assert Post.objects.get(title="助企联络官").zone == police
    assert not Post.objects.filter(holder__isnull=False).exists()

    # Appointing a chief reception specialist shows in the API and the organization page, like a section's chief.
    region = Region.objects.get(code="xiaoshan")
    chief = User.objects.create_user("xs-clerk", password="pw-12345", display_name="接待员甲（测试）", region=region,
                                     node=node("xs-center"))
    chief.grant(Role.FRONT_DESK)
    Zone.objects.filter(code="xs-zone-joint").update(chief_receptionist=chief)
    _, key = ApiToken.objects.issue(chief)
    zones = client.get("/api/v1/zones", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    by_code = {z["code"]: z for z in zones["items"]}
    assert zones["count"] == 3
    assert (by_code["xs-zone-police"]["lead_department"], by_code["xs-zone-police"]["lead_department_name"]) == (
        "xs-gafj", "区公安分局")
    assert by_code["xs-zone-joint"]["chief_receptionist"] == "接待员甲（测试）"
    assert by_code["xs-zone-joint"]["node"] == "xs-center"
    client.force_login(chief)
    page = client.get("/org/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "首席接待专员" in page and "接待员甲（测试）" in page and "区公安分局" in page

    # Reloading the preset leaves appointments alone: it never names people.
    Post.objects.filter(code="xs-post-joint-reception").update(holder=chief)
    audit = AuditEntry.objects.count()
    preset.load("xiaoshan")
    assert Post.objects.get(code="xs-post-joint-reception").holder == chief
    assert Zone.objects.get(code="xs-zone-joint").chief_receptionist == chief
    assert AuditEntry.objects.count() == audit


@pytest.mark.django_db
def test_taizhou_is_one_city_center_and_ten_county_centers_with_4_zones_and_8_windows():
    """Seed 002 §三(一)1 "1+10+N", §三(一)3 四区八窗, and the 办不成事/诉求 window of §三(三)3."""
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
        "数据服务窗口", "“办不成事”反映窗口（诉求窗口）",
    ]
    assert Window.objects.get(code="tz-win-appeals").zone.name == "诉求询导区"  # line 81
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
        "国家金融监督管理总局台州监管分局", "人民银行台州分行", "市大数据局",
    }


@pytest.mark.django_db
def test_taizhou_has_every_unit_named_for_the_service_scenarios():
    """Seed 002 §三(四), lines 87–101: the responsible units of the six service scenarios."""
    preset.load("taizhou")
    named = {
        "市政务服务办", "市市场监管局",  # 87
        "市委改革办", "市委政法委", "市大数据局", "市公安局", "市自然资源规划局",  # 89
        "市建设局", "市人防办", "市消防支队",  # 93
        "国家金融监督管理总局台州监管分局",  # 95 (line 57 spells it 国家金融监督管理局台州分行: the same unit)
        "共青团台州市委",  # 97
        "市商务局", "市侨办", "市工商联",  # 101
    }
    assert named <= department_names("taizhou")
    assert not Department.objects.filter(name="国家金融监督管理局台州分行").exists()  # one unit, not two


@pytest.mark.django_db
def test_huzhou_has_city_district_subcenter_and_station_levels():
    """Seed 001 §二 (市级、区县、驿站层面) and seed 004 (企服驿站, Wuxing's 分中心 — in the wuxing preset it includes)."""
    preset.load("huzhou")
    city = node("hz-center")
    assert (city.name, city.parent, city.jurisdiction.name) == ("湖州市企业综合服务中心", None, "湖州市")
    districts = ServiceNode.objects.filter(kind="center", parent=city).select_related("jurisdiction", "region")
    assert {d.jurisdiction.name for d in districts} == {"吴兴区", "南浔区", "德清县", "长兴县", "安吉县"}
    assert {d.region.code for d in districts if d.jurisdiction.name == "吴兴区"} == {"wuxing"}
    subcenters = ServiceNode.objects.filter(kind="subcenter", parent__parent=city)
    assert {s.name for s in subcenters} == {"物流装备企服分中心", "童装企服分中心", "美妆企服分中心"}
    assert node("wx-center").jurisdiction.parent == city.jurisdiction  # 吴兴区 hangs under 湖州市: one tree
    xiaopu, lianshi, wanda = node("hz-st-xiaopu"), node("hz-st-lianshi"), node("hz-st-wanda")
    assert (xiaopu.kind, xiaopu.station_type, xiaopu.jurisdiction.parent.name) == ("station", "township", "长兴县")
    assert (lianshi.station_type, lianshi.parent.code) == ("township", "hz-nanxun-center")
    assert wanda.station_type == "business_district"
    region = Region.objects.get(code="huzhou")
    assert "94" in region.description
    assert region.rule("revisit_ratio") == 1.0  # 001 §四(五): 全量回访
    assert Department.objects.filter(region=region, name="市政务办").exists()


@pytest.mark.django_db
def test_huzhou_has_the_sections_the_seed_presupposes_with_lead_units():
    """Seed 001 line 19 (板块牵头部门), 26 (政策、人才、金融、科技、法律…各增值板块), 31 (各板块牵头单位); leads from the
    coordination group's office (附1 二) and, for 政策, §三7 (line 27)."""
    preset.load("huzhou")
    assert sections_with_leads("huzhou") == {
        "政策服务板块": "市经信局",
        "人才服务板块": "市人力社保局",
        "金融服务板块": "市府办（金融口）",
        "科创服务板块": "市科技局",
        "法治服务板块": "市司法局",
    }
    assert {s.node.code for s in Section.objects.filter(region__code="huzhou")} == {"hz-center"}
    policy = Section.objects.get(code="hz-policy")
    assert {d.name for d in policy.other_departments.all()} == {"市财政局", "市政务办", "市数据局"}


@pytest.mark.django_db
def test_wuxing_is_1_plus_3_plus_n_under_the_city_center():
    """Seed 004: 区级企服中心 + 物流装备、童装、美妆 分中心 + 企服驿站, under the Huzhou city center."""
    preset.load("wuxing")
    region = Region.objects.get(code="wuxing")
    assert region.model_name == "1+3+N"
    city, district = node("hz-center"), node("wx-center")
    assert (city.parent, city.jurisdiction.level, city.region.code) == (None, "city", "huzhou")
    assert (district.parent_id, district.jurisdiction.name, district.region_id) == (city.pk, "吴兴区", region.pk)
    children = district.children.order_by("kind", "code")
    assert [c.name for c in children if c.kind == "subcenter"] == ["美妆企服分中心", "童装企服分中心", "物流装备企服分中心"]
    assert {c.name for c in children if c.kind == "station"} == {"知识产权中心", "青创工场", "新青年服务中心", "吴所不调"}
    assert all(c.region_id == region.pk for c in children)
    assert node("wx-sub-kidswear").jurisdiction.name == "织里镇"
    assert list(Section.objects.filter(region=region).values_list("name", flat=True)) == ["开放板块"]


@pytest.mark.django_db
def test_wuxing_has_the_units_that_handle_its_appeals():
    """Seed 004 line 29 (开放板块联动织里镇，协调市海关), line 28 (5家律师事务所、3家人才招聘培训机构、1家产品检测检验
    中心), line 33 (企业家协会)."""
    preset.load("wuxing")
    units = Department.objects.filter(region__code="wuxing", kind__in=["government", "street"])
    assert {(d.name, d.short_name, d.kind) for d in units} == {("织里镇人民政府", "织里镇", "street"),
                                                              ("湖州海关", "市海关", "government")}
    third = Department.objects.filter(region__code="wuxing", kind="third_party")
    by_category: dict[str, int] = {}
    for d in third:
        by_category[d.category] = by_category.get(d.category, 0) + 1
    assert by_category == {"律师事务所": 5, "人才招聘培训机构": 3, "检验检测机构": 1, "社会组织（第三方评价）": 1}
    assert third.filter(name="企业家协会").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("first,second", [("huzhou", "wuxing"), ("wuxing", "huzhou")])
def test_huzhou_and_wuxing_share_one_city_center_and_one_set_of_wuxing_nodes(first, second):
    """Each place is defined once: loading both presets, in either order, creates each node once, and the second
    load changes nothing."""
    preset.load(first)
    rows, audit = row_counts(), AuditEntry.objects.count()
    preset.load(second)
    assert row_counts() == rows
    assert AuditEntry.objects.count() == audit
    names = list(ServiceNode.objects.values_list("name", flat=True))
    assert len(names) == len(set(names))
    assert names.count("湖州市企业综合服务中心") == 1 and names.count("吴兴区企业综合服务中心") == 1
    for level in ("province", "city", "district"):
        jurisdictions = list(Jurisdiction.objects.filter(level=level).values_list("name", flat=True))
        assert len(jurisdictions) == len(set(jurisdictions)), level
    assert set(Region.objects.values_list("code", flat=True)) == {"huzhou", "wuxing"}


# ---- loading ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", PRESETS)
def test_loading_twice_changes_nothing(name):
    counts = preset.load(name)
    assert counts == bundle_counts(name)
    assert counts["regions"] == (2 if name in ("huzhou", "wuxing") else 1)
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
    assert Section.objects.count() == 9 + 8 + 8 + 5 + 1
    assert ServiceNode.objects.count() == sum(len(preset.read(name)["nodes"]) for name in PRESETS)


@pytest.mark.django_db
def test_a_changed_preset_updates_only_what_changed(tmp_path):
    preset.load("qiantang")
    data = yaml.safe_load((preset.PRESET_DIR / "qiantang.yaml").read_text(encoding="utf-8"))
    next(n for n in data["nodes"] if n["code"] == "qt-st-yyg")["address"] = "钱塘区下沙街道某路1号"
    next(s for s in data["sections"] if s["code"] == "qt-finance")["other_departments"] = ["qt-cyjt"]
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


CITY = """
region: {code: city, name: 某市}
include: [town]
jurisdictions:
  - {code: c-zj, name: 浙江省, level: province}
  - {code: c-city, name: 某市, level: city, parent: c-zj}
nodes:
  - {code: c-center, name: 某市中心, kind: center, jurisdiction: c-city}
"""
TOWN = """
region: {code: town, name: 某区}
include: [city]
jurisdictions:
  - {code: t-district, name: 某区, level: district, parent: c-city}
departments:
  - {code: t-dept, name: 某局}
nodes:
  - {code: t-center, name: 某区中心, kind: center, parent: c-center, jurisdiction: t-district}
  - {code: t-station, name: 某驿站, kind: station, parent: t-center, jurisdiction: t-district}
"""


@pytest.mark.django_db
def test_presets_that_include_each_other_load_together_and_each_entry_once(tmp_path):
    (tmp_path / "city.yaml").write_text(CITY, encoding="utf-8")
    (tmp_path / "town.yaml").write_text(TOWN, encoding="utf-8")

    counts = preset.load(path=tmp_path / "town.yaml")  # the child's file first: parents still come first

    assert counts == {"regions": 2, "jurisdictions": 3, "departments": 1, "nodes": 3, "sections": 0, "zones": 0,
                      "windows": 0, "posts": 0, "bodies": 0}
    town = node("t-center")
    assert (town.parent.code, town.region.code, town.parent.region.code) == ("c-center", "town", "city")
    assert Jurisdiction.objects.get(code="t-district").path == "/c-zj/c-city/t-district/"
    rows, audit = row_counts(), AuditEntry.objects.count()
    assert preset.load(path=tmp_path / "city.yaml") == counts
    assert (row_counts(), AuditEntry.objects.count()) == (rows, audit)


def test_an_include_must_exist_and_an_entry_is_defined_once(tmp_path):
    (tmp_path / "city.yaml").write_text(CITY, encoding="utf-8")
    (tmp_path / "town.yaml").write_text(
        TOWN.replace("include: [city]", "include: [city, ghost]")
        + "  - {code: c-center, name: 又一个中心, kind: center, jurisdiction: t-district}\n"
        + "  - {code: t-lost, name: 迷路驿站, kind: station, parent: c-nowhere, jurisdiction: t-district}\n",
        encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        preset.read(path=tmp_path / "town.yaml")
    message = str(caught.value)
    assert "include: there is no preset 'ghost' next to this file" in message
    assert "nodes[2] (code 'c-center'): code 'c-center' is already defined in an included preset" in message
    assert ("nodes[3] (code 't-lost'): parent 'c-nowhere' is not a node defined earlier in this file or in the "
            "presets it includes") in message

    (tmp_path / "self.yaml").write_text("region: {code: self, name: 区}\ninclude: [self]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="a preset cannot include itself"):
        preset.read(path=tmp_path / "self.yaml")


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


# ---- each preset runs the loop end to end ------------------------------------------------------------------
# A preset alone in an empty database, people added the way an administrator adds them (qifu createsuperuser,
# the admin's user pages, qifu token create), an enterprise registered by the API — then one appeal from intake
# to closure through the API, assigned to a unit the preset created.

LOOPS = {  # preset: where the staff sit, the enterprise's place, the section and units the appeal goes to
    "xiaoshan": {"node": "xs-center", "jurisdiction": "xs-park-xgx", "division": "330109", "section": "xs-appeals",
                 "lead": "xs-gafj", "assisting": ["xs-sfj"], "title": "直播带货出境参展证件加急办理"},
    "qiantang": {"node": "qt-center", "jurisdiction": "qt-xiasha", "division": "330114", "section": "qt-policy",
                 "lead": "qt-fgj", "assisting": ["qt-jxkj"], "title": "领飞计划政策兑现咨询"},
    "taizhou": {"node": "tz-center", "jurisdiction": "tz-jiaojiang", "division": "331002", "section": "tz-policy",
                "lead": "tz-jxj", "assisting": ["tz-czj"], "title": "技改补助申报咨询"},
    "huzhou": {"node": "hz-center", "jurisdiction": "hz-changxing", "division": "330522", "section": "hz-policy",
               "lead": "hz-jxj", "assisting": ["hz-czj"], "title": "政策计算器兑付进度咨询"},
    "wuxing": {"node": "wx-center", "jurisdiction": "wx-zhili", "division": "330502", "section": "wx-opening",
               "lead": "wx-zhili-gov", "assisting": ["wx-hg"], "title": "童装出口通关便利"},
}


def _form_data(form) -> dict:
    """What a browser would post back for an admin form as rendered (its current values)."""
    from django import forms

    data: dict = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        key, value = form.add_prefix(name), form[name].value()
        if isinstance(field.widget, forms.MultiWidget):
            for i, part in enumerate(field.widget.decompress(value)):
                if part is not None:
                    data[f"{key}_{i}"] = str(part)
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, (list, tuple)):
            data[key] = [str(v) for v in value]
        elif value is not None:
            data[key] = str(value)
    return data


def _admin_save(client, url: str, roles: tuple[str, ...] = (), **values) -> None:
    """Fill in an admin page as shown, change `values`, add role grants in the inline, and save it."""
    page = client.get(url)
    assert page.status_code == 200, url
    data = _form_data(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.initial_forms:
            data.update(_form_data(form))
        if roles:
            start = formset.initial_form_count()
            data[f"{formset.prefix}-TOTAL_FORMS"] = str(start + len(roles))
            for i, role in enumerate(roles, start):
                data[f"{formset.prefix}-{i}-role"] = role
    data.update({k: str(v) for k, v in values.items()})
    response = client.post(url, data)
    errors = response.context["adminform"].form.errors if response.status_code == 200 else None
    assert response.status_code == 302, errors


def _add_user(client, username: str, role: str, **place):
    """An administrator adds a user with a role, then places it in the organization (region, node, unit…)."""
    from qifu.accounts.models import User

    _admin_save(client, "/admin/accounts/user/add/", roles=(role,), username=username, usable_password="true",
                password1="Kx9-loop-pass", password2="Kx9-loop-pass")
    user = User.objects.get(username=username)
    _admin_save(client, f"/admin/accounts/user/{user.pk}/change/", display_name=f"{username}（测试）", **place)
    user = User.objects.get(pk=user.pk)
    assert user.has_role(role)
    return user


def _token(username: str) -> str:
    out = StringIO()
    call_command("token", "create", username, stdout=out)
    return out.getvalue().strip()


def _api(client, token: str, path: str, body: dict | None = None):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is None:
        return client.get(path, **auth)
    return client.post(path, body, content_type="application/json", **auth)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(LOOPS))
def test_a_preset_alone_runs_an_appeal_from_intake_to_closure(name, client, monkeypatch):
    from qifu.accounts.models import User
    from qifu.appeals.models import Appeal
    from qifu.lib import uscc

    loop = LOOPS[name]
    preset.load(name)
    region = Region.objects.get(code=name)
    center, lead = ServiceNode.objects.get(code=loop["node"]), Department.objects.get(code=loop["lead"])
    section = Section.objects.get(code=loop["section"])
    assert center.region_id == lead.region_id == section.region_id == region.pk  # all from the preset

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Kx9-admin-pass")
    call_command("createsuperuser", interactive=False, username="root", email="root@example.invalid",
                 stdout=StringIO())
    client.force_login(User.objects.get(username="root"))
    _add_user(client, "disp", "dispatcher", region=region.pk, node=center.pk)
    _add_user(client, "hand", "handler", region=region.pk, department=lead.pk)
    dispatcher, handler = _token("disp"), _token("hand")

    code = uscc.make("91", loop["division"], "MA2L0001")
    made = _api(client, dispatcher, "/api/v1/enterprises", {
        "uscc": code, "name": "闭环演示科技有限公司", "jurisdiction": loop["jurisdiction"], "industry": "C3670"})
    assert made.status_code == 201, made.content
    _add_user(client, "boss", "enterprise", region=region.pk, enterprise=made.json()["id"])
    owner = _token("boss")
    client.logout()

    filed = _api(client, dispatcher, "/api/v1/appeals", {
        "enterprise_uscc": code, "title": loop["title"], "description": "企业来电反映，需要协调办理。",
        "channel": "hotline", "category": "single", "contact_name": "联系人（测试）", "contact_phone": "13800000000"})
    assert filed.status_code == 201, filed.content
    appeal = filed.json()
    assert appeal["status"] == "accepted" and appeal["received_node"] == loop["node"]

    def act(token: str, action: str, **body) -> dict:
        response = _api(client, token, f"/api/v1/appeals/{appeal['id']}/actions/{action}",
                        {"version": act.version, **body})
        assert response.status_code == 200, (action, response.content)
        act.version = response.json()["version"]
        return response.json()

    act.version = appeal["version"]
    act(dispatcher, "classify", category="single", scope="point", section=loop["section"])
    assigned = act(dispatcher, "assign", lead_department=loop["lead"], assisting_departments=loop["assisting"])
    assert (assigned["status"], assigned["lead_department"]) == ("assigned", loop["lead"])
    assert assigned["assisting_departments"] == loop["assisting"]
    seen = _api(client, handler, f"/api/v1/appeals?lead_department={loop['lead']}").json()
    assert [a["id"] for a in seen["items"]] == [appeal["id"]]  # the unit's handler finds the case
    act(handler, "reply", resolution="solved", text="已协调办结，结果已告知企业。")
    act(handler, "mark_handled")
    closed = act(owner, "confirm", solved=True, rating=5, comment="满意")
    assert closed["status"] == "closed"
    assert [e["action"] for e in closed["events"]] == [
        "submit", "accept", "classify", "assign", "reply", "mark_handled", "confirm"]
    row = Appeal.objects.get(pk=appeal["id"])
    assert (row.region_id, row.section_id, row.lead_department_id) == (region.pk, section.pk, lead.pk)
    assert row.number.startswith(region.rule("appeal_number_prefix"))


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
    assert "Loaded preset taizhou: 1 regions, 12 jurisdictions, 30 departments, 11 nodes, 8 sections, 4 zones, " \
           "9 windows, 2 bodies." in out.getvalue()
    assert Region.objects.filter(code="taizhou").exists()

    with pytest.raises(CommandError):
        call_command("preset", "load", "atlantis")


def test_the_readme_table_gives_each_presets_counts():
    readme = (Path(preset.__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name in PRESETS:
        row = re.search(rf"^\| `{name}` [^|]*\|([^|]*)\|(.*)\|$", readme, re.M)
        assert row, name
        data = preset.read(name)
        assert row.group(1).strip() == data["region"]["model_name"]
        assert [int(n) for n in row.group(2).split("|")] == [len(data[kind]) for kind in preset.SPEC], name


def test_presets_ship_inside_the_package():
    assert preset.PRESET_DIR == Path(preset.__file__).resolve().parent / "presets"


# ---- governance bodies, streets and platforms (issue 8) -----------------------------------------------------


def bodies(region: str) -> dict[str, tuple]:
    return {b.name: (b.kind, b.escalation_level, b.function, b.parent.name if b.parent else None,
                     b.lead_department.name if b.lead_department else None)
            for b in Body.objects.filter(region__code=region).select_related("parent", "lead_department")}


@pytest.mark.django_db
def test_qiantang_has_the_task_force_with_its_five_groups_the_ladder_and_the_fallback_task_force():
    """Seed 003 lines 1134, 1170, 1206 (专班, 5 groups, office at 区经信科技局), 1180–1194 and 1311–1333 (the four
    levels), 1619/1647/1655 (“兜底办”专班)."""
    preset.load("qiantang")
    found = bodies("qiantang")
    assert found == {
        "区企业服务直通车（千名干部助千企）工作专班": ("task_force", 2, "", None, "区经信科技局"),
        "综合组": ("group", None, "general", "区企业服务直通车（千名干部助千企）工作专班", None),
        "问题协调组": ("group", None, "coordination", "区企业服务直通车（千名干部助千企）工作专班", None),
        "数智攻坚组": ("group", None, "digital", "区企业服务直通车（千名干部助千企）工作专班", None),
        "宣传推广组": ("group", None, "publicity", "区企业服务直通车（千名干部助千企）工作专班", None),
        "督查考评组": ("group", None, "inspection", "区企业服务直通车（千名干部助千企）工作专班", None),
        "企业服务问题协调周例会": ("coordination_meeting", 3, "", None, "区经信科技局"),
        "区主要领导（区委常委会、区政府常务会）": ("principal_leaders", 4, "", None, None),
        "“兜底办”专班": ("fallback_task_force", None, "", None, "区行政审批局"),
    }
    region = Region.objects.get(code="qiantang")
    assert Body.for_function(region, "inspection").get().name == "督查考评组"
    assert [Body.deciding_level(region, n).kind for n in (2, 3, 4)] == [
        "task_force", "coordination_meeting", "principal_leaders"]
    staffing = [int(re.search(r"(\d)人", b.description).group(1)) for b in Body.objects.filter(
        region=region, kind="group").order_by("code")]
    assert sorted(staffing) == sorted([4, 6, 3, 2, 3])  # line 1134
    assert "29位领导" in Body.objects.get(code="qt-ddb").description
    assert not BodyMembership.objects.exists()  # presets name no people


@pytest.mark.django_db
def test_qiantang_streets_and_platforms_are_units_that_can_lead_a_case():
    """Seed 003 lines 1166, 1303: platforms and streets lead whistle cases; 附件2 names the seven streets."""
    preset.load("qiantang")
    streets = set(Department.objects.filter(region__code="qiantang", kind="street").values_list("name", flat=True))
    assert streets == {"下沙街道", "白杨街道", "河庄街道", "义蓬街道", "新湾街道", "临江街道", "前进街道"}
    platforms = set(Department.objects.filter(region__code="qiantang", kind="platform").values_list("name", flat=True))
    assert platforms == {"医药港管理办公室", "大创小镇管理办公室", "综合保税区管理办公室", "钱塘芯谷管理办公室",
                         "临江高科园管理办公室", "前进智造园管理办公室"}


@pytest.mark.django_db
def test_the_other_regions_have_the_bodies_their_seeds_name():
    for name in ("huzhou", "xiaoshan", "taizhou"):
        preset.load(name)
    assert bodies("huzhou") == {
        "加强湖州市企业综合服务中心建设推进协调小组": ("coordination_group", 2, "", None, "市政务办"),
        "涉企问题解决联席会议": ("coordination_meeting", 3, "", None, "市政务办"),
    }
    assert {n: v[:2] for n, v in bodies("wuxing").items()} == {
        "区“亲清直通车”": ("coordination_meeting", 2), "区委区政府主要领导（“政企面对面”）": ("principal_leaders", 3)}
    assert {n: v[:2] for n, v in bodies("taizhou").items()} == {
        "疑难问题集中会商": ("coordination_meeting", 2), "诉求窗口兜底服务": ("fallback_task_force", None)}
    assert {n: v[:2] for n, v in bodies("xiaoshan").items()} == {"诉求兜底服务团队": ("fallback_task_force", None)}


def test_bodies_in_a_preset_are_checked(tmp_path):
    data = yaml.safe_load((preset.PRESET_DIR / "taizhou.yaml").read_text(encoding="utf-8"))
    data["bodies"] += [
        {"code": "tz-x1", "name": "甲", "kind": "task_force", "escalation_level": 2},
        {"code": "tz-x2", "name": "乙", "kind": "committee"},
        {"code": "tz-x3", "name": "丙", "kind": "group", "escalation_level": 5, "parent": "tz-none"},
        {"code": "tz-x4", "name": "丁", "kind": "group", "function": "督查", "members": ["someone"]},
    ]
    path = tmp_path / "taizhou.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError) as error:
        preset.read(path=path)
    message = str(error.value)
    assert "escalation_level 2 is already decided by 'tz-jzhs'" in message
    assert "kind 'committee' is not one of" in message
    assert "'escalation_level' must be one of 2, 3, 4, got 5" in message
    assert "parent 'tz-none' is not a bodie defined earlier" in message or "parent 'tz-none'" in message
    assert "function '督查' must be a lowercase word" in message
    assert "unknown key 'members'" in message
