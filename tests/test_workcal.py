"""China's working-day calendar: 2026's holidays and make-up days, later years, deadlines."""

import datetime
import logging

import pytest
from django.core.management import call_command

from qifu.workcal import workdays
from qifu.workcal.models import CalendarDay, CalendarYear

D = datetime.date
SH = datetime.timezone(datetime.timedelta(hours=8))
NO_DATA_YEAR = 2035  # far beyond what chinese-calendar publishes


def received(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def due_date(start: str, n: int) -> datetime.date:
    return workdays.deadline(received(start), n).date()


class TestWorkdays2026:
    def test_spring_festival_make_up_saturdays_are_working_days(self):
        assert workdays.is_workday(D(2026, 2, 14)) is True  # Saturday, 调休
        assert workdays.is_workday(D(2026, 2, 28)) is True  # Saturday, 调休

    @pytest.mark.parametrize("day", [D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 20), D(2026, 2, 23)])
    def test_spring_festival_weekdays_are_holidays(self, day):
        assert workdays.is_workday(day) is False

    def test_labour_day_and_its_make_up_saturday(self):
        assert [workdays.is_workday(D(2026, 5, d)) for d in range(1, 6)] == [False] * 5
        assert workdays.is_workday(D(2026, 5, 9)) is True

    def test_national_day_and_its_make_up_days(self):
        assert workdays.is_workday(D(2026, 9, 20)) is True  # Sunday, 调休
        assert workdays.is_workday(D(2026, 10, 10)) is True  # Saturday, 调休
        assert all(not workdays.is_workday(D(2026, 10, d)) for d in range(1, 8))

    def test_ordinary_weekend_is_not_a_working_day(self):
        assert workdays.is_workday(D(2026, 3, 7)) is False


class TestDeadlines:
    def test_friday_before_spring_festival_one_day_is_the_make_up_saturday(self):
        due = workdays.deadline(received("2026-02-13T10:00:00+08:00"), 1)
        assert due.date() == D(2026, 2, 14)
        assert due.isoformat() == "2026-02-14T23:59:59+08:00"

    def test_three_days_across_spring_festival(self):
        assert due_date("2026-02-13T10:00:00+08:00", 3) == D(2026, 2, 25)

    def test_received_on_a_make_up_day_that_day_does_not_count(self):
        assert due_date("2026-02-14T09:00:00+08:00", 1) == D(2026, 2, 24)

    def test_the_day_of_receipt_never_counts_even_late_at_night(self):
        assert due_date("2026-03-02T23:30:00+08:00", 1) == D(2026, 3, 3)

    def test_labour_day_five_days_include_the_make_up_saturday(self):
        assert due_date("2026-04-30T15:00:00+08:00", 1) == D(2026, 5, 6)
        assert due_date("2026-04-30T15:00:00+08:00", 5) == D(2026, 5, 11)

    def test_national_day_three_days_end_on_the_make_up_saturday(self):
        assert due_date("2026-09-30T16:00:00+08:00", 3) == D(2026, 10, 10)

    def test_mid_autumn_and_the_make_up_sunday(self):
        assert due_date("2026-09-18T16:00:00+08:00", 1) == D(2026, 9, 20)
        assert due_date("2026-09-24T16:00:00+08:00", 1) == D(2026, 9, 28)

    def test_receipt_is_counted_in_shanghai_time(self):
        # 20:00 UTC on the 13th is 04:00 on the 14th in Shanghai: the 14th is the day of receipt.
        assert due_date("2026-02-13T20:00:00+00:00", 1) == D(2026, 2, 24)

    def test_naive_times_are_shanghai_time(self):
        assert workdays.deadline(received("2026-02-13T10:00:00"), 1).utcoffset() == datetime.timedelta(hours=8)

    def test_end_of_day_is_configurable(self):
        due = workdays.deadline(received("2026-02-13T10:00:00+08:00"), 1, end_of_day="17:30")
        assert due == datetime.datetime(2026, 2, 14, 17, 30, tzinfo=SH)

    def test_workdays_between_skips_holidays(self):
        start = received("2026-02-13T00:00:00+08:00")
        end = received("2026-02-25T00:00:00+08:00")
        # 13th, 14th (make-up) and 24th are working days in between.
        assert workdays.workdays_between(start, end) == pytest.approx(3.0)
        assert workdays.workdays_between(end, start) == pytest.approx(-3.0)


