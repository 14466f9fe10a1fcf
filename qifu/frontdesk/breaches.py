"""First-contact breaches (未履行首问责任制, seed 003 line 1198) for the monthly ranking's input
`first_contact_breaches`: per unit (the department of the visit's owner when its timer flagged it) and month, the
front-desk visits flagged for being left without an outcome or owner past the region's `desk_visit_open_hours`.

`for_ranking` is the input's provider (`qifu.assessments.providers`): the count is automatic unless a region
names `first_contact_breaches` in its `ranking.manual_inputs` (then the task force enters it by hand, e.g. to
count breaches found elsewhere than at the front desk).
"""

from __future__ import annotations

import datetime

from django.db.models import Count
from django.utils.translation import gettext_lazy

from qifu.appeals import stats
from qifu.assessments import providers

from .models import DeskVisit


def by_unit(region, start: datetime.datetime, end: datetime.datetime) -> dict[int | None, int]:
    """{department id (None: an owner without a department): visits flagged in [start, end)}."""
    rows = (DeskVisit.objects.filter(region=region, flagged_at__gte=start, flagged_at__lt=end)
            .values("flagged_owner__department").annotate(n=Count("id")).order_by())
    return {row["flagged_owner__department"]: row["n"] for row in rows}


def count(region, year: int, month: int) -> dict[int | None, int]:
    """{department id: flagged visits} for the calendar month (region's clock)."""
    period = stats.month_period(f"{year:04d}-{month:02d}", region.rule("time_zone"))
    return by_unit(region, period.start, period.end)


@providers.register({"first_contact_breaches": gettext_lazy("First-contact breaches")})
def for_ranking(month) -> dict[str, dict]:
    """The ranking's input `first_contact_breaches` for a `providers.Month`: {unit id: flagged visits}."""
    counted = by_unit(month.region, month.period.start, month.period.end)
    return {"first_contact_breaches": {unit: n for unit, n in counted.items() if unit is not None}}
