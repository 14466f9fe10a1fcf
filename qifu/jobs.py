"""Background work: the one place it goes through.

    from qifu import jobs

    @jobs.task("enterprises.reindex")
    def reindex(enterprise_id: int) -> None: ...

    @jobs.periodic("sla.sweep", seconds=60)
    def sweep() -> None: ...

    jobs.defer("enterprises.reindex", enterprise_id=e.pk)   # runs after the transaction commits

Put tasks in `<app>/tasks.py`: those modules are imported the first time the registry is used.

`defer()` sends the task to Celery when `CELERY_BROKER_URL` is set, else runs it in a background
daemon thread of this process. A failing task is logged, never raised into the caller.

Periodic jobs are claimed through a conditional UPDATE on `JobRun` (as healthchecks' sendalerts
claims its work), so any number of schedulers — `qifu serve`'s embedded one, `qifu worker`, Celery
beat — may run side by side and a job still runs once per interval.
"""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from qifu import broker

logger = logging.getLogger("qifu.jobs")

SCHEDULER_TICK_SECONDS = 5.0


@dataclass(frozen=True)
class Periodic:
    name: str
    seconds: float
    timeout: float  # a run not finished by then counts as dead: its lock expires


_tasks: dict[str, Callable[..., Any]] = {}
_periodic: dict[str, Periodic] = {}
_discovered = False
_discover_lock = threading.Lock()
_background: set[threading.Thread] = set()
_scheduler: threading.Thread | None = None
_coalesced: dict[str, float] = {}  # task → seconds (`task(coalesce=…)`)


# --- registry -------------------------------------------------------------------------------


