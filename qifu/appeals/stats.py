"""Appeal statistics: one definition for the API, the Excel export and the pages (docs/appeals.md,
"Statistics: definitions").

    period = stats.month_period("2026-10")            # or stats.range_period(date_from, date_to)
    figures = stats.compute(user, period, by="department")
    figures.total["on_time_rate"], figures.rows[0]["key"], …

Every figure is computed from the event history (`AppealEvent`, and the `Rating` each closing or sending back
writes with the event's time), over the appeals the caller may see (`scopes.appeals(user)`), current at request
time; the reads go to the statistics replica when there is one. The conditions are written once (`EVENT_SETS`,
`_last_handlings`, `_row_conditions`, …): `_conditions` puts them on a queryset of appeals (`appeal_sets`, the
ranking and the assessments), `_compute` reads each figure's appeals of the period from the events' indexes, then
the visible appeals among them by key, and counts per group in Python (docs/performance.md; a test compares both).
`avg_workdays_to_handle` uses the handled cases' two timestamps (the working-day calendar lives in `qifu.workcal`),
with an O(1) clock per case.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections, router, transaction
from django.db.models import (BooleanField, Count, DateTimeField, Exists, ExpressionWrapper, F, Func, OuterRef, Q,
                              Subquery, Value)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu import replica
from qifu.accounts import scopes
from qifu.lib.inputs import InputError
from qifu.workcal import workdays

from .models import (CLOCK_STATUSES, DISSATISFIED_STARS, HANDLING_ACTIONS, Appeal, AppealEvent, Category, Channel,
                     Rating, Resolution, Status)

HANDLING = HANDLING_ACTIONS  # 办结: by the lead unit, or on the spot at intake
DISSATISFIED_ACTIONS = ("reject_result", "revisit_reopen")
MAX_DAYS = 366  # the longest period one request may ask for
EARLIEST, LATEST = datetime.date(2000, 1, 1), datetime.date(2100, 12, 31)

METRICS = ("received", "accepted", "handled", "handled_on_time", "on_time_rate", "closed", "solved_rate",
           "satisfied", "satisfaction_rate", "overdue_open", "escalated", "reassigned", "dissatisfied",
           "avg_workdays_to_handle")

# The Excel headings (and the page's), in the user's language.
LABELS = {
    "received": gettext_lazy("Appeals received"),
    "accepted": gettext_lazy("Appeals accepted"),
    "handled": gettext_lazy("Appeals handled"),
    "handled_on_time": gettext_lazy("Handled on time"),
    "on_time_rate": gettext_lazy("On-time rate"),
    "closed": gettext_lazy("Appeals closed"),
    "solved_rate": gettext_lazy("Solved rate"),
    "satisfied": gettext_lazy("Closed satisfied"),
    "satisfaction_rate": gettext_lazy("Satisfaction rate"),
    "overdue_open": gettext_lazy("Open and overdue now"),
    "escalated": gettext_lazy("Escalated a level"),
    "reassigned": gettext_lazy("Second assignments"),
    "dissatisfied": gettext_lazy("Dissatisfied cases"),
    "avg_workdays_to_handle": gettext_lazy("Average working days to handle"),
}

# by= → the appeal's column grouped on (names and codes: `_names`)
GROUPS = {
    "department": "lead_department_id",
    "section": "section_id",
    "node": "received_node_id",
    "jurisdiction": "enterprise__jurisdiction_id",
    "channel": "channel_id",
    "category": "category",
}
GROUP_LABELS = {
    "department": gettext_lazy("lead department"),
    "section": gettext_lazy("section"),
    "node": gettext_lazy("received at (node)"),
    "jurisdiction": gettext_lazy("jurisdiction"),
    "channel": gettext_lazy("channel"),
    "category": gettext_lazy("class"),
}


# --- the period ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Local days `first` … `last` (inclusive) in `zone`; as instants [start, end)."""

    first: datetime.date
    last: datetime.date
    zone: str = settings.TIME_ZONE

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.first, datetime.time(0), tzinfo=ZoneInfo(self.zone))

    @property
    def end(self) -> datetime.datetime:
        return datetime.datetime.combine(self.last + datetime.timedelta(days=1), datetime.time(0),
                                         tzinfo=ZoneInfo(self.zone))

    @property
    def label(self) -> str:
        if self.first.day == 1 and (self.last + datetime.timedelta(days=1)).day == 1 and (
                self.first.year, self.first.month) == (self.last.year, self.last.month):
            return f"{self.first:%Y-%m}"
        return f"{self.first.isoformat()}–{self.last.isoformat()}"


