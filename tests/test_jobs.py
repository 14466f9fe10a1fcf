"""Background work: deferred tasks after the commit, periodic jobs claimed once, and Celery on Redis."""

import datetime
import os
import socket
import threading
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone

from qifu import jobs
from qifu.notify.models import JobRun

calls: list[tuple[str, object]] = []
ran = threading.Event()


@jobs.task("test.record")
def record_call(value=None) -> None:
    calls.append((threading.current_thread().name, value))
    ran.set()


@jobs.task("test.explode")
def explode() -> None:
    raise RuntimeError("boom")


@jobs.periodic("test.tick", seconds=60)
def tick() -> None:
    calls.append(("tick", None))


@pytest.fixture(autouse=True)
def _clean():
    calls.clear()
    ran.clear()
    yield
    jobs.wait_for_background()


# --- defer ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_deferred_task_runs_in_a_background_thread_after_the_commit(settings):
    settings.CELERY_BROKER_URL = ""
    with transaction.atomic():
        jobs.defer("test.record", value=42)
        time.sleep(0.1)
        assert calls == []  # not before the commit
    assert ran.wait(5)
    jobs.wait_for_background()
    [(thread, value)] = calls
    assert value == 42 and thread.startswith("qifu-job-") and thread != threading.current_thread().name


@pytest.mark.django_db(transaction=True)
def test_a_task_deferred_in_a_rolled_back_transaction_never_runs():
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            jobs.defer("test.record", value=1)
            raise RuntimeError("rollback")
    time.sleep(0.2)
    jobs.wait_for_background()
    assert calls == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_logged_not_raised(caplog):
    with caplog.at_level("ERROR", logger="qifu.jobs"):
        jobs.defer("test.explode")  # autocommit: dispatched at once
        jobs.wait_for_background()
    assert "task test.explode failed" in caplog.text and "boom" in caplog.text


def test_an_unknown_task_is_a_programming_error():
    with pytest.raises(LookupError):
        jobs.defer("no.such.task")


def test_tasks_modules_of_installed_apps_are_discovered():
    assert "notify.deliver" in jobs.registered_tasks()
    assert jobs.periodic_jobs()["notify.deliver"].seconds == 30


# --- periodic jobs -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_periodic_job_runs_once_per_interval():
    t0 = timezone.now()
    assert "test.tick" in jobs.run_periodic_once(t0)
    assert "test.tick" not in jobs.run_periodic_once(t0 + datetime.timedelta(seconds=30))
    assert "test.tick" in jobs.run_periodic_once(t0 + datetime.timedelta(seconds=60))
    assert calls.count(("tick", None)) == 2
    run = JobRun.objects.get(name="test.tick")
    assert run.locked_until is None and run.last_finished_at is not None


@pytest.mark.django_db
def test_a_job_another_process_is_running_is_not_started_again():
    now = timezone.now()
    JobRun.objects.create(name="test.tick", last_started_at=now - datetime.timedelta(hours=1),
                          locked_until=now + datetime.timedelta(minutes=5))
    assert "test.tick" not in jobs.run_periodic_once(now)
    # A run that died holds its lock only until it expires.
    assert "test.tick" in jobs.run_periodic_once(now + datetime.timedelta(minutes=6))


@pytest.mark.django_db
def test_a_failing_periodic_job_releases_its_lock(caplog):
    jobs.periodic("test.broken", seconds=10)(explode)
    try:
        with caplog.at_level("ERROR", logger="qifu.jobs"):
            assert jobs.run_periodic_job("test.broken") is True
        assert "periodic job test.broken failed" in caplog.text
        assert JobRun.objects.get(name="test.broken").locked_until is None
    finally:
        jobs._periodic.pop("test.broken")
        jobs._tasks.pop("test.broken")


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_run_a_job_once():
    start = threading.Barrier(4)
    results: list[bool] = []

    def scheduler():
        start.wait()
        try:
            results.append(jobs.run_periodic_job("test.tick"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results) == [False, False, False, True]
    assert calls == [("tick", None)]


@pytest.mark.django_db(transaction=True)
def test_the_embedded_scheduler_runs_due_jobs_in_a_daemon_thread():
    stop = threading.Event()
    thread = jobs.start_embedded_scheduler(tick=0.05, stop=stop)
    try:
        assert thread.daemon and jobs.start_embedded_scheduler() is thread  # one per process
        deadline = time.monotonic() + 10
        while ("tick", None) not in calls and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
        jobs._scheduler = None
    assert ("tick", None) in calls
    assert JobRun.objects.filter(name="notify.deliver", last_finished_at__isnull=False).exists()


@pytest.mark.django_db
def test_worker_once_runs_one_pass(capsys):
    call_command("worker", "--once")
    out = capsys.readouterr().out
    assert out.startswith("ran: ") and "notify.deliver" in out and "test.tick" in out
    call_command("worker", "--once")
    assert capsys.readouterr().out.strip() == "ran: nothing due"


# --- Celery on Redis -----------------------------------------------------------------------------

REDIS_URL = os.environ.get("QIFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not _redis_up() and os.environ.get("QIFU_REQUIRE_REDIS") != "1",
    reason="Redis is not reachable on 127.0.0.1:6379 (set QIFU_REQUIRE_REDIS=1 to fail instead)",
)


@pytest.fixture
def celery_worker(settings):
    """A real Celery worker (thread, solo pool) consuming from Redis, on a queue of its own."""
    from celery.contrib.testing.worker import start_worker

    from qifu.celery import app

    settings.CELERY_BROKER_URL = REDIS_URL
    queue = f"qifu-test-{uuid.uuid4().hex[:8]}"
    saved = {k: app.conf[k] for k in ("broker_url", "task_default_queue", "result_backend")}
    app.conf.update(broker_url=REDIS_URL, task_default_queue=queue, result_backend=None)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10) as w:
            yield w
    finally:
        app.conf.update(saved)
        _forget_queue(queue)


