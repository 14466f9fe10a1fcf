"""The appeals' timers: warning (预警), chase (催办) and inspection (督查) of each case's current deadline.

When each fires is the region's `supervision_timers` for the case's class (presets: seed 003 lines 1341–1353):
a working day counted from the deadline's own working day, as the deadline counts them (the calendar module:
holidays and make-up working days; the day of receipt never counts), and a local time. A timer fires only while
the back office still owes the answer (accepted or being handled): a case handled in time is never chased.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from qifu.appeals.models import CLOCK_STATUSES, OPEN_STATUSES, Appeal
from qifu.workcal import workdays

from . import records, timers
from .models import DEADLINE, Kind, Timer

SUBJECT = "appeals.appeal"


def _time(value: str) -> datetime.time:
    hours, _sep, minutes = str(value).partition(":")
    return datetime.time(int(hours), int(minutes or 0))


def schedule(appeal: Appeal) -> dict[str, datetime.datetime]:
    """kind → when it fires, for the appeal's current deadline (nothing without a deadline or a class)."""
    if appeal.due_at is None or not appeal.category:
        return {}
    rules = appeal.region.rules
    zone = ZoneInfo(rules["time_zone"])
    day = appeal.due_at.astimezone(zone).date()
    plan = {DEADLINE: appeal.due_at}
    for kind, when in (rules["supervision_timers"].get(appeal.category) or {}).items():
        if kind in Kind.values and when:
            fire_day = workdays.shift_workdays(day, int(when.get("day", 0)))
            plan[kind] = datetime.datetime.combine(fire_day, _time(when.get("time", "09:00")), tzinfo=zone)
    return plan


def timers_for(appeal: Appeal) -> list[Timer]:
    return [Timer(subject=SUBJECT, subject_id=appeal.pk, region_id=appeal.region_id, kind=kind,
                  deadline=appeal.due_at, fire_at=at) for kind, at in schedule(appeal).items()]


# --- the source ---------------------------------------------------------------------------------------

class AppealTimers(timers.ModelSource):
    subject = SUBJECT
    model = Appeal
    related = ("region",)

    def plan(self, now, ids=None):
        planned = Timer.objects.filter(subject=SUBJECT, subject_id=OuterRef("pk"), deadline=OuterRef("due_at"))
        running = (Appeal.objects.filter(status__in=CLOCK_STATUSES, due_at__isnull=False).exclude(category="")
                   .filter(~Exists(planned)).select_related("region"))
        if ids is not None:
            running = running.filter(pk__in=ids)
        return [t for appeal in running.iterator(chunk_size=500) for t in timers_for(appeal)]

    def judge(self, timer, appeal):
        if appeal.status not in OPEN_STATUSES or appeal.due_at != timer.deadline:
            return timers.CANCEL
        if appeal.status not in CLOCK_STATUSES:
            return timers.WAIT
        return timers.FIRE

    def fire(self, timer, appeal, now):
        if timer.kind == DEADLINE:
            return ""
        record = records.fire(appeal, timer)
        return _("%(number)s %(kind)s due %(at)s, told: %(told)s") % {
            "number": appeal.number, "kind": record.get_kind_display(),
            "at": timer.fire_at.astimezone(ZoneInfo(appeal.region.rule("time_zone"))).strftime("%Y-%m-%d %H:%M"),
            "told": record.told_names or "—"}


timers.register(AppealTimers())

