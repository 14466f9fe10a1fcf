"""The `qifu` console command.

`qifu <command>` runs a Django management command: the project's own (`serve`, `demo`, `backup`,
`restore`, `preset`, …) and Django's (`migrate`, `createsuperuser`, `shell`, …). `qifu`, `qifu help`
and `qifu --help` list qifu's commands first and Django's after; `qifu --version` prints qifu's version.
"""

import os
import sys
from collections import defaultdict


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("qifu")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def command_help() -> str:
    """The list of commands: qifu's own first (with their one-line help), then Django's by app."""
    from django.core.management import get_commands, load_command_class

    own, others = [], defaultdict(list)
    for name, app in sorted(get_commands().items()):
        if app.startswith("qifu"):
            try:
                summary = (load_command_class(app, name).help or "").strip().splitlines()[0]
            except Exception:  # a command that cannot load still gets listed
                summary = ""
            own.append((name, summary))
        else:
            others[app.rpartition(".")[2]].append(name)
    width = max(len(name) for name, _ in own) if own else 0
    lines = [
        f"qifu {version()} — platform for an enterprise comprehensive service center (企服)",
        "",
        "Usage: qifu <command> [options]      qifu help <command>: the options of one command",
        "",
        "qifu's commands:",
        *(f"  {name.ljust(width)}  {summary}".rstrip() for name, summary in own),
        "",
        "Django's commands:",
        *(f"  [{app}] {' '.join(names)}" for app, names in sorted(others.items())),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qifu.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args in ([], ["help"], ["--help"], ["-h"]):
        import django

        django.setup()
        sys.stdout.write(command_help())
        return
    if args == ["--version"]:
        sys.stdout.write(version() + "\n")
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["qifu", *args])


if __name__ == "__main__":
    main()
