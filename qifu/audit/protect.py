"""The append-only tables, and how the database itself keeps them so.

Append-only: the audit trail (audit_auditentry) and every table of state-machine events (the concrete
subclasses of TransitionEvent: appeal events, policy application events, and any added later).

PostgreSQL
  * ``qifu_append_only`` BEFORE UPDATE OR DELETE FOR EACH ROW and ``qifu_no_truncate`` BEFORE TRUNCATE
    raise an error — whoever runs the statement, the owner included;
  * ``qifu_audit_seal``, a deferred constraint trigger on the audit trail, links the entries of a
    transaction into the hash chain when it commits (SECURITY DEFINER: the application role needs no
    UPDATE right for it; see the functions below for why it goes through a queue table). Its UPDATE of
    the new rows is the one change the row trigger lets through: from inside a trigger, filling the
    still empty chain columns and keeping the digest (which covers everything else: verify would see a
    change);
  * UPDATE, DELETE, TRUNCATE and TRIGGER on these tables (and any write on audit_chainhead) are
    revoked from every role but the owner. The web and worker processes connect as an application
    role that owns nothing (``qifu db grant-app-role``, docs/security.md): it cannot drop, disable
    or bypass the triggers, which only the owner (or a superuser) can.

SQLite
  * BEFORE UPDATE and BEFORE DELETE triggers raise; SQLite has no TRUNCATE (``DELETE FROM`` fires the
    DELETE trigger). Whoever can write the database file can still drop them: on SQLite the hash chain
    is what makes tampering evident.

``install`` runs in the migrations and after every ``migrate`` (post_migrate: a table rebuilt by a
later migration on SQLite loses its triggers; a trigger disabled by the owner is enabled again). It
does nothing when the connected role does not own the tables (an application role running migrate).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

logger = logging.getLogger(__name__)

ROW_TRIGGER = "qifu_append_only"
TRUNCATE_TRIGGER = "qifu_no_truncate"
SEAL_TRIGGER = "qifu_audit_seal"
SEAL_QUEUE = "qifu_audit_seal_queue"  # PostgreSQL: one row per committing transaction that wrote entries


def append_only_models() -> list:
    from django.apps import apps

    from .models import AuditEntry, TransitionEvent

    events = [m for m in apps.get_models() if issubclass(m, TransitionEvent) and m._meta.managed]
    return [AuditEntry, *sorted(events, key=lambda m: m._meta.db_table)]


def append_only_tables() -> list[str]:
    return [m._meta.db_table for m in append_only_models()]


def _audit_table() -> str:
    from .models import AuditEntry

    return AuditEntry._meta.db_table


def _head_table() -> str:
    from .models import ChainHead

    return ChainHead._meta.db_table


def _existing(connection, tables):
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
    return [t for t in tables if t in present]


# --- PostgreSQL -----------------------------------------------------------------------------------

def _pg_functions(connection) -> str:
    qn = connection.ops.quote_name
    audit, head, queue = qn(_audit_table()), qn(_head_table()), qn(SEAL_QUEUE)
    from .chain import AUDIT_CHAIN, GENESIS

    return f"""
CREATE OR REPLACE FUNCTION qifu_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    -- The audit trail's entries are linked into the hash chain when their transaction commits
    -- (qifu_audit_seal, from inside a trigger): that UPDATE, filling the empty chain columns of an entry
    -- and keeping its digest, is the one allowed. (Only the owner may UPDATE at all.)
    IF TG_OP = 'UPDATE' AND TG_NARGS > 0 AND TG_ARGV[0] = 'sealable' AND pg_trigger_depth() > 1 THEN
        IF OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.digest IS NOT DISTINCT FROM OLD.digest THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit entries and events are never changed or removed (docs/security.md).';
END
$fn$;

CREATE UNLOGGED TABLE IF NOT EXISTS {queue} (txid bigint PRIMARY KEY);
-- the transaction's first unlinked entry: the seal reads from there on, never the entries linked since the last
-- VACUUM (which an index of unlinked entries still holds until then, and every commit would step over)
ALTER TABLE {queue} ADD COLUMN IF NOT EXISTS first_id bigint;

