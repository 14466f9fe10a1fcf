"""Schemas shared by several routers."""

import datetime

from ninja import Schema


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
