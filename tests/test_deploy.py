"""deploy/ stays in step with the code: every command the Compose file and the systemd units run is a
real command whose options parse, the example environment names the production variables, and nginx
serves static files from where `collectstatic` writes them and never serves uploads from disk.
(The Compose file is also checked by `docker compose config` / `docker-compose config` where one exists.)

The database roles (docs/security.md, "Audit trail and event history"): only the migration step runs as the
owner and grants the application's role its rights; web, worker, scheduler, backups and the daily
verification never see the owner's address; and the roles script, run for real against PostgreSQL, makes an
owner and an application role that work as the deployment uses them."""

import os
import re
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands, load_command_class

from tests.served import ON_POSTGRES, pg_execute

from .test_audit_roles import connect_as, qifu_as

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
APP_SERVICES = {"migrate", "web", "worker", "scheduler"}
ROLES_SCRIPT = DEPLOY / "postgres-init" / "10-qifu-roles.sh"
# the migration step, the same in Compose's `migrate` service and in qifu-migrate.service: as the owner
OWNER_EXPORT = 'export DATABASE_URL="${QIFU_OWNER_DATABASE_URL:?set QIFU_OWNER_DATABASE_URL in '


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def example_env(name: str = "qifu.env.example") -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (DEPLOY / name).read_text().splitlines()
             if line.strip() and not line.startswith("#"))
    return {k: v for k, v in pairs}


def units() -> dict[str, str]:
    return {p.name: p.read_text() for p in (DEPLOY / "systemd").glob("*.service")}


def assert_migration_step(script: str) -> None:
    """`export DATABASE_URL=<the owner's> && qifu migrate … && qifu db grant-app-role qifu_app && qifu
    collectstatic …`, each command real."""
    first, *steps = [step.strip() for step in script.split("&&")]
    assert first.startswith(OWNER_EXPORT), first
    argvs = [shlex.split(step) for step in steps]
    for argv in argvs:
        assert_runs(argv)
    assert [argv[1:] for argv in argvs[:2]] == [["migrate", "--noinput"], ["db", "grant-app-role", "qifu_app"]]
    assert argvs[2][1] == "collectstatic"


def assert_runs(argv: list[str]) -> None:
    """`qifu …` parses with the command's real options; `celery -A qifu.celery …` names our app."""
    program = Path(argv[0]).name
    if program == "celery":
        assert argv[1:3] == ["-A", "qifu.celery"] and argv[3] in ("worker", "beat"), argv
        return
    assert program == "qifu", argv
    name, args = argv[1], argv[2:]
    assert name in get_commands(), name
    command = load_command_class(get_commands()[name], name)
    command.create_parser("qifu", name).parse_args(args)


