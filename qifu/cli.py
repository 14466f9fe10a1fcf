"""The `qifu` console command.

`qifu <command>` runs a Django management command: the project's own (`serve`, `demo`, `preset`,
`uscc`, `calendar`, `token`) and Django's (`migrate`, `createsuperuser`, `shell`, ...).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qifu.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["help"]
    execute_from_command_line(["qifu", *args])


if __name__ == "__main__":
    main()
