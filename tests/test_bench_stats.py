"""`qifu bench stats` at a tiny size, so that the benchmark cannot rot (not timed: the figures are in
docs/performance.md). The synthetic history must be one the workflow could have written: the appeals' derived
columns are what replaying their events gives, and the events' hash chains verify."""

import io

import pytest
from django.core.management import call_command

from qifu.appeals import bench, workflow
from qifu.appeals.models import Appeal, AppealEvent, Rating
from qifu.audit import verify

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    try:
        call_command("bench", "stats", "--appeals", "200", "--repeat", "1", *args, stdout=out)
    except SystemExit:  # a target missed on a busy machine: not this test's business
        pass
    return out.getvalue()


def test_bench_stats_loads_a_consistent_history_and_times_stats_and_lists():
    text = run()
    assert "loaded 200 appeals" in text
    assert "stats 2026-10 by unit, leader (district)" in text
    assert "page status=assigned&received_after=2026-10-01" in text and "API q=用地 (title text)" in text
    assert "PASS" in text or "FAIL" in text
    appeals = Appeal.objects.filter(region__code=bench.REGION)
    assert appeals.count() == 200
    statuses = set(appeals.values_list("status", flat=True))
    assert {"closed", "assigned"} <= statuses
    actions = set(AppealEvent.objects.filter(appeal__in=appeals).values_list("action", flat=True))
    assert {"submit", "accept", "classify", "assign", "reply", "mark_handled", "confirm"} <= actions
    assert Rating.objects.filter(appeal__in=appeals).exists()
    # what replaying the events gives is what the rows hold
    for appeal in appeals.select_related("region"):
        state = workflow.replay(appeal)
        have = {name: getattr(appeal, name) for name in workflow.DERIVED}
        have["assisting_departments"] = sorted(appeal.assisting_departments.values_list("pk", flat=True))
        assert have == state, appeal.number
    # the hash chains of the loaded events verify
    report = verify.verify_events(AppealEvent)
    assert report.problems == [] and report.count >= 200 * 2


def test_bench_stats_reuses_its_data_unless_told_to_reload():
    run("--no-lists")
    first = set(Appeal.objects.filter(region__code=bench.REGION).values_list("pk", flat=True))
    events = AppealEvent.objects.count()
    text = run("--no-lists")
    assert "reusing the loaded data" in text
    assert set(Appeal.objects.filter(region__code=bench.REGION).values_list("pk", flat=True)) == first
    text = run("--no-lists", "--reload")
    assert "removing the region's earlier appeals" in text and "loaded 200 appeals" in text
    # the old ones are gone (past the append-only triggers), the same ones loaded again
    assert Appeal.objects.filter(region__code=bench.REGION).count() == 200
    assert AppealEvent.objects.count() == events
    assert verify.verify_events(AppealEvent).problems == []
