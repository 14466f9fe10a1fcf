"""Notifications: an in-app inbox, and a transactional outbox for email, SMS and 浙政钉.

    from qifu.notify import notify
    notify(users, "appeal.assigned", subject, body, url=appeal_url)

Rows are written in the caller's transaction; delivery happens after it commits (qifu.jobs).
"""

from collections.abc import Iterable


def notify(recipients, event: str, subject: str, body: str, *, url: str = "", channels: Iterable[str] | None = None,
           audit: list | None = None, ids=None, rows: list | None = None):
    """Notify a user or users (inbox always; email, SMS, 浙政钉 where configured). See outbox.notify."""
    from .outbox import notify as _notify

    return _notify(recipients, event, subject, body, url=url, channels=channels, audit=audit, ids=ids, rows=rows)
