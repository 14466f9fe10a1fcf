"""Jobs of supervision (registered with qifu.jobs)."""

import logging

from qifu import jobs

log = logging.getLogger("qifu.supervision")


@jobs.periodic("sla.sweep", seconds=60)
def sla_sweep() -> None:
    """Fire every supervision timer that is due (warnings, chases, inspections); after downtime, what was missed."""
    from . import timers

    report = timers.sweep()
    if report.fired:
        log.info("sla sweep fired %s timer(s)", len(report.fired))
