"""China's working-day calendar: the one place that knows which days are working days and when a
deadline of N working days ends. Everything that counts working days calls this module.

Sources, in order:
1. `CalendarDay` rows (entered by an administrator or imported) — they override everything;
2. chinese-calendar's statutory holidays and make-up working days (调休) for the years it covers;
3. a year an administrator marked published (`CalendarYear`): Monday–Friday plus its CalendarDay rows;
4. otherwise there is no data for the year: Monday–Friday, with a loud warning (log + admin banner).

Deadlines follow Chinese practice: the day of receipt does not count; N working days end at the end
of the Nth working day after it (end of day configurable per region, default 24:00, which is
represented as 23:59:59 of that day so the deadline carries its own date).
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _cc

logger = logging.getLogger("qifu.workcal")

BUILTIN_YEARS: frozenset[int] = frozenset(d.year for d in _cc.holidays) | frozenset(d.year for d in _cc.workdays)
DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_END_OF_DAY = "24:00"
_CACHE_SECONDS = 30


class _Overrides:
    """Administrator data, cached briefly so counting days costs no queries (and invalidated on save)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self.days: dict[datetime.date, bool] = {}
        self.years: set[int] = set()
        self.fallback_years: set[int] = set()  # years we had to fall back for (for the admin banner)
        # year → working days of the year before each of its days (`_prefix`); rebuilt with the data it sums
        self.prefix: dict[int, list[int]] = {}

    def invalidate(self) -> None:
        self._loaded_at = 0.0
        self.prefix = {}

    def ensure(self) -> None:
        if time.monotonic() - self._loaded_at < _CACHE_SECONDS:
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < _CACHE_SECONDS:
                return
            days, years = {}, set()
            try:
                from django.db import DatabaseError

                from .models import CalendarDay, CalendarYear

                try:
                    days = dict(CalendarDay.objects.values_list("date", "is_workday"))
                    years = set(CalendarYear.objects.values_list("year", flat=True))
                except DatabaseError:  # not migrated yet: built-in data only
                    logger.debug("calendar tables unavailable; using built-in data only")
            except Exception:  # Django not configured (plain library use)
                pass
            self.days, self.years, self.prefix = days, years, {}
            self._loaded_at = time.monotonic()


_overrides = _Overrides()


def invalidate_cache() -> None:
    _overrides.invalidate()


def year_has_data(year: int) -> bool:
    _overrides.ensure()
    return year in BUILTIN_YEARS or year in _overrides.years


def missing_years(years) -> list[int]:
    return [y for y in years if not year_has_data(y)]


def fallback_years() -> set[int]:
    """Years for which a lookup fell back to Monday–Friday since the process started."""
    return set(_overrides.fallback_years)


def _warn_no_data(year: int) -> None:
    """Warn once per process and year (the admin banner keeps showing it); counting days asks many times."""
    with _overrides._lock:
        if year in _overrides.fallback_years:
            return
        _overrides.fallback_years.add(year)
    logger.warning(
        "No working-day calendar for %s: falling back to Monday–Friday. An administrator must enter "
        "or import that year's holidays and make-up working days (qifu calendar import).", year
    )


@lru_cache(maxsize=4096)
def _builtin_workday(day: datetime.date) -> bool:
    """chinese-calendar's answer (fixed data; it validates the date on every call): asked for the same days over
    and over (every deadline counts forward from today)."""
    return chinese_calendar.is_workday(day)


def is_workday(day: datetime.date) -> bool:
    if isinstance(day, datetime.datetime):
        day = day.date()
    _overrides.ensure()
    if day in _overrides.days:
        return _overrides.days[day]
    if day.year in BUILTIN_YEARS:
        return _builtin_workday(day)
    if day.year not in _overrides.years:
        _warn_no_data(day.year)
    return day.weekday() < 5


def day_name(day: datetime.date) -> str:
    """The holiday or make-up day's name, where known."""
    from .models import CalendarDay

    row = CalendarDay.objects.filter(date=day).first()
    if row:
        return row.name
    if day.year in BUILTIN_YEARS:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        if name:
            return str(name)
    return ""


def next_workday(day: datetime.date) -> datetime.date:
    """The first working day strictly after `day`."""
    day += datetime.timedelta(days=1)
    while not is_workday(day):
        day += datetime.timedelta(days=1)
    return day


def add_workdays(day: datetime.date, n: int) -> datetime.date:
    """The Nth working day after `day` (the day itself never counts)."""
    if n < 0:
        raise ValueError("n must be ≥ 0")
    for _ in range(n):
        day = next_workday(day)
    return day


def shift_workdays(day: datetime.date, n: int) -> datetime.date:
    """The working day `n` working days after `day` (n < 0: before it; 0: `day` itself)."""
    step = datetime.timedelta(days=1 if n >= 0 else -1)
    for _ in range(abs(n)):
        day += step
        while not is_workday(day):
            day += step
    return day


def _end_of_day(value: str | datetime.time) -> datetime.time:
    if isinstance(value, datetime.time):
        return value
    hours, _, minutes = str(value).partition(":")
    h, m = int(hours), int(minutes or 0)
    if (h, m) == (24, 0):
        return datetime.time(23, 59, 59)
    return datetime.time(h, m)


