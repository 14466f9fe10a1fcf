from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScenariosConfig(AppConfig):
    name = "qifu.scenarios"
    verbose_name = _("One-thing scenarios")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qifu.audit.trail import track

        from . import models, timers  # noqa: F401  (timers registers the agency case items' timer source)

        # Scenarios are written by the preset loader (saves audited by the trail's signals); agency cases and their
        # items record each event themselves (`cases`), with what happened as the note.
        for model in (models.Scenario, models.ScenarioItem, models.CaseDocument):
            track(model)
