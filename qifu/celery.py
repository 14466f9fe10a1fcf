"""The Celery worker's and beat's side, used when CELERY_BROKER_URL is set (production: Redis).

    celery -A qifu.celery worker      # runs what qifu.jobs.defer() sends
    celery -A qifu.celery beat        # sends the periodic jobs (or run `qifu worker` instead)

The app is `qifu.broker`'s (configured from Django settings under the CELERY_ namespace), through
which jobs sends. One task runs every registered job: it runs the job by name through qifu.jobs, so
jobs are written once and run the same way in-process and on Celery.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qifu.settings")
django.setup()  # idempotent; the registry of jobs needs the apps

from qifu import broker, jobs  # noqa: E402

app = broker.celery_app()


@app.task(name=broker.RUN_TASK, ignore_result=True)
def run_task(task_name: str, kwargs: dict | None = None) -> bool:
    """Run the registered task `task_name` (sent by jobs.defer)."""
    return jobs.run_now(task_name, kwargs)


@app.task(name=broker.RUN_PERIODIC, ignore_result=True)
def run_periodic(name: str) -> bool:
    """Run a periodic job if it is due and nobody else runs it (sent by beat)."""
    return jobs.run_periodic_job(name)


def beat_schedule() -> dict[str, dict]:
    return {
        name: {"task": broker.RUN_PERIODIC, "schedule": job.seconds, "args": (name,)}
        for name, job in jobs.periodic_jobs().items()
    }


app.conf.beat_schedule = beat_schedule()
