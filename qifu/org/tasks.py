"""Jobs of the org app (registered with qifu.jobs)."""

import logging

from qifu import jobs

log = logging.getLogger("qifu.org")


@jobs.periodic("org.apply_post_changes", seconds=3600)
def apply_post_changes() -> None:
    """Hand over the posts whose approved change takes effect today (or took effect while nothing ran).
    Hourly, so a change lands within the first hour of its day; each handover is audited (the post's save)."""
    from .models import PostChange

    count = PostChange.apply_due()
    if count:
        log.info("post changes applied: %s", count)