def test_compose_has_every_part_of_a_deployment():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "scheduler", "proxy"}
    assert services["db"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")
    for name in APP_SERVICES:
        assert services[name]["env_file"][0] == "qifu.env"
        assert "data:/var/lib/qifu" in " ".join(services[name]["volumes"])
    assert services["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "static:/var/lib/qifu-static:ro" in services["proxy"]["volumes"]


def test_compose_and_systemd_commands_are_real_commands():
    services = compose()["services"]
    for name in ("web", "worker", "scheduler"):
        assert_runs(services[name]["command"])
    # Compose writes $$ for a $ that the container's shell expands
    assert_migration_step(services["migrate"]["command"][-1].replace("$$", "$"))
    assert "--no-scheduler" in services["web"]["command"]  # the scheduler service runs the periodic jobs
    found = units()
    assert set(found) == {"qifu-web.service", "qifu-worker.service", "qifu-scheduler.service", "qifu-backup.service",
                          "qifu-migrate.service", "qifu-audit-verify.service"}
    for unit in ("qifu-web.service", "qifu-worker.service", "qifu-scheduler.service", "qifu-audit-verify.service"):
        line = re.search(r"^ExecStart=(.+)$", found[unit], re.M).group(1)
        assert_runs(shlex.split(line))
        assert "EnvironmentFile=/etc/qifu/qifu.env" in found[unit] and "User=qifu" in found[unit]
    assert re.search(r"^ExecStart=/opt/qifu/bin/qifu audit verify$", found["qifu-audit-verify.service"], re.M)
    backup = re.search(r"ExecStart=/bin/sh -c '(.+)'$", found["qifu-backup.service"], re.M).group(1)
    assert backup.startswith("/opt/qifu/bin/qifu backup ")
    # systemd, like Compose, writes $$ for a literal $
    migrate = re.search(r"^ExecStart=/bin/sh -c '(.+)'$", found["qifu-migrate.service"], re.M).group(1)
    assert_migration_step(migrate.replace("$$", "$"))
    timers = {p.name: p.read_text() for p in (DEPLOY / "systemd").glob("*.timer")}
    assert set(timers) == {"qifu-backup.timer", "qifu-audit-verify.timer"}
    for timer in timers.values():
        assert re.search(r"^OnCalendar=\*-\*-\* \d\d:\d\d:00$", timer, re.M), timer  # every day
        assert "WantedBy=timers.target" in timer


def test_only_the_migration_step_gets_the_owners_address():
    """Web, worker, scheduler (and backups, verification) connect as qifu_app: they never get owner.env."""
    services = compose()["services"]
    for name in ("web", "worker", "scheduler"):
        assert services[name]["env_file"] == ["qifu.env"], name
        assert "OWNER" not in yaml.safe_dump(services[name]), name
    assert services["migrate"]["env_file"] == ["qifu.env", "owner.env"]
    assert services["db"]["env_file"] == ["owner.env"]
    assert services["db"]["environment"]["POSTGRES_USER"] == "postgres"  # the superuser only makes the roles
    assert "./postgres-init:/docker-entrypoint-initdb.d:ro" in services["db"]["volumes"]
    # the healthcheck waits for the real server: the image's temporary one (init scripts) has no TCP
    assert services["db"]["healthcheck"]["test"][1:4] == ["pg_isready", "-h", "127.0.0.1"]
    for name, text in units().items():
        assert ("/etc/qifu/owner.env" in text) == (name == "qifu-migrate.service"), name
    app = example_env()
    assert urlparse(app["DATABASE_URL"]).username == "qifu_app"
    assert not any("OWNER" in name or "POSTGRES" in name for name in app)
    assert "qifu_owner" not in (DEPLOY / "qifu.env.example").read_text()
    owner = example_env("owner.env.example")
    assert set(owner) == {"QIFU_OWNER_DATABASE_URL", "QIFU_OWNER_PASSWORD", "QIFU_APP_PASSWORD", "POSTGRES_PASSWORD"}
    url = urlparse(owner["QIFU_OWNER_DATABASE_URL"])
    assert (url.username, url.password, url.path) == ("qifu_owner", owner["QIFU_OWNER_PASSWORD"], "/qifu")
    assert urlparse(app["DATABASE_URL"]).password == owner["QIFU_APP_PASSWORD"]


def test_the_roles_script_makes_two_roles_that_are_not_superusers():
    sql = (DEPLOY / "postgres-init" / "qifu-roles.psql").read_text()
    for role in ("owner", "app"):
        assert re.search(rf'^CREATE ROLE :"{role}" LOGIN NOSUPERUSER .*PASSWORD :\'{role}_password\';$', sql, re.M)
        assert re.search(rf"^\\getenv {role}_password QIFU_{role.upper()}_PASSWORD$", sql, re.M)
    assert re.search(r'^CREATE DATABASE :"db" OWNER :"owner";$', sql, re.M)
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC;" in sql
    assert "GRANT" not in sql.replace('GRANT USAGE, CREATE ON SCHEMA public TO :"owner";', "")  # app: no grant here
    assert os.access(ROLES_SCRIPT, os.X_OK)  # else the postgres image sources it instead of running it
    assert subprocess.run(["sh", "-n", str(ROLES_SCRIPT)]).returncode == 0


def test_the_example_environment_names_the_production_variables():
    env = example_env()
    for name in ("QIFU_SECRET_KEY", "QIFU_ALLOWED_HOSTS", "QIFU_CSRF_TRUSTED_ORIGINS", "DATABASE_URL",
                 "CELERY_BROKER_URL", "QIFU_HTTPS", "QIFU_PROXY_SSL_HEADER", "QIFU_DATA_DIR", "QIFU_STATIC_ROOT",
                 "QIFU_WEB_WORKERS", "QIFU_WEB_THREADS"):
        assert name in env, name
    assert "QIFU_OWNER_DATABASE_URL" in example_env("owner.env.example")
    assert env["QIFU_HTTPS"] == "1" and env["DATABASE_URL"].startswith("postgres://")
    assert env["QIFU_PROXY_SSL_HEADER"].split(":")[0] == "X-Forwarded-Proto"


def test_nginx_serves_static_files_terminates_tls_and_never_uploads():
    conf = (DEPLOY / "nginx" / "qifu.conf").read_text()
    env = example_env()
    assert f"alias {env['QIFU_STATIC_ROOT']}/;" in conf
    static = re.search(r"location /static/ \{(.*?)\}", conf, re.S).group(1)
    assert "gzip_static on;" in static and "add_header Cache-Control $qifu_static_cache;" in static
    # hashed names (collectstatic's `name.<12 hex>.ext`) for a year, immutable; plain names an hour
    cache = re.search(r'map \$uri \$qifu_static_cache \{\s*"~(.*?)"\s+"(.*?)";\s*default\s+"(.*?)";', conf)
    hashed = re.compile(cache.group(1))  # nginx and Python read this regular expression alike
    assert hashed.search("/static/front/qifu.932b0b0cd8bc.css") and not hashed.search("/static/front/qifu.css")
    assert cache.group(2) == "public, max-age=31536000, immutable" and cache.group(3) == "public, max-age=3600"
    assert re.search(r"location /media/ \{\s*return 404;", conf)
    assert "listen 443 ssl;" in conf and "return 301 https://" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert f"QIFU_STATIC_ROOT={env['QIFU_STATIC_ROOT']}" in dockerfile


@pytest.mark.skipif(not (shutil.which("docker-compose") or shutil.which("docker")), reason="no Docker Compose here")
def test_docker_compose_accepts_the_file(tmp_path):
    (tmp_path / "qifu.env").write_text((DEPLOY / "qifu.env.example").read_text())
    (tmp_path / "owner.env").write_text((DEPLOY / "owner.env.example").read_text())
    shutil.copy(DEPLOY / "docker-compose.yml", tmp_path / "docker-compose.yml")
    for argv in (["docker", "compose"], ["docker-compose"]):
        if not shutil.which(argv[0]) or subprocess.run([*argv, "version"], capture_output=True).returncode:
            continue
        result = subprocess.run([*argv, "--env-file", "qifu.env", "config", "--quiet"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return
    pytest.skip("no working Docker Compose here (docker has no compose plugin)")


@pytest.mark.skipif(not ON_POSTGRES, reason="database roles: PostgreSQL")
@pytest.mark.skipif(not shutil.which("psql"), reason="the roles script runs psql")
def test_the_roles_script_on_postgresql_gives_an_owner_that_migrates_and_an_app_that_cannot_unprotect(tmp_path):
    """deploy/postgres-init/10-qifu-roles.sh, for real, with names of its own (cleaned up after): the owner
    migrates and grants, as qifu-migrate does; then as the application's role qifu works, backs up and
    verifies, but cannot switch the audit trail's triggers off."""
    import psycopg

    tag = uuid.uuid4().hex[:10]
    owner, app, database = f"qifu_t_owner_{tag}", f"qifu_t_app_{tag}", f"qifu_t_roles_{tag}"
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGHOST": db.get("HOST") or "127.0.0.1", "PGPORT": str(db.get("PORT") or 5432),
           "POSTGRES_USER": db.get("USER") or "postgres", "QIFU_OWNER_PASSWORD": f"o-{tag}",
           "QIFU_APP_PASSWORD": f"a-{tag}"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    data = {"QIFU_DATA_DIR": str(tmp_path / "data")}
    try:
        made = subprocess.run([str(ROLES_SCRIPT), "-v", f"owner={owner}", "-v", f"app={app}", "-v", f"db={database}"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        roles = dict(pg_execute("SELECT rolname, rolsuper OR rolcreaterole OR rolbypassrls FROM pg_roles "
                                "WHERE rolname IN (%s, %s)", (owner, app)))
        assert roles == {owner: False, app: False}
        assert pg_execute("SELECT pg_has_role(%s, %s, 'MEMBER')", (app, owner)) == [(False,)]
        assert pg_execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (database,)) == [(owner,)]

        for step in (["migrate", "--noinput"], ["db", "grant-app-role", app]):  # qifu-migrate, as the owner
            done = qifu_as(owner, *step, database=database, env=data)
            assert done.returncode == 0, done.stdout + done.stderr
        checked = qifu_as(app, "migrate", "--noinput", database=database, env=data)  # as `qifu demo` runs it
        assert checked.returncode == 0, checked.stderr  # nothing to do: the app's role may check, not change

        # the application, as qifu_app: an audited change, a backup (it only reads), the daily verification
        created = qifu_as(app, "createsuperuser", "--noinput", "--username", "deploy-admin", "--email",
                          "admin@example.gov.cn", database=database, env=data)
        assert created.returncode == 0, created.stderr
        backup = qifu_as(app, "backup", str(tmp_path / "qifu.tar.gz"), database=database, env=data)
        assert backup.returncode == 0, backup.stdout + backup.stderr
        verified = qifu_as(app, "audit", "verify", database=database, env=data)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        with connect_as(owner, database) as conn:
            assert conn.execute("SELECT count(*) FROM audit_auditentry").fetchone()[0] >= 1
        with connect_as(app, database) as conn:
            for sql in ("ALTER TABLE audit_auditentry DISABLE TRIGGER ALL", "UPDATE audit_auditentry SET note = 'x'",
                        "CREATE TABLE mine (id int)"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql)
    finally:
        pg_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for role in (app, owner):
            pg_execute(f'DROP ROLE IF EXISTS "{role}"')


def test_the_deployment_guide_links_the_roles_section_and_says_when_to_grant_and_verify():
    guide = (DEPLOY.parent / "docs" / "deploy.md").read_text()
    security = (DEPLOY.parent / "docs" / "security.md").read_text()
    assert "](security.md#audit-trail-and-event-history)" in guide
    assert re.search(r"^## Audit trail and event history$", security, re.M)  # the anchor the link names
    assert "After every `migrate` and every `restore`, as the owner: `qifu db grant-app-role qifu_app`" in guide
    assert "`qifu audit verify` after every restore, and every day" in guide
