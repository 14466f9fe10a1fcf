"""The two PostgreSQL roles: the owner runs the migrations and owns the tables and their triggers; the
application's role (web, worker) reads and writes, but on the audit trail and the event tables it can only
read and add — it cannot change, remove, empty or unprotect them. Connected as that role, for real."""

import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from qifu.accounts.models import Role
from qifu.audit import protect

from .test_audit_chain import appeal_through, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles: PostgreSQL")


@pytest.fixture
def app_role(transactional_db):
    name = f"{connection.settings_dict['NAME']}_app"[:63]
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        if cursor.fetchone():  # left over by an interrupted run
            cursor.execute(f"DROP OWNED BY {qn(name)}")
            cursor.execute(f"DROP ROLE {qn(name)}")
        cursor.execute(f"CREATE ROLE {qn(name)} LOGIN")
    yield name
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name])
        cursor.execute(f"DROP OWNED BY {qn(name)}")
        cursor.execute(f"DROP ROLE {qn(name)}")


def connect_as(role, database=None):
    """A connection as `role` (no password: the test server trusts local connections) to the test database,
    or to `database`."""
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, dbname=database or s["NAME"],
                           user=role, autocommit=True)


def qifu_as(role, *args, database=None, env=None):
    """`qifu ARGS` as a real process connected as `role` to the test database, or to `database`."""
    s = connection.settings_dict
    url = f"postgres://{role}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{database or s['NAME']}"
    return subprocess.run([sys.executable, "-m", "qifu", *args], env={**os.environ, **(env or {}), "DATABASE_URL": url},
                          capture_output=True, text=True, timeout=300)


def test_the_application_role_adds_rows_but_cannot_change_remove_empty_or_unprotect_them(world, app_role):  # noqa: F811
    import psycopg

    appeal = appeal_through(world, 3)  # registered (2 events) and assigned
    out = io.StringIO()
    call_command("db", "grant-app-role", app_role, stdout=out)
    assert "may only read and add rows" in out.getvalue() or "只能读取和新增" in out.getvalue()

    with connect_as(app_role) as db:
        assert db.execute("SELECT count(*) FROM audit_auditentry").fetchone()[0] > 0
        for table in protect.append_only_tables():
            for sql in (f"UPDATE {table} SET note = 'x'", f"DELETE FROM {table}", f"TRUNCATE {table}",
                        f"ALTER TABLE {table} DISABLE TRIGGER qifu_append_only",
                        f"ALTER TABLE {table} DISABLE TRIGGER qifu_no_truncate",
                        f"ALTER TABLE {table} DISABLE TRIGGER ALL",
                        f"DROP TRIGGER qifu_append_only ON {table}",
                        f"CREATE TRIGGER mine BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION qifu_append_only()",
                        f"ALTER TABLE {table} OWNER TO CURRENT_USER",
                        f"DROP TABLE {table} CASCADE"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    db.execute(sql)
        for sql in ("SET session_replication_role = replica", "UPDATE audit_chainhead SET seq = 0",
                    "DELETE FROM audit_chainhead", "DROP FUNCTION qifu_append_only() CASCADE"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute(sql)
        assert db.execute("SELECT count(*) FROM appeals_appealevent WHERE appeal_id = %s",
                          [appeal.pk]).fetchone()[0] == 3

    # the application itself runs as that role: an appeal moves on, its event and audit entries are written and
    # linked (the chain trigger works for a role that may not update the trail), and everything verifies
    script = ("from qifu.appeals import workflow; from qifu.accounts.models import User; "
              f"a = workflow.perform({appeal.pk}, 'reassign', User.objects.get(username='w-{Role.DISPATCHER}'), 3, "
              "lead_department='w-rsj', reason='职责调整'); print(a.version)")
    moved = qifu_as(app_role, "shell", "-c", script)
    assert moved.returncode == 0 and moved.stdout.strip().splitlines()[-1] == "4", moved.stderr
    verified = qifu_as(app_role, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert protect.trigger_problems(connection) == []
    # a hand-made grant does not survive the owner's next migrate
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE, DELETE, TRUNCATE ON audit_auditentry TO "{app_role}"')
    call_command("migrate", verbosity=0)
    with connect_as(app_role) as db, pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        db.execute("TRUNCATE audit_auditentry")  # refused for want of the right, before the trigger is reached
    # `migrate` with nothing to do, as the application's role (`qifu demo` runs it), leaves the triggers to the owner
    migrated = qifu_as(app_role, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert protect.trigger_problems(connection) == []


def test_grant_app_role_refuses_a_role_that_could_switch_the_protections_off(transactional_db):
    owner = connection.settings_dict["USER"] or "postgres"
    with pytest.raises(CommandError, match="superuser|超级用户"):
        call_command("db", "grant-app-role", owner)
    with pytest.raises(CommandError, match="no role|不存在角色"):
        call_command("db", "grant-app-role", "qifu_no_such_role_here")


def test_the_grants_can_be_printed_for_review(app_role):
    out = io.StringIO()
    call_command("db", "grant-app-role", app_role, "--print", stdout=out)
    sql = out.getvalue()
    assert f'GRANT SELECT, INSERT ON "audit_auditentry" TO "{app_role}";' in sql
    assert f'GRANT SELECT, INSERT ON "appeals_appealevent" TO "{app_role}";' in sql
    assert f'GRANT SELECT ON "audit_chainhead" TO "{app_role}";' in sql
    assert f'GRANT SELECT, INSERT, UPDATE, DELETE ON "appeals_appeal" TO "{app_role}";' in sql
    assert "TRUNCATE" not in sql.replace("REVOKE TRUNCATE", "")
