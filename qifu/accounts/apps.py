from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True  # the module also holds LockoutConfig (and imports axes' config): pick this one
    name = "qifu.accounts"
    verbose_name = _("Accounts and roles")

    def ready(self):
        from qifu.audit.trail import track

        from .models import ApiToken, User

        track(User, exclude=("password", "last_login"))
        track(ApiToken, exclude=("key_hash",))


class LockoutConfig(AxesConfig):
    """django-axes (sign-in lockout, qifu.accounts.lockout) under a name administrators read."""

    default = False
    verbose_name = _("Sign-in lockout")
