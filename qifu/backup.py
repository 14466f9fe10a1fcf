"""Backups: the database, the uploaded files (MEDIA_ROOT) and the secret key in one archive.

    qifu backup FILE              # e.g. qifu-2026-11-21.tar.gz; works while the server runs
    qifu restore FILE [--force]   # into an empty installation (SQLite or PostgreSQL, either way)

The archive (tar.gz, mode 0600 — it holds the secret key) contains

    qifu-backup.json        manifest: format, qifu version, engine, applied migrations, rows per table
    secret_key              the SECRET_KEY the data was made with (sessions, signed links)
    db/<app>.<model>.jsonl  one file per table: a header line, then one JSON array per row, by primary key
    media/…                 the uploaded files

Why this format and not pg_dump or SQLite's backup API: docs/decisions.md ("Backups"). In short, one
format for both engines (a SQLite installation moves to PostgreSQL by backup and restore), no external
tools, values exactly as stored (microseconds, decimals, JSON), and rows are written with raw INSERTs —
no save(), no signals — so an append-only, hash-chained audit trail is restored as it was, not re-audited.

Restore rebuilds the schema at the backup's migration state (the tables of the installation are
dropped first: it must be empty, or --force), loads every table in one transaction, then runs the
migrations the backup predates — so a backup of an older qifu restores into a newer one.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import JSONField, Model
from django.utils import timezone
from django.utils.duration import duration_string

FORMAT = 1
MANIFEST = "qifu-backup.json"
SECRET = "secret_key"

# Tables that `qifu migrate` fills by itself: rows there do not make an installation "not empty".
# (tests/test_backup.py checks that a freshly migrated database has rows in no other table.)
FILLED_BY_MIGRATE = {"contenttypes.contenttype", "auth.permission", "appeals.channel"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def qifu_version() -> str:
    from qifu.cli import version

    return version()


def copied_models(state_apps=apps) -> list[type[Model]]:
    """Every table the application owns (auto-created many-to-many tables included), once each."""
    seen, models = set(), []
    for model in state_apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped or meta.db_table in seen:
            continue
        if not router.allow_migrate_model(DEFAULT_DB_ALIAS, model):
            continue
        seen.add(meta.db_table)
        models.append(model)
    return models


def _columns(model: type[Model]) -> list:
    return [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]


# --- values: exactly as stored ---------------------------------------------------------------------


def _encode(value):
    if value is None or isinstance(value, (bool, int, float, str, dict, list)):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return duration_string(value)
    if isinstance(value, bytes | memoryview | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise BackupError(f"cannot write a value of type {type(value).__name__}")


def _decode(field, value):
    if value is None or isinstance(field, JSONField):
        return value
    return field.to_python(value)


# --- backup ----------------------------------------------------------------------------------------


@contextmanager
def _snapshot(connection) -> Iterator[None]:
    """Read every table from one consistent state of the database, without stopping writers."""
    if connection.vendor == "postgresql":
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    elif connection.vendor == "sqlite":
        # A deferred transaction reads one snapshot; in WAL mode writers go on meanwhile.
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")
    else:
        with transaction.atomic(using=connection.alias):
            yield


def _unapplied(connection) -> list:
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def backup(path: str | os.PathLike, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Write the archive to `path` (atomically: a failed backup leaves no file). Returns the manifest."""
    connection = connections[using]
    path = Path(path)
    if _unapplied(connection):
        raise BackupError("The database has unapplied migrations: run `qifu migrate` first.")
    with tempfile.TemporaryDirectory(prefix="qifu-backup-") as tmp:
        tmp = Path(tmp)
        (tmp / "db").mkdir()
        tables = {}
        with _snapshot(connection):
            migrations = sorted(MigrationRecorder(connection).applied_migrations())
            for model in copied_models():
                label, columns = model._meta.label_lower, _columns(model)
                attnames = [f.attname for f in columns]
                count = 0
                with open(tmp / "db" / f"{label}.jsonl", "w", encoding="utf-8") as out:
                    header = {"model": label, "table": model._meta.db_table, "columns": attnames}
                    out.write(json.dumps(header, ensure_ascii=False) + "\n")
                    rows = (model._base_manager.using(using).order_by(model._meta.pk.attname)
                            .values_list(*attnames).iterator(chunk_size=2000))
                    for row in rows:
                        out.write(json.dumps([_encode(v) for v in row], ensure_ascii=False) + "\n")
                        count += 1
                tables[label] = count
        media_root = Path(settings.MEDIA_ROOT)
        media = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.is_dir() else []
        manifest = {
            "format": FORMAT,
            "qifu": qifu_version(),
            "created_at": timezone.now().isoformat(),
            "engine": connection.vendor,
            "migrations": [list(m) for m in migrations],
            "tables": tables,
            "media_files": len(media),
        }
        partial = path.with_name(path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
                _add_bytes(tar, SECRET, settings.SECRET_KEY.encode())
                for label in tables:
                    tar.add(tmp / "db" / f"{label}.jsonl", arcname=f"db/{label}.jsonl")
                for file in media:
                    tar.add(file, arcname=f"media/{file.relative_to(media_root).as_posix()}", recursive=False)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(timezone.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


# --- restore ---------------------------------------------------------------------------------------


def read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.next()
        if member is None or member.name != MANIFEST:
            raise KeyError(MANIFEST)
        manifest = json.load(tar.extractfile(member))
    except (KeyError, ValueError, tarfile.TarError, OSError):
        raise BackupError("This is not a qifu backup (no manifest at the start of the archive).") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Backup format {manifest.get('format')!r} is not supported "
                          f"(this qifu reads format {FORMAT}).")
    return manifest


def occupied(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """What makes this installation not empty: rows per table (beyond what `migrate` fills) and
    uploaded files (key "uploaded files")."""
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    found = {}
    with connection.cursor() as cursor:
        for model in copied_models():
            table = model._meta.db_table
            if model._meta.label_lower in FILLED_BY_MIGRATE or table not in existing:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            count = cursor.fetchone()[0]
            if count:
                found[model._meta.label_lower] = count
    media_root = Path(settings.MEDIA_ROOT)
    files = sum(1 for p in media_root.rglob("*") if p.is_file()) if media_root.is_dir() else 0
    if files:
        found["uploaded files"] = files
    return found


def _drop_tables(connection) -> None:
    """Drop every table of the database (the installation's own: models, migration history, and tables
    that migrations make with SQL) so the schema can be rebuilt."""
    tables = connection.introspection.table_names(include_views=False)
    if not tables:
        return
    quoted = [connection.ops.quote_name(t) for t in tables]
    if connection.vendor == "postgresql":
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(quoted)} CASCADE")
    else:
        with connection.constraint_checks_disabled(), connection.cursor() as cursor:
            for name in quoted:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")


def _migrate_to(connection, migrations: list[tuple[str, str]]):
    """Apply exactly the backup's migrations to the (now empty) database; return their model state."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    unknown = [m for m in migrations if m not in graph.nodes]
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        raise BackupError(f"The backup was made by a newer qifu (migrations unknown here: {names}). "
                          "Install that version or a later one, then restore.")
    # Target the backup's leaves only (a plan through already-applied targets would go backwards).
    wanted = set(migrations)
    leaves = [m for m in migrations if not any(c.key in wanted for c in graph.node_map[m].children)]
    executor.migrate(leaves)
    return executor.loader.project_state(list(migrations)).apps


def _load(connection, tar: tarfile.TarFile, state_apps, manifest: dict) -> dict[str, int]:
    """Insert every table's rows (raw INSERTs, in primary-key order) in one transaction."""
    models = {m._meta.label_lower: m for m in copied_models(state_apps)}
    loaded: dict[str, int] = {}
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            # Foreign keys are checked at commit (Django makes them deferrable), whatever order the
            # tables come in — also after a migration in this transaction set one to IMMEDIATE.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        with connection.cursor() as cursor:  # rows `migrate` put there (e.g. default channels)
            for model in models.values():
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        for member in tar:
            if member.name in (MANIFEST, SECRET) or member.name.startswith("media/"):
                continue
            if not (member.isfile() and member.name.startswith("db/") and member.name.endswith(".jsonl")):
                raise BackupError(f"Unexpected entry in the backup: {member.name}")
            stream = io.TextIOWrapper(tar.extractfile(member), encoding="utf-8")
            header = json.loads(stream.readline())
            model = models.get(header["model"])
            if model is None:
                raise BackupError(f"The backup has a table this installation does not know: {header['model']}")
            by_attname = {f.attname: f for f in _columns(model)}
            missing = [c for c in header["columns"] if c not in by_attname]
            if missing:
                raise BackupError(f"{header['model']}: columns unknown at the backup's migration state: {missing}")
            fields = [by_attname[c] for c in header["columns"]]
            batch_size = max(1, connection.ops.bulk_batch_size(fields, [None] * 1000) or 500)
            manager = model._base_manager.using(connection.alias)
            batch, count = [], 0
            for line in stream:
                values = json.loads(line)
                batch.append(model(**{f.attname: _decode(f, v) for f, v in zip(fields, values, strict=True)}))
                if len(batch) >= batch_size:
                    manager._insert(batch, fields=fields, raw=True, using=connection.alias)
                    count += len(batch)
                    batch = []
            if batch:
                manager._insert(batch, fields=fields, raw=True, using=connection.alias)
                count += len(batch)
            loaded[header["model"]] = count
        expected = manifest["tables"]
        if loaded != expected:
            raise BackupError("The backup is incomplete: rows found differ from its manifest.")
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(models.values())):
                cursor.execute(sql)
    return loaded


