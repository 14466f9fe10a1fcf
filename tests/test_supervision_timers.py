"""Supervision timers (督查督办, seed 003 lines 1341–1353) driven through `qifu sla sweep --at` across National Day 2026
(1–7 October off; Saturday 10 October a make-up working day) and Mid-Autumn (25 September off, Sunday 20 September
a make-up working day): every timer of every class fires once, at its moment, to the people the seed names; a case
handled in time is never chased; a sweep after downtime catches up once; two sweeps at once fire each timer once."""

import datetime
import os
import subprocess
import sys
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from qifu.accounts.models import Role, User
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel
from qifu.notify.models import Notification
from qifu.org.models import Body, BodyMembership
from qifu.supervision import appeal_timers, timers
from qifu.supervision.models import Record, Timer

from .world import World

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def w(db):
    ensure_default_channels()
    w = World()
    w.task_force = Body.objects.create(region=w.region, code="w-zb", name="工作专班", kind="task_force",
                                       escalation_level=2)
    w.inspection = Body.objects.create(region=w.region, code="w-zb-dc", name="督查考评组", kind="group",
                                       function="inspection", parent=w.task_force)
    w.inspector = User.objects.create_user("w-inspector", password="pw-12345", region=w.region,
                                           display_name="督查员")
    w.inspector.grant(Role.SUPERVISOR)
    BodyMembership.objects.create(body=w.inspection, user=w.inspector)
    return w


def case(w, category: str, received: str, *, assign: bool = True) -> Appeal:
    appeal, _ = workflow.register(actor=w.users[Role.FRONT_DESK], enterprise=w.ent_east,
                                  channel=Channel.objects.get(code="window"), title=f"{category} 问题",
                                  description="描述", category=category, received_at=at(received))
    if assign:
        workflow.perform(appeal, "assign", w.users[Role.DISPATCHER], appeal.version, lead_department=w.dept.code,
                         at=at(received) + datetime.timedelta(minutes=30))
    appeal.refresh_from_db()
    return appeal


