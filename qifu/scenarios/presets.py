"""Scenario presets: one YAML file per region, `qifu/scenarios/presets/NAME.yaml` (the schema: the file's own header
and docs/scenarios.md; qiantang's holds seed 003 附件6 and 附件7).

`qifu preset load NAME` loads the region's organization and catalog, then this (when a scenario preset of that name
exists). `read()` checks the whole file before anything is written; `load()` writes in one transaction keyed by the
scenario's code and the item's position, saving only what differs: loading twice writes no row and no audit entry.
Each item's units are linked to the region's departments whose name or short name they write (as the catalog's
units are, `qifu.catalog.units`), and an item whose name is a catalog item's name of the region is linked to it.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

PRESET_DIR = Path(__file__).resolve().parent / "presets"

SCENARIO_REQUIRED = {"code", "name", "origin", "stages", "items"}
SCENARIO_OPTIONAL = {"annex", "lifecycle_stage", "chain", "chain_node", "demand", "online_path", "offline_path",
                     "reform_measures", "note"}
ITEM_REQUIRED = {"name", "kind", "stage"}
ITEM_OPTIONAL = {"sides", "units", "time_limit_days"}


def available() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def exists(name: str | None) -> bool:
    return bool(name) and name in available()


def _path(name: str | Path) -> Path:
    path = Path(name)
    return path if path.suffix in (".yaml", ".yml") else PRESET_DIR / f"{name}.yaml"


def read(name: str | Path) -> dict:
    """The preset's scenarios (checked: keys, choices, codes unique, stages known); ValueError names every problem."""
    import re

    from .models import CHAIN_NODES, Kind, LifecycleStage, Origin, Side

    source = _path(name)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(source.read_text(encoding="utf-8"), Loader=loader) or {}
    errors: list[str] = []
    scenarios = raw.get("scenarios") or []
    seen: set[str] = set()
    for index, entry in enumerate(scenarios):
        where = f"{source.name}: scenarios[{index}] {entry.get('code', '?') if isinstance(entry, dict) else ''}"
        if not isinstance(entry, dict):
            errors.append(f"{where}: expected a mapping")
            continue
        errors += [f"{where}: unknown key {k!r}" for k in sorted(set(entry) - SCENARIO_REQUIRED - SCENARIO_OPTIONAL)]
        errors += [f"{where}: missing required key {k!r}" for k in sorted(SCENARIO_REQUIRED - set(entry))]
        code = str(entry.get("code", ""))
        if not re.fullmatch(r"[a-z0-9-]{1,64}", code):
            errors.append(f"{where}: code must be 1–64 of a-z, 0-9 and -")
        if code in seen:
            errors.append(f"{where}: code defined twice")
        seen.add(code)
        if entry.get("origin") not in Origin.values:
            errors.append(f"{where}: origin {entry.get('origin')!r} is not one of {', '.join(Origin.values)}")
        if entry.get("origin") == Origin.LIFECYCLE and entry.get("lifecycle_stage") not in LifecycleStage.values:
            errors.append(f"{where}: lifecycle_stage {entry.get('lifecycle_stage')!r} is not one of "
                          f"{', '.join(LifecycleStage.values)}")
        if entry.get("origin") == Origin.CHAIN_NODE and entry.get("chain_node") not in CHAIN_NODES:
            errors.append(f"{where}: chain_node {entry.get('chain_node')!r} is not one of {', '.join(CHAIN_NODES)}")
        if not isinstance(entry.get("name"), str) or not 0 < len(entry.get("name") or "") <= 200:
            errors.append(f"{where}: name must be text of 1–200 characters")
        stages = entry.get("stages") or []
        if not isinstance(stages, list) or not stages or not all(isinstance(s, str) and s for s in stages):
            errors.append(f"{where}: stages must be a non-empty list of names")
            stages = []
        if not isinstance(entry.get("reform_measures", []), list):
            errors.append(f"{where}: reform_measures must be a list")
        for number, item in enumerate(entry.get("items") or []):
            at = f"{where}: items[{number}]"
            if not isinstance(item, dict):
                errors.append(f"{at}: expected a mapping")
                continue
            errors += [f"{at}: unknown key {k!r}" for k in sorted(set(item) - ITEM_REQUIRED - ITEM_OPTIONAL)]
            errors += [f"{at}: missing required key {k!r}" for k in sorted(ITEM_REQUIRED - set(item))]
            if not isinstance(item.get("name"), str) or not 0 < len(item["name"].strip()) <= 300:
                errors.append(f"{at}: name must be text of 1–300 characters")
            if not isinstance(item.get("stage"), str) or len(item.get("stage") or "") > 64:
                errors.append(f"{at}: stage must be a name of at most 64 characters")
            if item.get("kind") not in Kind.values:
                errors.append(f"{at}: kind {item.get('kind')!r} is not one of {', '.join(Kind.values)}")
            if not set(item.get("sides") or []) <= set(Side.values):
                errors.append(f"{at}: sides {item.get('sides')!r}: each one of {', '.join(Side.values)}")
            if stages and item.get("stage") not in stages:
                errors.append(f"{at}: stage {item.get('stage')!r} is not one of the scenario's stages")
            if not isinstance(item.get("units", []), list):
                errors.append(f"{at}: units must be a list")
            limit = item.get("time_limit_days")
            if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit < 1000):
                errors.append(f"{at}: time_limit_days must be a whole number of working days (1–999)")
    if errors:
        raise ValueError("\n".join(errors))
    return {"region": raw.get("region") or source.stem, "scenarios": scenarios}


