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
    """Tests on a live server or with transactional_db empty the database with `flush` (TRUNCATE on
    PostgreSQL, DELETE on SQLite) after each test, which the append-only triggers refuse: let the owner's
    flush through, as qifu.audit.protect.suspended does for a data migration."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    from qifu.audit import protect

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with protect.suspended(self.connection):
            return original(self, sql_list)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


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
