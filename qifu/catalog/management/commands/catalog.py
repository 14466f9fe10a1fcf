"""`qifu catalog import FILE --region CODE [--node CODE] [--dry-run]` and
`qifu catalog export --region CODE [--node CODE] --output FILE` (the seeds' spreadsheet layout, `qifu.catalog.spreadsheet`)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from qifu.audit.context import acting_as
from qifu.catalog import spreadsheet
from qifu.org.models import Region, ServiceNode


class Command(BaseCommand):
    help = "The service catalog: `import FILE --region CODE` and `export --region CODE --output FILE` (.xlsx)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="action")
        load = actions.add_parser("import", help="import service items from an .xlsx file in the catalog's layout")
        load.add_argument("file", help=".xlsx file (the import template's layout)")
        load.add_argument("--region", required=True, help="region code")
        load.add_argument("--node", help="service node code: the rows are that node's items (个性清单)")
        load.add_argument("--dry-run", action="store_true", help="check and count, but write nothing")
        out = actions.add_parser("export", help="export the region's service items to an .xlsx file")
        out.add_argument("--region", required=True, help="region code")
        out.add_argument("--node", help="only this service node's items")
        out.add_argument("--output", required=True, help="the .xlsx file to write")
        template = actions.add_parser("template", help="write the empty import template")
        template.add_argument("--region", required=True, help="region code")
        template.add_argument("--output", required=True, help="the .xlsx file to write")

    def handle(self, *args, action: str, **options) -> None:
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(_("There is no region with the code '%(code)s'.") % {"code": options["region"]})
        node = None
        if options.get("node"):
            node = ServiceNode.objects.filter(region=region, code=options["node"]).first()
            if node is None:
                raise CommandError(_("There is no service node %(code)s in this region.") % {"code": options["node"]})
        if action == "import":
            self.import_file(Path(options["file"]), region, node, options["dry_run"])
        elif action == "export":
            Path(options["output"]).write_bytes(spreadsheet.export(region, node))
            count = region.service_items.filter(**({"node": node} if node else {})).count()
            self.stdout.write(_("%(n)d service item(s) written to %(path)s.") % {"n": count, "path": options["output"]})
        else:
            Path(options["output"]).write_bytes(spreadsheet.workbook(region, []))
            self.stdout.write(options["output"])

    def import_file(self, path: Path, region, node, dry_run: bool) -> None:
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            with acting_as(source="cli"):
                report = spreadsheet.import_items(path, region, node=node, dry_run=dry_run)
        except spreadsheet.ImportFileError as exc:
            raise CommandError(str(exc)) from None
        for error in report.errors:
            self.stdout.write(str(error))
        if report.errors:
            raise CommandError(_("Nothing was imported."), returncode=1)
        summary = _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % {
            "created": report.created, "updated": report.updated, "unchanged": report.unchanged}
        if dry_run:
            summary = _("Dry run, nothing written: %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
