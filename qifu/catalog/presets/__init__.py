"""Catalog presets: one YAML file per region (qifu/catalog/presets/NAME.yaml) with its service items (seed 003
附件4 and 附件5 for qiantang, extracted by scripts/extract_catalog.py).

`qifu preset load NAME` loads the region's organization, then this (when a catalog preset of that name exists).
`read()` checks the whole file before anything is written; `load()` writes in one transaction keyed by code and
saves only what differs: loading twice changes nothing and adds no audit entries.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

PRESET_DIR = Path(__file__).resolve().parent

REQUIRED = {"code", "name", "provider_side"}
OPTIONAL = {"seq", "node", "section", "category1", "category2", "content", "process", "units", "frequency",
            "target_users", "area", "term", "online_channel", "offline_channel", "contact"}


def available() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def exists(name: str | None) -> bool:
    return bool(name) and name in available()


def read(name: str) -> dict:
    """The preset's items as field values (checked: keys, choices, codes unique); ValueError names every problem."""
    from qifu.catalog.models import Frequency, ProviderSide, Term

    source = PRESET_DIR / f"{name}.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(source.read_text(encoding="utf-8"), Loader=loader) or {}
    errors: list[str] = []
    items = raw.get("items") or []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"{source.name}: items[{index}] {item.get('code', '?') if isinstance(item, dict) else ''}"
        if not isinstance(item, dict):
            errors.append(f"{where}: expected a mapping")
            continue
        errors += [f"{where}: unknown key {k!r}" for k in sorted(set(item) - REQUIRED - OPTIONAL)]
        errors += [f"{where}: missing required key {k!r}" for k in sorted(REQUIRED - set(item))]
        if item.get("code") in seen:
            errors.append(f"{where}: code defined twice")
        seen.add(item.get("code"))
        for key, choices in (("provider_side", ProviderSide.values), ("frequency", Frequency.values + [""]),
                             ("term", Term.values)):
            if key in item and item[key] not in choices:
                errors.append(f"{where}: {key} {item[key]!r} is not one of {', '.join(c for c in choices if c)}")
    if errors:
        raise ValueError("\n".join(errors))
    return {"region": raw.get("region") or name, "items": items}


def load(name: str) -> dict[str, int]:
    """Create or update the preset's items; returns how many there are, and were created and changed."""
    from qifu.org.models import Region, Section, ServiceNode

    from ..writer import write

    data = read(name)
    region = Region.objects.get(code=data["region"])
    nodes = dict(ServiceNode.objects.filter(region=region).values_list("code", "id"))
    sections = dict(Section.objects.filter(region=region).values_list("code", "id"))
    rows = []
    for entry in data["items"]:
        for key, known in (("node", nodes), ("section", sections)):
            if entry.get(key) and entry[key] not in known:
                raise ValueError(f"{name}: {entry['code']}: no {key} {entry[key]!r} in region {region.code}")
        rows.append((entry["code"], {
            "node_id": nodes[entry["node"]] if entry.get("node") else None,
            "section_id": sections[entry["section"]] if entry.get("section") else None,
            "seq": entry.get("seq", 0), "category1": entry.get("category1", ""),
            "category2": entry.get("category2", ""), "name": entry["name"],
            "provider_side": entry["provider_side"], "content": entry.get("content", ""),
            "process": entry.get("process", ""), "units_text": entry.get("units", ""),
            "frequency": entry.get("frequency", ""), "target_users": entry.get("target_users", ""),
            "area": entry.get("area", ""), "term": entry.get("term", "long_term"),
            "online_channel": entry.get("online_channel", ""), "offline_channel": entry.get("offline_channel", ""),
            "contact": entry.get("contact", ""),
        }))
    with transaction.atomic():
        written = write(region, rows, note=f"preset {name}")
    return {"service items": len(rows), "created": written.created, "changed": written.updated}
