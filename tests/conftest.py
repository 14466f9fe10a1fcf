import re

import pytest


@pytest.fixture
def region(db):
    from qifu.org.models import Region

    return Region.objects.create(code="testland", name="测试区")


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Calendar rows of one test must not leak into the next through the module's cache."""
    from qifu.workcal import workdays

    workdays.invalidate_cache()
    workdays._overrides.fallback_years.clear()
    yield
    workdays.invalidate_cache()


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_append_only_tables():
    """Tests on a live server or with transactional_db empty the database with `flush` after each test,
    which the append-only triggers refuse: let the owner's flush through, as qifu.audit.protect.suspended
    does for a data migration. On PostgreSQL the flush DELETEs instead of TRUNCATE (same result, cheaper)."""
    from django.db import transaction
    from django.db.backends.base.operations import BaseDatabaseOperations

    from qifu.audit import protect

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with protect.suspended(self.connection):
            tables = _truncated_tables(self.connection, sql_list)
            if tables is None:
                original(self, sql_list)
            else:
                # The same empty tables as one TRUNCATE of every table, which costs PostgreSQL ~1.5 s a test
                # (a new file per table and index); DELETE of the few rows a test wrote costs milliseconds.
                # With session_replication_role = replica no foreign key is checked, so the order is free.
                with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
                    for table in tables:
                        cursor.execute(f"DELETE FROM {table}")
        _refill_as_migrated(self.connection.alias)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True, scope="session")
def _drop_installation_templates():
    """tests/served.py migrates one installation per engine and session for the others to copy."""
    yield
    from tests import served

    served.drop_templates()


def _refill_as_migrated(alias: str) -> None:
    """After a flush the database is again as `migrate` leaves it: content types and permissions come back
    with the flush's post_migrate, the default channels of the data migration appeals/0002 here (without
    signals, as the migration writes them: no audit entry). Tests that expect a migrated database may then
    run after a transactional test on the same pytest-xdist worker, not only before all of them."""
    from qifu.appeals.channels import DEFAULT_CHANNELS
    from qifu.appeals.models import Channel

    Channel.objects.using(alias).bulk_create(
        [Channel(code=code, label=label, records_own_time=own_time, sort_order=order)
         for order, (code, label, own_time) in enumerate(DEFAULT_CHANNELS, start=1)],
        ignore_conflicts=True,
    )


def _truncated_tables(connection, sql_list) -> list[str] | None:
    """The quoted tables of Django's PostgreSQL flush (one `TRUNCATE a, b, …;`, no RESTART IDENTITY or CASCADE)
    when this session may delete in any order (session_replication_role = replica, set by protect.suspended
    for a superuser); None for anything else, which is then run as it is."""
    if connection.vendor != "postgresql" or len(sql_list) != 1:
        return None
    match = re.fullmatch(r"TRUNCATE ((?:\"[^\"]+\"(?:, )?)+);", re.sub(r"\x1b\[[0-9;]*m", "", sql_list[0]).strip())
    if not match:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('session_replication_role')")
        if cursor.fetchone()[0] != "replica":
            return None
    return re.findall(r'"[^"]+"', match.group(1))


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's language (Chinese): a request with the English switch leaves English
    active in the thread, which would otherwise leak into the next test's messages."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_configure(config):
    """In CI the suite must run on PostgreSQL: fail at once rather than quietly test SQLite."""
    import os

    if os.environ.get("QIFU_REQUIRE_POSTGRES") == "1":
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError(f"QIFU_REQUIRE_POSTGRES=1 but the database engine is {engine}")
