from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkcalConfig(AppConfig):
    name = "qifu.workcal"
    verbose_name = _("Working-day calendar")

    def ready(self):
        from qifu.audit.trail import track

        from . import models

        track(models.CalendarYear)
        track(models.CalendarDay)
