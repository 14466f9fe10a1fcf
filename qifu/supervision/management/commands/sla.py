"""`qifu sla sweep [--at ISO-8601]`: fire every supervision timer due as of that moment (default now)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _


def moment(text: str) -> datetime.datetime:
    """An ISO 8601 moment; without a time zone it is the site's (Asia/Shanghai)."""
    try:
        value = datetime.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValueError(text) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if not 2000 <= value.year <= 2100:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Supervision timers: `qifu sla sweep [--at ISO-8601]` fires every warning, chase and inspection due."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sweep = sub.add_parser("sweep", help="fire every timer due as of --at (default now) and print what fired")
        sweep.add_argument("--at", default=None, metavar="ISO-8601",
                           help="the moment to sweep as of, e.g. 2026-10-09T12:00:00+08:00 (default: now)")

    def handle(self, *args, action, at, **options):
        from qifu.supervision import timers

        if at is None:
            now = timezone.now()
        else:
            try:
                now = moment(at)
            except ValueError:
                raise CommandError(_("--at must be an ISO 8601 date and time between the years 2000 and 2100, e.g. "
                                     "2026-10-09T12:00:00+08:00; got %(value)r.") % {"value": at},
                                   returncode=2) from None
        report = timers.sweep(now)
        for line in report.fired:
            self.stdout.write(line)
        self.stdout.write(_("Swept as of %(at)s: %(fired)s fired, %(planned)s timers planned, %(cancelled)s "
                            "cancelled, %(waiting)s waiting.") % {
            "at": timezone.localtime(now).isoformat(timespec="seconds"), "fired": len(report.fired),
            "planned": report.planned, "cancelled": report.cancelled, "waiting": report.waiting})
