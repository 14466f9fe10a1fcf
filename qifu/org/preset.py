"""Region presets: one YAML file per region (qifu/org/presets/NAME.yaml) that reproduces a seed's organization.

`read()` checks a file completely before anything touches the database, so a typo fails with the file and
entry named instead of half-loading a region. `load()` writes it in one transaction, keyed by `code`, and only
saves what differs: loading the same file twice changes nothing and leaves no new audit entries.

A preset may `include` others (file names next to it): they load together, and an entry may refer to an
entry of an included preset by its code. Every entry is defined once, in the preset of the region that owns
it — Huzhou's city center in `huzhou`, Wuxing's district center and stations in `wuxing` — so a city and a
district that include each other load the same objects in either order, each once.

`bodies` are the region's governance bodies (专班 and its groups, 兜底专班, coordination meetings, principal leaders,
协调小组); `escalation_level` names the ladder level a body decides (one body per level and region). Like posts,
bodies are places: their members are people, added in the admin (or by the demo), never by a preset.
"""

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.db import models, transaction

from . import config as region_config
from .models import Body, Department, Jurisdiction, Post, Region, Section, ServiceNode, Window, Zone

PRESET_DIR = Path(__file__).resolve().parent / "presets"

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# YAML folds a line break into a space; Chinese has no spaces between words, so drop one between two CJK
# characters or full-width punctuation (keeps multi-line descriptions readable in the files).
_CJK = "\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef\u2018\u2019\u201c\u201d"
FOLDED_SPACE = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")
COORD = Decimal("0.000001")  # the models' 6 decimal places: compare and store the same value

# Per list: the model, required keys, optional keys. Reference keys are checked separately.
SPEC: dict[str, tuple[type[models.Model], set[str], set[str]]] = {
    "jurisdictions": (Jurisdiction, {"code", "name", "level"}, {"parent"}),
    "departments": (Department, {"code", "name"}, {"short_name", "kind", "category", "phone"}),
    "nodes": (
        ServiceNode,
        {"code", "name", "kind", "jurisdiction"},
        {"station_type", "parent", "address", "latitude", "longitude", "phone", "description"},
    ),
    "sections": (
        Section,
        {"code", "name"},
        {"kind", "node", "lead_department", "other_departments", "description", "sort_order"},
    ),
    "zones": (Zone, {"code", "node", "name"}, {"lead_department", "description", "sort_order"}),
    "windows": (Window, {"code", "node", "name"}, {"zone", "description", "sort_order"}),
    # Posts are places to be staffed (e.g. a zone's 首席接待专员); who holds them is entered in the admin and
    # changed by approved post changes — a preset never names people and never touches the holders.
    "posts": (Post, {"code", "node", "title"}, {"section", "zone", "window"}),
    # Governance bodies (专班 and its groups, 兜底专班, the coordination meeting, the principal leaders, 协调小组).
    # Like posts they are places: members are users, added in the admin (the demo adds its own) — never here.
    "bodies": (Body, {"code", "name", "kind"},
               {"function", "parent", "escalation_level", "lead_department", "description"}),
}
SELF_PARENTED = ("jurisdictions", "nodes", "bodies")  # lists whose `parent` points into the same list
ESCALATION_LEVELS = (2, 3, 4)  # the ladder's levels above the units (1) that a body decides
REGION_REQUIRED = {"code", "name"}
REGION_OPTIONAL = {"model_name", "description", "config"}
SECTION_KINDS = {
    "project", "talent", "policy", "tech", "opening", "finance", "legal", "appeals", "fallback", "data", "approval",
    "other",
}
CHOICES = {
    ("jurisdictions", "level"): {c for c, _ in Jurisdiction.Level.choices},
    ("departments", "kind"): {c for c, _ in Department.Kind.choices},
    ("nodes", "kind"): {c for c, _ in ServiceNode.Kind.choices},
    ("sections", "kind"): SECTION_KINDS,
    ("bodies", "kind"): {c for c, _ in Body.Kind.choices},
}
# (list, key) -> the list the key points into; targets must be defined earlier in the file.
REFERENCES = {
    ("jurisdictions", "parent"): "jurisdictions",
    ("nodes", "parent"): "nodes",
    ("nodes", "jurisdiction"): "jurisdictions",
    ("sections", "node"): "nodes",
    ("sections", "lead_department"): "departments",
    ("zones", "node"): "nodes",
    ("zones", "lead_department"): "departments",
    ("windows", "node"): "nodes",
    ("windows", "zone"): "zones",
    ("posts", "node"): "nodes",
    ("posts", "section"): "sections",
    ("posts", "zone"): "zones",
    ("posts", "window"): "windows",
    ("bodies", "parent"): "bodies",
    ("bodies", "lead_department"): "departments",
}
# (list, key) whose target must sit at the same node as the entry.
SAME_NODE = {("windows", "zone"), ("posts", "zone"), ("posts", "window")}


