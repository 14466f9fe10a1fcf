"""Service requests (服务申请, issue 11 item 4): an enterprise — online, or through the front desk — asks for a catalog
item. A request IS an appeal (the same model, events, timers, notifications, feedback and rating) registered through
`qifu.appeals.workflow.register` with an `AppealItem` row (`request` set) naming the item:

- routed at once to the item's responsible unit: the first of its units that is a department of the region leads,
  the others assist (the case is then joint: class whistle, else single); an item without such a unit waits for the
  dispatcher, filed under the item's section;
- handled within the item's own time limit (`time_limit`): its guide's `time_limit_days` in working days when set,
  else the region rule `service_request_limits` by the kind of the item's section (policy window 24 h one unit /
  48 h joint, opening-up section 2 working days), else the appeal class's limit. `workflow.deadline_for` asks
  `deadline` for every deadline of such an appeal (acceptance, reclassification, reopening).

Enterprises may request only the items they see (`services.items`: listed items of their region).
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from qifu.workcal import workdays

from . import services
from .models import AppealItem, ServiceItem

SINGLE_CLASSES = ("simple", "single")


def units_of(item: ServiceItem):
    """(lead department or None, assisting departments) of an item, in the order its list writes them."""
    departments = {d.code: d for d in item.units.all()}
    ordered = [departments[u["code"]] for u in item.unit_list() if u["code"] in departments]
    ordered += [d for d in departments.values() if d not in ordered]
    ordered = list(dict.fromkeys(ordered))
    return (ordered[0] if ordered else None), ordered[1:]


def time_limit(item: ServiceItem, category: str) -> tuple[str, int] | None:
    """("workdays", n) or ("hours", n): the item's own time limit for a case of `category`; None: the class's."""
    guide = services.guide_of(item)
    if guide is not None and guide.time_limit_days:
        return "workdays", int(guide.time_limit_days)
    section = item.section
    rule = (item.region.rule("service_request_limits") or {}).get(section.kind if section else "") or {}
    if rule.get("workdays"):
        return "workdays", int(rule["workdays"])
    key = "single_hours" if category in SINGLE_CLASSES else "joint_hours"
    hours = rule.get(key) or rule.get("single_hours")
    return ("hours", int(hours)) if hours else None


def item_of(appeal) -> ServiceItem | None:
    """The item an appeal requests (None: not a service request); cached on the appeal."""
    cached = getattr(appeal, "_service_request", None)
    if cached is not None:
        return cached or None
    link = None
    if appeal.pk is not None:
        link = (AppealItem.objects.filter(appeal_id=appeal.pk, request=True)
                .select_related("item__section", "item__region").first())
    appeal._service_request = link.item if link else False
    return appeal._service_request or None


def deadline(appeal, category: str, start: datetime.datetime) -> datetime.datetime | None:
    """The deadline of a service request from `start` (None: not a request, or the item has no limit of its own)."""
    item = item_of(appeal)
    if item is None:
        return None
    limit = time_limit(item, category)
    if limit is None:
        return None
    kind, n = limit
    if kind == "hours":
        return start + datetime.timedelta(hours=n)
    region = appeal.region
    return workdays.deadline(start, n, end_of_day=region.rule("deadline_end_of_day"), tz=region.rule("time_zone"))


def title_for(item: ServiceItem) -> str:
    from qifu.appeals.models import Appeal

    limit = Appeal._meta.get_field("title").max_length
    return (_("Service request: %(item)s") % {"item": item.name})[:limit]
