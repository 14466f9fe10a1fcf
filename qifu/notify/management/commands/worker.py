import logging
import os
import signal
import threading

from django.core.management.base import BaseCommand

from qifu import jobs

logger = logging.getLogger("qifu.jobs")


def _watch_parent(parent: int, stop: threading.Event, every: float = 1.0) -> None:
    """Set `stop` once the process `parent` is gone (this process is then re-parented)."""
    while not stop.wait(every):
        if os.getppid() != parent:
            stop.set()


class Command(BaseCommand):
    help = "Run the periodic jobs (notification delivery, SLA sweep, …) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one pass of the due jobs and exit")
        parser.add_argument("--tick", type=float, default=jobs.SCHEDULER_TICK_SECONDS,
                            help="seconds between passes (default %(default)s)")
        parser.add_argument("--parent", type=int, default=None, metavar="PID",
                            help="stop when the process PID ends (used by `qifu serve`)")

    def handle(self, *args, once: bool, tick: float, parent: int | None = None, **opts):
        if once:
            ran = jobs.run_periodic_once()
            self.stdout.write("ran: " + (", ".join(ran) if ran else "nothing due"))
            return
        names = ", ".join(sorted(jobs.periodic_jobs()))
        self.stdout.write(f"qifu worker: running {names} (Ctrl+C stops it)")
        self.stdout.flush()
        stop = threading.Event()
        # SIGTERM (systemd, docker stop, `qifu serve` stopping) lets the job that runs finish first.
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
        if parent is not None:
            if os.getppid() != parent:
                return
            threading.Thread(target=_watch_parent, args=(parent, stop), daemon=True,
                             name="qifu-parent-watch").start()
        try:
            while not stop.is_set():
                try:
                    jobs.scheduler_loop(stop, tick)
                except Exception:  # never let the one scheduler of a server die: log, wait, go on
                    logger.exception("the scheduler's pass failed")
                    stop.wait(tick)
        except KeyboardInterrupt:
            stop.set()
