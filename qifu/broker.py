"""The Celery app, as far as sending goes: `qifu.jobs.defer()` hands tasks to the broker through it.

The worker's side — the tasks that run jobs, and beat's schedule — is `qifu.celery`, on this same app.
This module knows nothing of jobs, so jobs sends without importing the worker's side, and Celery is
loaded only by a process that uses a broker.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery

RUN_TASK = "qifu.run_task"  # run a registered job by name (its kwargs): qifu.celery.run_task
RUN_PERIODIC = "qifu.run_periodic"  # run a periodic job if due (sent by beat): qifu.celery.run_periodic


@functools.cache
def celery_app() -> Celery:
    """The one Celery app of the process, configured from Django settings under the CELERY_ namespace."""
    # Importing Celery takes about 0.3 s: only the processes that use a broker pay for it.
    from celery import Celery

    app = Celery("qifu")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    return app


def send(task_name: str, kwargs: dict[str, Any]) -> None:
    """Have a Celery worker run the registered job `task_name` (raises if the broker cannot be reached)."""
    celery_app().send_task(RUN_TASK, args=(task_name, kwargs))
