"""The listing reviews' timer (a source of the supervision timer engine, `qifu.supervision.timers`).

Each listing form awaiting review has one timer at its review deadline (`due_at`: submission + the region's
`listing_review_hours`). When it fires while the form still awaits review, the form is marked overdue
(`overdue_at`, in the audit trail) and the region's reviewers are told; a form reviewed in time, or submitted
again with a fresh deadline, cancels it (the new deadline gets its own).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.audit import trail
from qifu.supervision import timers
from qifu.supervision.models import Timer

from .models import Listing

SUBJECT = "catalog.listing"
KIND = "review_due"


class ListingTimers(timers.ModelSource):
    subject = SUBJECT
    model = Listing
    related = ("region",)

    def plan(self, now, ids=None):
        planned = Timer.objects.filter(subject=SUBJECT, subject_id=OuterRef("pk"), deadline=OuterRef("due_at"))
        waiting = Listing.objects.filter(status=Listing.Status.SUBMITTED).filter(~Exists(planned))
        if ids is not None:
            waiting = waiting.filter(pk__in=ids)
        return [Timer(subject=SUBJECT, subject_id=listing.pk, region_id=listing.region_id, kind=KIND,
                      deadline=listing.due_at, fire_at=listing.due_at) for listing in waiting.iterator(chunk_size=500)]

    def judge(self, timer, listing):
        if listing.status != Listing.Status.SUBMITTED or listing.due_at != timer.deadline:
            return timers.CANCEL
        return timers.FIRE

    def fire(self, timer, listing, now):
        from qifu import notify

        from .listing import _reviewers

        listing.overdue_at = timer.fire_at
        listing.save(update_fields=["overdue_at"])
        trail.record("overdue", listing, None, {"overdue_at": timer.fire_at.isoformat()},
                     note="listing review overdue")
        reviewers = list(_reviewers(listing.region))
        notify.notify(reviewers, "catalog.listing_overdue",
                      _("Listing review overdue: %(name)s") % {"name": listing.name},
                      _("The review was due by %(due)s.") % {
                          "due": timezone.localtime(listing.due_at).strftime("%Y-%m-%d %H:%M")},
                      url=listing.get_absolute_url())
        return _("listing %(name)s review overdue since %(at)s, told: %(told)s") % {
            "name": listing.name, "at": timezone.localtime(timer.fire_at).strftime("%Y-%m-%d %H:%M"),
            "told": "、".join(u.display_name or u.username for u in reviewers) or "—"}


timers.register(ListingTimers())
