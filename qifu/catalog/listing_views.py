"""Pages of listing approval (服务上架审批) and dynamic adjustment (动态调整): the listing form for a new online
service or a change, the review queue (filters, Excel), a form with the platform's review, correction after being
sent back, and the adjustment page. Rules: `.listing`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.lib import exports

from . import listing, services
from .forms import ListingFilterForm, ListingForm, ListingReviewForm
from .models import Listing


def _region(user):
    region = scopes.regions(user).filter(pk=scopes.home_region_id(user)).first() or scopes.regions(user).first()
    if region is None:
        raise PermissionDenied
    return region


def _submit_page(request, form, item=None, current=None, correcting=None):
    region = _region(request.user)
    return render(request, "catalog/listing_form.html", {"form": form, "item": item, "current": current,
                                                         "correcting": correcting,
                                                         "hours": region.rule("listing_review_hours")})


@login_required
def listing_new(request):
    """A unit submits a new online service for listing."""
    user = request.user
    if not listing.may_submit(user):
        raise PermissionDenied
    region = _region(user)
    form = ListingForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            created = listing.submit(user, region, form.cleaned_data)
        except listing.ListingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The listing form was submitted for review."))
            return redirect("catalog_listing", pk=created.pk)
    return _submit_page(request, form)


@login_required
def listing_change(request, code: str):
    """A change to a listed item goes through the same review; the item stays as it is until approved."""
    user = request.user
    if not listing.may_submit(user):
        raise PermissionDenied
    item = get_object_or_404(services.items(user), code=code)
    pending = listing.open_listing(item)
    if pending is not None:
        messages.info(request, _("This service already has a listing form in review or sent back."))
        return redirect("catalog_listing", pk=pending.pk)
    last = item.listings.filter(status=Listing.Status.APPROVED).order_by("-reviewed_at", "-id").first()
    initial = {"name": item.name, "description": item.content, "online_channel": item.online_channel,
               "service_type": {v: k for k, v in listing.TYPE_CATEGORY.items()}.get(item.category1, "")}
    if last is not None:
        initial.update({name: getattr(last, name + "_id" if name in ("provider_unit", "lead_unit") else name)
                        for name in ("provider_unit", "lead_unit", "provider_head", "lead_head")})
    form = ListingForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = listing.submit(user, item.region, form.cleaned_data, item=item)
        except listing.ListingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The listing form was submitted for review."))
            return redirect("catalog_listing", pk=created.pk)
    return _submit_page(request, form, item=item, current=item)


@login_required
def listing_list(request):
    """The listing forms: the reviewer's queue (the region's), a unit's own; filters and Excel."""
    user = request.user
    if not services.is_staff(user):
        raise PermissionDenied
    form = ListingFilterForm(request.GET or None)
    qs = listing.listings(user)
    if form.is_bound and not form.is_valid():
        qs = qs.none()
    filters = form.filters()
    qs = listing.narrow(qs, **filters)
    if filters.get("status") == Listing.Status.SUBMITTED or filters.get("overdue"):
        qs = qs.order_by("due_at", "id")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("Listing forms"), [
            (_("service name"), lambda x: x.name), (_("service type"), lambda x: x.get_service_type_display()),
            (_("kind"), lambda x: x.get_kind_display()), (_("status"), lambda x: x.get_status_display()),
            (_("service provider unit"), lambda x: x.provider_unit.name), (_("lead unit"), lambda x: x.lead_unit.name),
            (_("submitted by"), lambda x: x.submitted_by.display_name or x.submitted_by.username),
            (_("submitted at"), lambda x: x.submitted_at), (_("review due by"), lambda x: x.due_at),
            (_("overdue"), lambda x: x.is_overdue or bool(x.overdue_at)), (_("submissions"), lambda x: x.rounds),
            (_("reviewed at"), lambda x: x.reviewed_at), (_("reasons"), lambda x: x.reasons),
        ], qs, name="listing-forms")
    return render(request, "catalog/listing_list.html", {
        "form": form, "listings": Paginator(qs, 30).get_page(request.GET.get("page")),
        "may_submit": listing.may_submit(user), "may_review": listing.may_review(user)})


@login_required
def listing_detail(request, pk: int):
    """One listing form; the reviewer's review form while it awaits review; the unit's correction when sent back."""
    user = request.user
    item = get_object_or_404(listing.listings(user), pk=pk)
    reviewer = listing.may_review(user, item.region_id) and item.status == Listing.Status.SUBMITTED
    review_form = ListingReviewForm(request.POST or None) if reviewer else None
    if request.method == "POST":
        if review_form is None:
            raise BadRequest(_("This listing form is not awaiting your review."))
        if review_form.is_valid():
            data = review_form.cleaned_data
            try:
                listing.review(user, item, approve=data["decision"] == "approve", lawful=data["lawful"],
                               complete=data["complete"], accurate=data["accurate"], reasons=data["reasons"])
            except listing.ListingError as error:
                review_form.add_error(None, str(error))
            else:
                messages.success(request, _("The review was recorded."))
                return redirect("catalog_listing", pk=item.pk)
    history = item.item.listings.exclude(pk=item.pk).select_related("reviewed_by").order_by("-submitted_at")
    return render(request, "catalog/listing_detail.html", {
        "listing": item, "review_form": review_form, "may_correct": listing.may_correct(user, item),
        "history": history, "current": item.item if item.kind == Listing.Kind.CHANGE else None})


@login_required
def listing_correct(request, pk: int):
    """The unit corrects a form that was sent back and submits it again."""
    user = request.user
    item = get_object_or_404(listing.listings(user), pk=pk)
    if not listing.may_correct(user, item):
        raise PermissionDenied
    form = ListingForm(request.POST or None, instance=item, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            listing.correct(user, item, form.cleaned_data)
        except listing.ListingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The listing form was submitted for review."))
            return redirect("catalog_listing", pk=item.pk)
    return _submit_page(request, form, current=item.item if item.kind == Listing.Kind.CHANGE else None,
                        correcting=item)


@login_required
def adjustment(request):
    """Dynamic adjustment for the platform: items below the yearly volume, lists due for their periodic review."""
    from qifu.org.models import ServiceNode

    user = request.user
    if not listing.may_review(user):
        raise PermissionDenied
    region = _region(user)
    if request.method == "POST":
        code = request.POST.get("list", "")
        node = None
        if code != services.COMMON:
            node = ServiceNode.objects.filter(region=region, code=code).first()
            if node is None:
                raise BadRequest(_("Unknown list."))
        listing.mark_reviewed(user, region, node, request.POST.get("note", "")[:2000])
        messages.success(request, _("The list's review was recorded."))
        return redirect("catalog_adjustment")
    low = listing.low_volume(region)
    if exports.wants_xlsx(request):
        return exports.export_list(_("Items below the yearly volume"), [
            (_("code"), lambda i: i.code), (_("list"), lambda i: i.node.name if i.node else _("common list (共性清单)")),
            (_("service item"), lambda i: i.name), (_("yearly volume"), lambda i: i.volume),
        ], low, name="low-volume-items")
    return render(request, "catalog/adjustment.html", {
        "region": region, "low": Paginator(low, 50).get_page(request.GET.get("page")),
        "minimum": region.rule("listing_min_yearly_volume"), "months": region.rule("list_review_months"),
        "lists": listing.lists_due(region)})
