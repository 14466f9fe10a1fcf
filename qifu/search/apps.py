from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "qifu.search"
    verbose_name = _("Search and smart Q&A")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qifu.audit.trail import track

        from . import index, models

        track(models.QuestionAnswer)
        index.connect()
        from django.db.models.signals import post_migrate

        post_migrate.connect(_fill_empty_index, sender=self, dispatch_uid="qifu-search-fill")


def _fill_empty_index(sender, using="default", **kwargs):
    """After `migrate` on a database that has searchable things but no index yet (the first migrate after this app
    arrives), build it: the same as `qifu search reindex`."""
    from django.db import connections

    from . import index
    from .models import SearchDocument

    if using != "default" or connections[using].vendor not in ("sqlite", "postgresql"):
        return
    if SearchDocument.objects.exists():
        return
    if any(source.model().objects.exists() for source in index.SOURCES.values()):
        index.rebuild()