def _forget_queue(queue: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"*{queue}*"))
    if keys:
        client.delete(*keys)


@pytest.mark.redis
@needs_redis
@pytest.mark.django_db(transaction=True)
def test_with_a_broker_deferred_tasks_run_on_a_celery_worker(celery_worker):
    with transaction.atomic():
        jobs.defer("test.record", value="via celery")
    assert ran.wait(20), "the Celery worker did not run the task"
    [(thread, value)] = calls
    assert value == "via celery" and not thread.startswith("qifu-job-")  # not the in-process path


@pytest.mark.redis
@needs_redis
@pytest.mark.django_db(transaction=True)
def test_with_a_broker_notifications_are_delivered_by_celery(celery_worker, settings):
    from qifu.accounts.models import User
    from qifu.notify import adapters, notify
    from qifu.notify.models import OutboxMessage

    from .fakes.aliyun_sms import AliyunSmsFake

    adapters._warned.clear()
    with AliyunSmsFake() as sms:
        settings.QIFU_SMS = sms.settings()
        user = User.objects.create_user("carol", phone="13800000003")
        with transaction.atomic():
            notify(user, "e", "经由Celery", "body", channels=["sms"])
        deadline = time.monotonic() + 20
        while not sms.sent and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)
    assert [s["phone"] for s in sms.sent] == ["13800000003"]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


@pytest.mark.redis
@needs_redis
@pytest.mark.django_db(transaction=True)
def test_beat_schedules_every_periodic_job_through_the_claim(celery_worker):
    from qifu.celery import app, beat_schedule

    schedule = beat_schedule()
    assert schedule["notify.deliver"] == {"task": "qifu.run_periodic", "schedule": 30.0, "args": ("notify.deliver",)}
    assert "test.tick" in schedule
    app.send_task("qifu.run_periodic", args=("test.tick",), queue=app.conf.task_default_queue)
    app.send_task("qifu.run_periodic", args=("test.tick",), queue=app.conf.task_default_queue)
    deadline = time.monotonic() + 20
    while not JobRun.objects.filter(name="test.tick", last_finished_at__isnull=False).exists():
        assert time.monotonic() < deadline, "beat's task did not run"
        time.sleep(0.1)
    time.sleep(0.5)  # the second send is not due: it must not run the job again
    assert calls == [("tick", None)]


def test_a_broker_that_cannot_be_reached_is_logged_not_raised(settings, caplog, monkeypatch):
    """The request goes on; what the task would have sent is still in the outbox for the sweep."""
    from kombu.exceptions import OperationalError

    from qifu import broker

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    settings.CELERY_BROKER_URL = REDIS_URL
    monkeypatch.setattr(broker.celery_app(), "send_task", refuse)
    with caplog.at_level("ERROR", logger="qifu.jobs"):
        jobs._dispatch("test.record", {"value": 1})
    assert "could not send task test.record to Celery" in caplog.text and calls == []


@jobs.task("test.sweep", coalesce=0.25)
def sweep_all() -> None:
    calls.append(("sweep", None))


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_a_coalesced_task_is_sent_once_per_window_and_once_after_the_last_commit(settings, monkeypatch):
    """notify.deliver is deferred by every commit that queues a message: with a broker it is sent at once, then at most
    once per window, the last send after the last commit; with arguments, or without a broker, every time."""
    from qifu import broker

    settings.CELERY_BROKER_URL = REDIS_URL
    sent = []
    monkeypatch.setattr(broker, "send", lambda name, kwargs: sent.append((name, kwargs, time.monotonic())))
    monkeypatch.setattr(jobs, "_windows", {})
    for _ in range(20):
        jobs.defer("test.sweep")  # outside a transaction: as after a commit
    assert [name for name, _kwargs, _at in sent] == ["test.sweep"]
    assert jobs._coalesced["notify.deliver"] == 0.25
    deadline = time.monotonic() + 5
    while len(sent) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sent) == 2 and sent[1][2] - sent[0][2] >= 0.2  # once more, at the window's end
    time.sleep(0.4)
    assert len(sent) == 2  # nothing was deferred since
    jobs.defer("test.sweep")  # that window is over: sent at once
    jobs.defer("test.record", value=1)  # with arguments: never coalesced
    jobs.defer("test.record", value=2)
    assert [(name, kwargs) for name, kwargs, _at in sent[2:]] == [
        ("test.sweep", {}), ("test.record", {"value": 1}), ("test.record", {"value": 2})]
    settings.CELERY_BROKER_URL = ""
    jobs.defer("test.sweep")  # no broker: run here, every time
    jobs.defer("test.sweep")
    jobs.wait_for_background()
    assert calls == [("sweep", None), ("sweep", None)] and len(sent) == 5
