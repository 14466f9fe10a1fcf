from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "qifu.supervision"
    verbose_name = _("Supervision")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qifu.audit.trail import track

        from . import appeal_timers, models  # noqa: F401  (appeal_timers registers the appeals' timers)

        for model in (models.Slip, models.LeaderInstruction, models.Record):
            track(model)
