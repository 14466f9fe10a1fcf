from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "qifu.catalog"
    verbose_name = _("Service catalog")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qifu.audit.trail import track

        from . import listing_timers, models  # noqa: F401  (listing_timers registers the listing reviews' timer)

        for model in (models.ServiceItem, models.ServiceGuide, models.GuideMaterial, models.Listing, models.ListReview):
            track(model)
