"""`qifu db grant-app-role ROLE`: the PostgreSQL role the web and worker processes connect as."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections, transaction
from django.utils.translation import gettext as _

from qifu.audit import protect


class Command(BaseCommand):
    help = ("PostgreSQL roles: `qifu db grant-app-role ROLE` lets the web and worker processes' role read and write, "
            "but only read and add on the audit trail and event tables (run as the owner, after each upgrade).")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        g = sub.add_parser("grant-app-role", help="grant the application's role what it needs, and nothing more")
        g.add_argument("role")
        g.add_argument("--print", action="store_true", dest="print_only",
                       help="print the SQL instead of running it (to review it or run it with psql)")
        g.add_argument("--database", default="default")

    def handle(self, *args, action, role, print_only, database, **opts):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(_("Database roles are a PostgreSQL matter: on SQLite whoever can write the file can "
                                 "change it, and the hash chains show what was changed."))
        for problem in protect.app_role_problems(connection, role):
            if problem == "missing":
                raise CommandError(_("There is no role %(role)s: create it first (CREATE ROLE %(role)s LOGIN "
                                     "PASSWORD '…';).") % {"role": role})
            if problem == "superuser":
                raise CommandError(_("%(role)s is a superuser: it could switch the protections off. The application "
                                     "needs a role of its own.") % {"role": role})
            raise CommandError(_("%(role)s is, or belongs to, %(owner)s, the owner of the tables: it could switch the "
                                 "protections off. The application needs a role of its own.")
                               % {"role": role, "owner": problem.split(":", 1)[1]})
        statements = protect.grant_app_role_sql(connection, role)
        if print_only:
            for sql in statements:
                self.stdout.write(sql + ";")
            return
        try:
            with transaction.atomic(using=database), connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
        except DatabaseError as exc:
            raise CommandError(_("The grants failed (run this as the owner of the tables): %(error)s")
                               % {"error": str(exc).strip()}) from exc
        self.stdout.write(_("%(role)s may read and write the application's tables; on %(tables)s it may only read and "
                            "add rows.") % {"role": role, "tables": ", ".join(protect.append_only_tables())})