def _in_range(day: datetime.date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise InputError(_("Dates must lie between %(first)s and %(last)s.") % {
            "first": EARLIEST.isoformat(), "last": LATEST.isoformat()})


def month_period(text: str, zone: str = settings.TIME_ZONE) -> Period:
    """"2026-10" → the local days of October 2026."""
    try:
        year, month = (int(part) for part in (text or "").strip().split("-"))
        first = datetime.date(year, month, 1)
    except (TypeError, ValueError):
        raise InputError(_("The month must be written YYYY-MM, e.g. 2026-10.")) from None
    if len(text.strip()) != 7:
        raise InputError(_("The month must be written YYYY-MM, e.g. 2026-10."))
    _in_range(first)
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return Period(first, following - datetime.timedelta(days=1), zone)


def range_period(first: datetime.date, last: datetime.date, zone: str = settings.TIME_ZONE) -> Period:
    _in_range(first)
    _in_range(last)
    if last < first:
        raise InputError(_("The period ends before it begins (to is before from)."))
    if (last - first).days + 1 > MAX_DAYS:
        raise InputError(_("A period is at most %(days)d days long.") % {"days": MAX_DAYS})
    return Period(first, last, zone)


def period_from(month: str | None, first: datetime.date | None, last: datetime.date | None,
                zone: str = settings.TIME_ZONE) -> Period:
    """The period a request asks for: a month, or from/to (both), never both ways."""
    if month and (first or last):
        raise InputError(_("Give either a month or from and to, not both."))
    if month:
        return month_period(month, zone)
    if first and last:
        return range_period(first, last, zone)
    if first or last:
        raise InputError(_("Give both from and to (dates, YYYY-MM-DD)."))
    raise InputError(_("Give a month (YYYY-MM) or from and to (dates, YYYY-MM-DD)."))


def check_by(by: str | None) -> str | None:
    if by in (None, ""):
        return None
    if by not in GROUPS:
        raise InputError(_("by must be one of: %(values)s.") % {"values": ", ".join(GROUPS)})
    return by


# --- who may ask ---------------------------------------------------------------------------------------

def may_see(user) -> bool:
    """Staff (leaders and supervisors, handlers, …); never enterprise users."""
    return scopes.is_admin(user) or bool(getattr(user, "is_authenticated", False) and user.is_active
                                         and user.roles & scopes.STAFF_ROLES)


def zone_of(user) -> str:
    from qifu.org.models import Region

    region = Region.objects.filter(pk=scopes.home_region_id(user)).first() if user.is_authenticated else None
    return region.rule("time_zone") if region else settings.TIME_ZONE


# --- the figures ---------------------------------------------------------------------------------------

@dataclass
class Figures:
    period: Period
    by: str | None
    total: dict
    rows: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"total": self.total, "rows": self.rows}


def _events(period: Period, **filters):
    return AppealEvent.objects.filter(at__gte=period.start, at__lt=period.end, **filters)


def _ids(events):
    return events.values("appeal_id")


def closed_ids(start: datetime.datetime | None = None, end: datetime.datetime | None = None):
    """The appeals closed in [start, end) (either end open when None): a closing event then — `closed`'s
    definition, also the appeals list's `closed_after`/`closed_before` filter."""
    events = AppealEvent.objects.filter(to_status=Status.CLOSED)
    if start is not None:
        events = events.filter(at__gte=start)
    if end is not None:
        events = events.filter(at__lt=end)
    return _ids(events)


def _deadline_then():
    """The deadline in force at an event: the `due_at` of the latest earlier event that set one."""
    earlier = AppealEvent.objects.filter(appeal_id=OuterRef("appeal_id"), seq__lt=OuterRef("seq"),
                                         data__has_key="due_at").order_by("-seq")
    return Cast(Subquery(earlier.annotate(due=KeyTextTransform("due_at", "data")).values("due")[:1]),
                output_field=DateTimeField())


