from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve qifu over HTTP (static files included) and run the periodic jobs in-process."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-scheduler", action="store_true",
                            help="do not run periodic jobs in this process (run `qifu worker` or Celery beat)")

    def handle(self, *args, port, host, no_scheduler=False, **opts):
        if not no_scheduler:
            from qifu import jobs

            jobs.start_embedded_scheduler()
        self.stdout.write(f"qifu is serving on http://{host}:{port}/  (Ctrl+C stops it)")
        call_command("runserver", f"{host}:{port}", use_reloader=False, use_threading=True)
