"""Schemas shared by several routers: what every input may be (the edge of `qifu.lib.inputs`) and the
one shape of an error answer."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, StringConstraints, field_validator

from qifu.lib import inputs


class Input(Schema):
    """Base of every request body: no NUL character in any string of any field (nested too)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value):
        if inputs.has_nul(value):
            raise ValueError(inputs.nul_message())
        return value


def Text(max_length: int = inputs.TEXT_MAX):  # noqa: N802 - used like a type: `title: Text(200)`
    """A string of at most `max_length` characters (use the model field's length)."""
    return Annotated[str, StringConstraints(max_length=max_length)]


Code = Text(64)  # codes of departments, sections, regions, channels, indicators, …
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Version = Annotated[int, Field(ge=0, le=2**31 - 1, description="the version you loaded (stale → 409)")]
Amount = Annotated[Decimal, Field(ge=0, le=inputs.AMOUNT_MAX, max_digits=16, decimal_places=2,
                                  description="yuan, at most 2 decimals")]
Stars = Annotated[int, Field(ge=1, le=5)]
# The enterprise's rating answer when a case is closed: 1–5 stars, or "none" (not rated, an explicit answer).
RatingAnswer = Annotated[Stars | Literal["none"], Field(description='1–5 stars, or "none" (not rated)')]
# A time with its offset (e.g. 2026-11-20T10:00:00+08:00); without one: 400.
AwareTime = AwareDatetime


class ErrorItem(Schema):
    field: str
    message: str
    index: int | None = Field(None, description="the item of a list body the problem is in")


class ErrorOut(Schema):
    """Every error answer: `detail` says what is wrong in the user's language (Chinese by default)."""

    detail: str
    errors: list[ErrorItem] = []


def errors(*codes: int) -> dict:
    """`response={200: X, **errors(400, 404)}`: declare the error answers of an operation."""
    return {code: ErrorOut for code in codes}


class EventOut(Schema):
    """One transition of a state machine (appeal, application): see audit.models.TransitionEvent."""

    seq: int
    action: str
    actor: str | None
    at: datetime.datetime
    from_status: str
    to_status: str
    note: str
    data: dict = {}
