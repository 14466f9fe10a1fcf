"""`qifu bench sla-sweep`: the SLA sweep on the configured database, as the periodic job runs it.

It makes a scratch region (`bench-sla-<time>`, left in place: appeal rows are kept like real ones) with one lead
unit and its handler, and `cases` running cases whose deadlines are spread over the working days around today, so
that about half of them have timers due. Then it times, from and to the database:

1. the first sweep: plan every case's timers, fire those due (records, notifications, audit);
2. a second sweep at the same moment: nothing new (the steady state every minute);
3. after marking a tenth of the cases handled, a sweep three days later: they wait, the others fire.

The cases are inserted directly (bulk, without their event histories): the set-up is not what is measured.
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone


@dataclass
class Figures:
    cases: int
    timers: int = 0
    fired: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)


def run(cases: int, seed: int = 1, log=print) -> Figures:
    from qifu.accounts.models import Role, User
    from qifu.appeals.channels import ensure_default_channels
    from qifu.appeals.models import Appeal, Channel, Status
    from qifu.enterprises.models import Enterprise
    from qifu.lib import uscc
    from qifu.org.models import Department, Region
    from qifu.workcal import workdays

    from . import timers
    from .models import Record, Timer

    rng = random.Random(seed)
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    ensure_default_channels()
    with transaction.atomic():
        region = Region.objects.create(code=f"bench-sla-{stamp}", name=f"时限督办基准 {stamp}",
                                       config={"appeal_number_prefix": f"B{stamp[-6:]}"})
        dept = Department.objects.create(region=region, code=f"bench-sla-{stamp}-dept", name="基准部门")
        handler = User.objects.create_user(f"bench-sla-{stamp}", region=region, department=dept)
        handler.grant(Role.HANDLER)
        enterprise = Enterprise.objects.create(region=region, uscc=uscc.make("91", "330114", stamp[-8:]),
                                               name="基准企业有限公司")
    channel = Channel.objects.get(code="window")
    today = timezone.localdate()
    started = time.perf_counter()
    rows = []
    for i in range(cases):
        category = rng.choice(["simple", "single", "single", "whistle"])
        offset = rng.randint(-8, 8)  # deadlines from 8 working days ago to 8 ahead
        due_day = workdays.shift_workdays(today, offset)
        due = datetime.datetime.combine(due_day, datetime.time(23, 59, 59), tzinfo=timezone.get_current_timezone())
        received = due - datetime.timedelta(days=7)
        rows.append(Appeal(region=region, number=f"B{stamp[-6:]}-{i:07d}", enterprise=enterprise, channel=channel,
                           title="基准诉求", description="基准", received_at=received, accepted_at=received,
                           category=category, lead_department=dept, status=Status.ASSIGNED, version=2, due_at=due))
    with transaction.atomic():
        Appeal.objects.bulk_create(rows, batch_size=2000)
    figures = Figures(cases=cases)
    figures.seconds["set-up (bulk insert of the cases)"] = time.perf_counter() - started
    log(f"{cases:,} running cases in region {region.code} ({connection.vendor})")
    now = timezone.now()

    t = time.perf_counter()
    first = timers.sweep(now)
    figures.seconds["first sweep (plan + fire)"] = time.perf_counter() - t
    figures.timers = Timer.objects.filter(region=region).count()
    figures.fired = len(first.fired)
    log(f"first sweep: {figures.timers:,} timers planned, {figures.fired:,} fired in "
        f"{figures.seconds['first sweep (plan + fire)']:.2f} s")

    t = time.perf_counter()
    second = timers.sweep(now)
    figures.seconds["second sweep (steady state)"] = time.perf_counter() - t
    log(f"second sweep: {len(second.fired)} fired, {second.waiting} waiting in "
        f"{figures.seconds['second sweep (steady state)']:.2f} s")

    handled = list(Appeal.objects.filter(region=region).order_by("pk")[: max(1, cases // 10)])
    with transaction.atomic():  # set directly, like the cases themselves: the benchmark measures the sweep
        for appeal in handled:
            Appeal.objects.filter(pk=appeal.pk).update(status=Status.HANDLED, handled_at=now)
    later = now + datetime.timedelta(days=3)
    t = time.perf_counter()
    third = timers.sweep(later)
    figures.seconds["sweep three days later (handled cases wait)"] = time.perf_counter() - t
    log(f"three days later: {len(third.fired):,} fired, {third.waiting:,} waiting in "
        f"{figures.seconds['sweep three days later (handled cases wait)']:.2f} s")

    records = Record.objects.filter(appeal__region=region)
    handled_ids = [a.pk for a in handled]
    figures.checks = {
        "every fired timer is one record": records.count() == figures.fired + len(third.fired),
        "the second sweep fires nothing": second.fired == [],
        "no timer fired twice": records.values("timer").distinct().count() == records.count(),
        "handled cases are not chased after being handled": not records.filter(
            appeal_id__in=handled_ids, fired_at=later).exists(),
    }
    return figures
