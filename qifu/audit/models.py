from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import chain


class ImmutableError(ValueError):
    """Audit entries are written once and never changed or removed by the application."""


FAST_ROWS = 16  # bulk_create of at most this many entries: qifu.lib.fastinsert (larger ones: Django's batches)


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("audit entries cannot be changed")

    def delete(self):
        raise ImmutableError("audit entries cannot be deleted")

    def bulk_create(self, objs, *args, **kwargs):
        """Digest every entry; on SQLite also link them into the chain (PostgreSQL links them at commit)."""
        objs = list(objs)
        for entry in objs:
            entry.digest = chain.digest_audit_entry(entry)
        if connections[self.db].vendor == "postgresql":
            if not args and not kwargs and len(objs) <= FAST_ROWS:  # e.g. an intake's: one INSERT built once
                from qifu.lib import fastinsert

                return fastinsert.insert(self.model, objs, self.db)
            return super().bulk_create(objs, *args, **kwargs)
        with transaction.atomic(using=self.db):
            _link_in_python(objs, self.db)
            return super().bulk_create(objs, *args, **kwargs)

    def bulk_create_with(self, objs, rows: list) -> None:
        """The entries and other models' new rows they record (`rows`: [(model, objs)], e.g. inbox rows with their
        ids drawn beforehand) — on PostgreSQL in ONE statement (`fastinsert.insert_together`: the intake's last
        writes while the day's appeal number is locked); elsewhere those rows, then the entries."""
        objs = list(objs)
        if connections[self.db].vendor != "postgresql" or len(objs) > FAST_ROWS:
            from qifu.lib import fastinsert

            for model, group in rows:
                fastinsert.insert(model, group, self.db, with_pk=bool(group) and group[0].pk is not None)
            self.bulk_create(objs)
            return
        from qifu.lib import fastinsert

        for entry in objs:
            entry.digest = chain.digest_audit_entry(entry)
        fastinsert.insert_together([*rows, (self.model, objs)], self.db)


class TransitionEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("events cannot be changed")

    def delete(self):
        raise ImmutableError("events cannot be deleted")

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            chain.seal_events(objs, self.db)
            return super().bulk_create(objs, *args, **kwargs)


def _hash_field(verbose_name):
    return models.CharField(verbose_name, max_length=64, null=True, blank=True, editable=False)


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

    # Set when the entry is built (not at save), so that its digest can cover it.
    at = models.DateTimeField(_("time"), default=timezone.now, editable=False, db_index=True)
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
    # no index of their own: (content_type, object_id) below serves both; every entry is written twice (its
    # INSERT, then its link into the chain), each index with it (issue 10)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=255)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The hash chain (qifu.audit.chain): the digest is computed before the INSERT; the position, the
    # previous entry's hash and this entry's hash when the entry joins the chain (on PostgreSQL when
    # its transaction commits, so they are empty inside that transaction).
    digest = _hash_field(_("content hash"))
    chain_seq = models.BigIntegerField(_("position in the chain"), null=True, blank=True, unique=True,
                                       editable=False)
    prev_hash = _hash_field(_("previous entry's hash"))
    hash = _hash_field(_("hash"))

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            # the entries still to be linked: at most those of the transaction that is committing
            models.Index(fields=["id"], condition=models.Q(hash__isnull=True), name="audit_unchained"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or _('system')} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("audit entries cannot be changed")
        self.digest = chain.digest_audit_entry(self)
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        if connections[using].vendor == "postgresql":
            super().save(*args, **kwargs)
            return
        with transaction.atomic(using=using):
            _link_in_python([self], using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("audit entries cannot be deleted")

    def changes(self) -> dict:
        """Fields whose value differs between before and after."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}


class ChainHead(models.Model):
    """Where a hash chain ends: the position and hash of its last entry (the audit trail's is "audit").
    Removing the newest entries leaves the head pointing past the end, which `qifu audit verify` reports.
    Written by the database (PostgreSQL) or inside the inserting transaction (SQLite), never by hand."""

    name = models.CharField(max_length=32, primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self):
        return f"{self.name} #{self.seq} {self.hash[:12]}"


class TransitionEvent(models.Model):
    """One step in the life of something with a state machine (an appeal, an application…): who did what,
    when, from which state to which, with a note and the step's data. Written once, never changed: the
    database refuses UPDATE, DELETE and TRUNCATE (qifu.audit.protect), and each subject's events form a
    hash chain in seq order (qifu.audit.chain). Subclasses add exactly one foreign key to their subject
    besides `actor`, and their own Meta (ordering, unique (subject, seq))."""

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
    digest = _hash_field(_("content hash"))
    prev_hash = _hash_field(_("previous event's hash"))
    hash = _hash_field(_("hash"))

    objects = TransitionEventQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError(f"{type(self).__name__} rows are immutable")
        chain.seal_events([self], kwargs.get("using") or router.db_for_write(type(self), instance=self))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(f"{type(self).__name__} rows are immutable")


def _link_in_python(entries: list, using: str) -> None:
    """Link new audit entries in Python (SQLite). Call inside the transaction that inserts them: on
    SQLite that transaction holds the database's write lock (transaction_mode IMMEDIATE), so reading
    the head and inserting after it cannot interleave with another writer."""
    heads = ChainHead.objects.using(using).filter(name=chain.AUDIT_CHAIN)
    head = heads.values_list("seq", "hash").first()
    if head is None:  # first entry, or a database emptied by `flush`: continue from the last entry
        head = (AuditEntry.objects.using(using).filter(chain_seq__isnull=False).order_by("-chain_seq")
                .values_list("chain_seq", "hash").first()) or (0, chain.GENESIS)
        ChainHead.objects.using(using).create(name=chain.AUDIT_CHAIN, seq=head[0], hash=head[1])
    seq, prev = head
    for entry in entries:
        seq += 1
        entry.chain_seq, entry.prev_hash = seq, prev
        entry.hash = prev = chain.link(prev, entry.digest)
    heads.update(seq=seq, hash=prev)
