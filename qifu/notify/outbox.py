"""The transactional outbox: write notifications with the change, deliver after the commit.

`notify()` writes the inbox rows and one OutboxMessage per external channel in the caller's
transaction. `deliver_pending()` claims due rows with a conditional UPDATE (so two deliverers never
send one message twice), sends them, and schedules retries with exponential backoff. It runs after
each commit that wrote messages and every 30 s (the "notify.deliver" job), so a message left behind
by a crash or an unreachable broker is still sent.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from qifu import jobs

from . import adapters
from .models import Channel, Notification, OutboxMessage

logger = logging.getLogger("qifu.notify")

CLAIM_LEASE = datetime.timedelta(minutes=5)  # a claimed message is retried after this if its sender died
MAX_BACKOFF = datetime.timedelta(hours=1)


def _users(recipients) -> list:
    User = get_user_model()
    if isinstance(recipients, User):
        recipients = [recipients]
    seen, users = set(), []
    for user in recipients:
        if user is not None and user.pk not in seen:
            seen.add(user.pk)
            users.append(user)
    return users


def external(recipients, channels: Iterable[str] | None = None) -> list[tuple[str, object, str]]:
    """(channel, user, address) of each message `notify` queues for `recipients`: every active user (each once) ×
    every configured channel they have an address for."""
    users = [user for user in _users(recipients) if user.is_active]
    if not users:
        return []
    wanted = list(channels) if channels is not None else list(Channel.values)
    channel_adapters = [a for a in (adapters.get(c) for c in wanted) if a is not None]
    return [(adapter.channel, user, address) for user in users
            for adapter in channel_adapters if (address := adapter.address_for(user))]


def notify(
    recipients, event: str, subject: str, body: str, *, url: str = "", channels: Iterable[str] | None = None,
    audit: list | None = None, ids: dict | None = None, rows: list | None = None,
) -> list[Notification]:
    """Notify users in the inbox and through every configured channel they have an address for.
    `audit`: the caller's list of unsaved audit entries it writes in one INSERT (e.g. the intake's transitions):
    the inbox rows and the outgoing messages are then inserted at once (an INSERT each) and their `create` entries
    appended to it (issue 10); without it each row is saved and audited on its own. `rows` (with `audit` and `ids`:
    {model: an iterator of ids drawn beforehand — `fastinsert.next_ids`} for Notification and OutboxMessage, as
    many as `external` counts): the inbox rows and the outgoing messages are not written here but appended to
    `rows` as (model, [rows]), their `create` entries to `audit`, for the caller to write in one statement
    (`fastinsert.insert_together`; the intake, while the day's appeal number is locked)."""
    from qifu.audit import trail
    from qifu.lib import fastinsert

    subject = subject[: Notification._meta.get_field("subject").max_length]
    users = _users(recipients)
    messages = [OutboxMessage(channel=channel, recipient=user, address=address, subject=subject, body=body)
                for channel, user, address in external(users, channels)]
    tracked = audit is not None and trail.is_tracked(Notification)
    combined = tracked and rows is not None and ids is not None
    with transaction.atomic(savepoint=False):  # inside the caller's transaction: no savepoint of its own
        if tracked:
            notes = [Notification(recipient=user, event=event, subject=subject, body=body, url=url) for user in users]
            for model, written in ((Notification, notes), (OutboxMessage, messages)):
                if combined:
                    for row in written:
                        row.pk = next(ids[model])
                    rows.append((model, written))
                else:
                    fastinsert.insert(model, written)
                if trail.is_tracked(model):
                    audit.extend(trail.build("create", row, None, trail.snapshot(row)) for row in written)
        else:
            notes = [Notification.objects.create(recipient=user, event=event, subject=subject, body=body, url=url)
                     for user in users]
            for message in messages:
                message.save()  # audited on its own (qifu.audit's signals)
        if messages:
            jobs.defer("notify.deliver")
    return notes


# --- delivery -------------------------------------------------------------------------------

def backoff(attempts: int) -> datetime.timedelta:
    """Wait before the next try after `attempts` failed ones: base, 2×base, 4×base, … ≤ 1 hour."""
    delay = datetime.timedelta(seconds=settings.QIFU_NOTIFY_RETRY_SECONDS * 2 ** max(attempts - 1, 0))
    return min(delay, MAX_BACKOFF)


def _claim(pk: int, now: datetime.datetime) -> bool:
    """Take a due message by pushing its next attempt out by a lease; only one claimant wins."""
    return (
        OutboxMessage.objects.filter(pk=pk, status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .update(next_attempt_at=now + CLAIM_LEASE, attempts=F("attempts") + 1)
        == 1
    )


def _send(message: OutboxMessage) -> None:
    adapter = adapters.get(message.channel)
    try:
        if adapter is None:
            raise adapters.DeliveryError(f"channel {message.channel} is not configured")
        external_id = adapter.send(message)
    except Exception as exc:
        if not isinstance(exc, adapters.DeliveryError):
            logger.exception("adapter %s failed unexpectedly", message.channel)
        _failed(message, str(exc) or type(exc).__name__)
        return
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.SENT, sent_at=timezone.now(), external_id=external_id[:128], last_error=""
    )


def _failed(message: OutboxMessage, error: str) -> None:
    if message.attempts >= settings.QIFU_NOTIFY_MAX_ATTEMPTS:
        logger.warning("giving up on %s message %s after %s attempts: %s",
                       message.channel, message.pk, message.attempts, error)
        update = {"status": OutboxMessage.Status.FAILED}
    else:
        update = {"next_attempt_at": timezone.now() + backoff(message.attempts)}
    OutboxMessage.objects.filter(pk=message.pk).update(last_error=error[:2000], **update)


def deliver_pending(limit: int = 100) -> int:
    """Send up to `limit` due messages; returns how many this call claimed."""
    claimed = 0
    with jobs.sqlite_serialized():
        now = timezone.now()
        due = (
            OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        for pk in list(due):
            if not _claim(pk, now):
                continue  # another deliverer took it
            claimed += 1
            _send(OutboxMessage.objects.get(pk=pk))
    return claimed