def _last_handlings(period: Period):
    """Each appeal's last handling (办结) in the period (of every appeal: the callers keep the visible ones)."""
    later = AppealEvent.objects.filter(appeal_id=OuterRef("appeal_id"), action__in=HANDLING, seq__gt=OuterRef("seq"),
                                       at__lt=period.end)
    return _events(period, action__in=HANDLING).filter(~Exists(later))


class _WorkClock:
    """Working time as a running count of working days from a fixed day (the first one asked about; negative
    before it), so that the working days between two instants are one subtraction — the same count as
    `workdays.workdays_between`, without walking the calendar once per case."""

    def __init__(self, zone: str):
        self.zone = ZoneInfo(zone)
        self.origin: datetime.date | None = None
        self.days: dict = {}

    def _before(self, day: datetime.date) -> float:
        """Working days from the origin to the start of `day` (negative before the origin)."""
        if self.origin is None:
            self.origin = day
        return float(workdays.workdays_in(self.origin, day))

    def at(self, moment: datetime.datetime) -> float:
        return self.at_local(moment.astimezone(self.zone))

    def at_local(self, local: datetime.datetime) -> float:
        """The same for a local wall time in the clock's zone (aware or naive): the time of day is wall time, as
        Python subtracts two datetimes of one zone."""
        day = local.date()
        known = self.days.get(day)  # (working day?, working days before it): once per day
        if known is None:
            known = self.days[day] = (workdays.is_workday(day), self._before(day))
        working, before = known
        if not working:
            return before
        micro = (local.hour * 3600 + local.minute * 60 + local.second) * 1_000_000 + local.microsecond
        return before + micro / 1_000_000 / 86400


class _LocalTime(Func):
    """A `timestamptz` as the local wall time of `zone` (PostgreSQL's `AT TIME ZONE`): a naive timestamp."""

    output_field = DateTimeField()

    def __init__(self, expression, zone: str):
        super().__init__(expression, Value(zone))

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" AT TIME ZONE ",
                              **extra)


def _rate(part, whole, digits: int = 4):
    return round(part / whole, digits) if whole else None


def _finish(counts: dict, days: list[float]) -> dict:
    row = {name: counts.get(name, 0) for name in METRICS}
    row["on_time_rate"] = _rate(row["handled_on_time"], row["handled"])
    row["solved_rate"] = _rate(counts.get("solved", 0), row["closed"])
    row["satisfaction_rate"] = _rate(row["satisfied"], row["closed"])
    row["avg_workdays_to_handle"] = round(sum(days) / len(days), 2) if days else None
    return {name: row[name] for name in METRICS}


def compute(user, period: Period, by: str | None = None, now: datetime.datetime | None = None) -> Figures:
    """The figures of `period` over the appeals `user` may see, in total and (with `by`) per group."""
    if not may_see(user):
        raise PermissionDenied(_("Statistics are for staff."))
    by = check_by(by)
    with replica.statistics():
        return _measured(scopes.appeals(user), period, by, now or timezone.now())


def compute_region(region, period: Period, by: str | None = None, now: datetime.datetime | None = None) -> Figures:
    """The same figures over every appeal of `region`, whoever asks (the monthly ranking: one table for all)."""
    by = check_by(by)
    with replica.statistics():
        return _measured(Appeal.objects.filter(region=region), period, by, now or timezone.now())


def _measured(scoped, period: Period, by: str | None, now: datetime.datetime) -> Figures:
    db = router.db_for_read(Appeal)
    if connections[db].vendor != "postgresql":
        return _compute(scoped, period, by, now)
    with transaction.atomic(using=db), connections[db].cursor() as cursor:
        # PostgreSQL's JIT compiles these queries (their estimated cost is high) for seconds to save
        # milliseconds: off for this transaction (docs/performance.md, "Appeal statistics …").
        cursor.execute("SET LOCAL jit = off")
        return _compute(scoped, period, by, now)


# The month's events each event-defined figure counts the appeals of (with `_events(period)`); `closed` is also
# `closed_ids`. One definition for the conditions below and for `_compute`'s one pass over the month's events.
EVENT_SETS = {
    "accepted": Q(action="accept"),
    "closed": Q(to_status=Status.CLOSED),
    "escalated": Q(action="decide_escalation", data__approve=True),
    "reassigned": Q(action="reassign"),
    "dissatisfied": Q(action__in=DISSATISFIED_ACTIONS),
}
ON_TIME = Q(at__lte=F("deadline"))  # on a handling annotated with `_deadline_then()`: NULL (none in force) is not


