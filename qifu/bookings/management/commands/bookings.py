"""`qifu bookings slots --region CODE [--days N] [--from YYYY-MM-DD]`: create the appointment slots of the region's
slot plans on the working days ahead (existing slots are left alone, so it can run every day)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from qifu.audit.context import acting_as
from qifu.bookings import services
from qifu.org.models import Region


class Command(BaseCommand):
    help = "Appointments: `slots --region CODE [--days N]` creates the time slots of the region's slot plans."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="action")
        slots = actions.add_parser("slots", help="create the time slots of the next working days from the slot plans")
        slots.add_argument("--region", required=True, help="region code")
        slots.add_argument("--days", type=int, default=None,
                           help="how many calendar days ahead (default: the region's bookings.bookable_days)")
        slots.add_argument("--from", dest="first", default=None, help="first day, YYYY-MM-DD (default: today)")

    def handle(self, *args, action: str, **options) -> None:
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(_("There is no region with the code '%(code)s'.") % {"code": options["region"]})
        days = options["days"]
        if days is not None and not 1 <= days <= 366:
            raise CommandError(_("--days must be between 1 and 366."))
        try:
            first = datetime.date.fromisoformat(options["first"]) if options["first"] else None
        except ValueError:
            raise CommandError(_("--from must be a date such as 2026-12-08.")) from None
        try:
            with acting_as(source="cli"):
                created = services.generate(region, days=days, first=first)
        except services.BookingError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(_("%(n)d time slot(s) created.") % {"n": created})
