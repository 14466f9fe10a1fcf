"""The service catalog (issue 11): the qiantang preset holds seed 003's 附件4 (174) and 附件5 (202) lists and loads
idempotently; the spreadsheet import checks every row first (a bad row imports nothing and is named), export →
import round-trips without loss; the API and the pages show the user's region's items with their filters."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qifu.accounts.models import Role
from qifu.audit.models import AuditEntry
from qifu.catalog import presets, spreadsheet
from qifu.catalog.models import ServiceItem
from qifu.org.models import Region

from .world import World

pytestmark = pytest.mark.django_db

FIELDS = ["code", "seq", "node_id", "section_id", "category1", "category2", "name", "provider_side", "content",
          "process", "units_text", "frequency", "target_users", "area", "term", "online_channel", "offline_channel",
          "contact"]


def snapshot(region):
    rows = list(ServiceItem.objects.filter(region=region).order_by("code").values(*FIELDS))
    units = sorted(ServiceItem.units.through.objects.filter(serviceitem__region=region).values_list(
        "serviceitem__code", "department__code"))
    return rows, units


def test_the_qiantang_preset_holds_the_seed_lists():
    """Counts from the file alone: 174 common items (附件4) and 202 per-node items (附件5: 75+24+21+29+33+20, 政府侧
    140, 企业侧 30, 社会侧 32 as the annex says), no contact from the seed."""
    items = presets.read("qiantang")["items"]
    common = [i for i in items if not i.get("node")]
    per_node = [i for i in items if i.get("node")]
    assert len(common) == 174 and [i["seq"] for i in common] == list(range(1, 175))
    assert len(per_node) == 202
    by_node = {}
    for i in per_node:
        by_node[i["node"]] = by_node.get(i["node"], 0) + 1
    assert by_node == {"qt-st-yyg": 75, "qt-st-dcxz": 24, "qt-st-qjzz": 21, "qt-st-ljgk": 29, "qt-st-zbq": 33,
                       "qt-st-xingu": 20}
    sides = [i["provider_side"] for i in per_node]
    assert (sides.count("government"), sides.count("market"), sides.count("society")) == (140, 30, 32)
    assert all(i["name"] and i["provider_side"] for i in items)
    assert all(re.fullmatch(r".专员 0571-0000\d{4}", i["contact"]) for i in items)  # fictional, never the seed's
    text = (presets.PRESET_DIR / "qiantang.yaml").read_text(encoding="utf-8")
    assert not re.search(r"1[3-9]\d{9}|\d{7,}", text.replace("0571-0000", ""))  # no number from the seed's texts
    for person in ("高凯炀", "汪磊", "周永存", "王婧", "章旭影", "何易雯", "朱伟锋", "徐老师", "翟婕"):  # seed contacts
        assert person not in text
    assert common[0]["name"] == "高层次人才专员服务" and common[0]["units"] == "区委人才办"
    assert common[173]["name"] == "各管线单位协调机制" and common[173]["provider_side"] == "market"


def test_preset_loads_once_and_round_trips_through_the_spreadsheet(tmp_path):
    from qifu.org import preset

    preset.load("qiantang")
    region = Region.objects.get(code="qiantang")
    assert ServiceItem.objects.filter(region=region, node__isnull=True).count() == 174
    assert ServiceItem.objects.filter(region=region, node__isnull=False).count() == 202
    first = ServiceItem.objects.get(code="qt-gx-001")
    assert list(first.units.values_list("code", flat=True)) == ["qt-rcb"] and first.section.code == "qt-talent"
    before, audit = snapshot(region), AuditEntry.objects.count()
    preset.load("qiantang")  # the second load changes nothing and leaves no audit entry
    assert snapshot(region) == before and AuditEntry.objects.count() == audit

    path = tmp_path / "catalog.xlsx"
    call_command("catalog", "export", "--region", "qiantang", "--output", str(path), stdout=io.StringIO())
    report = spreadsheet.import_items(path, region)
    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 376, [])
    assert AuditEntry.objects.count() == audit
    ServiceItem.units.through.objects.all().delete()
    ServiceItem.objects.all().delete()
    report = spreadsheet.import_items(path, region)  # from the file alone, the same catalog again
    assert report.created == 376 and snapshot(region) == before


@pytest.fixture
def w():
    w = World("ct")
    w.item = ServiceItem.objects.create(
        region=w.region, code="ct-gx-001", seq=1, section=w.section, category1="政策服务", category2="政策咨询",
        name="政策咨询", provider_side="government", content="为企业提供惠企政策查询服务。", process="受理-答复",
        units_text="发改局、驻区各银行", frequency="high", target_users="所有企业", area="全区",
        online_channel="https://example.org/policy", offline_channel="示范中心", contact="王老师 0571-00000001")
    w.item.units.set([w.dept])
    w.station_item = ServiceItem.objects.create(
        region=w.region, code="ct-station-001", seq=1, node=w.station, category1="人才服务", name="人才公寓对接",
        provider_side="market", units_text="人社局")
    other = Region.objects.create(code="ct-other", name="他区")
    ServiceItem.objects.create(region=other, code="other-001", name="他区事项", provider_side="society")
    return w


def write_rows(path, region, rows):
    """A template filled with `rows` (lists in the layout's column order, shorter lists padded)."""
    from openpyxl import load_workbook

    path.write_bytes(spreadsheet.workbook(region, []))
    book = load_workbook(path)
    for row in rows:
        book.active.append(row)
    book.save(path)


def test_a_bad_row_imports_nothing_and_is_named(w, tmp_path):
    path = tmp_path / "bad.xlsx"
    good = ["2", "政策服务", "政策解读", "政策解读★", "一图读懂", "", "发改局", "中频", "企业", "全区", "长期", "", "",
            "", "ct-gx-002"]
    write_rows(path, w.region, [good, ["3", "政策服务", "", "政策推送", "", "", "", "很高", "", "", "", "", "", "",
                                       "ct-gx-003"]])
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("catalog", "import", str(path), "--region", "ct", stdout=out)
    text = out.getvalue()
    assert "第 5 行" in text and "服务频次" in text and "★" in text  # row 5: no provider mark, a wrong frequency
    assert not ServiceItem.objects.filter(code__in=["ct-gx-002", "ct-gx-003"]).exists()

    write_rows(path, w.region, [good, good[:14] + ["ct-station-002", "ct-station"]])
    call_command("catalog", "import", str(path), "--region", "ct", "--dry-run", stdout=io.StringIO())
    assert not ServiceItem.objects.filter(code="ct-gx-002").exists()
    call_command("catalog", "import", str(path), "--region", "ct", stdout=io.StringIO())
    new = ServiceItem.objects.get(code="ct-gx-002")
    assert (new.node, new.section, new.frequency, list(new.units.all())) == (None, w.section, "medium", [w.dept])
    assert ServiceItem.objects.get(code="ct-station-002").node == w.station
    with pytest.raises(CommandError):  # rows of another node cannot come in as this one's
        call_command("catalog", "import", str(path), "--region", "ct", "--node", "ct-center", stdout=io.StringIO())
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(CommandError):
        call_command("catalog", "import", str(tmp_path / "junk.xlsx"), "--region", "ct", stdout=io.StringIO())


def test_api_lists_the_region_s_items_with_filters(w, client):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {w.token(w.users[Role.ENTERPRISE])}"}
    body = client.get("/api/v1/services", **auth).json()
    assert body["count"] == 2 and {i["code"] for i in body["items"]} == {"ct-gx-001", "ct-station-001"}
    row = next(i for i in body["items"] if i["code"] == "ct-gx-001")
    assert row["section"] == {"code": "ct-policy", "name": "政策服务板块"} and row["frequency"] == "high"
    assert row["provider_side"] == "government" and row["node"] is None
    assert row["units"] == [{"name": "发改局", "code": "ct-fgj"}, {"name": "驻区各银行", "code": None}]
    assert [i["code"] for i in client.get("/api/v1/services?node=common", **auth).json()["items"]] == ["ct-gx-001"]
    assert [i["code"] for i in client.get("/api/v1/services?node=ct-station", **auth).json()["items"]] == [
        "ct-station-001"]
    assert [i["code"] for i in client.get("/api/v1/services?section=ct-policy&q=惠企政策", **auth).json()["items"]] \
        == ["ct-gx-001"]
    assert client.get("/api/v1/services?q=没有这种服务", **auth).json()["count"] == 0
    assert client.get("/api/v1/services?provider_side=nobody", **auth).status_code == 400
    detail = client.get("/api/v1/services/ct-gx-001", **auth).json()
    assert detail["process"] == "受理-答复" and detail["guide"] is None and detail["contact"].startswith("王老师")
    assert client.get("/api/v1/services/other-001", **auth).status_code == 404  # another region's
    assert client.get("/api/v1/services").status_code == 401


def test_pages_for_enterprises_and_staff(w, client):
    client.force_login(w.users[Role.ENTERPRISE])
    page = client.get("/catalog/?node=common").content.decode()
    assert "政策咨询" in page and "人才公寓对接" not in page and "共性清单" in page
    assert "导入模板" not in page  # staff only
    item = client.get("/catalog/ct-gx-001/").content.decode()
    assert "受理-答复" in item and "发改局、驻区各银行" in item
    assert client.get("/catalog/other-001/").status_code == 404
    assert client.get("/catalog/template.xlsx").status_code == 403
    assert client.get("/catalog/?node=nowhere").status_code == 200  # a wrong filter: an empty list, not a 500
    xlsx = client.get("/catalog/?format=xlsx&provider_side=market")
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "人才公寓对接" in rows[1]
    client.force_login(w.users[Role.FRONT_DESK])
    template = client.get("/catalog/template.xlsx")
    assert template.status_code == 200 and b"PK" == template.content[:2]
    assert client.get("/catalog/layout.xlsx").status_code == 200


def test_guides_and_the_handbook(w, client):
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get("/catalog/ct-gx-001/guide/").status_code == 403
    client.force_login(w.users[Role.HANDLER])  # a handler of 发改局, a responsible unit of the item
    form = {"handling_unit": "发改局", "target": "所有企业", "conditions": "已在本区登记", "process": "线上申请-审核-答复",
            "time_limit": "5个工作日", "time_limit_days": "5", "legal_basis": "示范办法", "fees": "不收费",
            "online_channel": "", "offline_channel": "示范中心", "enquiry_phone": "0571-00000009", "faq": "", "notes": "",
            "materials-TOTAL_FORMS": "2", "materials-INITIAL_FORMS": "0", "materials-MIN_NUM_FORMS": "0",
            "materials-MAX_NUM_FORMS": "1000",
            "materials-0-name": "申请表", "materials-0-requirements": "加盖公章", "materials-0-copies": "2",
            "materials-0-source": "申请人自备", "materials-0-mandatory": "on", "materials-0-sort_order": "0",
            "materials-1-name": "", "materials-1-copies": "1", "materials-1-sort_order": "0",
            "materials-1-mandatory": "on"}
    assert client.post("/catalog/ct-gx-001/guide/", form).status_code == 302
    assert client.get("/catalog/ct-station-001/guide/").status_code == 403  # 人社局's item
    page = client.get("/catalog/ct-gx-001/").content.decode()
    assert "5个工作日" in page and "申请表" in page
    auth = {"HTTP_AUTHORIZATION": f"Bearer {w.token(w.users[Role.ENTERPRISE])}"}
    guide = client.get("/api/v1/services/ct-gx-001", **auth).json()["guide"]
    assert guide["time_limit_days"] == 5 and guide["materials"] == [
        {"name": "申请表", "requirements": "加盖公章", "copies": 2, "source": "申请人自备", "mandatory": True}]

    from docx import Document

    client.force_login(w.users[Role.ENTERPRISE])
    response = client.get("/handbook/?region=ct")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    doc = Document(io.BytesIO(response.content))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "一、政策服务板块" in headings and "政策咨询★" in headings
    assert any(h.startswith("人才公寓对接▲") for h in headings)  # a per-node item, with its node
    assert 'TOC \\o "1-2"' in doc.element.xml and "updateFields" in doc.settings.element.xml
    assert "申请表" in "".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    node_doc = Document(io.BytesIO(client.get("/handbook/?region=ct&node=ct-center").content))
    assert "人才公寓对接▲" not in [p.text for p in node_doc.paragraphs]  # another node's item is not in it
    assert client.get("/handbook/?region=ct-other").status_code == 404


def test_the_import_on_the_web(w, client, tmp_path):
    path = tmp_path / "web.xlsx"
    write_rows(path, w.region, [["7", "政策服务", "", "政策兑现★", "", "", "发改局", "低频", "", "", "年度更新", "", "",
                                 "", "ct-gx-007"], ["8", "", "", "没有标记"]])
    client.force_login(w.users[Role.HANDLER])
    assert client.get("/catalog/import/").status_code == 403
    client.force_login(w.users[Role.DISPATCHER])
    with path.open("rb") as f:
        page = client.post("/catalog/import/", {"file": f}).content.decode()
    assert "第 5 行" in page and not ServiceItem.objects.filter(code="ct-gx-007").exists()
    write_rows(path, w.region, [["7", "政策服务", "", "政策兑现★", "", "", "发改局", "低频", "", "", "年度更新", "", "",
                                 "", "ct-gx-007"]])
    with path.open("rb") as f:
        page = client.post("/catalog/import/", {"file": f, "node": "ct-station"}).content.decode()
    item = ServiceItem.objects.get(code="ct-gx-007")
    assert "新增 1 项" in page and item.node == w.station and item.term == "yearly"
