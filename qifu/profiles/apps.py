from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfilesConfig(AppConfig):
    name = "qifu.profiles"
    verbose_name = _("Enterprise profiles")

    def ready(self):
        from qifu.audit.trail import track

        from . import models, signals

        track(models.Dimension)
        track(models.Indicator)
        track(models.IndicatorValue)
        track(models.TagRule)
        signals.connect()
