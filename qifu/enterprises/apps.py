from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "qifu.enterprises"
    verbose_name = _("Enterprises")

    def ready(self):
        from qifu.audit.trail import track

        from .models import Enterprise, LiaisonOfficer, Tag

        track(Enterprise)
        track(Tag)
        track(LiaisonOfficer)
