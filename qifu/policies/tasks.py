"""Periodic policy work: a nightly full re-match catches whatever incremental re-matching missed
(data changed outside the application, clauses that came into force today)."""

import logging

from qifu import jobs

log = logging.getLogger("qifu.policies")


@jobs.periodic("policies.match_all", seconds=24 * 3600)
def match_all() -> None:
    from qifu.org.models import Region

    from .services import match_region

    for region in Region.objects.filter(policies__isnull=False).distinct():
        log.info("policy match %s: %s", region.code, match_region(region.code))
