"""Profile presets: one YAML file per region (qifu/profiles/presets/NAME.yaml) with the region's profile
dimensions, indicators and dynamic tag rules.

`qifu preset load NAME` loads the region's organization, then this (when a profile preset of that name
exists). `read()` checks the whole file first; `load()` writes it in one transaction keyed by code (tag
rules by tag), saving only what differs: loading twice changes nothing and adds no audit entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from qifu.rules import conditions
from qifu.rules.expr import Expression
from qifu.rules.values import RuleError

PRESET_DIR = Path(__file__).resolve().parent

DIMENSION_KEYS = ({"code", "name"}, {"weight", "sort_order", "description"})
INDICATOR_KEYS = ({"code", "name", "datatype"},
                  {"dimension", "unit", "category", "source", "score", "weight", "higher_is_better", "sort_order",
                   "description"})
RULE_KEYS = ({"tag", "conditions"}, {"active", "description", "category"})


def available() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def exists(name: str | None) -> bool:
    return bool(name) and name in available()


class _Checker:
    def __init__(self, source: Path):
        self.source = source
        self.errors: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def keys(self, where: str, entry: Any, spec: tuple[set[str], set[str]]) -> bool:
        required, optional = spec
        if not isinstance(entry, dict):
            self.fail(where, f"expected a mapping, got {type(entry).__name__}")
            return False
        for key in sorted(set(entry) - required - optional, key=str):
            self.fail(where, f"unknown key {key!r}")
        for key in sorted(required - set(entry)):
            self.fail(where, f"missing required key {key!r}")
        return True

    def number(self, where: str, key: str, value: Any, default: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            self.fail(where, f"{key!r} must be a number ≥ 0, got {value!r}")
            return default
        return float(value)

    def text(self, where: str, key: str, value: Any, limit: int | None = None) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(where, f"{key!r} must be text, got {value!r}")
            return ""
        value = value.strip()
        if limit and len(value) > limit:
            self.fail(where, f"{key!r} is longer than {limit} characters")
        return value


def read(name: str | None = None, path: str | Path | None = None) -> dict:
    """Parse and check a profile preset; raises ValueError naming the file and every bad entry."""
    from ..facts import BASE_FIELDS
    from ..models import Indicator, validate_code

    if path is None:
        if not exists(name):
            raise ValueError(f"unknown profile preset {name!r}; available: {', '.join(available())}")
        path = PRESET_DIR / f"{name}.yaml"
    source = Path(path)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{source}: no such profile preset") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: expected a mapping with dimensions, indicators and tag_rules")
    check = _Checker(source)
    for key in sorted(set(raw) - {"dimensions", "indicators", "tag_rules"}, key=str):
        check.fail("top level", f"unknown key {key!r}")

    def code_ok(where: str, code: str) -> None:
        try:
            validate_code(code)
        except ValidationError as exc:
            check.fail(where, f"code {code!r}: {' '.join(exc.messages)}")

    data: dict[str, Any] = {"source": str(source), "dimensions": [], "indicators": [], "tag_rules": []}
    seen: set[str] = set()
    for index, entry in enumerate(raw.get("dimensions") or []):
        where = f"dimensions[{index}]"
        if not check.keys(where, entry, DIMENSION_KEYS):
            continue
        item = {"code": check.text(where, "code", entry["code"], 64),
                "name": check.text(where, "name", entry["name"], 64),
                "weight": check.number(where, "weight", entry.get("weight"), 1.0),
                "sort_order": int(check.number(where, "sort_order", entry.get("sort_order"), index + 1)),
                "description": check.text(where, "description", entry.get("description"))}
        code_ok(where, item["code"])
        if item["code"] in seen:
            check.fail(where, f"code {item['code']!r} is used twice")
        seen.add(item["code"])
        data["dimensions"].append(item)

    datatypes = set(Indicator.Datatype.values)
    categories = set(Indicator.Category.values)
    codes: set[str] = set()
    names: set[str] = set()
    entries = raw.get("indicators") or []
    known_fields = set(BASE_FIELDS) | {"value"} | {e.get("code") for e in entries if isinstance(e, dict)}
    for index, entry in enumerate(entries):
        where = f"indicators[{index}]" + (f" ({entry.get('code')!r})" if isinstance(entry, dict) else "")
        if not check.keys(where, entry, INDICATOR_KEYS):
            continue
        item = {
            "code": check.text(where, "code", entry["code"], 64), "name": check.text(where, "name", entry["name"], 64),
            "dimension": check.text(where, "dimension", entry.get("dimension")) or None,
            "unit": check.text(where, "unit", entry.get("unit"), 16),
            "datatype": check.text(where, "datatype", entry["datatype"]),
            "category": check.text(where, "category", entry.get("category")) or "other",
            "source": check.text(where, "source", entry.get("source"), 64),
            "score": check.text(where, "score", entry.get("score")),
            "weight": check.number(where, "weight", entry.get("weight"), 1.0),
            "higher_is_better": entry.get("higher_is_better", True),
            "sort_order": int(check.number(where, "sort_order", entry.get("sort_order"), index + 1)),
            "description": check.text(where, "description", entry.get("description")),
        }
        code_ok(where, item["code"])
        if item["code"] in codes:
            check.fail(where, f"code {item['code']!r} is used twice")
        if item["name"] in names:
            check.fail(where, f"name {item['name']!r} is used twice")
        codes.add(item["code"])
        names.add(item["name"])
        if item["datatype"] not in datatypes:
            check.fail(where, f"datatype {item['datatype']!r} is not one of {', '.join(sorted(datatypes))}")
        if item["category"] not in categories:
            check.fail(where, f"category {item['category']!r} is not one of {', '.join(sorted(categories))}")
        if item["dimension"] and item["dimension"] not in seen:
            check.fail(where, f"dimension {item['dimension']!r} is not defined under dimensions")
        if not isinstance(item["higher_is_better"], bool):
            check.fail(where, "'higher_is_better' must be true or false")
        if item["score"]:
            try:
                unknown = Expression(item["score"]).names - known_fields
            except RuleError as exc:
                check.fail(where, f"score: {exc}")
            else:
                if unknown:
                    check.fail(where, f"score uses unknown field(s) {', '.join(sorted(unknown))}")
        data["indicators"].append(item)

    tags: set[str] = set()
    for index, entry in enumerate(raw.get("tag_rules") or []):
        where = f"tag_rules[{index}]" + (f" ({entry.get('tag')!r})" if isinstance(entry, dict) else "")
        if not check.keys(where, entry, RULE_KEYS):
            continue
        item = {"tag": check.text(where, "tag", entry["tag"], 64), "conditions": entry["conditions"],
                "active": entry.get("active", True), "description": check.text(where, "description",
                                                                               entry.get("description")),
                "category": check.text(where, "category", entry.get("category"), 64)}
        if not item["tag"]:
            check.fail(where, "'tag' is empty")
        if item["tag"] in tags:
            check.fail(where, f"tag {item['tag']!r} has two rules: combine them with any:")
        tags.add(item["tag"])
        if not isinstance(item["active"], bool):
            check.fail(where, "'active' must be true or false")
        try:
            unknown = conditions.parse(item["conditions"]).fields() - known_fields
        except RuleError as exc:
            check.fail(where, str(exc))
        else:
            if unknown:
                check.fail(where, f"conditions use unknown field(s) {', '.join(sorted(unknown))}")
        data["tag_rules"].append(item)

    if check.errors:
        raise ValueError(f"{source}: invalid profile preset:\n  " + "\n  ".join(check.errors))
    return data


def _save_if_changed(obj, values: dict) -> bool:
    changed = [key for key, value in values.items() if getattr(obj, key) != value]
    for key in changed:
        setattr(obj, key, values[key])
    if changed:
        obj.full_clean()
        obj.save()
    return bool(changed)


def load(name: str | None = None, region=None, path: str | Path | None = None) -> dict[str, int] | None:
    """Write a profile preset into `region` (default: the region whose code is `name`). Returns the counts,
    or None when there is no profile preset called `name` (so every region preset can call this)."""
    from qifu.enterprises.models import Enterprise, Tag
    from qifu.org.models import Region

    from ..models import Dimension, Indicator, TagRule
    from ..services import apply_tag_rules

    if path is None and not exists(name):
        return None
    data = read(name, path)
    source = data["source"]
    if region is None:
        code = name or Path(source).stem
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise ValueError(f"{source}: there is no region {code!r}; load its region preset first")
    rules_changed = False
    with transaction.atomic():
        dimensions: dict[str, Dimension] = {}
        for item in data["dimensions"]:
            values = {k: item[k] for k in ("name", "weight", "sort_order", "description")}
            obj = Dimension.objects.filter(region=region, code=item["code"]).first()
            if obj is None:
                obj = Dimension(region=region, code=item["code"], **values)
                obj.full_clean()
                obj.save()
            else:
                _save_if_changed(obj, values)
            dimensions[item["code"]] = obj
        for item in data["indicators"]:
            values = {k: item[k] for k in ("name", "unit", "datatype", "category", "source", "score", "weight",
                                           "higher_is_better", "sort_order", "description")}
            values["dimension"] = dimensions.get(item["dimension"]) if item["dimension"] else None
            obj = Indicator.objects.filter(region=region, code=item["code"]).first()
            if obj is None:
                obj = Indicator(region=region, code=item["code"], **values)
                obj.full_clean()
                obj.save()
            else:
                _save_if_changed(obj, values)
        for item in data["tag_rules"]:
            tag = Tag.objects.filter(name=item["tag"]).first()
            if tag is None:
                tag = Tag.objects.create(name=item["tag"], kind=Tag.Kind.DYNAMIC,
                                         category=item["category"] or "画像", description=item["description"])
            elif tag.kind != Tag.Kind.DYNAMIC:
                tag.kind = Tag.Kind.DYNAMIC  # the region now derives this tag from data
                tag.save()
            values = {"conditions": item["conditions"], "active": item["active"], "description": item["description"]}
            rule = TagRule.objects.filter(region=region, tag=tag).first()
            if rule is None:
                rule = TagRule(region=region, tag=tag, **values)
                rule.full_clean()
                rule.save()
                rules_changed = True
            else:
                rules_changed |= _save_if_changed(rule, values)
        if rules_changed and Enterprise.objects.filter(region=region).exists():
            apply_tag_rules(Enterprise.objects.filter(region=region))
    return {"dimensions": len(data["dimensions"]), "indicators": len(data["indicators"]),
            "tag_rules": len(data["tag_rules"])}