@pytest.mark.django_db
class TestYearsWithoutData:
    def test_a_year_without_data_falls_back_to_monday_to_friday_and_warns(self, caplog):
        caplog.set_level(logging.WARNING, logger="qifu.workcal")
        assert workdays.year_has_data(NO_DATA_YEAR) is False
        assert workdays.is_workday(D(NO_DATA_YEAR, 1, 1)) is True  # a Monday; New Year unknown
        assert workdays.is_workday(D(NO_DATA_YEAR, 1, 6)) is False  # Saturday
        assert any(str(NO_DATA_YEAR) in r.getMessage() for r in caplog.records)
        assert NO_DATA_YEAR in workdays.fallback_years()

    def test_the_warning_is_logged_once_per_process_not_per_lookup(self, caplog):
        caplog.set_level(logging.WARNING, logger="qifu.workcal")
        received_at = received(f"{NO_DATA_YEAR}-03-02T10:00:00+08:00")
        for days in range(1, 14):  # a list of appeals: each deadline counts days in that year
            workdays.deadline(received_at, days)
        workdays.is_workday(D(NO_DATA_YEAR + 1, 1, 1))
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len([m for m in warnings if str(NO_DATA_YEAR) in m]) == 1
        assert len([m for m in warnings if str(NO_DATA_YEAR + 1) in m]) == 1  # each year once
        assert {NO_DATA_YEAR, NO_DATA_YEAR + 1} <= workdays.fallback_years()  # the banner still names both

    def test_an_administrator_enters_a_later_year(self, caplog):
        caplog.set_level(logging.WARNING, logger="qifu.workcal")
        CalendarYear.objects.create(year=NO_DATA_YEAR)
        CalendarDay.objects.create(date=D(NO_DATA_YEAR, 1, 1), is_workday=False, name="元旦")
        CalendarDay.objects.create(date=D(NO_DATA_YEAR, 1, 6), is_workday=True, name="调休")
        assert workdays.year_has_data(NO_DATA_YEAR)
        assert workdays.is_workday(D(NO_DATA_YEAR, 1, 1)) is False
        assert workdays.is_workday(D(NO_DATA_YEAR, 1, 6)) is True
        assert workdays.is_workday(D(NO_DATA_YEAR, 1, 2)) is True
        assert not any(str(NO_DATA_YEAR) in r.getMessage() for r in caplog.records)

    def test_an_administrator_corrects_a_covered_year(self):
        CalendarDay.objects.create(date=D(2026, 3, 2), is_workday=False, name="临时")
        assert workdays.is_workday(D(2026, 3, 2)) is False

    def test_import_a_schedule_file(self, tmp_path):
        f = tmp_path / "2035.csv"
        f.write_text(f"date,kind,name\n{NO_DATA_YEAR}-01-01,holiday,元旦\n{NO_DATA_YEAR}-01-06,workday,调休\n")
        call_command("calendar", "import", str(f))
        assert CalendarYear.objects.filter(year=NO_DATA_YEAR).exists()
        assert workdays.is_workday(D(NO_DATA_YEAR, 1, 1)) is False
        # Received Friday 2035-01-05: the make-up Saturday is the first working day.
        assert due_date(f"{NO_DATA_YEAR}-01-05T10:00:00+08:00", 1) == D(NO_DATA_YEAR, 1, 6)

    def test_a_bad_schedule_file_imports_nothing(self, tmp_path):
        f = tmp_path / "bad.csv"
        f.write_text(f"{NO_DATA_YEAR}-01-01,holiday,元旦\n{NO_DATA_YEAR}-13-01,holiday,错\n")
        with pytest.raises(Exception, match="line 2"):
            call_command("calendar", "import", str(f))
        assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()


