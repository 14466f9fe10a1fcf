"""The monthly ranking (晾晒) in the demo region: the task force's figures (工业经济, 助企纾困, 走访, 典型案例, 被通报…)
for last month and this month, every ranked unit, from a fixed seed; last month published by the supervisor."""

import random

from django.utils import timezone

from qifu.accounts.models import User
from qifu.assessments import ranking
from qifu.assessments.models import RankingInput

# input → (low, high) of the demo's figures; the deductions rarely happen
RANGES = {"industry": (60, 98), "relief": (55, 100), "visits": (0, 30), "cases": (0, 3)}
RARE = {"first_contact_breaches": 0.08, "late_assignments": 0.1, "notices": 0.12}


def load(region) -> dict:
    if RankingInput.objects.filter(region=region).exists():
        return {}
    entered_by = User.objects.filter(username="supervisor").first()
    if entered_by is None:
        return {}
    plan = ranking.scheme(region)
    this = ranking.this_month(region)
    last = ranking.previous_month(this)
    rng = random.Random(f"{region.code}-ranking")
    count = 0
    for label in (last, this):
        for group in plan.groups:
            read = set().union(*(i.value.names | i.score.names for i in plan.indicators_of(group)))
            for unit in ranking.units(region, group):
                for code in plan.manual:
                    if code not in read:  # e.g. the industrial figures: the platforms' and streets' only
                        continue
                    if code in RARE:
                        value = 1 if rng.random() < RARE[code] else 0
                    else:
                        low, high = RANGES.get(code, (0, 10))
                        value = rng.randint(low, high)
                    if value or code not in RARE:
                        ranking.enter(region, label, unit.code, code, value, entered_by)
                        count += 1
    if not ranking.publication(region, last) and ranking.month_period(region, last).end <= timezone.now():
        ranking.publish(region, last, entered_by)
    return {"ranking_inputs": count}
