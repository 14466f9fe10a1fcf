from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _protect_append_only_tables(using="default", **kwargs):
    """After every migrate: the append-only tables have their triggers (a table a later migration rebuilt
    on SQLite has lost them; a trigger the owner disabled is enabled again)."""
    from django.db import connections

    from . import protect

    protect.install(connections[using])


class AuditConfig(AppConfig):
    name = "qifu.audit"
    verbose_name = _("Audit")

    def ready(self):
        post_migrate.connect(_protect_append_only_tables, sender=self, dispatch_uid="qifu-audit-protect")
