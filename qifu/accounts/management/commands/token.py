from django.core.management.base import BaseCommand, CommandError

from qifu.accounts.models import ApiToken, User
from qifu.audit.context import acting_as


class Command(BaseCommand):
    help = "API tokens: `qifu token create USERNAME` prints a new bearer token (shown once)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("create")
        c.add_argument("username")
        c.add_argument("--name", default="cli")
        r = sub.add_parser("revoke")
        r.add_argument("prefix", help="the first characters of the token")

    def handle(self, *args, action, **opts):
        with acting_as(None, "cli"):
            if action == "create":
                user = User.objects.filter(username=opts["username"]).first()
                if user is None:
                    raise CommandError(f"no user {opts['username']!r}")
                if not user.is_active:
                    raise CommandError(f"user {opts['username']!r} is not active")
                _, key = ApiToken.objects.issue(user, opts["name"])
                self.stdout.write(key)
            else:
                from django.utils import timezone

                tokens = ApiToken.objects.filter(prefix__startswith=opts["prefix"][:10], revoked_at__isnull=True)
                if not tokens:
                    raise CommandError("no such active token")
                for token in tokens:
                    token.revoked_at = timezone.now()
                    token.save()
                self.stdout.write(f"revoked {len(tokens)} token(s)")
