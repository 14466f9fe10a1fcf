"""Statements built once for the hot paths (issue 10: the appeal intake), and prepared once per connection.

Django's ORM compiles a queryset's SQL anew on every evaluation — on the intake that was a quarter of a request's
CPU for three small SELECTs — and, with psycopg's client-side binding (Django's default, kept for connection
poolers), PostgreSQL parses and plans every statement again. Here:

- `first` / `rows`: instances of a model (and of models joined to it, as `select_related` would) read by one
  SELECT whose text is built once per model, database and condition; the columns' converters are looked up once
  too. The condition is SQL over the alias `t` (the model's table) and `r0`, `r1` … (the joined ones).
- `cursor`: a cursor for such statements (and `fastinsert`'s): on PostgreSQL it binds on the server and prepares
  the statement the first time a connection runs it (settings.QIFU_DB_PREPARE, on by default; off behind a
  pooler that cannot keep prepared statements); elsewhere Django's own cursor. Either way through Django's
  wrappers (execute wrappers, the debug log, the tests' query counts).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

from django.conf import settings
from django.db import connections, router

try:  # psycopg 3 (PostgreSQL); the class is only used when the database is PostgreSQL
    import psycopg

    class _PreparingCursor(psycopg.Cursor):
        """A server-binding cursor that prepares what it executes (psycopg keeps the connection's prepared
        statements, the most recent 100)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)
except ImportError:  # pragma: no cover - SQLite-only installs
    psycopg = None


NEVER_BY_COUNT = 2**31 - 1  # psycopg prepares a statement run that often: Django's own (client-bound) never are


@contextmanager
def cursor(alias: str):
    connection = connections[alias]
    if connection.vendor != "postgresql" or psycopg is None or not getattr(settings, "QIFU_DB_PREPARE", True):
        with connection.cursor() as c:
            yield c
        return
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:  # Django turns preparing off for the whole connection; only these prepare
        raw.prepare_threshold = NEVER_BY_COUNT
    wrapped = connection._prepare_cursor(_PreparingCursor(raw))
    try:
        yield wrapped
    finally:
        wrapped.close()


@lru_cache(maxsize=64)
def _columns(model) -> tuple:
    return tuple(model._meta.concrete_fields)


@lru_cache(maxsize=64)
def _converters(model, alias: str) -> tuple:
    """Per concrete field, its column and the backend's and the field's converters of it (as the ORM applies
    them); only the fields that have any."""
    connection = connections[alias]
    out = []
    for i, field in enumerate(_columns(model)):
        col = field.get_col(model._meta.db_table)
        converters = tuple(connection.ops.get_db_converters(col) + field.get_db_converters(connection))
        if converters:
            out.append((i, col, converters))
    return tuple(out)


def instance(model, values, alias: str):
    """A model instance from its concrete columns as the database returned them."""
    connection = connections[alias]
    values = list(values)
    for i, col, converters in _converters(model, alias):
        for converter in converters:
            values[i] = converter(values[i], col, connection)
    return model.from_db(alias, _attnames(model), values)


def instances(parts: tuple, row, alias: str) -> tuple[list, tuple]:
    """One instance (None where its id is NULL: an outer join found nothing) per model of `parts`, from their
    columns side by side at the start of `row`; and what follows them in the row."""
    at, objects = 0, []
    for part in parts:
        width = len(_columns(part))
        values = row[at:at + width]
        at += width
        objects.append(instance(part, values, alias) if values[0] is not None else None)
    return objects, row[at:]


@lru_cache(maxsize=64)
def _attnames(model) -> list:
    return [f.attname for f in _columns(model)]


@lru_cache(maxsize=256)
def _statement(model, alias: str, where: str, related: tuple, tail: str) -> tuple[str, tuple]:
    connection = connections[alias]
    qn = connection.ops.quote_name
    parts, joins = [model], []
    for n, name in enumerate(related):
        field = model._meta.get_field(name)
        other = field.related_model
        parts.append(other)
        joins.append(f"{'LEFT ' if field.null else ''}JOIN {qn(other._meta.db_table)} r{n} "
                     f"ON r{n}.{qn(other._meta.pk.column)} = t.{qn(field.column)}")
    names = ["t", *(f"r{n}" for n in range(len(related)))]
    columns = ", ".join(f"{name}.{qn(f.column)}" for part, name in zip(parts, names) for f in _columns(part))
    sql = f"SELECT {columns} FROM {qn(model._meta.db_table)} t {' '.join(joins)} WHERE {where} {tail}".strip()
    return sql, tuple(parts)


def rows(model, where: str, params, *, related: tuple = (), tail: str = "", using: str | None = None) -> list:
    """Instances of `model` WHERE `where` (SQL over `t` and `r0`…; `%s` for each of `params`), with the foreign
    keys named in `related` joined and cached on them; `tail`: e.g. "ORDER BY t.id" or "LIMIT 1"."""
    alias = using or router.db_for_read(model)
    sql, parts = _statement(model, alias, where, tuple(related), tail)
    with cursor(alias) as c:
        c.execute(sql, list(params))
        fetched = c.fetchall()
    out = []
    for row in fetched:
        objects, _rest = instances(parts, row, alias)
        main = objects[0]
        for name, obj in zip(related, objects[1:]):
            main._state.fields_cache[name] = obj
        out.append(main)
    return out


def first(model, where: str, params, *, related: tuple = (), using: str | None = None):
    """The first instance `rows` finds (LIMIT 1), or None."""
    found = rows(model, where, params, related=related, tail="LIMIT 1", using=using)
    return found[0] if found else None
