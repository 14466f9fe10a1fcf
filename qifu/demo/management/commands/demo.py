from django.core.management import call_command
from django.core.management.base import BaseCommand

from qifu.audit.context import acting_as


class Command(BaseCommand):
    help = "Migrate, load the demo region with fictional data (idempotent) and serve it (`qifu serve`)."

    def add_arguments(self, parser):
        parser.add_argument("--load-only", action="store_true", help="stop after loading")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--workers", type=int, default=None, help="as for `qifu serve`")
        parser.add_argument("--threads", type=int, default=None, help="as for `qifu serve`")

    def handle(self, *args, load_only, port, host, workers=None, threads=None, **opts):
        from qifu.demo import data

        call_command("migrate", verbosity=0, interactive=False)
        with acting_as(None, "cli"):
            summary = data.load()
        self.stdout.write(self.style.SUCCESS(
            f"Demo region {summary['region']}: {summary['enterprises']} enterprises, "
            f"{summary['sections']} sections, {summary['nodes']} service nodes, {summary['appeals']} appeals."
        ))
        self.stdout.write("Demo logins (all fictional):")
        for username, role, password in data.logins():
            self.stdout.write(f"  {username:<12} {password:<12} {role}")
        if not load_only:
            from qifu.lib.staticfiles import collect_if_outdated

            collect_if_outdated(self.stdout)
            call_command("serve", port=port, host=host, workers=workers, threads=threads)
