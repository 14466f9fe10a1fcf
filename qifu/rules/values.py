"""Unknown values and the helpers every part of the engine shares."""

from __future__ import annotations

import datetime
from decimal import Decimal


class Unknown:
    """A value the enterprise has no data for. Comparisons and arithmetic with it stay unknown."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "unknown"

    def __bool__(self):
        raise TypeError("an unknown value has no truth value; use Kleene logic")


UNKNOWN = Unknown()


def is_unknown(value) -> bool:
    return value is UNKNOWN or value is None


def gettext_noop(message: str) -> str:
    """Marks a message for translation (`make messages` finds it); RuleError translates it when shown."""
    return message


def _translate(message: str) -> str:
    """The message in the user's language while Django runs the engine; as written otherwise."""
    try:
        from django.conf import settings

        if settings.configured:
            from django.utils.translation import gettext

            return gettext(message)
    except ImportError:  # the engine on its own
        pass
    return message


class RuleError(ValueError):
    """A condition or formula that cannot be evaluated as written (a mistake in the rule).

    `RuleError(gettext_noop("%(name)s is …"), name=…)`: the message is translated when it is shown,
    in the language of the page that shows it."""

    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message, self.params = message, params

    def __str__(self):
        text = _translate(self.message)
        return text % self.params if self.params else text


def as_number(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise RuleError(gettext_noop("%(value)r is not a number"), value=value) from None
    raise RuleError(gettext_noop("%(value)r is not a number"), value=value)


def as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            raise RuleError(gettext_noop("%(value)r is not a date (YYYY-MM-DD)"), value=value) from None
    raise RuleError(gettext_noop("%(value)r is not a date"), value=value)


def comparable(a, b):
    """Bring two known values to comparable types (numbers with numbers, dates with dates)."""
    if isinstance(a, (datetime.date, datetime.datetime)) or isinstance(b, (datetime.date, datetime.datetime)):
        return as_date(a), as_date(b)
    numeric = (int, float, Decimal, bool)
    if isinstance(a, numeric) or isinstance(b, numeric):
        if isinstance(a, str) or isinstance(b, str):
            try:
                return as_number(a), as_number(b)
            except RuleError:
                return str(a), str(b)
        return as_number(a), as_number(b)
    return a, b


def years_between(start: datetime.date, end: datetime.date) -> float:
    """Years from `start` to `end` as a decimal: whole years by anniversary plus the fraction of the
    current anniversary year, so an anniversary gives a whole number (成立满3年 at the day)."""
    if end < start:
        return -years_between(end, start)
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    last = add_years(start, years)
    following = add_years(start, years + 1)
    return years + (end - last).days / (following - last).days


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def round_half_up(x: float, digits: int = 0) -> float:
    """四舍五入: halves round away from zero (not Python's banker's rounding)."""
    q = Decimal(1).scaleb(-digits)
    from decimal import ROUND_HALF_UP

    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))
