from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "qifu.accounts"
    verbose_name = _("Accounts and roles")

    def ready(self):
        from qifu.audit.trail import track

        from .models import ApiToken, User

        track(User, exclude=("password", "last_login"))
        track(ApiToken, exclude=("key_hash",))


class LockoutConfig(AxesConfig):
    """django-axes (sign-in lockout, qifu.accounts.lockout) under a name administrators read."""

    verbose_name = _("Sign-in lockout")
