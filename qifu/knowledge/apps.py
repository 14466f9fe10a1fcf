from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "qifu.knowledge"
    verbose_name = _("Knowledge base")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qifu.audit.trail import track

        from qifu.appeals import routing

        from . import feed, models, ranking_inputs  # noqa: F401  (ranking_inputs registers the ranking's input)

        routing.register(feed)  # published entries teach routing and show in its suggestions
        for model in (models.KnowledgeEntry, models.CaseStudy, models.Promotion):
            track(model)
