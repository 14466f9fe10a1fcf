"""Insert new rows of one model in one statement whose SQL is built once per model, database and row count.

For the hot path of the appeal intake (issue 10: its events, audit entries and inbox rows), where Django's
`bulk_create` compiles its statement anew on every call, a large share of a request's CPU. The values are those
`bulk_create` writes (each field's `pre_save` for a new row, e.g. `auto_now_add`, then `get_db_prep_save`); the
new ids are set from `RETURNING` (PostgreSQL; SQLite ≥ 3.35). Like `bulk_create`: no signals, no `save()`.
"""

from functools import lru_cache

from django.db import connections, router


def _fields(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]


@lru_cache(maxsize=128)
def _statement(model, alias: str, rows: int) -> str:
    connection = connections[alias]
    qn = connection.ops.quote_name
    columns = [f.column for f in _fields(model)]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
            f"VALUES {', '.join([row] * rows)} RETURNING {qn(model._meta.pk.column)}")


def insert(model, objs: list, using: str | None = None) -> list:
    """INSERT `objs` (new instances of `model`) and set their ids; returns `objs`."""
    if not objs:
        return objs
    using = using or router.db_for_write(model)
    connection = connections[using]
    fields = _fields(model)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_statement(model, using, len(objs)), params)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
    return objs
