"""Responsible units (责任部门) as the lists write them: "区人社局、区市场监管局", "区公安分局（交警）" — matched to
the region's departments by name or short name (a parenthesised note is ignored)."""

import re

SEPARATORS = re.compile(r"[、，,；;/\n]+")
NOTE = re.compile(r"[（(][^（）()]*[）)]")


def split(text: str) -> list[tuple[str, str]]:
    """(as written, the key to match) for each unit named in `text`."""
    out = []
    depth = 0
    current = ""
    for ch in text or "":  # split on separators outside parentheses only
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(0, depth - 1)
        if depth == 0 and SEPARATORS.fullmatch(ch):
            out.append(current)
            current = ""
        else:
            current += ch
    out.append(current)
    return [(name.strip(), NOTE.sub("", name).strip()) for name in out if name.strip()]


def lookup(region) -> dict[str, int]:
    """Name and short name -> department id, for the region's departments."""
    from qifu.org.models import Department

    found: dict[str, int] = {}
    for dept in Department.objects.filter(region=region).only("id", "name", "short_name").order_by("pk"):
        found.setdefault(dept.name, dept.id)
        if dept.short_name:
            found.setdefault(dept.short_name, dept.id)
    return found


def match(region, text: str, names: dict[str, int] | None = None) -> list[int]:
    """The ids of the region's departments that `text` names, in the order named (`names`: `lookup(region)`)."""
    keys = [key for _name, key in split(text)]
    if not keys:
        return []
    found = lookup(region) if names is None else names
    return list(dict.fromkeys(found[key] for key in keys if key in found))
