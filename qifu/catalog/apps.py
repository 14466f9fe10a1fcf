from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "qifu.catalog"
    verbose_name = _("Service catalog")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qifu.audit.trail import track

        from . import models

        for model in (models.ServiceItem, models.ServiceGuide, models.GuideMaterial):
            track(model)