def task(name: str, *, coalesce: float = 0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `func` as the task `name` (a decorator). `coalesce`: seconds — for a task without arguments that
    does all the work pending when it runs (e.g. delivering the queued messages), sent to the broker at most once
    per that many seconds however many commits defer it (`defer`)."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _tasks[name] = func
        if coalesce:
            _coalesced[name] = float(coalesce)
        return func

    return register


def periodic(
    name: str, *, seconds: float, timeout: float | None = None, coalesce: float = 0
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register `func` to run every `seconds` (it is also a task of the same name; `coalesce` as for `task`)."""

    def register(func: Callable[[], Any]) -> Callable[[], Any]:
        task(name, coalesce=coalesce)(func)
        _periodic[name] = Periodic(name, float(seconds), float(timeout or max(seconds, 600)))
        return func

    return register


def discover() -> None:
    """Import `<app>.tasks` of every installed app once, so their decorators register."""
    global _discovered
    if _discovered:
        return
    with _discover_lock:
        if _discovered:
            return
        from django.apps import apps

        for config in apps.get_app_configs():
            module = f"{config.name}.tasks"
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
        _discovered = True


def registered_tasks() -> dict[str, Callable[..., Any]]:
    discover()
    return dict(_tasks)


def periodic_jobs() -> dict[str, Periodic]:
    discover()
    return dict(_periodic)


# --- running tasks --------------------------------------------------------------------------


def defer(task_name: str, **kwargs: Any) -> None:
    """Run the task after the current transaction commits (at once outside a transaction). A task registered with
    `coalesce` and deferred without arguments goes to the broker at once, then at most once more per window: the
    commits within a window are served by one send at its end (`_send_coalesced`)."""
    if task_name not in registered_tasks():
        raise LookupError(f"no task named {task_name!r}")
    window = _coalesced.get(task_name) if not kwargs else None
    if window and settings.CELERY_BROKER_URL:
        transaction.on_commit(lambda: _send_coalesced(task_name, window))
    else:
        transaction.on_commit(lambda: _dispatch(task_name, kwargs))


class _Window:
    __slots__ = ("until", "timer")

    def __init__(self):
        self.until = 0.0  # time.monotonic() until which a send was made or is due
        self.timer: threading.Timer | None = None  # the send due at the window's end


_windows: dict[str, _Window] = {}
_windows_lock = threading.Lock()


def _send_coalesced(task_name: str, seconds: float) -> None:
    """After a commit: send the task now if none was sent in the last `seconds`, else once at the end of that
    window (which comes after this commit, so the task still finds what it committed). Every intake that tells an
    enterprise by email or SMS defers `notify.deliver`: at 200 intakes a second, one Celery send each was ~11 % of
    a web worker's CPU (issue 10)."""
    now = time.monotonic()
    with _windows_lock:
        window = _windows.setdefault(task_name, _Window())
        if window.timer is not None:
            return  # a send is due at the window's end
        if now >= window.until:
            window.until, later = now + seconds, None
        else:
            later = window.timer = threading.Timer(window.until - now, _window_end, (task_name, seconds))
            later.daemon = True
    if later is None:
        _dispatch(task_name, {})
    else:
        later.start()


def _window_end(task_name: str, seconds: float) -> None:
    with _windows_lock:
        window = _windows[task_name]
        window.timer, window.until = None, time.monotonic() + seconds
    _dispatch(task_name, {})


def _dispatch(task_name: str, kwargs: dict[str, Any]) -> None:
    if settings.CELERY_BROKER_URL:
        try:
            broker.send(task_name, kwargs)
        except Exception:  # broker down: periodic sweeps pick up what the task would have done
            logger.exception("could not send task %s to Celery", task_name)
        return
    thread = threading.Thread(target=run_now, args=(task_name, kwargs), name=f"qifu-job-{task_name}", daemon=True)
    _background.add(thread)
    thread.start()


def run_now(task_name: str, kwargs: dict[str, Any] | None = None) -> bool:
    """Run a registered task here and now; log a failure. True when it succeeded."""
    try:
        registered_tasks()[task_name](**(kwargs or {}))
        return True
    except Exception:
        logger.exception("task %s failed", task_name)
        return False
    finally:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()
        _background.discard(threading.current_thread())


def wait_for_background(timeout: float = 10.0) -> None:
    """Wait for the in-process task threads started so far (tests, orderly shutdown)."""
    deadline = time.monotonic() + timeout
    for thread in list(_background):
        thread.join(max(0.0, deadline - time.monotonic()))


# --- SQLite ---------------------------------------------------------------------------------

_sqlite_lock = threading.RLock()


@contextmanager
def sqlite_serialized() -> Iterator[None]:
    """SQLite has one writer: threads of one process take turns (PostgreSQL needs no lock; the
    conditional UPDATEs keep processes apart on both)."""
    if connection.vendor == "sqlite":
        with _sqlite_lock:
            yield
    else:
        yield


# --- periodic jobs --------------------------------------------------------------------------


def _claim(job: Periodic, now: datetime.datetime) -> bool:
    """Take the job's turn with a conditional UPDATE: True for exactly one claimant per interval."""
    from qifu.notify.models import JobRun

    if not JobRun.objects.filter(name=job.name).exists():
        JobRun.objects.bulk_create([JobRun(name=job.name)], ignore_conflicts=True)
    # A tick up to a second early (beat's timer, the scheduler's sleep) still counts as due.
    slack = datetime.timedelta(seconds=min(1.0, job.seconds / 10))
    due_before = now - datetime.timedelta(seconds=job.seconds) + slack
    claimed = (
        JobRun.objects.filter(name=job.name)
        .filter(Q(last_started_at__isnull=True) | Q(last_started_at__lte=due_before))
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(last_started_at=now, locked_until=now + datetime.timedelta(seconds=job.timeout))
    )
    return claimed == 1


def _finish(job: Periodic) -> None:
    from qifu.notify.models import JobRun

    JobRun.objects.filter(name=job.name).update(last_finished_at=timezone.now(), locked_until=None)


def run_periodic_job(name: str, now: datetime.datetime | None = None) -> bool:
    """Run one periodic job if its interval has elapsed and nobody else runs it. True if it ran."""
    job = periodic_jobs()[name]
    with sqlite_serialized():
        claimed = _claim(job, now or timezone.now())
    if not claimed:
        return False
    try:
        registered_tasks()[name]()
    except Exception:
        logger.exception("periodic job %s failed", name)
    finally:
        _finish(job)
    return True


def run_periodic_once(now: datetime.datetime | None = None) -> list[str]:
    """One pass of the scheduler: run every periodic job that is due. Returns the names run."""
    ran = []
    for name in periodic_jobs():
        try:
            if run_periodic_job(name, now):
                ran.append(name)
        except Exception:  # e.g. the database is unreachable: try again on the next pass
            logger.exception("could not run periodic job %s", name)
    return ran


def scheduler_loop(stop: threading.Event, tick: float = SCHEDULER_TICK_SECONDS) -> None:
    while not stop.is_set():
        run_periodic_once()
        connections.close_all()
        stop.wait(tick)


def start_embedded_scheduler(
    tick: float = SCHEDULER_TICK_SECONDS, stop: threading.Event | None = None
) -> threading.Thread:
    """Run periodic jobs in a daemon thread of this process (once per process)."""
    global _scheduler
    if _scheduler is None or not _scheduler.is_alive():
        _scheduler = threading.Thread(
            target=scheduler_loop, args=(stop or threading.Event(), tick), name="qifu-scheduler", daemon=True
        )
        _scheduler.start()
    return _scheduler
