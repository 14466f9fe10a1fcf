from django.core.management.base import BaseCommand, CommandError

from qifu.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup made by `qifu backup` into an empty installation (database, uploads, secret key)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="an archive written by `qifu backup`")
        parser.add_argument("--force", action="store_true",
                            help="replace the data and uploaded files of an installation that is not empty")

    def handle(self, *args, file, force, **opts):
        try:
            summary = restore(file, force=force)
        except BackupError as e:
            raise CommandError(str(e)) from None
        manifest = summary["manifest"]
        self.stdout.write(
            f"Restored {summary['rows']} rows in {summary['tables']} tables and {summary['files']} uploaded files "
            f"from the backup of {manifest['created_at']} (qifu {manifest['qifu']}, {manifest['engine']}); "
            f"secret key written to {summary['secret_key_file']}."
        )
        if summary["secret_key_differs_from_environment"]:
            self.stderr.write(self.style.WARNING(
                "QIFU_SECRET_KEY is set and differs from the backup's secret key: set it to the content of "
                f"{summary['secret_key_file']} (or unset it), else sessions and signed links made before the "
                "backup are not valid."
            ))
