"""The agency case items' timer (a source of the one timer engine, `qifu.supervision.timers`).

Each open checklist item (pending or in progress) has two timers at its deadline (`due_at`): a warning (预警) at the
region's `agency_item_warning` (a working day before the deadline's own, at a local time) and the deadline itself.
The warning tells the agent; the deadline marks the item overdue (`overdue_at`, in the audit trail) and tells the
agent. An item done or dropped cancels both; a new deadline gets its own.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from qifu.audit import trail
from qifu.supervision import timers
from qifu.supervision.models import Timer
from qifu.workcal import workdays

from .models import OPEN_ITEM_STATUSES, CaseItem

SUBJECT = "scenarios.case_item"
WARNING, OVERDUE = "warning", "overdue"


def schedule(item: CaseItem) -> dict[str, datetime.datetime]:
    rules = item.case.region.rules
    zone = ZoneInfo(rules["time_zone"])
    plan = {OVERDUE: item.due_at}
    when = rules.get("agency_item_warning")
    if when:
        day = workdays.shift_workdays(item.due_at.astimezone(zone).date(), int(when.get("day", -1)))
        hours, _sep, minutes = str(when.get("time", "09:00")).partition(":")
        at = datetime.datetime.combine(day, datetime.time(int(hours), int(minutes or 0)), tzinfo=zone)
        if at < item.due_at:
            plan[WARNING] = at
    return plan


class CaseItemTimers(timers.ModelSource):
    subject = SUBJECT
    model = CaseItem
    related = ("case__region", "case__agent", "case__scenario", "case__enterprise")

    def plan(self, now, ids=None):
        planned = Timer.objects.filter(subject=SUBJECT, subject_id=OuterRef("pk"), deadline=OuterRef("due_at"))
        waiting = (CaseItem.objects.filter(status__in=OPEN_ITEM_STATUSES).filter(~Exists(planned))
                   .select_related("case__region"))
        if ids is not None:
            waiting = waiting.filter(pk__in=ids)
        return [Timer(subject=SUBJECT, subject_id=item.pk, region_id=item.case.region_id, kind=kind,
                      deadline=item.due_at, fire_at=at)
                for item in waiting.iterator(chunk_size=500) for kind, at in schedule(item).items()]

    def judge(self, timer, item):
        if item.status not in OPEN_ITEM_STATUSES or item.due_at != timer.deadline:
            return timers.CANCEL
        return timers.FIRE

    def fire(self, timer, item, now):
        from qifu import notify

        case = item.case
        zone = ZoneInfo(case.region.rule("time_zone"))
        due = item.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        told = [case.agent] if case.agent_id else []
        if timer.kind == OVERDUE:
            item.overdue_at = timer.fire_at
            item.save(update_fields=["overdue_at"])
            trail.record("overdue", item, None, {"overdue_at": timer.fire_at.isoformat()},
                         note="agency item overdue")
            subject = _("Agency item overdue: %(item)s") % {"item": item.name}
        else:
            item.warned_at = timer.fire_at
            item.save(update_fields=["warned_at"])
            trail.record("warning", item, None, {"warned_at": timer.fire_at.isoformat()},
                         note="agency item due soon")
            subject = _("Agency item due soon: %(item)s") % {"item": item.name}
        if told:
            notify.notify(told, "scenarios.case_item_" + timer.kind, subject,
                          _("%(case)s: due by %(due)s.") % {"case": case, "due": due}, url=case.get_absolute_url())
        return _("agency item %(item)s (%(case)s) %(kind)s, due %(due)s, told: %(told)s") % {
            "item": item.name, "case": case, "kind": _("overdue") if timer.kind == OVERDUE else _("warning"), "due": due,
            "told": "、".join(u.display_name or u.username for u in told) or "—"}


timers.register(CaseItemTimers())
