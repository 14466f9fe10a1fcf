"""The demo region looks like a center that works: most cases handled in time, a few chased and inspected, some
escalated and in the fallback lane, slips and instructions on the slowest — every figure derived from the workflow
and the timer engine, as a real installation would have it."""

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from qifu.appeals.models import CLOCK_STATUSES, Appeal, Status
from qifu.supervision import records
from qifu.supervision.models import Kind, LeaderInstruction, Record, Slip


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The whole demo, loaded once and committed (the audit trail's chain is linked at commit on PostgreSQL), then
    emptied as a transactional test would be."""
    from qifu.audit.context import acting_as
    from qifu.demo import data

    with django_db_blocker.unblock():
        try:
            with acting_as(None, "cli"):
                data.load()
            yield
        finally:
            call_command("flush", "--no-input", verbosity=0)


def test_the_demo_database_verifies_clean(db, demo):
    from qifu.appeals.models import AppealEvent
    from qifu.policies.models import ApplicationEvent

    from .test_audit_chain import verify

    code, out = verify()
    assert code == 0, out
    assert AppealEvent.objects.exists() and ApplicationEvent.objects.exists()


def test_most_cases_are_handled_in_time(db, demo):
    now = timezone.now()
    running = Appeal.objects.filter(status__in=CLOCK_STATUSES)
    overdue = running.filter(due_at__lt=now)
    assert running.count() >= 10
    assert overdue.count() <= running.count() / 2, "most running cases are within their limit"
    level_one_overdue = overdue.filter(escalation_level=1).exclude(category__startswith="fallback")
    assert level_one_overdue.count() <= running.count() / 4
    closed = Appeal.objects.filter(status=Status.CLOSED)
    late = closed.filter(handled_at__gt=F("due_at"))
    assert closed.count() >= 100 and 0 < late.count() <= closed.count() / 5


def test_chased_inspected_escalated_and_fallback_cases_in_realistic_numbers(db, demo):
    total = Appeal.objects.count()
    chased = Record.objects.filter(kind=Kind.CHASE).values("appeal").distinct().count()
    inspected = Record.objects.filter(kind=Kind.INSPECTION).values("appeal").distinct().count()
    assert 5 <= chased <= total / 4 and 3 <= inspected <= chased
    assert Record.objects.filter(kind=Kind.WARNING).exists()
    assert 3 <= Appeal.objects.filter(escalation_level__gt=1).count() <= total / 20
    assert 2 <= Appeal.objects.filter(category__startswith="fallback").count() <= total / 20
    # every chase and inspection fired at its own moment, never before the deadline's warning day
    for record in Record.objects.filter(kind__in=(Kind.CHASE, Kind.INSPECTION)).select_related("appeal")[:50]:
        assert record.at <= record.fired_at and record.deadline is not None and record.told
    # the task force followed up most of the earlier ones
    done = Record.objects.filter(kind__in=(Kind.CHASE, Kind.INSPECTION), done_at__isnull=False).count()
    assert done >= (chased + inspected) / 2


def test_slips_instructions_and_the_abnormal_lists_have_something(db, demo):
    assert Slip.objects.count() >= 2 and Slip.objects.filter(answered_at__isnull=False).count() >= 1
    assert Slip.objects.filter(answered_at__isnull=True).exists()
    assert LeaderInstruction.objects.count() >= 1
    for name in records.ABNORMAL:
        listed = records.abnormal(Appeal.objects.all(), name).count()
        assert 0 < listed <= Appeal.objects.count() / 5, name


def test_a_second_sweep_fires_nothing_more(db, demo):
    from qifu.supervision import timers

    before = Record.objects.count()
    assert timers.sweep().fired == [] and Record.objects.count() == before


def test_the_monthly_ranking_is_meaningful(db, demo):
    """Last month published with last month's figures, this month's table live: every ranked unit has a total,
    the totals spread (not everyone tied) and the platforms/streets carry the 不满意件 of their enterprises."""
    from qifu.assessments import ranking
    from qifu.org.models import Region

    region = Region.objects.get(code="qiantang")
    this = ranking.this_month(region)
    assert ranking.publication(region, ranking.previous_month(this)) is not None
    table = ranking.compute(region, this)
    assert [g["code"] for g in table["groups"]] == ["departments", "areas"]
    for group in table["groups"]:
        totals = [row["total"] for row in group["rows"]]
        assert len(totals) >= 10 and len(set(totals)) >= len(totals) / 2
        assert all(row["last_rank"] is not None for row in group["rows"])


def test_the_demo_has_every_scenario_of_annexes_6_and_7_with_their_items(db, demo):
    """Issue 12's Done-when: the demo loads every 一类事 case of 附件6 and 附件7 with the preset's items; and the front
    desk, agency cases and appointments have something to show."""
    from pathlib import Path

    import yaml

    from qifu.bookings.models import Booking
    from qifu.frontdesk.models import DeskVisit
    from qifu.scenarios.models import AgencyCase, Scenario

    preset = yaml.safe_load((Path(__file__).parents[1] / "qifu/scenarios/presets/qiantang.yaml").read_text("utf-8"))
    want = {s["code"]: (s["annex"], len(s["items"])) for s in preset["scenarios"]}
    loaded = {s.code: (s.annex, s.items.count()) for s in Scenario.objects.all()}
    assert loaded == want
    assert sorted(a for a, _ in loaded.values()).count(7) == 5 and len(loaded) == 15
    industrial = Scenario.objects.get(name__contains="工业项目开工")
    assert industrial.items.filter(kind="basic").count() == 18
    assert AgencyCase.objects.exists() and DeskVisit.objects.exists() and Booking.objects.exists()
