"""First-contact breaches (未履行首问责任制, seed 003 line 1198) for the monthly ranking's manual input
`first_contact_breaches`: per unit (the department of the visit's owner when its timer flagged it) and month, the
front-desk visits flagged for being left without an outcome or owner past the region's `desk_visit_open_hours`.

Not wired into the ranking: `for_ranking(month)` has the shape of an input provider (`qifu.assessments.providers`);
registering it with `providers.register({"first_contact_breaches": …})` and dropping the manual input from the
region's `ranking.manual_inputs` makes the count automatic.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count

from .models import DeskVisit


def month_bounds(region, year: int, month: int) -> tuple[datetime.datetime, datetime.datetime]:
    zone = ZoneInfo(region.rule("time_zone"))
    start = datetime.datetime(year, month, 1, tzinfo=zone)
    end = datetime.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start, end


def count(region, year: int, month: int) -> dict[int | None, int]:
    """{department id (None: an owner without a department): flagged visits} for the month (region's clock)."""
    start, end = month_bounds(region, year, month)
    rows = (DeskVisit.objects.filter(region=region, flagged_at__gte=start, flagged_at__lt=end)
            .values("flagged_owner__department").annotate(n=Count("id")).order_by())
    return {row["flagged_owner__department"]: row["n"] for row in rows}


def for_ranking(month) -> dict[str, dict]:
    """The provider shape: {"first_contact_breaches": {unit id: n}} for a `providers.Month`."""
    rows = (DeskVisit.objects.filter(region=month.region, flagged_at__gte=month.period.start,
                                     flagged_at__lt=month.period.end)
            .exclude(flagged_owner__department=None)
            .values("flagged_owner__department").annotate(n=Count("id")).order_by())
    return {"first_contact_breaches": {row["flagged_owner__department"]: row["n"] for row in rows}}
