from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FrontdeskConfig(AppConfig):
    name = "qifu.frontdesk"
    verbose_name = _("Front desk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qifu.audit.trail import track

        from . import breaches, models, timers  # noqa: F401  (timer source; the ranking's breaches input)

        for model in (models.DeskVisit, models.Handover, models.DeskNotice, models.DeferredMaterial):
            track(model)
