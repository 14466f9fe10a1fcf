"""The `qifu` command itself: its help lists qifu's commands before Django's; --version is qifu's."""

import subprocess
import sys
from importlib.metadata import version

import django


def run(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "qifu", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_help_lists_qifus_commands_before_djangos():
    for args in ((), ("help",), ("--help",)):
        out = run(*args)
        own, _, djangos = out.partition("Django's commands:")
        for name in ("serve", "demo", "worker", "backup", "restore", "preset", "token"):
            assert f"\n  {name} " in own, name
        for name in ("flush", "startproject", "migrate", "runserver"):
            assert name not in own and name in djangos, name
        assert "Serve qifu with the production server" in own


def test_version_is_qifus_own():
    out = run("--version").strip()
    assert out == version("qifu") and out != django.get_version()


def test_help_of_one_command_is_still_djangos_parser():
    assert "--workers" in run("help", "serve")
