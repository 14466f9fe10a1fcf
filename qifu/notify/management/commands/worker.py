import threading

from django.core.management.base import BaseCommand

from qifu import jobs


class Command(BaseCommand):
    help = "Run the periodic jobs (notification delivery, SLA sweep, …) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one pass of the due jobs and exit")
        parser.add_argument("--tick", type=float, default=jobs.SCHEDULER_TICK_SECONDS,
                            help="seconds between passes (default %(default)s)")

    def handle(self, *args, once: bool, tick: float, **opts):
        if once:
            ran = jobs.run_periodic_once()
            self.stdout.write("ran: " + (", ".join(ran) if ran else "nothing due"))
            return
        names = ", ".join(sorted(jobs.periodic_jobs()))
        self.stdout.write(f"qifu worker: running {names} (Ctrl+C stops it)")
        stop = threading.Event()
        try:
            jobs.scheduler_loop(stop, tick)
        except KeyboardInterrupt:
            stop.set()
