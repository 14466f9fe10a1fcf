"""`qifu profile import FILE --region CODE [--source DEPT] [--as-of DATE] [--skip-bad-rows] [--dry-run]`
and `qifu profile apply-tags [--region CODE]`."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from qifu.audit.context import acting_as
from qifu.enterprises.models import Enterprise
from qifu.org.models import Region
from qifu.profiles.importer import ImportFileError, ValueImportReport, import_values
from qifu.profiles.services import apply_tag_rules


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("'%(date)s' is not a date: write it as YYYY-MM-DD.") % {"date": text}) from None


class Command(BaseCommand):
    help = "Enterprise profiles: `import FILE --region CODE` loads departmental data; `apply-tags` re-runs tag rules."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="action")
        load = actions.add_parser("import", help="import indicator values from a CSV or .xlsx file")
        load.add_argument("file", help="CSV (UTF-8 or GBK) or .xlsx: uscc + indicator columns [+ as_of, source]")
        load.add_argument("--region", required=True, help="region code")
        load.add_argument("--source", help="department code the data comes from (default: each indicator's own)")
        load.add_argument("--as-of", help="date the values are as of, YYYY-MM-DD (when the file has no as_of column)")
        load.add_argument("--skip-bad-rows", action="store_true",
                          help="import the good rows and report the bad ones "
                               "(by default nothing is imported if any row is bad)")
        load.add_argument("--dry-run", action="store_true", help="check and count, but write nothing")
        tags = actions.add_parser("apply-tags", help="evaluate the dynamic tag rules again")
        tags.add_argument("--region", help="only this region's enterprises")

    def handle(self, *args, action: str, **options) -> None:
        region = None
        if options.get("region"):
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                raise CommandError(_("There is no region with the code '%(code)s'.") % {"code": options["region"]})
        if action == "apply-tags":
            with acting_as(source="cli"):
                changes = apply_tag_rules(Enterprise.objects.filter(region=region) if region else None)
            self.stdout.write(_("%(n)d enterprises evaluated: %(added)d tags added, %(removed)d removed.") % {
                "n": changes.enterprises, "added": changes.added, "removed": changes.removed})
            return
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        as_of = _date(options["as_of"]) if options.get("as_of") else None
        try:
            with acting_as(source="cli"):
                report = import_values(path, region, source=options.get("source") or None, as_of=as_of,
                                       skip_bad_rows=options["skip_bad_rows"], dry_run=options["dry_run"])
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        self.print_report(report)
        if report.errors and not report.imported_rows:
            raise CommandError(_("Nothing was imported."), returncode=1)

    def print_report(self, report: ValueImportReport) -> None:
        for error in report.errors:
            column = report.headers.get(error.field, error.field)
            self.stdout.write(_("row %(row)d (%(uscc)s): %(field)s: %(message)s") % {
                "row": error.row_number, "uscc": error.uscc or "-", "field": column, "message": error.message})
        if report.ignored_columns:
            self.stdout.write(_("Ignored columns: %(columns)s") % {"columns": ", ".join(report.ignored_columns)})
        summary = _("%(rows)d rows imported, %(skipped)d skipped; values: %(created)d new, %(updated)d updated, "
                    "%(unchanged)d unchanged; tags: %(added)d added, %(removed)d removed; %(errors)d error(s).") % {
            "rows": report.imported_rows, "skipped": report.skipped, "created": report.created,
            "updated": report.updated, "unchanged": report.unchanged, "added": report.tags_added,
            "removed": report.tags_removed, "errors": len(report.errors)}
        if report.dry_run:
            summary = _("Dry run, nothing written: %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
