"""Writing service items in bulk (the preset and the spreadsheet import): new items with one INSERT and their
audit entries in one more; changed items saved one by one (their audit entries by the trail's signals); unchanged
items untouched, so writing the same data twice adds no rows and no audit entries."""

from __future__ import annotations

from dataclasses import dataclass

from qifu.audit import trail
from qifu.audit.models import AuditEntry

from .models import ServiceItem
from .units import lookup, match

BATCH = 500


@dataclass
class Written:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def write(region, rows: list[tuple[str, dict]], note: str = "") -> Written:
    """`rows`: (code, field values with `node_id`/`section_id` and `units_text`). Call inside a transaction."""
    result = Written()
    names = lookup(region)
    existing = {i.code: i for i in ServiceItem.objects.filter(code__in=[code for code, _v in rows])}
    links: dict[int, list[int]] = {}
    for item_id, dept_id in ServiceItem.units.through.objects.filter(
            serviceitem__code__in=list(existing)).values_list("serviceitem_id", "department_id"):
        links.setdefault(item_id, []).append(dept_id)
    new: list[tuple[ServiceItem, list[int]]] = []
    for code, values in rows:
        units = match(region, values["units_text"], names)
        item = existing.get(code)
        if item is None:
            new.append((ServiceItem(region=region, code=code, **values), units))
            continue
        if item.region_id != region.pk:
            raise ValueError(f"service item {code!r} belongs to another region")
        diff = [k for k, v in values.items() if getattr(item, k) != v]
        if diff:
            for key in diff:
                setattr(item, key, values[key])
            item.save()
        if sorted(units) != sorted(links.get(item.pk, [])):
            item.units.set(units)
        if diff or sorted(units) != sorted(links.get(item.pk, [])):
            result.updated += 1
        else:
            result.unchanged += 1
    if new:
        ServiceItem.objects.bulk_create([item for item, _u in new], batch_size=BATCH)
        through = ServiceItem.units.through
        through.objects.bulk_create([through(serviceitem_id=item.pk, department_id=dept)
                                     for item, units in new for dept in units], batch_size=BATCH)
        AuditEntry.objects.bulk_create([
            trail.build(AuditEntry.Action.CREATE, item, None,
                        trail.snapshot(item) | ({"units": sorted(str(u) for u in units)} if units else {}), note=note)
            for item, units in new], batch_size=BATCH)
        result.created = len(new)
        try:  # bulk creation sends no signals: index the new items for search (qifu.search)
            from qifu.search import index
        except ImportError:  # pragma: no cover
            index = None
        if index is not None:
            index.refresh_many("service", [item.pk for item, _u in new])
    return result
