"""The front desk's timers (a source of the supervision timer engine, `qifu.supervision.timers`), four kinds per visit:

- `open_due` (首问负责制): at `open_due_at` (registration + the region's `desk_visit_open_hours`) a visit still
  without an outcome is flagged (`flagged_at`, the owner of the moment kept in `flagged_owner` for the monthly
  count of breaches), and its owner and the node's dispatchers are told;
- `on_site` (seed 000 line 34, T18): at a park station, registration + `station_on_site_minutes`: the staff not
  marked on site by then → `on_site_missed_at`;
- `handover` (T19): registration + `station_handover_minutes`: an issue not said to be a park issue, not concluded
  and not handed to a clerk (行政办事员) by then → `handover_missed_at`;
- `deferred_due` (容缺受理): the end of `deferred_due_on` with a promised material not received →
  `deferred_overdue_at`, the owner told.

A missed station limit tells the station's post holders and the center's dispatchers. Every fired timer is recorded
in the audit trail (`overdue`). Timely action cancels the timer (the engine's CANCEL).
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.audit import trail
from qifu.supervision import timers
from qifu.supervision.models import Timer

from .models import DeferredMaterial, DeskVisit

SUBJECT = "frontdesk.deskvisit"
OPEN, ON_SITE, HANDOVER, DEFERRED = "open_due", "on_site", "handover", "deferred_due"


def _planned(kind: str):
    return Exists(Timer.objects.filter(subject=SUBJECT, subject_id=OuterRef("pk"), kind=kind))


def deadline(visit: DeskVisit, kind: str) -> datetime.datetime | None:
    """The time limit of a kind of timer for the visit (None: none applies)."""
    region = visit.region
    if kind == OPEN:
        return visit.open_due_at
    if kind == ON_SITE and visit.station_response:
        return visit.registered_at + datetime.timedelta(minutes=float(region.rule("station_on_site_minutes")))
    if kind == HANDOVER and visit.station_response:
        return visit.registered_at + datetime.timedelta(minutes=float(region.rule("station_handover_minutes")))
    if kind == DEFERRED and visit.deferred_due_on:
        from qifu.workcal import workdays

        return workdays.deadline(datetime.datetime.combine(visit.deferred_due_on, datetime.time(9),
                                                           tzinfo=ZoneInfo(region.rule("time_zone"))), 0,
                                 end_of_day=region.rule("deadline_end_of_day"), tz=region.rule("time_zone"))
    return None


class DeskVisitTimers(timers.ModelSource):
    subject = SUBJECT
    model = DeskVisit
    related = ("region", "node", "owner")

    def plan(self, now, ids=None):
        base = DeskVisit.objects.select_related("region").filter(outcome_kind="")
        if ids is not None:
            base = base.filter(pk__in=ids)
        pending = DeferredMaterial.objects.filter(visit=OuterRef("pk"), received_at__isnull=True)
        wanted = {
            OPEN: base.filter(flagged_at__isnull=True).filter(~_planned(OPEN)),
            ON_SITE: base.filter(station_response=True, on_site_at__isnull=True, on_site_missed_at__isnull=True)
            .filter(~_planned(ON_SITE)),
            HANDOVER: base.filter(station_response=True, handed_to_clerk_at__isnull=True,
                                  handover_missed_at__isnull=True).exclude(park_issue=True).filter(~_planned(HANDOVER)),
            DEFERRED: DeskVisit.objects.select_related("region").filter(
                deferred_due_on__isnull=False, deferred_overdue_at__isnull=True).filter(Exists(pending))
            .filter(~_planned(DEFERRED)).filter(**({"pk__in": ids} if ids is not None else {})),
        }
        found = []
        for kind, qs in wanted.items():
            for visit in qs.iterator(chunk_size=500):
                at = deadline(visit, kind)
                if at is not None:
                    found.append(Timer(subject=SUBJECT, subject_id=visit.pk, region_id=visit.region_id, kind=kind,
                                       deadline=at, fire_at=at))
        return found

    def judge(self, timer, visit):
        done_in_time = visit.concluded_at is not None and visit.concluded_at <= timer.deadline
        if timer.kind == OPEN:
            if visit.outcome_kind or visit.flagged_at or visit.open_due_at != timer.deadline:
                return timers.CANCEL
            return timers.FIRE
        if timer.kind == ON_SITE:
            if done_in_time or (visit.on_site_at is not None and visit.on_site_at <= timer.deadline) \
                    or visit.on_site_missed_at:
                return timers.CANCEL
            return timers.FIRE
        if timer.kind == HANDOVER:
            if done_in_time or visit.park_issue or visit.handover_missed_at or (
                    visit.handed_to_clerk_at is not None and visit.handed_to_clerk_at <= timer.deadline):
                return timers.CANCEL
            return timers.FIRE
        if timer.kind == DEFERRED:
            if visit.deferred_overdue_at or deadline(visit, DEFERRED) != timer.deadline or not visit.deferred.filter(
                    received_at__isnull=True).exists():
                return timers.CANCEL
            return timers.FIRE
        return timers.CANCEL

    def fire(self, timer, visit, now):
        from qifu import notify

        at = timer.fire_at
        local = timezone.localtime(at, ZoneInfo(visit.region.rule("time_zone"))).strftime("%Y-%m-%d %H:%M")
        url = visit.get_absolute_url()
        owner = [visit.owner] if visit.owner_id and visit.owner.is_active else []
        if timer.kind == OPEN:
            visit.flagged_at, visit.flagged_owner_id = at, visit.owner_id
            fields, told = ["flagged_at", "flagged_owner"], owner + list(_dispatchers(visit))
            subject = _("Front-desk visit without an outcome: %(name)s") % {"name": visit.visitor_name}
        elif timer.kind == ON_SITE:
            visit.on_site_missed_at = at
            fields, told = ["on_site_missed_at"], owner + list(_station_heads(visit))
            subject = _("Station staff not on site in time: %(name)s") % {"name": visit.visitor_name}
        elif timer.kind == HANDOVER:
            visit.handover_missed_at = at
            fields, told = ["handover_missed_at"], owner + list(_station_heads(visit))
            subject = _("Station issue not handed to a clerk in time: %(name)s") % {"name": visit.visitor_name}
        else:
            visit.deferred_overdue_at = at
            fields, told = ["deferred_overdue_at"], owner
            subject = _("Missing materials not received by the due date: %(name)s") % {"name": visit.visitor_name}
        visit.save(update_fields=fields)
        trail.record("overdue", visit, None, {f: trail._jsonable(getattr(visit, f if not f.endswith("owner")
                                                                              else f + "_id")) for f in fields},
                     note=f"front desk: {timer.kind} missed")
        body = _("Due by %(at)s at %(node)s. Need: %(need)s") % {"at": local, "node": visit.node.name,
                                                                  "need": visit.need[:200]}
        notify.notify(told, f"frontdesk.{timer.kind}", subject, body, url=url)
        return _("%(subject)s (due %(at)s), told: %(told)s") % {
            "subject": subject, "at": local, "told": "、".join(u.display_name or u.username for u in told) or "—"}


def _dispatchers(visit: DeskVisit):
    from qifu.accounts.models import Role, User

    return User.objects.filter(is_active=True, role_grants__role=Role.DISPATCHER).filter(
        Q(node=visit.node) | Q(node__region=visit.region, node__kind="center")).distinct()


def _station_heads(visit: DeskVisit):
    """The station's post holders (A and B) and the center's dispatchers."""
    from qifu.accounts.models import User
    from qifu.org.models import Post

    posts = Post.objects.filter(node=visit.node)
    holders = User.objects.filter(is_active=True).filter(
        Q(pk__in=posts.values("holder")) | Q(pk__in=posts.values("backup")))
    return list(holders) + [u for u in _dispatchers(visit) if u not in holders]


timers.register(DeskVisitTimers())
