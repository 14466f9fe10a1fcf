"""`qifu audit verify`: is the audit trail and every event history as it was written?"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from qifu.audit import verify


def _anchor(text: str) -> tuple[int, str]:
    position, _sep, digest = text.partition(":")
    if not position.isdigit() or len(digest) != 64:
        raise ValueError(text)
    return int(position), digest.lower()


class Command(BaseCommand):
    help = ("Verify the hash chains of the audit trail and of every appeal's and application's events "
            "(`qifu audit verify`; exit status 1 if anything was changed or removed).")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("verify", help="check every chain; report the first entries that were changed or removed")
        v.add_argument("--anchor", action="append", default=[], type=_anchor, metavar="POSITION:HASH",
                       help="a position and hash of the audit trail printed by an earlier run (kept outside the "
                            "database): the trail must still hold it")
        v.add_argument("--max-problems", type=int, default=20, help="how many problems to list (default 20)")
        v.add_argument("--database", default="default")

    def handle(self, *args, action, anchor, max_problems, database, **opts):
        reports, protections = verify.verify_all(database, dict(anchor))
        problems = [p for r in reports for p in r.problems] + protections
        for report in reports:
            state = _("intact") if not report.problems else _("%(n)s problem(s)") % {"n": len(report.problems)}
            values = {"name": report.name, "count": report.count, "subjects": report.subjects, "state": state}
            if report.kind == "events":
                line = _("%(name)s: %(count)s events of %(subjects)s subjects verified: %(state)s") % values
            elif report.head:
                line = _("%(name)s: %(count)s entries verified (head: position %(seq)s, hash %(hash)s): %(state)s") % {
                    **values, "seq": report.head[0], "hash": report.head[1]}
            else:
                line = _("%(name)s: %(count)s entries verified: %(state)s") % values
            self.stdout.write(line)
        for problem in problems[:max_problems]:
            self.stdout.write(problem)
        if len(problems) > max_problems:
            self.stdout.write(_("… and %(n)s more.") % {"n": len(problems) - max_problems})
        if problems:
            raise CommandError(_("%(n)s problem(s): the audit trail or an event history was changed, or the "
                                 "database no longer protects it.") % {"n": len(problems)}, returncode=1)
        total = sum(r.count for r in reports)
        self.stdout.write(self.style.SUCCESS(
            _("All well: %(total)s entries and events verified, nothing changed or removed.") % {"total": total}))
