from django.core.management.base import BaseCommand, CommandError

from qifu.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database, the uploaded files and the secret key into one archive (FILE, .tar.gz)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive to write, e.g. qifu-2026-11-21.tar.gz (mode 0600)")

    def handle(self, *args, file, **opts):
        try:
            manifest = backup(file)
        except BackupError as e:
            raise CommandError(str(e)) from None
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"{file}: {rows} rows in {len(manifest['tables'])} tables ({manifest['engine']}), "
            f"{manifest['media_files']} uploaded files and the secret key. Keep it safe: it holds the secret key."
        )
