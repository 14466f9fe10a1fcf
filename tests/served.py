"""Helpers for tests that run `qifu` as real processes: a fresh installation (its own data directory
and database — a SQLite file, or a new PostgreSQL database when the suite runs on PostgreSQL), the
`qifu` command run in it, and `qifu serve` started and stopped."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from django.conf import settings

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_dsn(database: str = "postgres") -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{database}"


def pg_execute(sql: str, params=(), database: str = "postgres") -> list[tuple]:
    import psycopg

    with psycopg.connect(_admin_dsn(database), autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


class Installation:
    """A qifu installation of its own: QIFU_DATA_DIR under `root`, and its database."""

    def __init__(self, root: Path, engine: str):
        self.root = root
        self.data_dir = root / "data"
        self.engine = engine
        if engine == "postgresql":
            self.database = f"qifu_t_{uuid.uuid4().hex[:12]}"
            pg_execute(f'CREATE DATABASE "{self.database}"')
            self.database_url = _admin_dsn(self.database).replace("postgresql://", "postgres://", 1)
        else:
            self.database = None
            self.database_url = f"sqlite:///{root / 'qifu.sqlite3'}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QIFU_", "PYTEST", "DJANGO_"))}
        env.update(DATABASE_URL=self.database_url, QIFU_DATA_DIR=str(self.data_dir), PYTHONUNBUFFERED="1")
        env.pop("CELERY_BROKER_URL", None)
        return env

    def qifu(self, *args: str, check: bool = True, timeout: float = 300, env: dict | None = None):
        result = subprocess.run([sys.executable, "-m", "qifu", *args], env={**self.env, **(env or {})},
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"qifu {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def migrate(self) -> None:
        """What `qifu migrate --noinput` leaves in this new installation (its database migrated, the data
        directory with a secret key of its own), copied from an installation migrated once per engine and
        test session: a migration costs a few seconds, a copy a tenth of one. Tests of `migrate` itself
        run the command."""
        template = _migrated_template(self.engine)
        if self.database:
            pg_execute(f'DROP DATABASE "{self.database}"')
            pg_execute(f'CREATE DATABASE "{self.database}" TEMPLATE "{template.database}"')
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template.root / "qifu.sqlite3", self.root / "qifu.sqlite3")
        shutil.copytree(template.data_dir, self.data_dir, dirs_exist_ok=True)
        key = self.data_dir / "secret_key"
        key.write_text(secrets.token_urlsafe(50))
        key.chmod(0o600)

    def connections(self) -> int:
        """Connections PostgreSQL holds open to this installation's database right now."""
        return pg_execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.database,))[0][0]

    def drop(self) -> None:
        if self.database:
            pg_execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


_templates: dict[str, Installation] = {}


def _migrated_template(engine: str) -> Installation:
    if engine not in _templates:
        template = Installation(Path(tempfile.mkdtemp(prefix=f"qifu-migrated-{engine}-")), engine)
        _templates[engine] = template
        template.qifu("migrate", "--noinput")
        if template.database:  # nobody connects to a template while it is copied
            pg_execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (template.database,))
    return _templates[engine]


def drop_templates() -> None:
    """At the end of the session: the templates' databases and directories."""
    while _templates:
        template = _templates.popitem()[1]
        template.drop()
        shutil.rmtree(template.root, ignore_errors=True)


class Server:
    """`qifu serve` running as a real process (gunicorn master, workers and the scheduler)."""

    def __init__(self, installation: Installation, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = installation.root / f"serve-{self.port}.log"
        self._log = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "qifu", "serve", "--port", str(self.port), *args],
            env=installation.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"qifu serve exited: {self.output()}")
            try:
                urllib.request.urlopen(self.url + "/login/", timeout=5).read()
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        raise AssertionError(f"qifu serve did not answer within {timeout} s: {self.output()}")

    def output(self) -> str:
        self._log.flush()
        return self.log.read_text()

    def children(self) -> dict[int, str]:
        """The master's child processes: pid → command line."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in path.read_text().split()] if path.exists() else []
        return {pid: cmdline(pid) for pid in pids}

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()
        return self.process.returncode

    def kill_group(self) -> None:
        """Whatever is left of the server's process group (never other processes)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until(predicate, timeout: float = 30, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def token_of(output: str) -> str:
    match = re.search(r"\S{20,}", output)
    assert match, output
    return match.group(0)
