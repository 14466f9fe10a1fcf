"""What any input must be, for pages and API alike: one place for lengths, NUL bytes, amounts, page
sizes, phone numbers and plausible times of receipt.

The API's schemas (`qifu.api.schemas`) and the page forms take their limits from here and from the model
fields; the domain (`appeals.workflow`, `policies.applications`, …) checks again with the same functions,
so a value that slips past one edge is still refused with a message and nothing is saved.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

NUL = "\x00"
# Free text without a length in the database (descriptions, replies, notes): still bounded.
TEXT_MAX = 10000
# Amounts in yuan: the money columns are DECIMAL(16, 2).
AMOUNT_MAX = Decimal("99999999999999.99")
# Lists: `limit` is 1…LIMIT_MAX (more is a 400, not a clamp), `offset` 0…OFFSET_MAX.
LIMIT_DEFAULT = 50
LIMIT_MAX = 200
OFFSET_MAX = 1_000_000_000
# An Idempotency-Key is at most this long (the column's length).
IDEMPOTENCY_KEY_MAX = 128
# A time of receipt may run ahead of the server's clock by this much (another system's clock).
CLOCK_SKEW = datetime.timedelta(minutes=5)


class InputError(ValueError):
    """A value is not acceptable; the message says which and why (translated)."""


def has_nul(value) -> bool:
    """A NUL byte anywhere in a string, or in the strings of a list or dict (keys too)."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return any(has_nul(v) for v in value)
    return False


def nul_message() -> str:
    return _("NUL characters (\\0) are not allowed.")


def text_problem(value: str | None, *, max_length: int, required: bool = False) -> str | None:
    """Why `value` cannot be stored as text of at most `max_length` characters, or None."""
    value = value or ""
    if NUL in value:
        return nul_message()
    if required and not value.strip():
        return _("This field is required.")
    if len(value.strip()) > max_length:
        return _("At most %(max)d characters (this has %(n)d).") % {"max": max_length, "n": len(value.strip())}
    return None


def text(value: str | None, label, *, max_length: int = TEXT_MAX, required: bool = False) -> str:
    """`value` stripped, or InputError naming `label`."""
    problem = text_problem(value, max_length=max_length, required=required)
    if problem:
        raise InputError(f"{label}: {problem}")
    return (value or "").strip()


def max_length(model, field: str) -> int:
    """The length of a model's text column, so every edge uses the database's own limit."""
    return model._meta.get_field(field).max_length


def amount_problem(value) -> str | None:
    """Why `value` is not an amount of money in yuan (0 … AMOUNT_MAX), or None (rounded to fen by the caller)."""
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except ArithmeticError:
        return _("Give the amount in yuan, e.g. 12000.50.")
    if not amount.is_finite():
        return _("Give the amount in yuan, e.g. 12000.50.")
    if amount < 0:
        return _("The amount cannot be negative.")
    if amount > AMOUNT_MAX:
        return _("The amount cannot exceed %(max)s yuan.") % {"max": f"{AMOUNT_MAX:,.2f}"}
    return None


def date_problem(value: datetime.date | None, *, earliest: datetime.date, latest: datetime.date | None = None) -> str | None:
    """Why a date typed by someone is not plausible (before `earliest`, after `latest`), or None."""
    if value is None:
        return None
    if value < earliest:
        return _("The date cannot be before %(date)s.") % {"date": earliest.isoformat()}
    if latest is not None and value > latest:
        return _("The date cannot be after %(date)s.") % {"date": latest.isoformat()}
    return None


# --- times of receipt -------------------------------------------------------------------------------

def earliest_received(region) -> datetime.datetime:
    """The earliest plausible time of receipt: the region's `received_at_earliest` (a date, default
    2000-01-01) at midnight in the region's time zone."""
    raw = region.rule("received_at_earliest") if region is not None else "2000-01-01"
    day = raw if isinstance(raw, datetime.date) else datetime.date.fromisoformat(str(raw))
    zone = ZoneInfo(region.rule("time_zone")) if region is not None else timezone.get_current_timezone()
    return datetime.datetime.combine(day, datetime.time(), tzinfo=zone)


def received_at_problem(value: datetime.datetime, region, now: datetime.datetime | None = None) -> str | None:
    """Why `value` is not a plausible time of receipt, or None: it has a time zone, is not before the
    region's earliest date and not in the future (beyond CLOCK_SKEW)."""
    if timezone.is_naive(value):
        return _("Give the time of receipt with its time zone, e.g. 2026-11-20T10:00:00+08:00.")
    earliest = earliest_received(region)
    try:
        too_early = value < earliest
    except OverflowError:  # pragma: no cover - offsets that push a date out of range
        too_early = True
    if too_early:
        return _("The time of receipt cannot be before %(date)s.") % {"date": earliest.date().isoformat()}
    if value > (now or timezone.now()) + CLOCK_SKEW:
        return _("The time of receipt cannot be in the future.")
    return None


def aware(value: datetime.datetime) -> datetime.datetime:
    """A filter's time: a naive one is taken in the server's time zone; one that cannot be compared in
    UTC (year 1 at +14:00) is refused."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        value.astimezone(datetime.timezone.utc)
    except OverflowError:
        raise InputError(_("The date is out of range.")) from None
    return value


# --- Idempotency-Key --------------------------------------------------------------------------------

def idempotency_key(raw: str | None) -> str:
    """The header's key ('' when absent), or InputError when it is too long or has control characters."""
    key = (raw or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise InputError(_("An Idempotency-Key is at most %(n)d characters.") % {"n": IDEMPOTENCY_KEY_MAX})
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise InputError(_("An Idempotency-Key cannot contain control characters."))
    return key


def request_hash(kind: str, data) -> str:
    """A fingerprint of a request's content, stored with its Idempotency-Key: the same key with other
    content is refused (422) instead of silently answering with the first result."""
    import hashlib
    import json

    blob = json.dumps([kind, data], sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def earlier_request(found, digest: str, conflict):
    """What an earlier request with the same Idempotency-Key created (`found`, or None), if it was this request:
    `conflict(found)` — the exception to raise, 422 — when its stored fingerprint (`idempotency_hash`) is another
    request's (a key stored before fingerprints were kept matches any request)."""
    if found is not None and digest and found.idempotency_hash and found.idempotency_hash != digest:
        raise conflict(found)
    return found


PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}\d{7,8}")


def phone(value: str | None) -> str:
    """A mobile number (11 digits) or a landline with its area code, without the spaces and hyphens people type;
    InputError otherwise."""
    compact = re.sub(r"[\s-]", "", value or "")
    if not PHONE.fullmatch(compact):
        raise InputError(_("Give a mobile number (11 digits) or a landline with its area code."))
    return compact
