"""Listing approval (服务上架审批, seed 003 lines 1684–1782) and dynamic adjustment (动态调整, lines 679, 1816).

- A unit (a staff member of a department; dispatchers and administrators too) fills the listing form for a new online
  service or for a change to a listed one. A new service becomes an unlisted item at once (staff see it, enterprises
  do not); a change leaves the listed item as it is until approved.
- The platform — administrators and the region's dispatchers (调度, the center that keeps the catalog) — reviews it
  within the region's `listing_review_hours` (24) against the three standards of line 1697 (lawful, complete,
  accurate) and approves it (all three ticked) or sends it back with reasons; the unit corrects and submits again
  (a fresh review period). The deadline is a timer of the supervision engine (`listing_timers`).
- Dynamic adjustment: each listed item's volume over the last 365 days (appeals that name it, `AppealItem`); items
  below the region's `listing_min_yearly_volume` and lists due for their periodic review (`list_review_months`, 3)
  show up on `/catalog/adjustment/`.

Every state change is in the audit trail (the models are tracked, and each transition is recorded as such).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.audit import trail

from . import services
from .models import Listing, ListReview, ServiceItem, ServiceType

FORM_FIELDS = ("name", "service_type", "description", "online_channel", "provider_unit", "provider_opinion",
               "provider_head", "provider_signed_on", "lead_unit", "lead_opinion", "lead_head", "lead_signed_on",
               "remarks", "internal_checked")
# What approval writes onto the item (服务类型 becomes the first-level category, as the seeds' lists name it).
# The words are the seed's (data, like the catalog's categories), not interface text.
TYPE_CATEGORY = {ServiceType.TALENT: "人才服务", ServiceType.TECHNOLOGY: "科技服务", ServiceType.POLICY: "政策服务",
                 ServiceType.FINANCE: "金融服务", ServiceType.OPENING: "开放服务", ServiceType.LEGAL: "法制服务",
                 ServiceType.APPEAL: "诉求服务", ServiceType.FALLBACK: "兜底服务"}


class ListingError(Exception):
    """A step the listing's state or the user's rights do not allow (the pages answer 400 or show it)."""


def _role(user, role) -> bool:
    return services.is_staff(user) and user.has_role(role)


def may_review(user, region_id=None) -> bool:
    """The platform's reviewers: administrators and dispatchers of the region."""
    from qifu.accounts.models import Role

    if scopes.is_admin(user):
        return True
    if not _role(user, Role.DISPATCHER):
        return False
    return region_id is None or region_id == scopes.home_region_id(user)


def may_submit(user) -> bool:
    """A unit's staff (a user with a department), dispatchers and administrators."""
    return scopes.is_admin(user) or (services.is_staff(user) and (bool(user.department_id) or may_review(user)))


def listings(user) -> QuerySet[Listing]:
    """The listing forms a user sees: reviewers their region's (administrators every region's); a unit's staff
    those of their unit (as provider or lead unit) and their own."""
    qs = Listing.objects.select_related("item", "provider_unit", "lead_unit", "submitted_by", "reviewed_by")
    if scopes.is_admin(user):
        return qs
    if not services.is_staff(user):
        return qs.none()
    qs = qs.filter(region_id=scopes.home_region_id(user))
    if may_review(user):
        return qs
    mine = Q(submitted_by=user)
    if user.department_id:
        mine |= Q(provider_unit_id=user.department_id) | Q(lead_unit_id=user.department_id)
    return qs.filter(mine)


def may_correct(user, listing: Listing) -> bool:
    return listing.status == Listing.Status.REJECTED and listings(user).filter(pk=listing.pk).exists()


def due_at(region, at: datetime.datetime) -> datetime.datetime:
    return at + datetime.timedelta(hours=int(region.rule("listing_review_hours")))


def _reviewers(region):
    from qifu.accounts.models import Role, User

    return User.objects.filter(region=region, is_active=True, role_grants__role=Role.DISPATCHER).distinct()


def _tell_reviewers(listing: Listing) -> None:
    from qifu import notify

    notify.notify(_reviewers(listing.region), "catalog.listing_submitted",
                  _("Listing form to review: %(name)s") % {"name": listing.name},
                  _("Review by %(due)s.") % {"due": timezone.localtime(listing.due_at).strftime("%Y-%m-%d %H:%M")},
                  url=listing.get_absolute_url())


