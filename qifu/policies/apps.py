from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    name = "qifu.policies"
    verbose_name = _("Policy calculator")

    def ready(self):
        from qifu.audit.trail import track

        from . import models, signals

        track(models.Policy)
        track(models.PolicyClause)
        track(models.Payout)
        track(models.ApplicationMaterial)
        signals.connect()
