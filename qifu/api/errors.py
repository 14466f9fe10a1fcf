"""Every error of the API is `{"detail": "…", "errors": [{"field", "message", "index"}]}` with a message in
the user's language (Chinese by default): bad input 400, no or bad token 401, not allowed 403, not found
or outside your scope 404, stale version 409, an Idempotency-Key reused with another body 422.

Schema errors (pydantic's, in English) are rewritten here field by field."""

from __future__ import annotations

from django.utils.translation import gettext as _

# pydantic's error types start with the type expected ("int_parsing", "datetime_from_date_parsing", …).
EXPECTED = ("int", "bool", "datetime", "date", "decimal", "float", "list", "dict", "model", "string", "json")


def _expected(kind: str) -> str:
    words = {
        "int": _("a whole number"), "bool": _("true or false"), "date": _("a date (YYYY-MM-DD)"),
        "datetime": _("a date and time with its time zone (ISO 8601, e.g. 2026-11-20T10:00:00+08:00)"),
        "decimal": _("a number"), "float": _("a number"), "list": _("a list"), "dict": _("an object"),
        "model": _("an object"), "string": _("text"), "json": _("JSON"),
    }
    return words.get(kind, _("a valid value"))


def message(error: dict) -> str:
    """One pydantic error as a sentence for the user."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    if kind in ("string_too_long", "too_long"):
        n = ctx.get("max_length", 0)
        return (_("At most %(max)d characters.") if kind == "string_too_long" else _("At most %(max)d items.")) % {
            "max": n}
    if kind in ("string_too_short", "too_short"):
        n = ctx.get("min_length", 0)
        return (_("At least %(min)d characters.") if kind == "string_too_short" else _("At least %(min)d items.")) % {
            "min": n}
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        return (_("At least %(limit)s.") if kind == "greater_than_equal" else _("More than %(limit)s.")) % {
            "limit": limit}
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        return (_("At most %(limit)s.") if kind == "less_than_equal" else _("Less than %(limit)s.")) % {
            "limit": limit}
    if kind.startswith("decimal_max") or kind == "decimal_whole_digits":
        return _("Too many digits: at most 14 before the point and 2 after it.")
    if kind == "timezone_aware":
        return _("Give the time zone, e.g. 2026-11-20T10:00:00+08:00.")
    if kind in ("literal_error", "enum"):
        return _("Must be one of: %(values)s.") % {"values": ctx.get("expected", "")}
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    for prefix in EXPECTED:
        if kind.startswith(prefix):
            return _("Expected %(what)s.") % {"what": _expected(prefix)}
    return _("Not a valid value.")


def _where(loc) -> tuple[str, int | None]:
    """("title", None) for body.payload.title; ("uscc", 3) for the 4th item of a list body."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "form", "file", "payload")]
    index = next((p for p in parts if isinstance(p, int)), None)
    names = [str(p) for p in parts if not isinstance(p, int) and p not in ("ninja_pagination",)]
    return (".".join(names) or "body"), index


def items(pydantic_errors: list[dict]) -> list[dict]:
    result = []
    for error in pydantic_errors:
        field, index = _where(error.get("loc") or ())
        result.append({"field": field, "message": message(error), "index": index})
    return result


def detail(error_items: list[dict]) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" if e["field"] != "__all__" else e["message"]
                     for e in error_items) or _("The request is not valid.")