def available() -> list[str]:
    """Names of the presets shipped with the package."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def _path_for(name: str | None, path: str | Path | None) -> Path:
    if path is not None:
        return Path(path)
    if name not in available():
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(available())}")
    return PRESET_DIR / f"{name}.yaml"


class _Checker:
    """Collects a file's problems so one ValueError can name them all."""

    def __init__(self, source: Path):
        self.source = source
        self.errors: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def keys(self, where: str, entry: Any, required: set[str], optional: set[str]) -> bool:
        if not isinstance(entry, dict):
            self.fail(where, f"expected a mapping, got {type(entry).__name__}")
            return False
        for key in sorted(set(entry) - required - optional, key=str):
            self.fail(where, f"unknown key {key!r}")
        for key in sorted(required - set(entry)):
            self.fail(where, f"missing required key {key!r}")
        for key in sorted(required & set(entry)):
            if entry[key] in (None, ""):
                self.fail(where, f"required key {key!r} is empty")
        return True

    def text(self, where: str, model: type[models.Model], key: str, value: Any) -> str:
        """A string field's value: None → "", numbers rejected (YAML turns 0571… or yes into non-strings)."""
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(where, f"{key!r} must be text, got {type(value).__name__} {value!r}")
            return ""
        value = FOLDED_SPACE.sub("", value.strip())
        limit = model._meta.get_field(key).max_length
        if limit and len(value) > limit:
            self.fail(where, f"{key!r} is longer than {limit} characters")
        return value


def _where(kind: str, index: int, entry: Any) -> str:
    code = entry.get("code") if isinstance(entry, dict) else None
    return f"{kind}[{index}]" + (f" (code {code!r})" if code else "")


def _raw(source: Path) -> dict:
    """A preset file's parsed YAML (a mapping), or ValueError naming the file."""
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{source}: no such preset file") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: expected a mapping with 'region' and lists of entries")
    return raw


def _includes(raw: dict) -> list[str]:
    value = raw.get("include") or []
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def _closure(source: Path, raw: dict) -> list[Path]:
    """The presets `source` includes, directly or through others (each once, in breadth-first order)."""
    found: list[Path] = []
    todo = [source.parent / f"{name}.yaml" for name in _includes(raw)]
    while todo:
        path = todo.pop(0)
        if path == source or path in found:
            continue
        found.append(path)
        try:
            todo += [path.parent / f"{name}.yaml" for name in _includes(_raw(path))]
        except ValueError:
            pass  # reported when that file itself is read
    return found


