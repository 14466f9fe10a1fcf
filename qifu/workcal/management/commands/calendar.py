import datetime
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qifu.workcal import workdays


class Command(BaseCommand):
    help = "China's working-day calendar: deadlines, working days, and entering later years' schedules."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        d = sub.add_parser("deadline", help="When N working days from a time of receipt end.")
        d.add_argument("--from", dest="start", required=True, help="ISO 8601 date-time of receipt")
        d.add_argument("--working-days", type=int, required=True)
        d.add_argument("--end-of-day", default=None, help="HH:MM (default: the region's, else 24:00)")
        d.add_argument("--region", default=None, help="use this region's time zone and end of day")
        w = sub.add_parser("is-workday", help="Print true or false.")
        w.add_argument("date")
        i = sub.add_parser("import", help="Import a schedule file: DATE,holiday|workday[,name] per line.")
        i.add_argument("file")
        sub.add_parser("years", help="Which years have data.")
        s = sub.add_parser("set", help="Mark one day as a holiday or a working day.")
        s.add_argument("date")
        s.add_argument("kind", choices=["holiday", "workday"])
        s.add_argument("name", nargs="?", default="")

    def handle(self, *args, action, **opts):
        return getattr(self, "do_" + action.replace("-", "_"))(**opts)

    def _date(self, text: str) -> datetime.date:
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None

    def _warn_if_no_data(self, *days: datetime.date) -> None:
        for year in workdays.missing_years(sorted({d.year for d in days})):
            sys.stderr.write(
                f"WARNING: no working-day calendar for {year}; counting Monday–Friday only. "
                "Import the official schedule with `qifu calendar import FILE`.\n"
            )

    def do_deadline(self, start, working_days, end_of_day, region, **_):
        try:
            received = datetime.datetime.fromisoformat(start)
        except ValueError:
            raise CommandError(f"--from {start!r} is not an ISO 8601 date-time") from None
        if working_days < 0:
            raise CommandError("--working-days must be 0 or more")
        tz, eod = workdays.DEFAULT_TZ, workdays.DEFAULT_END_OF_DAY
        if region:
            from qifu.org.models import Region

            r = Region.objects.filter(code=region).first()
            if r is None:
                raise CommandError(f"no region {region!r}")
            tz, eod = r.rule("time_zone"), r.rule("deadline_end_of_day")
        due = workdays.deadline(received, working_days, end_of_day=end_of_day or eod, tz=tz)
        self._warn_if_no_data(received.date(), due.date())
        self.stdout.write(due.isoformat())

    def do_is_workday(self, date, **_):
        day = self._date(date)
        self._warn_if_no_data(day)
        self.stdout.write("true" if workdays.is_workday(day) else "false")

    def do_import(self, file, **_):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"{file}: no such file")
        try:
            years = workdays.import_schedule(path.read_text(encoding="utf-8-sig"), source=f"import:{path.name}")
        except ValueError as e:
            raise CommandError(f"{file}: {e}") from None
        self.stdout.write(f"imported {', '.join(map(str, years))}")

    def do_years(self, **_):
        from qifu.workcal.models import CalendarYear

        published = {y.year: y.source for y in CalendarYear.objects.all()}
        for year in sorted(workdays.BUILTIN_YEARS | set(published)):
            self.stdout.write(f"{year}\t{published.get(year, 'chinese-calendar')}")
        this_year = datetime.date.today().year
        for year in workdays.missing_years([this_year, this_year + 1]):
            self.stdout.write(f"{year}\tMISSING (Monday–Friday fallback)")

    def do_set(self, date, kind, name, **_):
        from qifu.workcal.models import CalendarDay, CalendarYear

        day = self._date(date)
        CalendarDay.objects.update_or_create(date=day, defaults={"is_workday": kind == "workday", "name": name})
        if day.year not in workdays.BUILTIN_YEARS:
            CalendarYear.objects.get_or_create(year=day.year, defaults={"source": "admin"})
        self.stdout.write(f"{day} {kind} {name}".strip())
