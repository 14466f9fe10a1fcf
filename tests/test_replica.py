"""A PostgreSQL read replica for the statistics (QIFU_REPLICA_DATABASE_URL): reads inside
`replica.statistics()` go to it, everything else and every write to the primary, and `migrate` leaves it alone."""

import pytest

from qifu import replica
from qifu.policies import performance
from tests.served import ON_POSTGRES, Installation, pg_execute
from tests.test_policies import library, world  # noqa: F401  (fixtures)

COUNTS = r"""
from qifu import replica
from qifu.accounts.models import User
outside = User.objects.count()
with replica.statistics():
    inside = User.objects.count()
    User.objects.create(username="written-inside")
print("COUNTS", outside, inside, replica.configured())
"""


def test_without_a_replica_statistics_read_the_primary():
    router = replica.StatisticsRouter()
    assert not replica.configured()
    with replica.statistics():
        assert replica.reading_statistics() and router.db_for_read(object) is None
    assert not replica.reading_statistics()


@pytest.mark.django_db
def test_the_policy_performance_figures_are_statistics(world, library, monkeypatch):  # noqa: F811
    from qifu.policies.models import Policy

    policy = Policy.objects.first()
    seen = []
    original = replica.StatisticsRouter.db_for_read

    def spy(self, model, **hints):
        seen.append(replica.reading_statistics())
        return original(self, model, **hints)

    monkeypatch.setattr(replica.StatisticsRouter, "db_for_read", spy)
    performance.figures(policy)
    assert seen and all(seen)


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
def test_reads_in_statistics_go_to_the_replica_writes_and_migrations_to_the_primary(tmp_path):
    primary = Installation(tmp_path / "primary", "postgresql")
    standby = Installation(tmp_path / "replica", "postgresql")
    try:
        env = {"QIFU_REPLICA_DATABASE_URL": standby.database_url}
        primary.qifu("migrate", "--noinput", env=env)
        tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        assert pg_execute(tables, database=standby.database) == [(0,)]  # migrate left the replica alone
        # the "replica" (here a database of its own, so that reads can be told apart) has two users
        standby.migrate()
        for name in ("r1", "r2"):
            standby.qifu("createsuperuser", "--noinput", "--username", name, "--email", f"{name}@example.org",
                         env={"DJANGO_SUPERUSER_PASSWORD": "Replica-pw-2026"})
        out = primary.qifu("shell", "-c", COUNTS, env=env).stdout
        assert out[out.index("COUNTS"):].split() == ["COUNTS", "0", "2", "True"]
        users = "SELECT username FROM accounts_user ORDER BY username"
        assert pg_execute(users, database=primary.database) == [("written-inside",)]
        assert pg_execute(users, database=standby.database) == [("r1",), ("r2",)]
    finally:
        primary.drop()
        standby.drop()