def sweep(moment: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("sla", "sweep", "--at", f"{moment}+08:00", stdout=out)
    return out.getvalue()


def fired(appeal=None) -> list[tuple[str, str, datetime.datetime]]:
    records = Record.objects.select_related("appeal").order_by("at", "id")
    if appeal is not None:
        records = records.filter(appeal=appeal)
    return sorted(((r.appeal.category, r.kind, r.at.astimezone(TZ)) for r in records), key=lambda r: (r[2], r[0], r[1]))


# Accepted Wednesday 30 September 10:00, the day before National Day. Working days after it: Thu 8 Oct (1),
# Fri 9 (2), Sat 10 — a make-up working day (3), Mon 12 (4), Tue 13 (5), Wed 14 (6).
EXPECTED = [
    ("2026-10-08T09:00", [("simple", "warning")]),                          # simple: due 8 Oct
    ("2026-10-09T09:00", [("simple", "chase"), ("single", "warning")]),     # next working day 09:00; single due 10th
    ("2026-10-10T12:00", [("single", "chase")]),                            # 12:00 of the 3rd working day (a Saturday)
    ("2026-10-12T09:00", [("single", "inspection"), ("whistle", "warning")]),  # the 4th working day (Monday)
    ("2026-10-13T12:00", [("whistle", "chase")]),                           # 12:00 of the 5th working day
    ("2026-10-14T09:00", [("whistle", "inspection")]),                      # the 6th working day
]


def test_every_timer_of_every_class_across_national_day_and_a_make_up_day(w):
    cases = {c: case(w, c, "2026-09-30T10:00") for c in ("simple", "single", "whistle")}
    assert cases["simple"].due_at == at("2026-10-08T23:59:59")
    assert cases["single"].due_at == at("2026-10-10T23:59:59")
    assert cases["whistle"].due_at == at("2026-10-13T23:59:59")
    assert sweep("2026-10-07T23:59") .count("\n") == 1 and fired() == []  # nothing during the holiday
    seen = []
    for moment, new in EXPECTED:
        before = at(moment) - datetime.timedelta(minutes=1)
        sweep(before.strftime("%Y-%m-%dT%H:%M"))
        assert fired() == seen, f"nothing new a minute before {moment}"
        output = sweep(moment)
        seen = sorted(seen + [(c, k, at(moment)) for c, k in new], key=lambda r: (r[2], r[0], r[1]))
        assert fired() == seen, moment
        for category, kind in new:
            assert cases[category].number in output and str(Record.objects.filter(
                appeal=cases[category], kind=kind).get().get_kind_display()) in output
        sweep(moment)  # again at the same moment: nothing fires twice
        assert fired() == seen
    sweep("2026-11-30T09:00")  # weeks later: every timer already fired
    assert len(fired()) == 8 and Record.objects.count() == 8


def test_mid_autumn_and_a_sunday_make_up_day(w):
    simple = case(w, "simple", "2026-09-19T15:00")   # Saturday: the next working day is Sunday 20th (make-up)
    single = case(w, "single", "2026-09-24T10:00")   # Thursday: Fri 25 is Mid-Autumn; 28, 29, 30 September
    assert simple.due_at == at("2026-09-20T23:59:59") and single.due_at == at("2026-09-30T23:59:59")
    sweep("2026-10-08T09:00")
    assert fired(simple) == [("simple", "warning", at("2026-09-20T09:00")), ("simple", "chase", at("2026-09-21T09:00"))]
    # the inspection of the single case is on the next working day after 30 September: 8 October
    assert fired(single) == [("single", "warning", at("2026-09-29T09:00")), ("single", "chase", at("2026-09-30T12:00")),
                             ("single", "inspection", at("2026-10-08T09:00"))]


def test_the_chase_goes_to_the_lead_unit_and_the_inspection_to_the_inspection_group(w):
    single = case(w, "single", "2026-09-30T10:00")
    handler = w.users[Role.HANDLER]
    sweep("2026-10-12T09:00")
    records = {r.kind: r for r in Record.objects.filter(appeal=single)}
    assert set(records) == {"warning", "chase", "inspection"}
    assert [t["id"] for t in records["chase"].told] == [handler.pk]
    assert [t["id"] for t in records["warning"].told] == [handler.pk]
    assert [t["id"] for t in records["inspection"].told] == [w.inspector.pk]
    assert Notification.objects.filter(recipient=handler, event="supervision.chase", url=f"/appeals/{single.pk}/").count() == 1
    assert Notification.objects.filter(recipient=w.inspector, event="supervision.inspection").count() == 1
    assert not Notification.objects.filter(recipient=w.inspector, event="supervision.chase").exists()


def test_a_case_handled_in_time_is_never_chased_and_its_timers_end_with_it(w):
    single = case(w, "single", "2026-09-30T10:00")
    sweep("2026-10-09T09:00")
    assert [k for _c, k, _a in fired(single)] == ["warning"]
    handler = w.users[Role.HANDLER]
    single = workflow.perform(single, "reply", handler, single.version, resolution="solved", text="已解决",
                              at=at("2026-10-10T10:00"))
    single = workflow.perform(single, "mark_handled", handler, single.version, at=at("2026-10-10T11:00"))
    sweep("2026-10-10T12:00")
    sweep("2026-10-12T09:00")
    assert [k for _c, k, _a in fired(single)] == ["warning"]
    # chase, inspection and the deadline wait: were the enterprise to send it back with the same deadline, they apply
    assert Timer.objects.filter(subject_id=single.pk, fired_at__isnull=True, cancelled_at__isnull=True).count() == 3
    workflow.perform(single, "confirm", w.users[Role.ENTERPRISE], single.version, rating=5)
    sweep("2026-10-13T09:00")
    assert not Timer.objects.filter(subject_id=single.pk, fired_at__isnull=True, cancelled_at__isnull=True).exists()


def test_a_new_deadline_brings_new_timers_and_ends_the_old_ones(w):
    simple = case(w, "simple", "2026-09-30T10:00")
    sweep("2026-10-08T07:00")  # the first deadline's timers are planned
    handler = w.users[Role.HANDLER]
    simple = workflow.perform(simple, "reply", handler, simple.version, resolution="solved", text="已解决",
                              at=at("2026-10-08T08:00"))
    simple = workflow.perform(simple, "mark_handled", handler, simple.version, at=at("2026-10-08T08:30"))
    simple = workflow.perform(simple, "reject_result", w.users[Role.ENTERPRISE], simple.version, comment="没解决",
                              at=at("2026-10-08T10:00"))
    assert simple.due_at == at("2026-10-09T23:59:59")  # a fresh working day from the enterprise's answer
    sweep("2026-10-12T09:00")
    assert fired(simple) == [("simple", "warning", at("2026-10-09T09:00")), ("simple", "chase", at("2026-10-10T09:00"))]
    assert Timer.objects.filter(subject_id=simple.pk, deadline=at("2026-10-08T23:59:59"),
                                cancelled_at__isnull=False).count() == 3  # warning, chase, deadline of the first


def test_a_sweep_after_downtime_fires_what_was_missed_once_with_its_own_time(w):
    cases = [case(w, c, "2026-09-30T10:00") for c in ("simple", "single", "whistle")]
    output = sweep("2026-10-20T10:00")
    assert len(fired()) == 8 and output.count("\n") == 9
    assert {r.fired_at for r in Record.objects.all()} == {at("2026-10-20T10:00")}
    assert [(c, k) for c, k, _ in fired(cases[2])] == [("whistle", "warning"), ("whistle", "chase"),
                                                        ("whistle", "inspection")]
    sweep("2026-10-20T10:00")
    assert len(fired()) == 8


def test_fallback_classes_use_the_same_engine(w):
    appeal = case(w, "simple", "2026-11-16T09:00", assign=False)
    appeal = workflow.perform(appeal, "classify", w.users[Role.DISPATCHER], appeal.version,
                              category="fallback_on_spot", fallback_reasons=["no_lead"], at=at("2026-11-16T09:10"))
    assert appeal.due_at == at("2026-11-17T23:59:59")
    sweep("2026-11-18T09:00")
    assert [(c, k) for c, k, _ in fired(appeal)] == [("fallback_on_spot", "warning"), ("fallback_on_spot", "chase")]
    # no lead unit yet: the dispatchers are told
    assert [t["id"] for t in Record.objects.get(appeal=appeal, kind="chase").told] == [w.users[Role.DISPATCHER].pk]


def test_region_configuration_moves_the_timers(w):
    w.region.config = {"supervision_timers": {"single": {"chase": {"day": 0, "time": "15:30"}, "warning": None}}}
    w.region.save()
    single = case(w, "single", "2026-09-30T10:00")
    plan = appeal_timers.schedule(Appeal.objects.select_related("region").get(pk=single.pk))
    assert plan["chase"] == at("2026-10-10T15:30") and "warning" not in plan
    assert plan["inspection"] == at("2026-10-12T09:00")  # untouched keys keep the preset's values


def test_a_bad_at_is_refused_with_exit_status_2(w):
    for bad in ("tomorrow", "2026-13-01T09:00", "0309-11-14T00:28:12", ""):
        with pytest.raises(CommandError) as refused:
            call_command("sla", "sweep", "--at", bad)
        assert refused.value.returncode == 2 and "ISO 8601" in str(refused.value)
    result = subprocess.run([sys.executable, "-m", "qifu", "sla", "sweep", "--at", "2026-02-30T09:00"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "ISO 8601" in result.stderr and "Traceback" not in result.stderr


def test_the_sweep_is_a_periodic_job():
    from qifu import jobs

    assert jobs.periodic_jobs()["sla.sweep"].seconds <= 300


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_fire_each_timer_once(w):
    """Four threads, each its own database connection, sweep the same moment at once (PostgreSQL: truly
    concurrent transactions; SQLite: the process's writer lock and the conditional UPDATE)."""
    cases = [case(w, c, "2026-09-30T10:00") for c in ("simple", "single", "whistle") for _ in range(3)]
    start = threading.Barrier(4)
    lines: list[str] = []

    def sweeper():
        start.wait()
        try:
            lines.extend(timers.sweep(at("2026-10-20T10:00")).fired)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(lines) == 24 and len(set(lines)) == 24
    assert Record.objects.count() == 24
    assert Timer.objects.filter(fired_at__isnull=False).exclude(kind="deadline").count() == 24
    assert Notification.objects.filter(event="supervision.chase").count() == 9
    assert len(cases) == 9


@pytest.mark.django_db(transaction=True)
def test_two_machines_sweeping_at_once_fire_each_timer_once(w, tmp_path):
    """Two `qifu sla sweep` processes on the same database at the same moment."""
    for c in ("simple", "single", "whistle"):
        case(w, c, "2026-09-30T10:00")
    env = dict(os.environ)
    settings_db = connection.settings_dict
    if connection.vendor == "sqlite":
        copy = tmp_path / "db.sqlite3"
        target = __import__("sqlite3").connect(copy)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        env["DATABASE_URL"] = f"sqlite:///{copy}"
    else:
        env["DATABASE_URL"] = (f"postgres://{settings_db['USER'] or 'postgres'}@{settings_db['HOST'] or '127.0.0.1'}:"
                               f"{settings_db['PORT'] or 5432}/{settings_db['NAME']}")
    argv = [sys.executable, "-m", "qifu", "sla", "sweep", "--at", "2026-10-20T10:00:00+08:00"]
    runs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    fired_lines = [line for out, _err in outputs for line in out.splitlines()[:-1]]
    assert len(fired_lines) == 8 and len(set(fired_lines)) == 8
    if connection.vendor == "sqlite":
        check = __import__("sqlite3").connect(tmp_path / "db.sqlite3")
        assert check.execute("select count(*) from supervision_record").fetchone() == (8,)
    else:
        assert Record.objects.count() == 8


def test_the_sweep_benchmark_runs_on_the_database(db):
    from io import StringIO

    out = StringIO()
    call_command("bench", "sla-sweep", "--cases", "40", stdout=out)
    text = out.getvalue()
    assert "FAIL" not in text and text.count("PASS") == 4, text
    assert "first sweep:" in text and "second sweep: 0 fired" in text


@pytest.mark.parametrize("category, moments", [
    ("fallback_chief", [("warning", "2026-10-09T09:00"), ("chase", "2026-10-10T12:00"), ("inspection", "2026-10-12T09:00")]),
    ("fallback_deliberation", [("warning", "2026-10-12T09:00"), ("chase", "2026-10-13T12:00"),
                               ("inspection", "2026-10-14T09:00")]),
])
def test_the_fallback_lanes_3_and_5_across_national_day(w, category, moments):
    appeal = case(w, "single", "2026-09-30T10:00", assign=False)
    appeal = workflow.perform(appeal, "classify", w.users[Role.DISPATCHER], appeal.version, category=category,
                              fallback_reasons=["no_precedent"], at=at("2026-09-30T10:10"))
    for kind, moment in moments:
        sweep((at(moment) - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
        assert kind not in {k for _c, k, _a in fired(appeal)}
        sweep(moment)
        sweep(moment)
        assert [(k, a) for _c, k, a in fired(appeal) if k == kind] == [(kind, at(moment))]