class TestCommandLine:
    def test_deadline_prints_iso_8601_with_offset(self, capsys, db):
        call_command("calendar", "deadline", "--from", "2026-02-13T10:00:00+08:00", "--working-days", "1")
        assert capsys.readouterr().out.strip() == "2026-02-14T23:59:59+08:00"

    @pytest.mark.parametrize("day,answer", [("2026-02-14", "true"), ("2026-02-16", "false"), ("2026-03-07", "false")])
    def test_is_workday_prints_true_or_false(self, capsys, db, day, answer):
        call_command("calendar", "is-workday", day)
        assert capsys.readouterr().out.strip() == answer

    def test_is_workday_warns_on_stderr_for_a_year_without_data(self, capsys, db):
        call_command("calendar", "is-workday", f"{NO_DATA_YEAR}-01-01")
        out = capsys.readouterr()
        assert out.out.strip() == "true"
        assert "WARNING" in out.err


def _walked_between(start: datetime.datetime, end: datetime.datetime) -> float:
    """The definition, day by day: the part of every working day (00:00–24:00 Shanghai) between the two."""
    if end < start:
        return -_walked_between(end, start)
    start, end = start.astimezone(SH), end.astimezone(SH)
    total, day = 0.0, start.date()
    while day <= end.date():
        if workdays.is_workday(day):
            lo = max(start, datetime.datetime.combine(day, datetime.time(0), tzinfo=SH))
            hi = min(end, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=SH))
            total += max(0.0, (hi - lo).total_seconds() / 86400)
        day += datetime.timedelta(days=1)
    return total


class TestWorkingDaysInConstantTime:
    """Per-year prefix sums (issue 10 item 4): the same answer as walking the days, at a cost that does not grow
    with the distance."""

    def test_the_same_as_walking_the_days_across_holidays_weekends_and_years(self):
        import random

        rng = random.Random(9)
        base = datetime.datetime(2024, 12, 20, tzinfo=SH)
        moments = [base + datetime.timedelta(minutes=rng.randrange(0, 60 * 24 * 760)) for _ in range(300)]
        moments += [received("2026-10-01T00:00:00+08:00"), received("2026-10-08T23:59:59+08:00"),
                    received("2025-12-31T23:30:00+08:00"), received("2026-01-01T00:30:00+08:00"),
                    received("2026-02-14T12:00:00+08:00"), datetime.datetime(2026, 2, 16, 1, 0, tzinfo=datetime.UTC)]
        for a, b in zip(moments, reversed(moments)):
            assert workdays.workdays_between(a, b) == pytest.approx(_walked_between(a, b), abs=1e-9), (a, b)
        assert workdays.workdays_in(D(2026, 10, 1), D(2026, 10, 9)) == 1  # National Day 1–7 Oct; the 8th works
        assert workdays.workdays_in(D(2026, 10, 9), D(2026, 10, 1)) == -1

    def test_two_years_cost_a_few_lookups_not_seven_hundred(self, monkeypatch):
        start, end = received("2025-01-02T10:00:00+08:00"), received("2026-12-30T15:00:00+08:00")
        expected = _walked_between(start, end)
        workdays.workdays_between(start, end)  # the years' sums are built once
        asked = []
        original = workdays.is_workday
        monkeypatch.setattr(workdays, "is_workday", lambda day: asked.append(day) or original(day))
        assert workdays.workdays_between(start, end) == pytest.approx(expected)
        assert len(asked) <= 2  # the two ends' days, not every day between

    @pytest.mark.django_db
    def test_a_correction_of_the_calendar_changes_the_sums(self):
        start, end = received("2026-11-02T00:00:00+08:00"), received("2026-11-09T00:00:00+08:00")
        assert workdays.workdays_between(start, end) == pytest.approx(5.0)
        CalendarDay.objects.create(date=D(2026, 11, 4), is_workday=False, name="台风停工")
        workdays.invalidate_cache()
        assert workdays.workdays_between(start, end) == pytest.approx(4.0)
