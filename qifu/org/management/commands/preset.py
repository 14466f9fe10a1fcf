from django.core.management.base import BaseCommand, CommandError

from qifu.org import preset


class Command(BaseCommand):
    help = "Region presets (qifu/org/presets/*.yaml): list them, or load one into the database."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="The available presets with their model and size.")
        load = sub.add_parser("load", help="Create or update a region from its preset (safe to repeat).")
        load.add_argument("name", metavar="NAME", choices=preset.available(), help=", ".join(preset.available()))

    def handle(self, *args, action, **opts):
        if action == "list":
            return self.do_list()
        return self.do_load(opts["name"])

    def do_list(self) -> None:
        for name in preset.available():
            try:
                data = preset.read(name)
            except ValueError as exc:
                self.stdout.write(f"{name}\tINVALID: {exc}")
                continue
            region = data["region"]
            sizes = ", ".join(f"{len(data[kind])} {kind}" for kind in preset.SPEC if data[kind])
            model = f" “{region['model_name']}”" if region["model_name"] else ""
            loads_with = f" (loads with {', '.join(data['include'])})" if data["include"] else ""
            self.stdout.write(f"{name}\t{region['name']}{model}: {sizes}{loads_with}")

    def do_load(self, name: str) -> None:
        try:
            counts = preset.load(name)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        summary = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
        self.stdout.write(self.style.SUCCESS(f"Loaded preset {name}: {summary}."))
