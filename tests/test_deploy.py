"""deploy/ stays in step with the code: every command the Compose file and the systemd units run is a
real command whose options parse, the example environment names the production variables, and nginx
serves static files from where `collectstatic` writes them and never serves uploads from disk.
(The Compose file is also checked by `docker compose config` / `docker-compose config` where one exists.)"""

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands, load_command_class

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
APP_SERVICES = {"migrate", "web", "worker", "scheduler"}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def example_env() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (DEPLOY / "qifu.env.example").read_text().splitlines()
             if line.strip() and not line.startswith("#"))
    return {k: v for k, v in pairs}


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
        assert services[name]["env_file"] == ["qifu.env"]
        assert "data:/var/lib/qifu" in " ".join(services[name]["volumes"])
    assert services["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "static:/var/lib/qifu-static:ro" in services["proxy"]["volumes"]


def test_compose_and_systemd_commands_are_real_commands():
    services = compose()["services"]
    for name in ("web", "worker", "scheduler"):
        assert_runs(services[name]["command"])
    for step in services["migrate"]["command"][-1].split("&&"):
        assert_runs(shlex.split(step))
    assert "--no-scheduler" in services["web"]["command"]  # the scheduler service runs the periodic jobs
    units = {p.name: p.read_text() for p in (DEPLOY / "systemd").glob("*.service")}
    assert set(units) == {"qifu-web.service", "qifu-worker.service", "qifu-scheduler.service", "qifu-backup.service"}
    for unit in ("qifu-web.service", "qifu-worker.service", "qifu-scheduler.service"):
        line = re.search(r"^ExecStart=(.+)$", units[unit], re.M).group(1)
        assert_runs(shlex.split(line))
        assert "EnvironmentFile=/etc/qifu/qifu.env" in units[unit] and "User=qifu" in units[unit]
    backup = re.search(r"ExecStart=/bin/sh -c '(.+)'$", units["qifu-backup.service"], re.M).group(1)
    assert backup.startswith("/opt/qifu/bin/qifu backup ")


def test_the_example_environment_names_the_production_variables():
    env = example_env()
    for name in ("QIFU_SECRET_KEY", "QIFU_ALLOWED_HOSTS", "QIFU_CSRF_TRUSTED_ORIGINS", "DATABASE_URL",
                 "CELERY_BROKER_URL", "QIFU_HTTPS", "QIFU_PROXY_SSL_HEADER", "QIFU_DATA_DIR", "QIFU_STATIC_ROOT",
                 "QIFU_WEB_WORKERS", "QIFU_WEB_THREADS", "POSTGRES_PASSWORD"):
        assert name in env, name
    assert env["QIFU_HTTPS"] == "1" and env["DATABASE_URL"].startswith("postgres://")
    assert env["QIFU_PROXY_SSL_HEADER"].split(":")[0] == "X-Forwarded-Proto"


def test_nginx_serves_static_files_terminates_tls_and_never_uploads():
    conf = (DEPLOY / "nginx" / "qifu.conf").read_text()
    env = example_env()
    assert f"alias {env['QIFU_STATIC_ROOT']}/;" in conf
    assert re.search(r"location /media/ \{\s*return 404;", conf)
    assert "listen 443 ssl;" in conf and "return 301 https://" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert f"QIFU_STATIC_ROOT={env['QIFU_STATIC_ROOT']}" in dockerfile


@pytest.mark.skipif(not (shutil.which("docker-compose") or shutil.which("docker")), reason="no Docker Compose here")
def test_docker_compose_accepts_the_file(tmp_path):
    (tmp_path / "qifu.env").write_text((DEPLOY / "qifu.env.example").read_text())
    shutil.copy(DEPLOY / "docker-compose.yml", tmp_path / "docker-compose.yml")
    for argv in (["docker", "compose"], ["docker-compose"]):
        if not shutil.which(argv[0]) or subprocess.run([*argv, "version"], capture_output=True).returncode:
            continue
        result = subprocess.run([*argv, "--env-file", "qifu.env", "config", "--quiet"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return
    pytest.skip("no working Docker Compose here (docker has no compose plugin)")
