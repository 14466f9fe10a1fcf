"""Password forms: a user's own change, and the administrator's initial passwords."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from qifu.audit import trail
from qifu.audit.models import AuditEntry


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """The user's own change (Django's validators apply); it ends a required change."""

    def clean_new_password1(self):
        password = self.cleaned_data.get("new_password1")
        if password and self.user.check_password(password):
            raise forms.ValidationError(_("The new password must differ from the current one."), code="unchanged")
        return password

    def save(self, commit=True):
        self.user.must_change_password = False
        user = super().save(commit=commit)
        if commit:
            trail.record(AuditEntry.Action.PASSWORD, user, note=_("changed by the user"), actor=user)
        return user


class InitialPasswordMixin:
    """A password an administrator chose for someone else is an initial password: changed at first sign-in."""

    def set_password_and_save(self, user, *args, commit=True, **kwargs):
        user = super().set_password_and_save(user, *args, commit=False, **kwargs)
        if user.has_usable_password():
            user.must_change_password = True
        if commit:
            user.save()
        return user


class AdminUserCreationForm(InitialPasswordMixin, auth_forms.AdminUserCreationForm):
    pass


class AdminPasswordChangeForm(InitialPasswordMixin, auth_forms.AdminPasswordChangeForm):
    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            trail.record(AuditEntry.Action.PASSWORD, user,
                         note=_("set by an administrator; to be changed at the next sign-in")
                         if user.has_usable_password() else _("password sign-in disabled by an administrator"))
        return user
