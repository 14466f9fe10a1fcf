"""Checking indicator values before they are stored: lenient for spreadsheet cells (what departments'
exports contain), strict for JSON pushed by other systems."""

from __future__ import annotations

import datetime
import math
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.enterprises.importer import DATE_FORMATS, _text

MAX_NUMBER = Decimal("1e17")
TRUE_WORDS = {"是", "有", "true", "yes", "y", "1", "√", "✓", "t"}
FALSE_WORDS = {"否", "无", "false", "no", "n", "0", "×", "✗", "f"}
MAX_TEXT = 255

Result = tuple[Any, str | None]


def _number(value: Any) -> Result:
    if isinstance(value, bool):
        return None, _("'%(value)s' is not a number.") % {"value": value}
    if isinstance(value, float) and not math.isfinite(value):
        return None, _("'%(value)s' is not a number.") % {"value": value}
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
    else:
        text = unicodedata.normalize("NFKC", _text(value)).replace(",", "").replace(" ", "").removesuffix("%")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None, _("'%(value)s' is not a number.") % {"value": _text(value)}
        if not number.is_finite():
            return None, _("'%(value)s' is not a number.") % {"value": _text(value)}
    if abs(number) >= MAX_NUMBER:
        return None, _("The number %(value)s is too large.") % {"value": _text(value)}
    return number, None


def _bool_cell(value: Any) -> Result:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), None
    word = unicodedata.normalize("NFKC", _text(value)).lower()
    if word in TRUE_WORDS:
        return True, None
    if word in FALSE_WORDS:
        return False, None
    return None, _("'%(value)s' is not yes or no (是/否, true/false, 1/0).") % {"value": _text(value)}


def _date_cell(value: Any) -> Result:
    if isinstance(value, datetime.datetime):
        return value.date(), None
    if isinstance(value, datetime.date):
        return value, None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date(), None  # an Excel date serial number
    text = _text(value).split(" ")[0]
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date(), None
        except ValueError:
            continue
    return None, _("'%(date)s' is not a date: write it as YYYY-MM-DD or YYYY/MM/DD.") % {"date": _text(value)}


def _text_value(value: str) -> Result:
    if len(value) > MAX_TEXT:
        return None, _("At most %(max)d characters; this has %(n)d.") % {"max": MAX_TEXT, "n": len(value)}
    return value, None


def clean_cell(datatype: str, value: Any) -> Result:
    """(cleaned value, problem) for a non-empty spreadsheet cell."""
    if datatype == "number":
        return _number(value)
    if datatype == "bool":
        return _bool_cell(value)
    if datatype == "date":
        return _date_cell(value)
    return _text_value(_text(value))


def clean_json(datatype: str, value: Any) -> Result:
    """(cleaned value, problem) for a JSON value: numbers as numbers, yes/no as true/false,
    dates as "YYYY-MM-DD" and text as strings."""
    if value is None:
        return None, _("A value is required.")
    if datatype == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, _("Expected a number, got %(value)r.") % {"value": value}
        return _number(value)
    if datatype == "bool":
        if not isinstance(value, bool):
            return None, _("Expected true or false, got %(value)r.") % {"value": value}
        return value, None
    if datatype == "date":
        day = parse_iso_date(value)
        if day is None:
            return None, _("Expected a date as YYYY-MM-DD, got %(value)r.") % {"value": value}
        return day, None
    if not isinstance(value, str):
        return None, _("Expected text, got %(value)r.") % {"value": value}
    return _text_value(value.strip())


MAX_SOURCE = 128


def source_problem(source: str) -> str | None:
    if len(source) > MAX_SOURCE:
        return _("At most %(max)d characters; this has %(n)d.") % {"max": MAX_SOURCE, "n": len(source)}
    return None


def parse_iso_date(value: Any) -> datetime.date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None


def as_of_problem(day: datetime.date) -> str | None:
    if day > timezone.localdate():
        return _("The date %(date)s is in the future.") % {"date": day.isoformat()}
    return None


def display(datatype: str, value: Any) -> str:
    """A value as the profile shows it."""
    if value is None:
        return ""
    if datatype == "bool":
        return _("yes") if value else _("no")
    if datatype == "date":
        return value.isoformat()
    if datatype == "number":
        number = float(value)
        if number.is_integer():
            return f"{int(number):,}"
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    return str(value)
