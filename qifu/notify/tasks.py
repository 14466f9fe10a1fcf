"""Jobs of the notify app (registered with qifu.jobs)."""

from qifu import jobs


@jobs.periodic("notify.deliver", seconds=30, coalesce=0.25)
def deliver() -> None:
    """Send what is due: after each commit that queued messages (with a broker: sent at most 4 times a second, the
    last after the last commit), and every 30 s for leftovers."""
    from .outbox import deliver_pending

    while deliver_pending(limit=100) == 100:
        pass
