from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "qifu.appeals"
    verbose_name = _("Appeals")

    def ready(self):
        from qifu.audit.trail import track

        from . import models

        track(models.Channel)
        track(models.AppealAttachment)
        track(models.Rating)
        track(models.OfficerRating)
        for model in (models.Meeting, models.AgendaItem, models.MeetingAttachment, models.AppealTask):
            track(model)
