"""`qifu backup` / `qifu restore`: database, uploaded files and secret key in one archive; a restore
into an empty installation gives the same data — every table's rows, the files and the key — on
SQLite and (when the suite runs on PostgreSQL) on PostgreSQL, also from one engine to the other.

The source is the demo region (≈21,000 rows in 50 tables, uploaded materials, the audit trail), run
in installations of their own as real `qifu` processes."""

import json
import tarfile

import pytest

from tests.served import ON_POSTGRES, Installation

# Every table of the installation, read through the ORM and normalized (time zones, JSON key order,
# decimal zeros), rows sorted: equal digests mean equal contents, whatever the engine.
DIGEST = r"""
import datetime, decimal, hashlib, json
from django.apps import apps
def norm(v):
    if isinstance(v, datetime.datetime): return v.astimezone(datetime.timezone.utc).isoformat()
    if isinstance(v, (datetime.date, datetime.time)): return v.isoformat()
    if isinstance(v, decimal.Decimal): return str(v.normalize())
    if isinstance(v, (dict, list)): return json.dumps(v, sort_keys=True, ensure_ascii=False)
    if isinstance(v, memoryview): return bytes(v)
    return v
out, seen = {}, set()
for m in apps.get_models(include_auto_created=True):
    if m._meta.proxy or not m._meta.managed or m._meta.swapped or m._meta.db_table in seen: continue
    seen.add(m._meta.db_table)
    names = [f.attname for f in m._meta.concrete_fields]
    rows = sorted(repr(tuple(norm(v) for v in row)) for row in m._base_manager.values_list(*names))
    out[m._meta.label_lower] = [len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()]
print("DIGEST" + json.dumps(out, sort_keys=True))
"""


def digest(inst: Installation) -> dict:
    out = inst.qifu("shell", "-c", DIGEST).stdout
    return json.loads(out[out.index("DIGEST") + 6:])


def files(inst: Installation) -> dict[str, bytes]:
    media = inst.data_dir / "media"
    return {p.relative_to(media).as_posix(): p.read_bytes() for p in media.rglob("*") if p.is_file()}


def secret(inst: Installation) -> str:
    return (inst.data_dir / "secret_key").read_text().strip()


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The demo region on SQLite, with an uploaded file of its own, backed up."""
    inst = Installation(tmp_path_factory.mktemp("source"), "sqlite")
    inst.qifu("demo", "--load-only", timeout=600)
    upload = inst.data_dir / "media" / "appeals" / "attachments" / "现场照片.bin"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(bytes(range(256)) * 40)
    inst.archive = inst.root / "qifu-backup.tar.gz"
    out = inst.qifu("backup", str(inst.archive)).stdout
    assert "uploaded files and the secret key" in out
    inst.digest = digest(inst)
    return inst


@pytest.fixture
def fresh(tmp_path):
    made = []

    def make(engine: str = "sqlite") -> Installation:
        inst = Installation(tmp_path / f"i{len(made)}", engine)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        inst.drop()


def assert_same(restored: Installation, source: Installation) -> None:
    assert digest(restored) == source.digest
    assert files(restored) == files(source) and len(files(source)) >= 20
    assert secret(restored) == secret(source)


def test_the_archive_holds_database_files_and_secret_key_privately(source):
    assert source.archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(source.archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("qifu-backup.json"))
        assert tar.extractfile("secret_key").read().decode() == secret(source)
    assert names[:2] == ["qifu-backup.json", "secret_key"]
    assert "media/appeals/attachments/现场照片.bin" in names
    assert manifest["engine"] == "sqlite" and manifest["format"] == 1
    assert {k: v[0] for k, v in source.digest.items()} == manifest["tables"]
    assert manifest["tables"]["audit.auditentry"] > 1000 and manifest["tables"]["appeals.appeal"] > 100


def test_restore_into_a_fresh_sqlite_installation_gives_the_same_data(source, fresh):
    target = fresh()
    out = target.qifu("restore", str(source.archive)).stdout
    assert out.startswith("Restored ")
    assert_same(target, source)
    # the restored installation works: logins, and new rows get new keys (no clash with restored ones)
    check = target.qifu("shell", "-c", (
        "from qifu.accounts.models import User; print(User.objects.get(username='admin').check_password('qifu2026'))"
    )).stdout
    assert check.strip().endswith("True")
    target.qifu("token", "create", "admin")


def test_restore_into_a_migrated_empty_installation(source, fresh):
    target = fresh()
    target.migrate()  # fills content types, permissions and the default channels
    result = target.qifu("restore", str(source.archive), env={"QIFU_SECRET_KEY": "another-key"})
    assert "QIFU_SECRET_KEY is set and differs from the backup's secret key" in result.stderr
    assert_same(target, source)


def test_restore_refuses_an_installation_that_is_not_empty_unless_forced_and_damaged_archives(source, fresh):
    target = fresh()
    target.migrate()
    target.qifu("createsuperuser", "--noinput", "--username", "someone", "--email", "s@example.org",
                env={"DJANGO_SUPERUSER_PASSWORD": "Another-pw-2026"})
    (target.data_dir / "media").mkdir(parents=True, exist_ok=True)
    (target.data_dir / "media" / "old.txt").write_text("old upload")
    before = digest(target)
    refused = target.qifu("restore", str(source.archive), check=False)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "accounts.user: 1" in refused.stderr and "--force" in refused.stderr
    assert digest(target) == before and (target.data_dir / "media" / "old.txt").exists()

    target.qifu("restore", "--force", str(source.archive))
    assert_same(target, source)
    assert not (target.data_dir / "media" / "old.txt").exists()

    # a damaged or foreign archive is refused before anything is touched, even with --force
    cut = target.root / "cut.tar.gz"
    cut.write_bytes(source.archive.read_bytes()[: source.archive.stat().st_size // 2])
    foreign = target.root / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        tar.add(__file__, arcname="notes.txt")
    for bad, message in ((cut, "damaged"), (foreign, "not a qifu backup")):
        result = target.qifu("restore", "--force", str(bad), check=False)
        assert result.returncode == 1 and message in result.stderr, result.stderr
    assert_same(target, source)


@pytest.mark.skipif(not ON_POSTGRES, reason="the suite runs on SQLite (DATABASE_URL is not PostgreSQL)")
def test_postgresql_round_trips_and_from_sqlite(source, fresh):
    first = fresh("postgresql")  # SQLite → PostgreSQL: how an embedded installation moves to production
    first.qifu("restore", str(source.archive))
    assert_same(first, source)

    archive = first.root / "from-postgresql.tar.gz"
    first.qifu("backup", str(archive))
    second = fresh("postgresql")
    second.migrate()
    second.qifu("restore", str(archive))
    assert_same(second, source)
    second.qifu("token", "create", "admin")  # sequences were reset past the restored keys
    # the audit trail is still append-only in the database after the restore
    from tests.served import pg_execute

    with pytest.raises(Exception, match="(?i)audit"):
        pg_execute("UPDATE audit_auditentry SET note = 'x'", database=second.database)


def test_only_the_known_tables_are_filled_by_migrate(db, settings, tmp_path):
    """A freshly migrated database counts as empty: if a migration starts filling another table, add it
    to FILLED_BY_MIGRATE (else `qifu restore` would refuse every new installation)."""
    from qifu import backup

    settings.MEDIA_ROOT = tmp_path / "media"
    assert backup.occupied() == {}
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.txt").write_text("x")
    assert backup.occupied() == {"uploaded files": 1}
