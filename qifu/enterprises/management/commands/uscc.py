"""`qifu uscc CODE [CODE…]`: check unified social credit codes and say what is wrong with each."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from qifu.lib import uscc


class Command(BaseCommand):
    help = "Check unified social credit codes (统一社会信用代码); exit status 1 if any is invalid."
    requires_system_checks: list[str] = []  # needs no database

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="+", metavar="code", help="codes to check")

    def handle(self, *args, codes: list[str], **options) -> None:
        invalid = 0
        for code in codes:
            problem = uscc.problem(code)
            if problem:
                invalid += 1
                # "valid"/"invalid" stay as fixed words for scripts; the reason is in the user's language.
                self.stdout.write(f"{code}: invalid — {problem}")
            else:
                self.stdout.write(f"{code}: valid")
        if invalid:
            # The reasons are on stdout; the summary goes to stderr and the exit status is 1.
            raise CommandError(
                _("%(invalid)d of %(total)d codes are invalid.") % {"invalid": invalid, "total": len(codes)},
                returncode=1,
            )
