"""Statistics from a PostgreSQL read replica, when one is configured (QIFU_REPLICA_DATABASE_URL).

    from qifu import replica

    @replica.statistics          # or: with replica.statistics(): ...
    def figures(policy): ...     # its reads go to the replica

Only reads made inside `statistics()` go to the replica (the `replica` database alias); everything else,
and every write, stays on the primary — so nobody ever reads their own change from a replica that has not
caught up. Without QIFU_REPLICA_DATABASE_URL the router does nothing. `qifu migrate` never touches the
replica (PostgreSQL's streaming replication copies the schema). docs/deploy.md, "Scaling out".
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

ALIAS = "replica"

_reading = contextvars.ContextVar("qifu_replica_statistics", default=False)


def configured() -> bool:
    return ALIAS in settings.DATABASES


@contextmanager
def statistics() -> Iterator[None]:
    """Within this block (or decorated function), reads go to the replica if there is one."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def reading_statistics() -> bool:
    return _reading.get()


class StatisticsRouter:
    def db_for_read(self, model, **hints):
        return ALIAS if _reading.get() and configured() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        if {obj1._state.db, obj2._state.db} <= {"default", ALIAS}:
            return True
        return None

    def allow_migrate(self, db, app_label, **hints):
        return False if db == ALIAS else None
