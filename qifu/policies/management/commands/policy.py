import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qifu.rules import yamlio
from qifu.rules.values import RuleError


class Command(BaseCommand):
    help = "Policy calculator: check YAML test cases, explain a match, import/export policies."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("check", help="Run OpenFisca-style YAML cases against YAML policies (no database).")
        c.add_argument("policies")
        c.add_argument("cases")
        e = sub.add_parser("explain", help="Show each condition of a clause with the enterprise's value and result.")
        e.add_argument("--uscc", required=True)
        e.add_argument("--clause", required=True)
        e.add_argument("--date", default=None)
        i = sub.add_parser("import", help="Import policies from YAML into the library.")
        i.add_argument("file")
        i.add_argument("--region", required=True)
        x = sub.add_parser("export", help="Export the library's policies as YAML.")
        x.add_argument("--region", required=True)
        x.add_argument("--output", default="-")
        m = sub.add_parser("match", help="Match every enterprise against every clause in force (政策找人).")
        m.add_argument("--region", required=True)

    def handle(self, *args, action, **opts):
        return getattr(self, "do_" + action)(**opts)

    def do_check(self, policies, cases, **_):
        for path in (policies, cases):
            if not Path(path).exists():
                raise CommandError(f"{path}: no such file")
        try:
            lines, failed = yamlio.check(yamlio.parse_policies(Path(policies)), yamlio.parse_cases(Path(cases)))
        except RuleError as e:
            raise CommandError(str(e)) from None
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(f"{len(lines) - failed} passed, {failed} failed")
        if failed:
            sys.exit(1)

    def do_explain(self, uscc, clause, date, **_):
        from qifu.policies import explanations

        try:
            lines = explanations.explain(uscc, clause, date)
        except LookupError as e:
            raise CommandError(str(e)) from None
        for line in lines:
            self.stdout.write(line)

    def do_import(self, file, region, **_):
        from qifu.policies import services

        try:
            counts = services.import_yaml(Path(file).read_text(encoding="utf-8"), region)
        except (RuleError, LookupError) as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"imported {counts['policies']} policies, {counts['clauses']} clauses")

    def do_export(self, region, output, **_):
        from qifu.policies import services

        try:
            text = services.export_yaml(region)
        except LookupError as e:
            raise CommandError(str(e)) from None
        if output == "-":
            self.stdout.write(text)
        else:
            Path(output).write_text(text, encoding="utf-8")

    def do_match(self, region, **_):
        from qifu.policies import services

        try:
            summary = services.match_region(region)
        except LookupError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"{summary}")