def _low_ratings(period: Period):
    """The ratings of 1–2 stars given in the period (a dissatisfied case)."""
    return Rating.objects.filter(rated_at__gte=period.start, rated_at__lt=period.end, stars__isnull=False,
                                 stars__lte=DISSATISFIED_STARS)


def _bad_solved_ratings():
    """A rating of 1–2 stars of a case's solution (such a closed case is not `satisfied`)."""
    return Rating.objects.filter(solved=True, stars__isnull=False, stars__lte=DISSATISFIED_STARS)


def _row_conditions(period: Period, now: datetime.datetime) -> dict:
    """The conditions on the appeal's own columns."""
    received = Q(received_at__gte=period.start, received_at__lt=period.end)
    return {"received": received,
            "overdue_open": received & Q(status__in=CLOCK_STATUSES, due_at__lt=now),
            "solved_resolution": Q(resolution=Resolution.SOLVED)}


def _conditions(period: Period, now: datetime.datetime) -> dict:
    """{metric: the condition on an appeal to be counted} for the counted metrics (and "solved")."""
    def among(name):
        return Q(pk__in=_ids(_events(period).filter(EVENT_SETS[name])))

    row = _row_conditions(period, now)
    handlings = _last_handlings(period)
    # handled by the deadline then in force (none in force: not on time; `at <= NULL` is not true)
    on_time = handlings.annotate(deadline=_deadline_then()).filter(ON_TIME)
    closed = among("closed")
    return {
        "received": row["received"],
        "accepted": among("accepted"),
        "handled": Q(pk__in=handlings.values("appeal_id")),
        "handled_on_time": Q(pk__in=on_time.values("appeal_id")),
        "closed": closed,
        "solved": closed & row["solved_resolution"],
        "satisfied": closed & ~Q(Exists(_bad_solved_ratings().filter(appeal_id=OuterRef("pk")))),
        "overdue_open": row["overdue_open"],
        "escalated": among("escalated"),
        "reassigned": among("reassigned"),
        "dissatisfied": among("dissatisfied") | Q(pk__in=_low_ratings(period).values("appeal_id")),
    }


def appeal_sets(scoped, period: Period, now: datetime.datetime) -> dict:
    """{metric: the appeals of `scoped` it counts} for the counted metrics (and "solved")."""
    return {name: scoped.filter(condition) for name, condition in _conditions(period, now).items()}


def _by_ids(queryset, ids, using: str, column: str = "id", either: Q | None = None) -> list:
    """The rows of `queryset` whose `column` is one of `ids` (or that meet `either`): one `= ANY(array)` on
    PostgreSQL through the indexes, batches of `IN` lists elsewhere."""
    ids = sorted(ids)
    if connections[using].vendor != "postgresql":
        found = list(queryset.filter(either)) if either is not None else []
        for offset in range(0, len(ids), 500):
            found += queryset.filter(**{f"{column}__in": ids[offset:offset + 500]})
        return found
    table = queryset.model._meta.db_table
    # the array as one text literal (psycopg would adapt a list of 50,000 ints element by element)
    among = RawSQL(f'"{table}"."{column}" = ANY(%s::bigint[])', ("{" + ",".join(map(str, ids)) + "}",),
                   output_field=BooleanField())
    settings_ = ("enable_seqscan = off", "enable_indexscan = off", "random_page_cost = 1.1")
    with connections[using].cursor() as cursor:
        # PostgreSQL's default costs (random_page_cost 4) make reading every appeal of the scope — a sequential
        # scan, or a bitmap of the whole region from its index — look cheaper than 50,000 look-ups by key: 0.5–1.2 s
        # instead of 0.2–0.3 s at a million appeals (docs/performance.md). For this read only, within the
        # statistics' transaction (`_measured`): bitmap scans, with the cost of a page read from the cache.
        for setting in settings_:
            cursor.execute(f"SET LOCAL {setting}")
        try:
            return list(queryset.filter(Q(among) | either if either is not None else among))
        finally:
            for setting in settings_:
                cursor.execute(f"SET LOCAL {setting.split()[0]} TO DEFAULT")


