"""Who is acting right now: set by the web middleware, the API auth and the CLI."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    user: Any = None  # accounts.User or None for the system
    source: str = "system"  # web | api | cli | system


_current: ContextVar[Actor] = ContextVar("qifu_actor", default=Actor())


def current_actor() -> Actor:
    return _current.get()


@contextmanager
def acting_as(user=None, source: str = "system"):
    token = _current.set(Actor(user=user, source=source))
    try:
        yield
    finally:
        _current.reset(token)


def set_actor(user=None, source: str = "system"):
    """Set the actor for the rest of this context (a request or a CLI run)."""
    return _current.set(Actor(user=user, source=source))
