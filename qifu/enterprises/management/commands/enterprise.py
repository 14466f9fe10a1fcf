"""`qifu enterprise import FILE --region CODE [--skip-bad-rows] [--dry-run]`; `qifu enterprise pair FILE --region CODE`
(liaison officers with enterprises, `qifu.enterprises.pairing`)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from qifu.audit.context import acting_as
from qifu.enterprises.importer import ImportFileError, ImportReport, import_enterprises
from qifu.org.models import Region


class Command(BaseCommand):
    help = "Work with enterprises: `import FILE --region CODE` loads a CSV or .xlsx file."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="action")
        load = actions.add_parser("import", help="import enterprises from a CSV or .xlsx file")
        load.add_argument("file", help="CSV (UTF-8 or GBK) or .xlsx file")
        load.add_argument("--region", required=True, help="region code")
        load.add_argument("--skip-bad-rows", action="store_true",
                          help="import the good rows and report the bad ones "
                               "(by default nothing is imported if any row is bad)")
        load.add_argument("--dry-run", action="store_true", help="check and count, but write nothing")
        pair = actions.add_parser("pair", help="pair liaison officers with enterprises (CSV: username, uscc)")
        pair.add_argument("file", help="CSV (UTF-8 or GBK) with the columns username and uscc")
        pair.add_argument("--region", required=True, help="region code")

    def handle(self, *args, action: str, **options) -> None:
        if action == "import":
            self.import_file(Path(options["file"]), options["region"], options["skip_bad_rows"], options["dry_run"])
        elif action == "pair":
            self.pair(Path(options["file"]), options["region"])

    def pair(self, path: Path, region_code: str) -> None:
        from qifu.enterprises.pairing import import_pairings

        region = Region.objects.filter(code=region_code).first()
        if region is None:
            raise CommandError(_("There is no region with the code '%(code)s'.") % {"code": region_code})
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            with acting_as(source="cli"):
                added, problems = import_pairings(path, region)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(_("Nothing was imported."), returncode=1)
        self.stdout.write(_("%(n)d pairing(s) added.") % {"n": added})

    def import_file(self, path: Path, region_code: str, skip_bad_rows: bool, dry_run: bool) -> None:
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            raise CommandError(_("There is no region with the code '%(code)s'.") % {"code": region_code})
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            with acting_as(source="cli"):
                report = import_enterprises(path, region, skip_bad_rows=skip_bad_rows, dry_run=dry_run)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        self.print_report(report)
        if report.errors and not report.imported:
            raise CommandError(_("Nothing was imported."), returncode=1)

    def print_report(self, report: ImportReport) -> None:
        for error in report.errors:
            column = report.headers.get(error.field, error.field)
            self.stdout.write(_("row %(row)d (%(uscc)s): %(field)s: %(message)s") % {
                "row": error.row_number, "uscc": error.uscc or "-", "field": column, "message": error.message})
        summary = _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(skipped)d skipped, "
                    "%(errors)d error(s).") % {
            "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "skipped": report.skipped, "errors": len(report.errors)}
        if report.dry_run:
            summary = _("Dry run, nothing written: %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
