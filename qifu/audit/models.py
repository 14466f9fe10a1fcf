from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImmutableError(ValueError):
    """Audit entries are written once and never changed or removed by the application."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("audit entries cannot be changed")

    def delete(self):
        raise ImmutableError("audit entries cannot be deleted")


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("create")
        UPDATE = "update", _("change")
        DELETE = "delete", _("delete")
        TRANSITION = "transition", _("state transition")
        LOGIN = "login", _("sign-in")
        LOGIN_FAILED = "login_failed", _("failed sign-in")
        LOCKOUT = "lockout", _("sign-in locked")
        LOGOUT = "logout", _("sign-out")
        PASSWORD = "password", _("password change")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # No database constraint and no cascade: the trail outlives users and objects.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(_("actor username"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=16, default="system")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    object_id = models.CharField(_("object id"), max_length=64, db_index=True)
    object_repr = models.CharField(_("object"), max_length=255)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or _('system')} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("audit entries cannot be deleted")

    def changes(self) -> dict:
        """Fields whose value differs between before and after."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}


class TransitionEvent(models.Model):
    """One step in the life of something with a state machine (an appeal, an application…): who did what,
    when, from which state to which, with a note and the step's data. Written once, never changed.
    Subclasses add the foreign key to their subject and their own Meta (ordering, unique seq)."""

    seq = models.PositiveIntegerField()
    action = models.CharField(_("action"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError(f"{type(self).__name__} rows are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(f"{type(self).__name__} rows are immutable")