-- An audit entry was inserted: ask for the chain to be extended when the transaction commits, AFTER its
-- other deferred checks (foreign keys). The request is a row in {queue}, whose own deferred trigger is
-- queued behind every event the transaction has queued so far: the chain's lock is taken last and held
-- for a moment, so a transaction holding it never waits for another's rows (which would deadlock).
CREATE OR REPLACE FUNCTION qifu_audit_seal_request() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
BEGIN
    -- The entry as it is now, not as inserted: entries that arrive linked (a restored backup) keep their
    -- place, and once the transaction's entries are linked (SET CONSTRAINTS ALL IMMEDIATE links them
    -- before commit) the remaining requests have nothing to ask for.
    PERFORM 1 FROM {audit} WHERE id = NEW.id AND hash IS NULL;
    IF FOUND THEN
        INSERT INTO {queue} AS q (txid, first_id) VALUES (txid_current(), NEW.id)
        ON CONFLICT (txid) DO UPDATE SET first_id = EXCLUDED.first_id WHERE q.first_id > EXCLUDED.first_id;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION qifu_audit_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
DECLARE
    head_seq bigint;
    head_hash text;
    from_id bigint;
    entry record;
BEGIN
    -- The head row is the lock: one committing transaction at a time extends the chain, and a
    -- waiting one reads the head as the previous one left it (READ COMMITTED re-reads a locked row).
    SELECT seq, hash INTO head_seq, head_hash FROM {head} WHERE name = '{AUDIT_CHAIN}' FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO {head} (name, seq, hash)
        SELECT '{AUDIT_CHAIN}', coalesce(max(chain_seq), 0),
               coalesce((SELECT hash FROM {audit} WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1),
                        '{GENESIS}')
          FROM {audit}
        ON CONFLICT (name) DO NOTHING;
        SELECT seq, hash INTO head_seq, head_hash FROM {head} WHERE name = '{AUDIT_CHAIN}' FOR UPDATE;
    END IF;
    -- Every entry of this transaction not yet linked (other transactions' are invisible until they
    -- commit, and they link their own), in the order they were inserted.
    -- (from the transaction's first entry: its row as it is now, a later request may have lowered it)
    SELECT coalesce(first_id, 0) INTO from_id FROM {queue} WHERE txid = NEW.txid;
    FOR entry IN SELECT id, digest FROM {audit} WHERE id >= coalesce(from_id, 0) AND hash IS NULL
                 ORDER BY id LOOP
        head_seq := head_seq + 1;
        UPDATE {audit}
           SET chain_seq = head_seq, prev_hash = head_hash,
               hash = encode(sha256(decode(head_hash, 'hex') || decode(coalesce(entry.digest, ''), 'hex')), 'hex')
         WHERE id = entry.id
        RETURNING hash INTO head_hash;
    END LOOP;
    UPDATE {head} SET seq = head_seq, hash = head_hash WHERE name = '{AUDIT_CHAIN}';
    DELETE FROM {queue} WHERE txid = NEW.txid;
    RETURN NULL;
END
$fn$;
"""


def _pg_owns(connection, tables) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('is_superuser') = 'on' OR coalesce(bool_and(pg_has_role(current_user, "
            "c.relowner, 'USAGE')), true) FROM pg_class c WHERE c.oid IN "
            "(SELECT to_regclass(t) FROM unnest(%s::text[]) t)", [list(tables)])
        return cursor.fetchone()[0]


def _pg_revoke(cursor, connection, table: str, privileges: str) -> None:
    """Revoke `privileges` on `table` from PUBLIC and from every role other than the owner holding one."""
    qn = connection.ops.quote_name
    cursor.execute(f"REVOKE {privileges} ON {qn(table)} FROM PUBLIC")
    cursor.execute(
        "SELECT DISTINCT r.rolname FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
        "JOIN pg_roles r ON r.oid = a.grantee WHERE c.oid = to_regclass(%s) AND a.grantee <> c.relowner "
        "AND a.privilege_type = ANY(%s)", [table, [p.strip() for p in privileges.split(",")]])
    for (role,) in cursor.fetchall():
        cursor.execute(f"REVOKE {privileges} ON {qn(table)} FROM {qn(role)}")


def _install_postgresql(connection, tables) -> None:
    qn = connection.ops.quote_name
    audit, head = _audit_table(), _head_table()
    with connection.cursor() as cursor:
        cursor.execute(_pg_functions(connection))
        # the first version (0002_immutable_on_postgresql) covered UPDATE and DELETE of audit entries only
        cursor.execute(f"DROP TRIGGER IF EXISTS qifu_audit_immutable ON {qn(audit)}")
        cursor.execute("DROP FUNCTION IF EXISTS qifu_audit_immutable()")
        for table in tables:
            arg = "'sealable'" if table == audit else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {ROW_TRIGGER} ON {qn(table)}")
            cursor.execute(f"CREATE TRIGGER {ROW_TRIGGER} BEFORE UPDATE OR DELETE ON {qn(table)} "
                           f"FOR EACH ROW EXECUTE FUNCTION qifu_append_only({arg})")
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON {qn(table)}")
            cursor.execute(f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {qn(table)} "
                           f"FOR EACH STATEMENT EXECUTE FUNCTION qifu_append_only()")
            _pg_revoke(cursor, connection, table, "UPDATE, DELETE, TRUNCATE, TRIGGER")
        if audit in tables:
            for table, function in ((audit, "qifu_audit_seal_request"), (SEAL_QUEUE, "qifu_audit_seal")):
                cursor.execute(f"DROP TRIGGER IF EXISTS {SEAL_TRIGGER} ON {qn(table)}")
                cursor.execute(f"CREATE CONSTRAINT TRIGGER {SEAL_TRIGGER} AFTER INSERT ON {qn(table)} "
                               f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {function}()")
            cursor.execute(f"REVOKE ALL ON {qn(SEAL_QUEUE)} FROM PUBLIC")
        if _existing(connection, [head]):
            _pg_revoke(cursor, connection, head, "INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER")


# --- SQLite ---------------------------------------------------------------------------------------

def _sqlite_triggers(table: str) -> dict[str, str]:
    return {
        f"{ROW_TRIGGER}_{table}_update":
            f'CREATE TRIGGER IF NOT EXISTS "{ROW_TRIGGER}_{table}_update" BEFORE UPDATE ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
        f"{ROW_TRIGGER}_{table}_delete":
            f'CREATE TRIGGER IF NOT EXISTS "{ROW_TRIGGER}_{table}_delete" BEFORE DELETE ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
    }


def _install_sqlite(connection, tables) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for sql in _sqlite_triggers(table).values():
                cursor.execute(sql)


# --- the interface ----------------------------------------------------------------------------------

def _chained(connection, tables) -> list[str]:
    """The tables that have their chain columns (not those of a database migrated back before them)."""
    ready = []
    with connection.cursor() as cursor:
        for table in tables:
            columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
            if "hash" in columns:
                ready.append(table)
    return ready


def install(connection, tables: list[str] | None = None) -> list[str]:
    """Make the append-only tables so (idempotent); returns the tables it protected."""
    tables = _chained(connection, _existing(connection, tables or append_only_tables()))
    if not tables:
        return []
    if connection.vendor == "postgresql":
        if not _pg_owns(connection, tables):
            logger.info("not the owner of %s: the append-only triggers are left to the owner", ", ".join(tables))
            return []
        _install_postgresql(connection, tables)
    elif connection.vendor == "sqlite":
        _install_sqlite(connection, tables)
    else:
        return []
    return tables


def expected_triggers(connection, table: str) -> list[str]:
    if connection.vendor == "postgresql":
        if table == SEAL_QUEUE:
            return [SEAL_TRIGGER]
        names = [ROW_TRIGGER, TRUNCATE_TRIGGER]
        return names + [SEAL_TRIGGER] if table == _audit_table() else names
    if connection.vendor == "sqlite":
        return list(_sqlite_triggers(table))
    return []


def trigger_problems(connection) -> list[tuple[str, str, str]]:
    """(table, trigger, "missing" | "disabled") for every protection that is not in force."""
    problems = []
    tables = _existing(connection, append_only_tables())
    if connection.vendor == "postgresql" and _audit_table() in tables:
        tables.append(SEAL_QUEUE)
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
                               "AND NOT tgisinternal", [table])
                found = dict(cursor.fetchall())
            elif connection.vendor == "sqlite":
                cursor.execute("SELECT name, 'O' FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                               [table])
                found = dict(cursor.fetchall())
            else:
                continue
            for name in expected_triggers(connection, table):
                if name not in found:
                    problems.append((table, name, "missing"))
                elif found[name] == "D":  # PostgreSQL: O origin, A always, R replica, D disabled
                    problems.append((table, name, "disabled"))
    return problems


@contextmanager
def suspended(connection, tables: list[str] | None = None):
    """Let the owner change or empty the append-only tables for a moment: a data migration that has to
    rewrite rows, or the test suite's `flush`. On PostgreSQL a superuser sets session_replication_role
    to replica (no catalog change, this session only); another owner disables the triggers in its
    transaction. On SQLite the triggers are dropped and created again. The hash chain still tells
    anything changed meanwhile."""
    tables = _existing(connection, tables or append_only_tables())
    if not tables or connection.vendor not in ("postgresql", "sqlite"):
        yield
        return
    qn = connection.ops.quote_name
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for table in tables:
                for name in _sqlite_triggers(table):
                    cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        try:
            yield
        finally:
            _install_sqlite(connection, tables)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on', current_setting('session_replication_role')")
        superuser, role = cursor.fetchone()
    if superuser:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"SET session_replication_role = {qn(role)}")
        return
    disabled = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = ANY(%s) "
                           "AND tgenabled <> 'D'", [table, [ROW_TRIGGER, TRUNCATE_TRIGGER]])
            for (name,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {qn(table)} DISABLE TRIGGER {qn(name)}")
                disabled.append((table, name))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table, name in disabled:
                cursor.execute(f"ALTER TABLE {qn(table)} ENABLE TRIGGER {qn(name)}")


# --- the application's database role (PostgreSQL) ------------------------------------------------------

def grant_app_role_sql(connection, role: str) -> list[str]:
    """The statements that give `role` what the web and worker processes need and nothing more: read and
    write the ordinary tables, only SELECT and INSERT on the append-only ones, only SELECT on the chain
    head; own nothing, so no ALTER, DROP, DISABLE TRIGGER or TRUNCATE. Run as the owner (the role that
    runs `qifu migrate`), again after every upgrade — it is idempotent."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_schema(), current_user")
        database, schema, owner = cursor.fetchone()
        tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
    append_only = set(_existing(connection, append_only_tables()))
    head = _head_table()
    r = qn(role)
    sql = [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {qn(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA {qn(schema)} TO {r}",
    ]
    for table in tables:
        t = qn(table)
        if table in append_only:
            sql += [f"REVOKE ALL ON {t} FROM {r}", f"GRANT SELECT, INSERT ON {t} TO {r}"]
        elif table == head:
            sql += [f"REVOKE ALL ON {t} FROM {r}", f"GRANT SELECT ON {t} TO {r}"]
        else:
            sql += [f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON {t} FROM {r}",
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {r}"]
    if _existing(connection, ["django_migrations"]):  # read only: `migrate --check`, backups
        sql += [f"REVOKE ALL ON {qn('django_migrations')} FROM {r}", f"GRANT SELECT ON {qn('django_migrations')} TO {r}"]
    sql += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {qn(schema)} TO {r}",
        # tables and sequences that later migrations create (install() takes UPDATE and DELETE on new
        # append-only tables away again after every migrate)
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {qn(owner)} IN SCHEMA {qn(schema)} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {qn(owner)} IN SCHEMA {qn(schema)} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]
    return sql


def app_role_problems(connection, role: str) -> list[str]:
    """Why `role` could get round the protections (empty: it cannot)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            return ["missing"]
        problems = ["superuser"] if row[0] else []
        cursor.execute(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid IN "
            "(SELECT to_regclass(t) FROM unnest(%s::text[]) t) AND pg_has_role(%s, c.relowner, 'USAGE')",
            [append_only_tables() + [_head_table()], role])
        problems += [f"owner:{owner}" for (owner,) in cursor.fetchall()]
    return problems