def _compute(scoped, period: Period, by: str | None, now: datetime.datetime) -> Figures:
    """The figures from a few reads that start from the period's events (each through the (action, at) or
    (to_status, at) index), then the visible appeals among them by primary key — never a scan of every appeal in
    the scope. The conditions are `_conditions`' (the same event sets, handlings, ratings and row conditions; the
    tests compare both ways)."""
    column = GROUPS[by] if by else None
    db = scoped.db
    # 1. the appeals of each event-defined figure: the period's events of that kind, from the (action, at) or
    #    (to_status, at) index (their appeal is in the index: no table read on PostgreSQL)
    sets = {name: set(_events(period).filter(condition).order_by().values_list("appeal_id", flat=True).using(db))
            for name, condition in EVENT_SETS.items()}
    # 2. each case's last handling in the period, its time and whether it met the deadline then in force
    handled_then: dict = {}
    on_time: set = set()
    handlings = _last_handlings(period).annotate(deadline=_deadline_then()).annotate(
        on_time=ExpressionWrapper(ON_TIME, output_field=BooleanField()))
    postgres = connections[db].vendor == "postgresql"
    # the times the working-day clock reads: on PostgreSQL as local wall times (`AT TIME ZONE`), which the driver
    # reads several times faster than instants; the clock counts wall time either way (`_WorkClock.at`)
    if postgres:
        handlings = handlings.annotate(local_at=_LocalTime("at", zone=period.zone))
    for appeal_id, at, met in handlings.order_by().values_list("appeal_id", "local_at" if postgres else "at",
                                                               "on_time").using(db):
        handled_then[appeal_id] = at
        if met:
            on_time.add(appeal_id)
    low = set(_low_ratings(period).order_by().values_list("appeal_id", flat=True).using(db))
    # 3. the visible appeals among them, in one read (the scope's subqueries once): those received in the period
    #    (the index on the receipt time) and the others by primary key; never a scan of every appeal in the scope
    own = _row_conditions(period, now)
    row_flags = {f"is_{name}": ExpressionWrapper(condition, output_field=BooleanField())
                 for name, condition in own.items()}
    if postgres:
        row_flags["local_accepted_at"] = _LocalTime("accepted_at", zone=period.zone)
    fields = ("pk", "local_accepted_at" if postgres else "accepted_at", "is_received", "is_overdue_open",
              "is_solved_resolution", *([column] if column else []))
    touched = set().union(*sets.values()) | set(handled_then) | low
    rows = {found[0]: found for found in _by_ids(scoped.order_by().annotate(**row_flags).values_list(*fields),
                                                 touched, db, either=own["received"])}
    # a closed case with a low rating of its solution is not satisfied
    closed_visible = [pk for pk in sets["closed"] if pk in rows]
    unsatisfied = set(_by_ids(_bad_solved_ratings().order_by().values_list("appeal_id", flat=True), closed_visible,
                              db, column="appeal_id")) if closed_visible else set()
    clock = _WorkClock(period.zone)
    at = clock.at_local if postgres else clock.at
    members: dict = {}  # group → the visible appeals counted in it
    received, overdue_open, solved = set(), set(), set()
    days: dict = {}  # working days from acceptance to the (last) handling in the period, per case
    for pk, accepted_at, is_received, is_overdue_open, is_solved, *group in rows.values():
        key = group[0] if group else None
        members.setdefault(key, []).append(pk)
        if is_received:
            received.add(pk)
        if is_overdue_open:
            overdue_open.add(pk)
        if is_solved:
            solved.add(pk)
        handled = handled_then.get(pk)
        if handled is not None and accepted_at is not None:
            days.setdefault(key, []).append(max(0.0, at(handled) - at(accepted_at)))
    closed_set = sets["closed"]
    figure_sets = {"received": received, "accepted": sets["accepted"], "handled": set(handled_then),
                   "handled_on_time": on_time, "closed": closed_set, "solved": closed_set & solved,
                   "satisfied": closed_set - unsatisfied, "overdue_open": overdue_open,
                   "escalated": sets["escalated"], "reassigned": sets["reassigned"],
                   "dissatisfied": sets["dissatisfied"] | low}
    by_key = {}
    for key, pks in members.items():
        group_set = set(pks)
        by_key[key] = {name: len(group_set & figure) for name, figure in figure_sets.items()}
    counted = tuple(figure_sets)
    by_key = {key: counts for key, counts in by_key.items() if any(counts.values())}
    total_counts = {name: sum(c.get(name, 0) for c in by_key.values()) for name in counted}
    total = _finish(total_counts, [d for values in days.values() for d in values])
    rows_out = []
    if by:
        names = _names(by, [k for k in by_key if k is not None])
        for key, counts in by_key.items():
            code, name = names.get(key, (None, _("(none)"))) if key is not None else (None, _("(none)"))
            rows_out.append({"key": code, "name": name, **_finish(counts, days.get(key, []))})
        rows_out.sort(key=lambda r: (r["key"] is None, -r["received"], r["key"] or ""))
    return Figures(period, by, total, rows_out)


