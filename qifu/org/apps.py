from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "qifu.org"
    verbose_name = _("Organization")

    def ready(self):
        from qifu.audit.trail import track

        from . import models

        for model in (
            models.Region, models.Jurisdiction, models.Department, models.ServiceNode, models.Section,
            models.Zone, models.Window, models.Post, models.RosterShift, models.PostChange, models.Body,
            models.BodyMembership,
        ):
            track(model)
