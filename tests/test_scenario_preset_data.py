"""The 钱塘 “一类事” preset (seed 003 附件6/附件7) as plain data: schema, enums, and every item still there.

No database: the YAML is read with yaml.safe_load. The per-scenario counts were taken from the seed by hand
(twice); an edit that drops or adds an item must update COUNTS on purpose.
"""

import re
from pathlib import Path

import pytest
import yaml

import qifu

PRESET = Path(qifu.__file__).parent / "scenarios" / "presets" / "qiantang.yaml"

LIFECYCLE_STAGES = {
    "market_entry", "business_location", "utility_services", "labor", "financial_services",
    "international_trade", "taxation", "dispute_resolution", "market_competition", "insolvency",
}  # seed 003 line 2590: the ten B-READY stages
ORIGINS = {"lifecycle", "chain_node", "high_frequency"}
CHAIN_NODES = ["开办", "研发", "临床", "生产", "销售"]  # 附件7's five (line 105 says six: no 产品注册 in the annex)
KINDS = {"basic", "value_added"}
SIDES = {"government", "market", "social", "enterprise"}
SCENARIO_KEYS = {"code", "name", "annex", "origin", "demand", "online_path", "offline_path", "reform_measures",
                 "stages", "items"}
OPTIONAL_KEYS = {"lifecycle_stage", "chain", "chain_node", "note"}
ITEM_KEYS = {"name", "kind", "sides", "units", "stage"}

# code → (basic, value_added), counted from the seed (附件6 lines 2364–2416, 附件7 lines 2417–2450)
COUNTS = {
    "market-entry": (6, 9),
    "industrial-project-start": (18, 25),  # line 103 says 18 + 21; the annex lists 24 政府侧 + 1 社会侧
    "commercial-residential-project-start": (19, 19),
    "factory-renovation": (12, 20),
    "project-completion-acceptance": (18, 7),  # 8 numbered + 10 其他有关验收事项
    "municipal-utility-construction": (12, 7),
    "house-leasing": (1, 1),
    "tax-service": (8, 0),  # the row is lost in the annex; basic items rebuilt from line 495
    "labor-employment": (8, 8),
    "talent-settlement": (15, 21),
    "biomed-startup": (8, 12),
    "biomed-rnd": (21, 18),
    "biomed-clinical": (2, 4),
    "biomed-production": (7, 5),
    "biomed-sales": (17, 7),
}


@pytest.fixture(scope="module")
def data():
    return yaml.safe_load(PRESET.read_text(encoding="utf-8"))


def test_schema(data):
    assert set(data) == {"source", "notes", "scenarios"}
    assert data["source"] and all(isinstance(n, str) and n for n in data["notes"])
    codes = [s["code"] for s in data["scenarios"]]
    assert len(codes) == len(set(codes))
    for s in data["scenarios"]:
        where = s.get("code")
        assert SCENARIO_KEYS <= set(s) <= SCENARIO_KEYS | OPTIONAL_KEYS, where
        assert re.fullmatch(r"[a-z0-9-]+", s["code"]), where
        assert s["name"] and s["annex"] in (6, 7), where
        assert s["origin"] in ORIGINS, where
        if s["origin"] == "lifecycle":
            assert s["lifecycle_stage"] in LIFECYCLE_STAGES, where
        else:
            assert "lifecycle_stage" not in s, where
        if s["origin"] == "chain_node":
            assert s["chain"] == "biomedicine" and s["chain_node"] in CHAIN_NODES, where
        else:
            assert "chain" not in s and "chain_node" not in s, where
        for key in ("demand", "online_path", "offline_path"):
            assert isinstance(s[key], str) and "<" not in s[key], (where, key)
        assert all(isinstance(m, str) and m and "<" not in m for m in s["reform_measures"]), where
        assert 2 <= len(s["stages"]) <= 5 and len(set(s["stages"])) == len(s["stages"]), where
        assert s["items"], where
        kinds = [i["kind"] for i in s["items"]]
        assert kinds == sorted(kinds, key=lambda k: k != "basic"), f"{where}: basic items first"
        for item in s["items"]:
            assert set(item) == ITEM_KEYS or set(item) == ITEM_KEYS | {"time_limit_days"}, (where, item)
            assert item["name"] and "<" not in item["name"], (where, item)
            assert item["kind"] in KINDS, (where, item)
            assert item["sides"] and set(item["sides"]) <= SIDES, (where, item)
            if item["kind"] == "basic":
                assert item["sides"] == ["government"], (where, item)
            assert isinstance(item["units"], list) and all(isinstance(u, str) and u for u in item["units"])
            assert item["stage"] in s["stages"], (where, item)


def test_counts(data):
    got = {
        s["code"]: (sum(i["kind"] == "basic" for i in s["items"]), sum(i["kind"] == "value_added" for i in s["items"]))
        for s in data["scenarios"]
    }
    assert got == COUNTS


def test_annexes(data):
    annex6 = [s["name"] for s in data["scenarios"] if s["annex"] == 6]
    assert annex6 == [
        "市场准入一类事", "工业项目开工", "社会投资商住服项目开工", "既有工业厂房装修改造项目审批服务", "项目竣工验收",
        "市政公用配套设施施工", "房屋租赁一类事", "纳税服务一类事", "劳动用工", "人才安居乐业一类事",
    ]
    annex7 = [s for s in data["scenarios"] if s["annex"] == 7]
    assert [s["chain_node"] for s in annex7] == CHAIN_NODES
    # 附件7 备注: value-added services with no unit named are 医药港管理办公室's
    assert all(i["units"] for s in annex7 for i in s["items"] if i["kind"] == "value_added")
    # line 109's high-frequency example
    high = [s["name"] for s in data["scenarios"] if s["origin"] == "high_frequency"]
    assert high == ["既有工业厂房装修改造项目审批服务"]