def read(name: str | None = None, path: str | Path | None = None) -> dict:
    """Parse and validate one preset file; returns normalized data ready for `load`. Raises ValueError naming
    the file and every bad entry (unknown or missing keys, bad values, duplicate codes, dangling references).
    References may point to entries defined earlier in the file or anywhere in the presets it includes."""
    source = _path_for(name, path)
    raw = _raw(source)

    check = _Checker(source)
    top_keys = {"region", "include", *SPEC}
    for key in sorted(set(raw) - top_keys, key=str):
        check.fail("top level", f"unknown key {key!r}")
    if "region" not in raw:
        check.fail("top level", "missing required key 'region'")

    data: dict[str, Any] = {"source": str(source)}
    include = raw.get("include") or []
    if not isinstance(include, list) or not all(isinstance(n, str) and SLUG.match(n) for n in include):
        check.fail("include", "must be a list of preset names (their file names without .yaml)")
        include = []
    for other in include:
        if other == source.stem:
            check.fail("include", f"a preset cannot include itself ({other!r})")
        elif not (source.parent / f"{other}.yaml").is_file():
            check.fail("include", f"there is no preset {other!r} next to this file")
    data["include"] = list(include)
    # What the included presets define, so references into them resolve (they are checked on their own).
    external: dict[str, dict[str, dict]] = {kind: {} for kind in SPEC}
    for other_path in _closure(source, raw):
        try:
            other = _raw(other_path)
        except ValueError as exc:
            check.fail("include", str(exc))
            continue
        for kind in SPEC:
            entries = other.get(kind) or []
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("code"), str):
                    external[kind].setdefault(entry["code"], entry)

    region = raw.get("region") or {}
    out_region: dict[str, Any] = {}
    if check.keys("region", region, REGION_REQUIRED, REGION_OPTIONAL):
        out_region["code"] = check.text("region", Region, "code", region.get("code"))
        if out_region["code"] and not SLUG.match(out_region["code"]):
            check.fail("region", f"code {out_region['code']!r} is not a lowercase slug")
        if out_region["code"] and out_region["code"] != source.stem:
            check.fail("region", f"code {out_region['code']!r} must equal the file name {source.stem!r}")
        for key in ("name", "model_name", "description"):
            out_region[key] = check.text("region", Region, key, region.get(key))
        cfg = region.get("config") or {}
        if not isinstance(cfg, dict):
            check.fail("region", "config must be a mapping")
            cfg = {}
        for key, value in cfg.items():
            if key not in region_config.DEFAULTS:
                check.fail("region", f"config key {key!r} is not a rule (see qifu/org/config.py DEFAULTS)")
            elif not _same_type(region_config.DEFAULTS[key], value):
                check.fail("region", f"config {key!r} must be like {region_config.DEFAULTS[key]!r}, got {value!r}")
        out_region["config"] = cfg
    data["region"] = out_region

    seen_codes: dict[str, str] = {}
    defined: dict[str, dict[str, dict]] = {kind: {} for kind in SPEC}

    def known(kind: str, code: Any) -> dict | None:
        return defined[kind].get(code) or external[kind].get(code) if isinstance(code, str) else None

    for kind, (model, required, optional) in SPEC.items():
        entries = raw.get(kind) or []
        if not isinstance(entries, list):
            check.fail(kind, "must be a list")
            entries = []
        out: list[dict] = []
        for index, entry in enumerate(entries):
            where = _where(kind, index, entry)
            if not check.keys(where, entry, required, optional):
                continue
            item: dict[str, Any] = {}
            for key, value in entry.items():
                if key not in required | optional:
                    continue
                if key == "other_departments":
                    if not isinstance(value or [], list):
                        check.fail(where, "'other_departments' must be a list of department codes")
                        value = []
                    item[key] = list(value or [])
                    for ref in item[key]:
                        if known("departments", ref) is None:
                            check.fail(where, f"'other_departments' names unknown department {ref!r}")
                elif key == "sort_order":
                    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                        check.fail(where, f"'sort_order' must be a whole number ≥ 0, got {value!r}")
                        value = 0
                    item[key] = value
                elif key == "escalation_level":
                    if value is not None and (isinstance(value, bool) or value not in ESCALATION_LEVELS):
                        check.fail(where, f"'escalation_level' must be one of 2, 3, 4, got {value!r}")
                        value = None
                    item[key] = value
                elif key in ("latitude", "longitude"):
                    item[key] = _coordinate(check, where, key, value)
                else:
                    item[key] = check.text(where, model, key, value)
            code = item.get("code", "")
            if code:
                if not SLUG.match(code):
                    check.fail(where, f"code {code!r} is not a lowercase slug")
                if code in seen_codes:
                    check.fail(where, f"code {code!r} is already used by {seen_codes[code]}")
                elif any(code in external[k] for k in SPEC):
                    check.fail(where, f"code {code!r} is already defined in an included preset: refer to it instead")
                seen_codes.setdefault(code, where)
            for (list_kind, key), allowed in CHOICES.items():
                if list_kind == kind and item.get(key) and item[key] not in allowed:
                    check.fail(where, f"{key} {item[key]!r} is not one of {', '.join(sorted(allowed))}")
            for (list_kind, key), target in REFERENCES.items():
                ref = item.get(key)
                if list_kind == kind and ref and known(target, ref) is None:
                    hint = " (list parents before children)" if target == kind else ""
                    where_defined = " or in the presets it includes" if data["include"] else ""
                    check.fail(where, f"{key} {ref!r} is not a {target[:-1]} defined earlier in this file"
                                      f"{where_defined}{hint}")
            for (list_kind, key) in SAME_NODE:
                target = known(REFERENCES[(list_kind, key)], item.get(key)) if list_kind == kind else None
                if target is not None and target.get("node") != item.get("node"):
                    check.fail(where, f"{key} {item[key]!r} belongs to node {target.get('node')!r}, "
                                      f"not {item.get('node')!r}")
            if code:
                defined[kind][code] = item
            out.append(item)
        data[kind] = out
    deciders: dict[int, str] = {}
    for index, item in enumerate(data.get("bodies", [])):
        if item.get("function") and not re.match(r"^[a-z0-9_]+$", item["function"]):
            check.fail(f"bodies[{index}] (code {item['code']!r})",
                       f"function {item['function']!r} must be a lowercase word (e.g. inspection)")
        level = item.get("escalation_level")
        if level is not None and deciders.setdefault(level, item["code"]) != item["code"]:
            check.fail(f"bodies[{index}] (code {item['code']!r})",
                       f"escalation_level {level} is already decided by {deciders[level]!r}: one body per level")

    if check.errors:
        raise ValueError(f"{source}: invalid preset:\n  " + "\n  ".join(check.errors))
    return data


