"""Insert new rows of one model in one statement whose SQL is built once per model, database and row count.

For the hot path of the appeal intake (issue 10: its events, audit entries and inbox rows), where Django's
`bulk_create` compiles its statement anew on every call, a large share of a request's CPU. The values are those
`bulk_create` writes (each field's `pre_save` for a new row, e.g. `auto_now_add`, then `get_db_prep_save`); the
new ids are set from `RETURNING` (PostgreSQL; SQLite ≥ 3.35). Like `bulk_create`: no signals, no `save()`.
"""

from functools import lru_cache

from django.db import connections, models, router

from . import fastselect


def _fields(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]


# field classes whose get_db_prep_save returns a value of these types as it is, on every backend (exact classes: a
# subclass may adapt its values; integers are not among them: on PostgreSQL Django types them, Int4/Int8 …)
_PLAIN = {models.CharField: (str, type(None)), models.TextField: (str, type(None)), models.SlugField: (str, type(None)),
          models.EmailField: (str, type(None)), models.BooleanField: (bool, type(None))}


@lru_cache(maxsize=128)
def _plan(model, with_pk: bool = False) -> tuple:
    """(field, the value types it passes through unchanged or None) per field written."""
    out = []
    for f in ([model._meta.pk] if with_pk else []) + _fields(model):
        out.append((f, frozenset(_PLAIN.get(type(f), ())) or None))
    return tuple(out)


@lru_cache(maxsize=128)
def _statement(model, alias: str, rows: int, sql: tuple = (), returning: tuple = (), with_pk: bool = False) -> str:
    connection = connections[alias]
    qn = connection.ops.quote_name
    fields, templates = [f for f, _plain in _plan(model, with_pk)], dict(sql)
    row = "(" + ", ".join(templates.get(f.attname, "%s") for f in fields) + ")"
    back = ", ".join(qn(c) for c in (model._meta.pk.column, *(model._meta.get_field(n).column for n in returning)))
    return (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES {', '.join([row] * rows)} RETURNING {back}")


def _params(model, objs: list, connection, sql: dict, with_pk: bool) -> list:
    params = []
    for obj in objs:
        for f, plain in _plan(model, with_pk):
            if f.attname in sql:
                params.extend(sql[f.attname][1])
                continue
            value = f.pre_save(obj, True)
            # a str/int/bool/None for a field that passes such a value through unchanged: no adaptation to run
            params.append(value if plain and type(value) in plain else f.get_db_prep_save(value, connection))
    return params


def insert(model, objs: list, using: str | None = None, *, sql: dict | None = None, returning: tuple = (),
           with_pk: bool = False) -> list:
    """INSERT `objs` (new instances of `model`) and set their ids; returns `objs`. `sql`: {attname: (SQL with
    %s, params)} written instead of those fields' values in every row (e.g. the appeal's number, taken by a
    function); `returning`: more attnames set from what the database wrote (e.g. that number); `with_pk`: the
    objects' ids are given (`next_id`), not drawn by the INSERT."""
    if not objs:
        return objs
    sql = sql or {}
    using = using or router.db_for_write(model)
    connection = connections[using]
    params = _params(model, objs, connection, sql, with_pk)
    statement = _statement(model, using, len(objs), tuple(sorted((k, v[0]) for k, v in sql.items())),
                           tuple(returning), with_pk)
    with fastselect.cursor(using) as cursor:  # prepared once per connection on PostgreSQL
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    for obj, row in zip(objs, rows, strict=True):
        _written(obj, row[0], using)
        for name, value in zip(returning, row[1:]):
            setattr(obj, name, value)
    return objs


def _written(obj, pk, using: str) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using


@lru_cache(maxsize=32)
def _sequence(model, alias: str) -> str:
    """The name of the sequence of the model's id column (PostgreSQL)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                       [connection.ops.quote_name(model._meta.db_table), model._meta.pk.column])
        return cursor.fetchone()[0]


@lru_cache(maxsize=32)
def _together_statement(shape: tuple, alias: str) -> str:
    parts = []
    for n, (model, rows, with_pk) in enumerate(shape):
        parts.append(f"w{n} AS ({_statement(model, alias, rows, (), (), with_pk)})")
    qn = connections[alias].ops.quote_name
    back = " UNION ALL ".join(f"SELECT {n}, {qn(model._meta.pk.column)} FROM w{n}"
                              for n, (model, _rows, _pk) in enumerate(shape))
    return f"WITH {', '.join(parts)} {back}"


def insert_together(groups: list, using: str | None = None) -> None:
    """New rows of several models in ONE statement (PostgreSQL: an INSERT per model in a WITH clause), built once
    per shape: `groups` is [(model, objs)]; a group whose objects carry their ids (`next_ids`) writes them, the
    others get theirs back. For the intake's last writes before its commit (issue 10): one round trip where the
    day's appeal number is locked, not one per table."""
    groups = [(model, objs) for model, objs in groups if objs]
    if not groups:
        return
    using = using or router.db_for_write(groups[0][0])
    connection = connections[using]
    shape = tuple((model, len(objs), objs[0].pk is not None) for model, objs in groups)
    params = []
    for (model, objs), (_model, _rows, with_pk) in zip(groups, shape):
        params.extend(_params(model, objs, connection, {}, with_pk))
    with fastselect.cursor(using) as cursor:
        cursor.execute(_together_statement(shape, using), params)
        back = cursor.fetchall()
    returned = [[] for _ in groups]
    for n, pk in back:
        returned[n].append(pk)
    for (model, objs), ids in zip(groups, returned, strict=True):
        for obj, pk in zip(objs, ids, strict=True):
            _written(obj, pk, using)


def next_ids(wanted: list, using: str | None = None) -> list[list[int]]:
    """For each (model, n) of `wanted`, n new ids from the model's id sequence (PostgreSQL), in one statement."""
    using = using or router.db_for_write(wanted[0][0])
    sql = "SELECT " + ", ".join(f"ARRAY(SELECT nextval('{_sequence(model, using)}') FROM generate_series(1, %s))"
                                for model, _n in wanted)
    with fastselect.cursor(using) as cursor:
        cursor.execute(sql, [n for _model, n in wanted])
        return [list(ids) for ids in cursor.fetchone()]
