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