def _names(by: str, keys: list) -> dict:
    """{group value: (code, name)}."""
    from qifu.org.models import Department, Jurisdiction, Section, ServiceNode

    if by == "category":
        labels = dict(Category.choices)
        return {k: (k, str(labels.get(k, k))) for k in keys if k != ""} | (
            {"": (None, _("(not classified)"))} if "" in keys else {})
    model = {"department": Department, "section": Section, "node": ServiceNode, "jurisdiction": Jurisdiction,
             "channel": Channel}[by]
    label = "label" if model is Channel else "name"
    return {pk: (code, name) for pk, code, name in model.objects.filter(pk__in=keys).values_list("pk", "code", label)}


def trend(user, months: int = 12, today: datetime.date | None = None, zone: str | None = None,
          known: dict[str, dict] | None = None) -> list[dict]:
    """The totals of the last `months` months (oldest first, the current one last): [{"month", metric…}].
    `known`: {month label: totals} the caller has already computed for this user (not computed again)."""
    zone = zone or zone_of(user)
    today = today or timezone.localtime(timezone.now(), ZoneInfo(zone)).date()
    months = max(1, min(int(months), 36))
    result = []
    for back in range(months - 1, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        label = f"{index // 12:04d}-{index % 12 + 1:02d}"
        totals = (known or {}).get(label)
        if totals is None:
            totals = compute(user, month_period(label, zone)).total
        result.append({"month": label, **totals})
    return result


DAILY = ("received", "closed")  # the per-day series


def daily(user, days: int = 30, today: datetime.date | None = None, zone: str | None = None) -> list[dict]:
    """`received` and `closed` per local day of the last `days` days (oldest first, today last):
    [{"day": date, "received": n, "closed": n}] — each day's figures are `compute` over that one day."""
    if not may_see(user):
        raise PermissionDenied(_("Statistics are for staff."))
    from django.db.models.functions import TruncDate

    zone = zone or zone_of(user)
    tz = ZoneInfo(zone)
    today = today or timezone.localtime(timezone.now(), tz).date()
    days = max(1, min(int(days), MAX_DAYS))
    period = range_period(today - datetime.timedelta(days=days - 1), today, zone)
    with replica.statistics():
        scoped = scopes.appeals(user)
        received = {row["day"]: row["n"] for row in
                    scoped.filter(received_at__gte=period.start, received_at__lt=period.end).order_by()
                    .annotate(day=TruncDate("received_at", tzinfo=tz)).values("day").annotate(n=Count("pk"))}
        # an appeal closed twice on one day counts once that day (as `closed` over the day)
        closed = {row["day"]: row["n"] for row in
                  _events(period, to_status=Status.CLOSED, appeal__in=scoped).order_by()
                  .annotate(day=TruncDate("at", tzinfo=tz)).values("day")
                  .annotate(n=Count("appeal_id", distinct=True))}
    result = []
    for back in range(days - 1, -1, -1):
        day = today - datetime.timedelta(days=back)
        result.append({"day": day, "received": received.get(day, 0), "closed": closed.get(day, 0)})
    return result


# --- Excel ---------------------------------------------------------------------------------------------

def workbook(figures: Figures) -> bytes:
    """One sheet: a heading line (the period), the column headings, the total (bold), then one row per group."""
    from qifu.lib import exports

    group = str(GROUP_LABELS[figures.by]) if figures.by else ""
    header = [_("code"), group or _("Figures for"), *[str(LABELS[m]) for m in METRICS]]
    total = [None, _("Total"), *[figures.total[m] for m in METRICS]]
    rows = [[row["key"], row["name"], *[row[m] for m in METRICS]] for row in figures.rows]
    return exports.workbook(_("Appeal statistics"), header, [total, *rows],
                            preface=[_("Appeal statistics"), figures.period.label], bold_rows=1)