def bundle(name: str | None = None, path: str | Path | None = None) -> list[dict]:
    """A preset and every preset it includes (directly or not), each read and checked; the named one first."""
    first = read(name, path)
    files = [first]
    todo = [Path(first["source"]).parent / f"{n}.yaml" for n in first["include"]]
    seen = {Path(first["source"])}
    while todo:
        other = todo.pop(0)
        if other in seen:
            continue
        seen.add(other)
        data = read(path=other)
        files.append(data)
        todo += [other.parent / f"{n}.yaml" for n in data["include"]]
    return files


def _same_type(default: Any, value: Any) -> bool:
    """A rule override must have the default's shape (numbers interchangeable, never booleans)."""
    if isinstance(value, bool) or isinstance(default, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _coordinate(check: _Checker, where: str, key: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        check.fail(where, f"{key!r} must be a number, got {value!r}")
        return None
    try:
        number = Decimal(str(value)).quantize(COORD)
    except ArithmeticError:
        check.fail(where, f"{key!r} must be a number, got {value!r}")
        return None
    bound = 90 if key == "latitude" else 180
    if not -bound <= number <= bound:
        check.fail(where, f"{key!r} {value} is outside ±{bound}")
    return number


def _upsert(model: type[models.Model], region: Region, code: str, values: dict[str, Any], source: str) -> models.Model:
    """Create or update by code, saving only when a value differs (so the audit trail sees real changes only)."""
    obj = model._default_manager.filter(code=code).first()
    if obj is None:
        return model._default_manager.create(region=region, code=code, **values)
    if obj.region_id != region.pk:
        raise ValueError(
            f"{source}: {model._meta.verbose_name} code {code!r} already belongs to region {obj.region.code!r}"
        )
    changed = [key for key, value in values.items() if getattr(obj, key) != value]
    if changed:
        for key in changed:
            setattr(obj, key, values[key])
        obj.save()
    return obj


def _region(spec: dict) -> Region:
    region = Region.objects.filter(code=spec["code"]).first()
    values = {k: spec[k] for k in ("name", "model_name", "description", "config")}
    if region is None:
        return Region.objects.create(code=spec["code"], **values)
    if any(getattr(region, k) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(region, key, value)
        region.save()
    return region


def _values(kind: str, item: dict, ref) -> dict[str, Any]:
    """The model fields an entry sets (references as ids). Fields not listed here are never touched."""
    if kind == "jurisdictions":
        return {"name": item["name"], "level": item["level"], "parent_id": ref("jurisdictions", item.get("parent"))}
    if kind == "departments":
        return {"name": item["name"], "short_name": item.get("short_name", ""),
                "kind": item.get("kind") or "government", "category": item.get("category", ""),
                "phone": item.get("phone", "")}
    if kind == "nodes":
        return {"name": item["name"], "kind": item["kind"], "station_type": item.get("station_type", ""),
                "parent_id": ref("nodes", item.get("parent")),
                "jurisdiction_id": ref("jurisdictions", item["jurisdiction"]),
                "address": item.get("address", ""), "latitude": item.get("latitude"),
                "longitude": item.get("longitude"), "phone": item.get("phone", ""),
                "description": item.get("description", "")}
    if kind == "sections":
        return {"name": item["name"], "kind": item.get("kind", ""), "node_id": ref("nodes", item.get("node")),
                "lead_department_id": ref("departments", item.get("lead_department")),
                "description": item.get("description", ""), "sort_order": item.get("sort_order", 0)}
    if kind == "zones":
        return {"name": item["name"], "node_id": ref("nodes", item["node"]),
                "lead_department_id": ref("departments", item.get("lead_department")),
                "description": item.get("description", ""), "sort_order": item.get("sort_order", 0)}
    if kind == "windows":
        return {"name": item["name"], "node_id": ref("nodes", item["node"]), "zone_id": ref("zones", item.get("zone")),
                "description": item.get("description", ""), "sort_order": item.get("sort_order", 0)}
    if kind == "posts":
        return {"title": item["title"], "node_id": ref("nodes", item["node"]),
                "section_id": ref("sections", item.get("section")), "zone_id": ref("zones", item.get("zone")),
                "window_id": ref("windows", item.get("window"))}
    if kind == "bodies":
        return {"name": item["name"], "kind": item["kind"], "function": item.get("function", ""),
                "parent_id": ref("bodies", item.get("parent")), "escalation_level": item.get("escalation_level"),
                "lead_department_id": ref("departments", item.get("lead_department")),
                "description": item.get("description", "")}
    raise KeyError(kind)


def _parents_first(entries: list[tuple[dict, dict]]) -> list[tuple[dict, dict]]:
    """Order (file, entry) pairs of one list so that every parent comes before its children, across files."""
    codes = {item["code"] for _, item in entries}
    placed: set[str] = set()
    ordered: list[tuple[dict, dict]] = []
    pending = entries
    while pending:
        ready = [e for e in pending if e[1].get("parent") in (None, "") or e[1]["parent"] in placed
                 or e[1]["parent"] not in codes]
        if not ready:
            raise ValueError("parents form a cycle: " + ", ".join(item["code"] for _, item in pending))
        ordered += ready
        placed |= {item["code"] for _, item in ready}
        pending = [e for e in pending if e[1]["code"] not in placed]
    return ordered


def load(name: str | None = None, path: str | Path | None = None) -> dict[str, int]:
    """Write a preset and the presets it includes into the database in one transaction; returns how many
    objects of each kind they hold together."""
    files = bundle(name, path)
    owner: dict[str, str] = {}
    for data in files:  # each entry is defined once in the bundle
        for kind in SPEC:
            for item in data[kind]:
                if owner.setdefault(item["code"], data["source"]) != data["source"]:
                    raise ValueError(f"{data['source']}: code {item['code']!r} is also defined in "
                                     f"{owner[item['code']]}: define it once and refer to it")
    with transaction.atomic():
        regions = {data["source"]: _region(data["region"]) for data in files}
        ids: dict[str, dict[str, int]] = {kind: {} for kind in SPEC}

        def ref(kind: str, code: str | None) -> int | None:
            return ids[kind][code] if code else None

        for kind, (model, _required, _optional) in SPEC.items():
            entries = [(data, item) for data in files for item in data[kind]]
            if kind in SELF_PARENTED:
                entries = _parents_first(entries)
            for data, item in entries:
                obj = _upsert(model, regions[data["source"]], item["code"], _values(kind, item, ref), data["source"])
                if kind == "sections":
                    obj.other_departments.set([ids["departments"][c] for c in item.get("other_departments", [])])
                ids[kind][item["code"]] = obj.pk

    try:  # the region's enterprise profile (qifu/profiles/presets/NAME.yaml), when the profiles app has one
        from qifu.profiles.presets import load as load_profile
    except ImportError:
        load_profile = None
    if load_profile is not None and name:
        for data in files:
            load_profile(Path(data["source"]).stem)
    try:  # the region's service catalog (qifu/catalog/presets/NAME.yaml), when the catalog app has one
        from qifu.catalog import presets as catalog_presets
    except ImportError:
        catalog_presets = None
    if catalog_presets is not None and name:
        for data in files:
            if catalog_presets.exists(Path(data["source"]).stem):
                catalog_presets.load(Path(data["source"]).stem)
    try:  # the region's 一类事 scenarios (qifu/scenarios/presets/NAME.yaml), after the catalog their items link to
        from qifu.scenarios import presets as scenario_presets
    except ImportError:
        scenario_presets = None
    if scenario_presets is not None and name:
        for data in files:
            if scenario_presets.exists(Path(data["source"]).stem):
                scenario_presets.load(Path(data["source"]).stem)
    try:  # the standard questions of the region's service items (qifu/search/presets/NAME.yaml)
        from qifu.search import presets as qa_presets
    except ImportError:
        qa_presets = None
    if qa_presets is not None and name:
        for data in files:
            if qa_presets.exists(Path(data["source"]).stem):
                qa_presets.load(Path(data["source"]).stem)
    return {"regions": len(files), **{kind: sum(len(data[kind]) for data in files) for kind in SPEC}}