def _fill(listing: Listing, data: dict) -> None:
    for name in FORM_FIELDS:
        if name in data:
            setattr(listing, name, data[name])


def open_listing(item: ServiceItem) -> Listing | None:
    """The item's listing form still in review or sent back (at most one)."""
    return item.listings.exclude(status=Listing.Status.APPROVED).first()


def submit(user, region, data: dict, item: ServiceItem | None = None) -> Listing:
    """A new online service (`item` None: an unlisted item is created from the form) or a change to `item`."""
    if not may_submit(user):
        raise ListingError(_("You may not submit listing forms."))
    if not data.get("internal_checked"):
        raise ListingError(_("Review the content internally and test the service before submitting it."))
    now = timezone.now()
    with transaction.atomic():
        if item is None:
            item = ServiceItem(region=region, code=_new_code(region), listed=False,
                               provider_side=ServiceItem.ProviderSide.GOVERNMENT)
            _write_item(item, data)
            item.save()
            kind = Listing.Kind.NEW
        else:
            item = ServiceItem.objects.select_for_update().get(pk=item.pk)
            if open_listing(item) is not None:
                raise ListingError(_("This service already has a listing form in review or sent back."))
            kind = Listing.Kind.CHANGE if item.listed else Listing.Kind.NEW
        listing = Listing(region=region, item=item, kind=kind, submitted_by=user, submitted_at=now,
                          due_at=due_at(region, now))
        _fill(listing, data)
        listing.save()
        trail.record("transition", listing, None, {"status": listing.status, "kind": listing.kind},
                     note="submitted", actor=user)
        _tell_reviewers(listing)
    return listing


def correct(user, listing: Listing, data: dict) -> Listing:
    """The unit corrects a listing form that was sent back and submits it again (a fresh review period)."""
    if not may_correct(user, listing):
        raise ListingError(_("Only a listing form sent back can be corrected, by its unit."))
    if not data.get("internal_checked"):
        raise ListingError(_("Review the content internally and test the service before submitting it."))
    now = timezone.now()
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        if listing.status != Listing.Status.REJECTED:
            raise ListingError(_("Only a listing form sent back can be corrected, by its unit."))
        before = {"status": listing.status, "rounds": listing.rounds}
        _fill(listing, data)
        listing.status = Listing.Status.SUBMITTED
        listing.rounds += 1
        listing.submitted_at, listing.due_at, listing.overdue_at = now, due_at(listing.region, now), None
        listing.reviewed_by = listing.reviewed_at = None
        listing.lawful = listing.complete = listing.accurate = False
        listing.save()
        if listing.kind == Listing.Kind.NEW:
            item = listing.item
            _write_item(item, _data_of(listing))
            item.save()
        trail.record("transition", listing, before, {"status": listing.status, "rounds": listing.rounds},
                     note="corrected and submitted again", actor=user)
        _tell_reviewers(listing)
    return listing


def review(user, listing: Listing, *, approve: bool, lawful: bool, complete: bool, accurate: bool,
           reasons: str = "") -> Listing:
    """Approve (all three standards met) or send back with reasons."""
    if not may_review(user, listing.region_id):
        raise ListingError(_("Only the platform's reviewers may review listing forms."))
    reasons = (reasons or "").strip()
    if approve and not (lawful and complete and accurate):
        raise ListingError(_("A listing is approved only when it is lawful, complete and accurate."))
    if not approve and not reasons:
        raise ListingError(_("Give the reasons the listing is sent back."))
    now = timezone.now()
    with transaction.atomic():
        listing = Listing.objects.select_for_update().select_related("item", "region").get(pk=listing.pk)
        if listing.status != Listing.Status.SUBMITTED:
            raise ListingError(_("This listing form is not awaiting review."))
        before = {"status": listing.status}
        listing.status = Listing.Status.APPROVED if approve else Listing.Status.REJECTED
        listing.lawful, listing.complete, listing.accurate = lawful, complete, accurate
        listing.reasons, listing.reviewed_by, listing.reviewed_at = reasons, user, now
        listing.save()
        if approve:
            item = listing.item
            _write_item(item, _data_of(listing))
            item.listed = True
            item.save()
            item.units.add(listing.provider_unit)
        trail.record("transition", listing, before, {"status": listing.status, "reasons": reasons},
                     note="approved" if approve else "sent back", actor=user)
        _tell_unit(listing)
    return listing