def deadline(
    received_at: datetime.datetime,
    working_days: int,
    *,
    end_of_day: str | datetime.time = DEFAULT_END_OF_DAY,
    tz: str = DEFAULT_TZ,
) -> datetime.datetime:
    """When N working days from `received_at` end, as an aware datetime in `tz`."""
    zone = ZoneInfo(tz)
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=zone)
    local = received_at.astimezone(zone)
    if working_days <= 0:
        last_day = local.date()
    else:
        last_day = add_workdays(local.date(), working_days)
    return datetime.datetime.combine(last_day, _end_of_day(end_of_day), tzinfo=zone)


def _prefix(year: int) -> list[int]:
    """Working days of `year` before each of its days: `_prefix(y)[i]` counts days 0 … i-1 (day 0 = 1 January);
    one entry more than the year has days. Built once per year and calendar data (`_Overrides`)."""
    _overrides.ensure()
    prefix = _overrides.prefix.get(year)
    if prefix is None:
        first = datetime.date(year, 1, 1)
        length = (datetime.date(year + 1, 1, 1) - first).days
        prefix = [0] * (length + 1)
        for i in range(length):
            prefix[i + 1] = prefix[i] + is_workday(first + datetime.timedelta(days=i))
        _overrides.prefix[year] = prefix
    return prefix


def workdays_in(first: datetime.date, end: datetime.date) -> int:
    """How many working days lie in [first, end) (negative if end < first): per-year prefix sums, so the
    cost does not grow with the distance (a year between them costs one lookup)."""
    if end < first:
        return -workdays_in(end, first)
    if first.year == end.year:
        prefix = _prefix(first.year)
        return prefix[end.timetuple().tm_yday - 1] - prefix[first.timetuple().tm_yday - 1]
    total = _prefix(first.year)[-1] - _prefix(first.year)[first.timetuple().tm_yday - 1]
    for year in range(first.year + 1, end.year):
        total += _prefix(year)[-1]
    return total + _prefix(end.year)[end.timetuple().tm_yday - 1]


def workdays_between(start: datetime.datetime, end: datetime.datetime, *, tz: str = DEFAULT_TZ) -> float:
    """Working time from `start` to `end` in working days (negative if end < start).

    Each working day counts as one full day from 00:00 to 24:00 local time; non-working days count 0.
    Used to show "time left" and "overdue by" in working days. Constant time (`workdays_in`): the whole days
    from the start's day up to the end's day, less the part of the start's day before the start, plus the part of
    the end's day before the end (each only on a working day).
    """
    if end < start:
        return -workdays_between(end, start, tz=tz)
    zone = ZoneInfo(tz)
    start, end = start.astimezone(zone), end.astimezone(zone)

    def elapsed(moment: datetime.datetime) -> float:  # the part of its day gone by, if that day is a working day
        if not is_workday(moment.date()):
            return 0.0
        midnight = datetime.datetime.combine(moment.date(), datetime.time(0), tzinfo=zone)
        return (moment - midnight).total_seconds() / 86400

    return workdays_in(start.date(), end.date()) - elapsed(start) + elapsed(end)


def parse_schedule(text: str) -> list[tuple[datetime.date, bool, str]]:
    """Parse a simple schedule file: one `DATE,holiday|workday[,name]` per line; `#` comments.

    Also accepts 休/班 and 假/调休 as the kind, and tabs or spaces as separators.
    """
    kinds = {"holiday": False, "休": False, "假": False, "off": False,
             "workday": True, "班": True, "调休": True, "work": True}
    rows: list[tuple[datetime.date, bool, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("\t", ",").replace("，", ",").split(",")]
        if len(parts) == 1:
            parts = line.split()
        if parts[0].lower() in ("date", "日期"):
            continue
        if len(parts) < 2:
            raise ValueError(f"line {number}: expected DATE,holiday|workday[,name], got {line!r}")
        try:
            day = datetime.date.fromisoformat(parts[0].replace("/", "-"))
        except ValueError:
            raise ValueError(f"line {number}: {parts[0]!r} is not a date (YYYY-MM-DD)") from None
        kind = parts[1].lower()
        if kind not in kinds:
            raise ValueError(f"line {number}: kind must be holiday or workday, got {parts[1]!r}")
        rows.append((day, kinds[kind], parts[2] if len(parts) > 2 else ""))
    return rows


def import_schedule(text: str, source: str = "import") -> list[int]:
    """Store a year's (or several years') schedule and mark those years published; all or nothing."""
    from django.db import transaction

    from .models import CalendarDay, CalendarYear

    rows = parse_schedule(text)
    if not rows:
        raise ValueError("the file has no dates")
    years = sorted({d.year for d, _, _ in rows})
    with transaction.atomic():
        for year in years:
            CalendarYear.objects.update_or_create(year=year, defaults={"source": source})
        for day, workday, name in rows:
            CalendarDay.objects.update_or_create(date=day, defaults={"is_workday": workday, "name": name})
    invalidate_cache()
    return years
