"""`qifu bench policy-match-db` at a tiny size, so that the benchmark cannot rot (not timed: the figures
are in docs/performance.md). Its last check compares the stored matches — status, amount and the missing
fields decoded from their bit mask — with the scalar engine on a generated population with missing data."""

import io

import pytest
from django.core.management import call_command

from qifu.enterprises.models import Enterprise
from qifu.policies import dbbench, matches

pytestmark = pytest.mark.django_db


def test_bench_policy_match_db_loads_matches_and_reports_the_targets():
    out = io.StringIO()
    try:
        call_command("bench", "policy-match-db", "--enterprises", "600", "--clauses", "30", stdout=out)
    except SystemExit:  # a target missed on a busy machine: not this test's business
        pass
    text = out.getvalue()
    for part in ("600 enterprises × 30 clauses", "match_region:", "rematch_clause", "rematch_enterprise:", "explain:",
                 "PASS stored matches equal the scalar engine on the sample"):
        assert part in text, part
    assert sum(line.startswith(("PASS ", "FAIL ")) for line in text.splitlines()) == 6
    stored = matches.pairs(Enterprise.objects.filter(region__code=dbbench.REGION).values_list("pk", flat=True))
    unknown = next(m for m in stored if m.status == "unknown" and m.missing_mask)
    assert unknown.missing and set(unknown.missing) <= set(unknown.clause.field_order)
