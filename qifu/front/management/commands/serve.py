"""`qifu serve`: the production server — gunicorn with threaded workers (gthread) — also by default.

    qifu serve [--host H] [--port N] [--workers W] [--threads T] [--no-scheduler]

- Each worker's threads take turns at the interpreter every $QIFU_WEB_SWITCH_MS ms (0.5; Python's default is 5).
- A new connection goes to the worker that holds the fewest (`qifu.front.worker.FairThreadWorker`).
- W worker processes × T threads answer at most W×T requests at once; more wait in the listen queue
  (no connection is refused). Each thread keeps at most one database connection (CONN_MAX_AGE), so a
  server holds at most W×T connections, plus one for the scheduler.
- The periodic jobs (qifu.jobs) run in ONE scheduler process per server, started by the gunicorn
  master once it listens and stopped with it (`qifu worker --parent PID`), never once per worker.
  `--no-scheduler` leaves it out when `qifu worker` or Celery beat runs elsewhere (docs/deploy.md).
- Static files are served by WhiteNoise inside the application (a reverse proxy may serve them from
  STATIC_ROOT): hashed, compressed and cached for a year once `qifu collectstatic` has run for this version
  (`qifu demo` runs it when needed), else under their plain names (qifu/lib/staticfiles.py); uploads are
  served only by the application's views, which check who may see them.
"""

import os
import subprocess
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from qifu.front.worker import freeze_loaded, share_connections


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        raise CommandError(f"{name} must be a whole number") from None


def default_workers() -> int:
    return _env_int("QIFU_WEB_WORKERS", 2)


def default_threads() -> int:
    return _env_int("QIFU_WEB_THREADS", 4)


def gunicorn_options(*, host, port, workers, threads, timeout, access_log, scheduler) -> dict:
    bind = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    options = {
        "bind": [bind],
        "worker_class": "qifu.front.worker.FairThreadWorker",  # gthread, fairer (qifu/front/worker.py)
        "workers": workers,
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": 30,
        "keepalive": 5,
        "backlog": 2048,
        "proc_name": "qifu",
        "errorlog": "-",
        "accesslog": access_log or None,
        # gunicorn ≥ 25 opens a control socket in the home directory by default: one per user, so two
        # servers (or a test server beside a demo) would clash — qifu does not use it.
        "control_socket_disable": True,
    }
    interval = switch_interval()  # checked here, in the master, before any worker starts
    options["post_fork"] = lambda server, worker: sys.setswitchinterval(interval)
    options["post_worker_init"] = freeze_loaded
    options.update(share_connections(workers))  # pre_fork and child_exit: each worker's place in the table
    if scheduler:
        options["when_ready"] = _start_scheduler
        options["on_exit"] = _stop_scheduler
    return options


def switch_interval() -> float:
    """Seconds a worker's thread holds the interpreter before another may run (Python's default 5 ms):
    $QIFU_WEB_SWITCH_MS or 0.5 ms. A thread whose database answer has come waits at most that long for its
    turn — with the day's appeal number locked, every intake of the region waits with it (issue 10)."""
    try:
        ms = float(os.environ.get("QIFU_WEB_SWITCH_MS", "0.5"))
    except ValueError:
        raise CommandError("QIFU_WEB_SWITCH_MS must be a number of milliseconds") from None
    if not 0.05 <= ms <= 100:
        raise CommandError("QIFU_WEB_SWITCH_MS must be between 0.05 and 100")
    return ms / 1000


# --- the one scheduler process of a server ---------------------------------------------------------

_scheduler: subprocess.Popen | None = None


def _start_scheduler(arbiter) -> None:
    """gunicorn's when_ready hook, in the master: start `qifu worker` as its child. It stops when the
    master ends (it watches its parent), so a killed master leaves no scheduler behind."""
    global _scheduler
    _scheduler = subprocess.Popen(
        [sys.executable, "-m", "qifu", "worker", "--parent", str(os.getpid())],
        stdin=subprocess.DEVNULL,
    )
    arbiter.log.info("Started the scheduler of the periodic jobs (pid: %s)", _scheduler.pid)


def _stop_scheduler(arbiter) -> None:
    """gunicorn's on_exit hook: stop the scheduler, letting a running job finish for a while."""
    global _scheduler
    process, _scheduler = _scheduler, None
    if process is None:
        return
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    except ChildProcessError:  # already reaped by the master's SIGCHLD handler
        pass


def run_gunicorn(options: dict) -> None:
    from gunicorn.app.base import BaseApplication

    class QifuApplication(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                if key in self.cfg.settings:  # settings of newer gunicorns are left out on older ones
                    self.cfg.set(key, value)

        def load(self):
            from qifu.wsgi import application

            return application

    # Workers are forked from this process: no database connection may be shared with them.
    connections.close_all()
    QifuApplication(prog="qifu serve").run()


class Command(BaseCommand):
    help = "Serve qifu with the production server (gunicorn) and run the periodic jobs."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
        parser.add_argument("--workers", type=int, default=None,
                            help="worker processes (default: $QIFU_WEB_WORKERS or 2)")
        parser.add_argument("--threads", type=int, default=None,
                            help="threads per worker (default: $QIFU_WEB_THREADS or 4)")
        parser.add_argument("--timeout", type=int, default=120,
                            help="seconds before a stuck worker is restarted (default %(default)s)")
        parser.add_argument("--access-log", default=None, metavar="FILE",
                            help="write an access log line per request to FILE ('-': standard output)")
        parser.add_argument("--no-scheduler", action="store_true",
                            help="do not run the periodic jobs (run `qifu worker` or Celery beat instead)")

    def handle(self, *args, port, host, workers=None, threads=None, timeout=120, access_log=None,
               no_scheduler=False, **opts):
        workers = default_workers() if workers is None else workers
        threads = default_threads() if threads is None else threads
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1")
        if not 1 <= port <= 65535:
            raise CommandError("--port must be between 1 and 65535")
        from qifu.lib.staticfiles import NOT_COLLECTED, collected_current

        if not collected_current():
            self.stdout.write(NOT_COLLECTED)
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(
            f"qifu is serving on http://{shown}:{port}/  ({workers} workers × {threads} threads"
            f"{'' if no_scheduler else ', periodic jobs on'}; Ctrl+C stops it)"
        )
        self.stdout.flush()
        run_gunicorn(gunicorn_options(host=host, port=port, workers=workers, threads=threads,
                                      timeout=timeout, access_log=access_log, scheduler=not no_scheduler))
