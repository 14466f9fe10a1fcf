from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "qifu.assessments"
    verbose_name = _("Assessments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qifu.audit.trail import track

        from . import models, providers  # noqa: F401  (providers registers the system's inputs)

        for model in (models.RankingInput, models.RankingPublication):
            track(model)
