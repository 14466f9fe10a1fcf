from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "qifu.notify"
    verbose_name = _("Notifications")

    def ready(self):
        from qifu.audit.trail import track

        from .models import DingTalkIdentity, Notification, OutboxMessage

        track(Notification)
        track(DingTalkIdentity)
        # Creation is audited; the worker's delivery bookkeeping is not (it updates in bulk anyway).
        track(OutboxMessage, exclude=("status", "attempts", "next_attempt_at", "last_error", "sent_at", "external_id"))