def _tell_unit(listing: Listing) -> None:
    from qifu import notify
    from qifu.accounts.models import User

    people = User.objects.filter(Q(pk=listing.submitted_by_id) | Q(department=listing.provider_unit, is_active=True))
    if listing.status == Listing.Status.APPROVED:
        subject = _("Listing approved: %(name)s") % {"name": listing.name}
        body = ""
    else:
        subject = _("Listing sent back: %(name)s") % {"name": listing.name}
        body = listing.reasons
    notify.notify(people, "catalog.listing_reviewed", subject, body, url=listing.get_absolute_url())


def _data_of(listing: Listing) -> dict:
    return {name: getattr(listing, name) for name in FORM_FIELDS}


def _write_item(item: ServiceItem, data: dict) -> None:
    item.name = data["name"]
    item.category1 = TYPE_CATEGORY.get(data["service_type"], item.category1)
    item.content = data["description"]
    item.online_channel = data["online_channel"]
    if not item.units_text and data.get("provider_unit") is not None:
        item.units_text = data["provider_unit"].name


def _new_code(region) -> str:
    n = ServiceItem.objects.filter(region=region, code__startswith=f"{region.code}-ol-").count() + 1
    while ServiceItem.objects.filter(code=f"{region.code}-ol-{n:03d}").exists():
        n += 1
    return f"{region.code}-ol-{n:03d}"


def narrow(qs: QuerySet, *, status: str = "", kind: str = "", overdue: bool = False, q: str = "") -> QuerySet:
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if overdue:
        qs = qs.filter(status=Listing.Status.SUBMITTED, due_at__lt=timezone.now())
    for word in services.terms(q):
        qs = qs.filter(Q(name__icontains=word) | Q(description__icontains=word)
                       | Q(provider_unit__name__icontains=word))
    return qs


def to_review(user) -> QuerySet[Listing]:
    """The reviewer's queue: forms awaiting review, the oldest deadline first."""
    if not may_review(user):
        return Listing.objects.none()
    return listings(user).filter(status=Listing.Status.SUBMITTED).order_by("due_at", "id")


# --- dynamic adjustment -----------------------------------------------------------------------------

def volumes(region, now: datetime.datetime | None = None) -> QuerySet[ServiceItem]:
    """The region's listed items with `volume`: the appeals received in the last 365 days that name them."""
    since = (now or timezone.now()) - datetime.timedelta(days=365)
    return (ServiceItem.objects.filter(region=region, listed=True).select_related("node")
            .annotate(volume=Count("appeal_links", filter=Q(appeal_links__appeal__received_at__gte=since))))


def low_volume(region) -> QuerySet[ServiceItem]:
    """Listed items below the region's yearly volume, the least used first."""
    return (volumes(region).filter(volume__lt=int(region.rule("listing_min_yearly_volume")))
            .order_by("volume", F("node__code").asc(nulls_first=True), "seq", "code"))  # the common list first


def lists_due(region, now: datetime.datetime | None = None) -> list[dict]:
    """Each list (the common list; each node's) with when it was last reviewed (or its first item, if never) and
    whether its periodic review is due: {"node", "since", "reviewed", "due_on", "due"}."""
    from qifu.org.models import add_months

    now = now or timezone.now()
    months = int(region.rule("list_review_months"))
    firsts = {row["node"]: row["first"] for row in ServiceItem.objects.filter(region=region, listed=True)
              .values("node").annotate(first=Min("created_at")).order_by()}
    reviews = {row["node"]: row["last"] for row in ListReview.objects.filter(region=region)
               .values("node").annotate(last=Max("reviewed_at")).order_by()}
    nodes = {n.pk: n for n in region.nodes.filter(pk__in=[k for k in firsts if k])}
    rows = []
    for key in sorted(firsts, key=lambda k: (k is not None, nodes[k].code if k else "")):
        since = reviews.get(key) or firsts[key]
        due_on = datetime.datetime.combine(add_months(since.date(), months), since.timetz())
        rows.append({"node": nodes.get(key), "since": since, "reviewed": key in reviews, "due_on": due_on,
                     "due": due_on <= now, "code": nodes[key].code if key else services.COMMON})
    return rows


def mark_reviewed(user, region, node=None, note: str = "") -> ListReview:
    if not may_review(user, region.pk):
        raise ListingError(_("Only the platform's reviewers may review listing forms."))
    return ListReview.objects.create(region=region, node=node, reviewed_by=user, note=note.strip())
