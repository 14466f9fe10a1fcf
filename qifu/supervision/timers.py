"""The one timer engine for every time limit.

A *source* knows one kind of subject with a deadline (appeals here; bookings, listing reviews and the policy
window's 24 h / 48 h register their own source the same way). The engine asks each source to `plan` the timers of
its subjects' current deadlines (rows in `Timer`, unique per subject, kind and deadline, so planning twice — or by
two machines at once — creates each once), then `sweep(now)` takes every timer due by `now` and, holding the
subject's row lock, asks the source to `judge` it:

- FIRE: the timer is claimed with a conditional UPDATE (`fired_at IS NULL`), and only the claimant calls
  `source.fire` — in the same transaction, so the record and its notifications exist exactly once even when two
  sweeps run at the same moment on several machines (SQLite serialises writers; PostgreSQL re-checks the
  condition after the row lock is released);
- WAIT: not now (e.g. the case is handled and awaits the enterprise's confirmation; were it sent back with the same
  deadline, the timer still applies);
- CANCEL: the deadline it belongs to is gone (a new time limit, the case closed or withdrawn).

A sweep after downtime fires what was missed, once, with the time each timer was due.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from qifu import jobs

from .models import Timer

logger = logging.getLogger("qifu.supervision")

FIRE, WAIT, CANCEL = "fire", "wait", "cancel"
BATCH = 500

_sources: dict[str, object] = {}


def register(source) -> object:
    """Register a source: an object with `subject` (a model label), `plan(now, ids) -> list[Timer]` (unsaved
    timers of subjects — all, or those of `ids` — whose current deadline has none yet), `load(ids)` and
    `lock(ids)` -> {id: subject} (the second with select_for_update; `ModelSource` gives both), `judge(timer, subject) -> FIRE|WAIT|CANCEL` and `fire(timer, subject, now) -> str` (a line for the report)."""
    _sources[source.subject] = source
    return source


class ModelSource:
    """The loading half of a source whose subjects are rows of one model: `model` and the `related` rows to read
    with it (select_related); `load` and `lock` (select_for_update of the subject's own row)."""

    model = None
    related: tuple[str, ...] = ()

    def load(self, ids, lock: bool = False) -> dict:
        qs = self.model.objects.select_related(*self.related).filter(pk__in=ids)
        if lock:
            qs = qs.select_for_update(of=("self",))
        return {subject.pk: subject for subject in qs}

    def lock(self, ids) -> dict:
        return self.load(ids, lock=True)


def sources() -> dict[str, object]:
    """The registered sources (each app's source module registers itself when the app is ready)."""
    return dict(_sources)


@dataclass
class Report:
    planned: int = 0
    fired: list[str] = field(default_factory=list)
    cancelled: int = 0
    waiting: int = 0


def plan(now: datetime.datetime | None = None, only: tuple[str, list[int]] | None = None) -> int:
    """Create the timers of every subject's current deadline that has none yet. Returns how many were created."""
    now = now or timezone.now()
    created = 0
    for name, source in sources().items():
        if only and only[0] != name:
            continue
        timers = source.plan(now, only[1] if only else None)
        if timers:
            with jobs.sqlite_serialized(), transaction.atomic():
                created += len(Timer.objects.bulk_create(timers, ignore_conflicts=True))
    return created


def _due(now: datetime.datetime, after_id: int, only):
    due = Timer.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True, fire_at__lte=now, pk__gt=after_id)
    if only:
        due = due.filter(subject=only[0], subject_id__in=only[1])
    return list(due.order_by("pk")[:BATCH])


def sweep(now: datetime.datetime | None = None, only: tuple[str, list[int]] | None = None) -> Report:
    """Fire every timer due as of `now` (default: now). Safe to run anywhere, any number of times at once.
    `only=(subject, ids)` limits the sweep to those subjects (e.g. the demo building a case's past)."""
    now = now or timezone.now()
    with jobs.sqlite_serialized():  # SQLite has one writer: this process's threads take turns (a no-op elsewhere)
        return _sweep(now, only)


def _sweep(now: datetime.datetime, only) -> Report:
    report = Report(planned=plan(now, only))
    registered = sources()
    last = 0
    while batch := _due(now, last, only):
        last = batch[-1].pk
        by_source: dict[str, list[Timer]] = {}
        for timer in batch:
            by_source.setdefault(timer.subject, []).append(timer)
        for name, group in by_source.items():
            source = registered.get(name)
            if source is None:
                continue
            # A first look without locks (one query a batch): a waiting timer costs no transaction.
            subjects = source.load([t.subject_id for t in group])
            for timer in sorted(group, key=lambda t: (t.fire_at, t.pk)):
                subject = subjects.get(timer.subject_id)
                if subject is not None and source.judge(timer, subject) == WAIT:
                    report.waiting += 1
                    continue
                try:
                    _settle(source, timer, now, report)
                except Exception:  # one broken subject must not stop the others
                    logger.exception("timer %s could not be settled", timer.pk)
    return report


def _settle(source, timer: Timer, now: datetime.datetime, report: Report) -> None:
    with jobs.sqlite_serialized(), transaction.atomic():
        subject = source.lock([timer.subject_id]).get(timer.subject_id)
        verdict = CANCEL if subject is None else source.judge(timer, subject)
        if verdict == WAIT:
            report.waiting += 1
            return
        pending = Timer.objects.filter(pk=timer.pk, fired_at__isnull=True, cancelled_at__isnull=True)
        if verdict == CANCEL:
            report.cancelled += pending.update(cancelled_at=now)
            return
        if pending.update(fired_at=now) != 1:
            return  # another sweep fired it first
        timer.fired_at = now
        line = source.fire(timer, subject, now)
        if line:
            report.fired.append(line)