def _restore_media(tar: tarfile.TarFile, media_root: Path) -> int:
    root = media_root.resolve()
    count = 0
    for member in tar:
        if not member.name.startswith("media/"):
            continue
        relative = PurePosixPath(member.name).relative_to("media")
        if not member.isfile() or relative.is_absolute() or ".." in relative.parts:
            raise BackupError(f"Refusing a suspicious file name in the backup: {member.name}")
        target = (root / relative).resolve()
        if root not in target.parents:
            raise BackupError(f"Refusing a suspicious file name in the backup: {member.name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tar.extractfile(member) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.utime(target, (member.mtime, member.mtime))
        count += 1
    return count


def _verify(tar: tarfile.TarFile, manifest: dict) -> str:
    """Read the whole archive once: complete (rows and files as the manifest says), readable. Returns
    the secret key."""
    rows, files, secret = {}, 0, None
    try:
        for member in tar:
            if member.name == SECRET:
                secret = tar.extractfile(member).read().decode().strip()
            elif member.name.startswith("db/") and member.isfile():
                with tar.extractfile(member) as stream:
                    header = json.loads(stream.readline())
                    rows[header["model"]] = sum(1 for _ in stream)
            elif member.name.startswith("media/") and member.isfile():
                with tar.extractfile(member) as stream:
                    while stream.read(1 << 20):
                        pass
                files += 1
    except (tarfile.TarError, OSError, EOFError, ValueError, KeyError) as e:
        raise BackupError(f"The backup is damaged ({e.__class__.__name__}: {e}); nothing was changed.") from None
    if not secret:
        raise BackupError("The backup has no secret key; nothing was changed.")
    if rows != manifest["tables"] or files != manifest["media_files"]:
        raise BackupError("The backup is incomplete (rows or files differ from its manifest); nothing was changed.")
    return secret


@contextmanager
def _undo_on_failure(connection) -> Iterator[None]:
    """Restore all or nothing. PostgreSQL: one transaction (its DDL is transactional). SQLite: a copy
    of the database file is taken first and put back if the restore fails."""
    if connection.vendor == "postgresql":
        with transaction.atomic(using=connection.alias):
            yield
        return
    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "sqlite" or name == ":memory:" or "mode=memory" in name or not Path(name).exists():
        yield
        return
    import sqlite3

    connection.close()
    copy = Path(name + ".before-restore")
    with closing(sqlite3.connect(name)) as src, closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
    try:
        yield
    except BaseException:
        connection.close()
        with closing(sqlite3.connect(copy)) as src, closing(sqlite3.connect(name)) as dst:
            src.backup(dst)
        raise
    finally:
        copy.unlink(missing_ok=True)


def restore(path: str | os.PathLike, *, force: bool = False, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Restore the archive into this installation. It must be empty unless `force` (then the present
    data and uploads are replaced). Returns a summary."""
    connection = connections[using]
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No such file: {path}")
    try:
        tar = tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError):
        raise BackupError(f"{path} is not a qifu backup (not a tar.gz archive).") from None
    with tar:
        manifest = read_manifest(tar)
        present = occupied(using)
        if present and not force:
            what = ", ".join(f"{label}: {count}" for label, count in sorted(present.items())[:8])
            raise BackupError(
                f"This installation is not empty ({what}{', …' if len(present) > 8 else ''}). "
                "Restoring would replace all of it: restore into an empty installation, "
                "or run `qifu restore FILE --force` to replace it."
            )
        secret = _verify(tar, manifest)  # a damaged archive is refused before anything is touched
        migrations = [tuple(m) for m in manifest["migrations"]]
        with _undo_on_failure(connection):
            if present or set(MigrationRecorder(connection).applied_migrations()) != set(migrations):
                _drop_tables(connection)
                state_apps = _migrate_to(connection, migrations)
            else:  # an empty installation at the backup's migrations: only rows `migrate` made to clear
                state_apps = MigrationExecutor(connection).loader.project_state(migrations).apps
            loaded = _load(connection, tar, state_apps, manifest)
    # Migrations newer than the backup (an upgrade), content types and permissions of new models.
    call_command("migrate", interactive=False, verbosity=0)
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.is_dir():
        for child in media_root.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    with tarfile.open(path, "r:gz") as tar:
        files = _restore_media(tar, media_root)
    key_file = Path(settings.DATA_DIR) / "secret_key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret)
    key_from_env = os.environ.get("QIFU_SECRET_KEY")
    return {
        "manifest": manifest,
        "rows": sum(loaded.values()),
        "tables": len(loaded),
        "files": files,
        "secret_key_file": str(key_file),
        "secret_key_differs_from_environment": bool(key_from_env) and key_from_env != secret,
    }
