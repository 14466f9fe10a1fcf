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

        from django.db.models.signals import post_delete, post_save

        from .workdays import invalidate_cache

        for model in (models.CalendarYear, models.CalendarDay):
            post_save.connect(lambda **kw: invalidate_cache(), sender=model, weak=False)
            post_delete.connect(lambda **kw: invalidate_cache(), sender=model, weak=False)