def _scenario_values(entry: dict, position: int) -> dict:
    return {"name": entry["name"], "annex": int(entry.get("annex") or 0), "origin": entry["origin"],
            "lifecycle_stage": entry.get("lifecycle_stage") or "", "chain": entry.get("chain") or "",
            "chain_node": entry.get("chain_node") or "", "demand": entry.get("demand") or "",
            "online_path": entry.get("online_path") or "", "offline_path": entry.get("offline_path") or "",
            "reform_measures": list(entry.get("reform_measures") or []), "note": entry.get("note") or "",
            "stages": list(entry["stages"]), "sort_order": position}


def load(name: str | Path, region_code: str | None = None) -> dict[str, int]:
    """Create or update the preset's scenarios and items; returns how many there are, and rows written."""
    from qifu.catalog.models import ServiceItem
    from qifu.catalog.units import lookup
    from qifu.org.models import Region

    from .models import Scenario

    data = read(name)
    region = Region.objects.get(code=region_code or data["region"])
    departments = lookup(region)
    catalog: dict[str, int] = {}
    for pk, item_name in ServiceItem.objects.filter(region=region).order_by("pk").values_list("pk", "name"):
        catalog.setdefault(item_name.strip(), pk)
    written = 0
    counts = {"scenarios": 0, "items": 0}
    with transaction.atomic():
        existing = {s.code: s for s in Scenario.objects.filter(region=region)}
        for position, entry in enumerate(data["scenarios"], start=1):
            counts["scenarios"] += 1
            values = _scenario_values(entry, position)
            scenario = existing.get(entry["code"])
            if scenario is None:
                scenario = Scenario.objects.create(region=region, code=entry["code"], **values)
                written += 1
            elif any(getattr(scenario, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(scenario, key, value)
                scenario.save()
                written += 1
            written += _load_items(scenario, entry["items"], departments, catalog, counts, name)
    counts["written"] = written
    return counts


def _load_items(scenario, entries, departments, catalog, counts, name) -> int:
    from qifu.audit import trail
    from qifu.audit.models import AuditEntry
    from qifu.catalog.units import NOTE

    from .models import ScenarioItem

    written = 0
    current = {i.order: i for i in scenario.items.all()}
    links: dict[int, list[int]] = {}
    through = ScenarioItem.units.through
    for item_id, dept_id in through.objects.filter(scenarioitem__scenario=scenario).values_list(
            "scenarioitem_id", "department_id"):
        links.setdefault(item_id, []).append(dept_id)
    new = []
    for order, entry in enumerate(entries, start=1):
        counts["items"] += 1
        units_text = [str(u).strip() for u in entry.get("units") or [] if str(u).strip()]
        units = list(dict.fromkeys(departments[key] for key in (NOTE.sub("", u).strip() for u in units_text)
                                   if key in departments))
        values = {"name": entry["name"].strip(), "kind": entry["kind"],
                  "sides": list(entry.get("sides") or (["government"] if entry["kind"] == "basic" else [])),
                  "units_text": units_text, "stage": entry["stage"],
                  "service_item_id": catalog.get(entry["name"].strip()),
                  "time_limit_days": entry.get("time_limit_days")}
        item = current.pop(order, None)
        if item is None:
            new.append((ScenarioItem(scenario=scenario, order=order, **values), units))
            continue
        changed = False
        if any(getattr(item, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(item, key, value)
            item.save()
            changed = True
        if sorted(units) != sorted(links.get(item.pk, [])):
            item.units.set(units)
            changed = True
        written += changed
    for item in current.values():  # the file has fewer items now
        item.delete()
        written += 1
    if new:
        ScenarioItem.objects.bulk_create([item for item, _u in new])
        through.objects.bulk_create([through(scenarioitem_id=item.pk, department_id=dept)
                                     for item, units in new for dept in units])
        AuditEntry.objects.bulk_create([
            trail.build(AuditEntry.Action.CREATE, item, None,
                        trail.snapshot(item) | ({"units": sorted(units)} if units else {}), note=f"preset {name}")
            for item, units in new])
        written += len(new)
    return written
