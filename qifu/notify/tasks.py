"""Jobs of the notify app (registered with qifu.jobs)."""

from qifu import jobs


@jobs.periodic("notify.deliver", seconds=30)
def deliver() -> None:
    """Send what is due: after each commit that queued messages, and every 30 s for leftovers."""
    from .outbox import deliver_pending

    while deliver_pending(limit=100) == 100:
        pass
