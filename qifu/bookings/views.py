"""Pages of appointments and queue numbers (phone-friendly):

- `/bookings/`: pick a node, then a window or service, then a day, then a slot with places left, and book it; the
  user's own appointments with a cancel button;
- `/bookings/desk/`: desk staff see the appointments per node, window, status and day (Excel), and check visitors
  in or mark no-shows;
- `/bookings/queue/<node>/`: the board of waiting counts per window (refreshed by HTMX polling), with "call next"
  for desk staff; `/bookings/queue/<node>/take/`: the kiosk that gives a walk-in a number."""

import datetime
import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qifu.accounts import scopes
from qifu.lib import exports

from . import services
from .forms import BookForm, DeskFilterForm
from .models import Slot


def _selection(request, user):
    """The node, target and day chosen so far on the booking page (each None until chosen)."""
    node = target = kind = day = None
    node_code = request.GET.get("node", "")
    if node_code:
        node = services.nodes(user).filter(code=node_code).first()
    choice = request.GET.get("target", "")
    if node is not None and ":" in choice:
        kind, code = choice.split(":", 1)
        if kind in ("window", "section", "service"):
            try:
                node, target = services.resolve(user, node.code, kind, code)
            except Http404:
                kind = target = None
        else:
            kind = None
    if target is not None and request.GET.get("day"):
        try:
            day = datetime.date.fromisoformat(request.GET["day"])
        except ValueError:
            day = None
    return node, kind, target, day


def _days(node, kind, target) -> list[datetime.date]:
    """The local days ahead with at least one slot that has a place left."""
    zone = zoneinfo.ZoneInfo(node.region.rule("time_zone"))
    starts = (services.slots_of(node, kind, target).filter(start__gt=timezone.now())
              .filter(booked__lt=F("capacity")).values_list("start", flat=True))
    return sorted({start.astimezone(zone).date() for start in starts})[:14]


@login_required
def booking_home(request):
    user = request.user
    if not services.may_book(user):
        raise PermissionDenied
    node, kind, target, day = _selection(request, user)
    staff = not scopes.enterprise_only(user)
    context = {"nodes": services.nodes(user), "node": node, "kind": kind, "target": target, "day": day,
               "staff": staff}
    if node is not None:
        context["targets"] = services.targets(node)
    if target is not None:
        context["days"] = _days(node, kind, target)
    if day is not None:
        initial = {} if staff else {"name": user.display_name, "phone": user.phone}
        context["slots"] = [(slot, BookForm(initial={**initial, "slot": slot.pk}, staff=staff, auto_id=f"s{slot.pk}_%s"))
                            for slot in services.free_slots(node, kind, target, day)]
    mine = services.bookings(user).filter(booked_by=user) if staff else services.bookings(user)
    context["mine"] = mine.filter(slot__end__gte=timezone.now() - datetime.timedelta(days=1)).order_by(
        "slot__start", "id")[:50]
    return render(request, "bookings/home.html", context)


@login_required
@require_POST
def booking_book(request):
    user = request.user
    staff = not scopes.enterprise_only(user)
    form = BookForm(request.POST, staff=staff)
    back = request.POST.get("back", "")
    back = back if back.startswith("/bookings/") else reverse("booking_home")
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    data = form.cleaned_data
    slot = Slot.objects.filter(pk=data["slot"], node__in=services.nodes(user)).first()
    if slot is None:
        raise Http404
    try:
        enterprise = services.enterprise_for(user, data.get("enterprise_uscc"))
        booking, _created = services.book(user, slot, name=data["name"], phone=data["phone"], enterprise=enterprise,
                                          note=data.get("note") or "")
    except services.BookingError as error:
        if error.status_code == 403:
            raise PermissionDenied(str(error)) from None
        messages.error(request, str(error))
        return redirect(back)
    start = timezone.localtime(slot.start)
    messages.success(request, _("Booked: %(target)s, %(day)s %(start)s–%(end)s. Please come on time.") % {
        "target": slot.target, "day": start.strftime("%Y-%m-%d"), "start": start.strftime("%H:%M"),
        "end": timezone.localtime(slot.end).strftime("%H:%M")})
    return redirect(reverse("booking_home") + "#mine")


@login_required
@require_POST
def booking_cancel(request, pk: int):
    booking = get_object_or_404(services.bookings(request.user), pk=pk)
    try:
        services.cancel(request.user, booking)
    except services.BookingError as error:
        if error.status_code == 403:
            raise PermissionDenied(str(error)) from None
        messages.error(request, str(error))
    else:
        messages.success(request, _("The appointment was cancelled; its place is free again."))
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/bookings/") else reverse("booking_home") + "#mine")


@login_required
@require_POST
def booking_mark(request, pk: int):
    booking = get_object_or_404(services.bookings(request.user), pk=pk)
    try:
        booking = services.mark(request.user, booking, request.POST.get("outcome", ""))
    except services.BookingError as error:
        if error.status_code == 403:
            raise PermissionDenied(str(error)) from None
        messages.error(request, str(error))
    else:
        window = booking.slot.window
        if request.POST.get("ticket") and window is not None and booking.status == booking.Status.ATTENDED:
            ticket = services.take_ticket(request.user, window, booking=booking)  # the booked visitor's number
            messages.success(request, _("%(name)s checked in: number %(number)s at %(window)s.") % {
                "name": booking.name, "number": ticket.label, "window": window.name})
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/bookings/") else reverse("booking_desk"))


@login_required
def booking_desk(request):
    """The appointments of a node for the desk: by default today's."""
    user = request.user
    if not services.may_watch(user):
        raise PermissionDenied
    from qifu.org.models import Window

    nodes = list(services.nodes(user))
    windows = Window.objects.filter(node__in=nodes).select_related("node").order_by("node__code", "sort_order")
    data = request.GET
    if not data:
        today = timezone.localdate().isoformat()
        data = {"date_from": today, "date_to": today}
    form = DeskFilterForm(data, nodes=nodes, windows=windows)
    qs = form.apply(services.bookings(user)).order_by("slot__start", "slot__node__code", "id")
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return exports.export_list(_("Appointments"), [
            (_("start"), lambda b: b.slot.start), (_("end"), lambda b: b.slot.end),
            (_("service node"), lambda b: b.slot.node.name), (_("window or service"), lambda b: str(b.slot.target)),
            (_("visitor's name"), lambda b: b.name), (_("phone"), lambda b: b.phone),
            (_("enterprise"), lambda b: b.enterprise.name if b.enterprise_id else ""),
            (_("status"), lambda b: b.get_status_display()), (_("booked at"), lambda b: b.created_at),
            (_("checked in at"), lambda b: b.attended_at), (_("cancelled at"), lambda b: b.cancelled_at),
        ], qs, name="appointments")
    return render(request, "bookings/desk.html", {
        "form": form, "bookings": Paginator(qs, 50).get_page(request.GET.get("page")),
        "may_mark": services.may_work_desk(user), "now": timezone.now(),
        "back": request.get_full_path()})


# --- queue numbers ---------------------------------------------------------------------------------------------

def _node(user, code: str):
    node = services.nodes(user).filter(code=code).first()
    if node is None:
        raise Http404
    return node


@login_required
def queue_index(request):
    nodes = [n for n in services.nodes(request.user) if n.windows.exists()]
    if not services.may_watch(request.user) and not services.may_book(request.user):
        raise PermissionDenied
    return render(request, "bookings/queue_index.html", {"nodes": nodes})


@login_required
def queue_board(request, node: str):
    node = _node(request.user, node)
    return render(request, "bookings/queue_board.html", {
        "node": node, "rows": services.board(node), "may_call": services.may_work_desk(request.user),
        "today": timezone.localdate()})


@login_required
def queue_board_rows(request, node: str):
    """The board's table, polled by HTMX every few seconds."""
    node = _node(request.user, node)
    return render(request, "bookings/_queue_rows.html", {
        "node": node, "rows": services.board(node), "may_call": services.may_work_desk(request.user)})


@login_required
def queue_take(request, node: str):
    """The kiosk: choose a window, get a number (and how many are waiting before you)."""
    node = _node(request.user, node)
    ticket = ahead = None
    if request.method == "POST":
        window = node.windows.filter(code=request.POST.get("window", "")).first()
        if window is None:
            raise BadRequest(_("Choose a window."))
        booking = None
        if request.POST.get("booking"):
            booking = services.bookings(request.user).filter(pk=_int(request.POST["booking"])).first()
        ticket = services.take_ticket(request.user, window, booking=booking)
        ahead = services.waiting_before(ticket)
    return render(request, "bookings/queue_take.html", {
        "node": node, "rows": services.board(node), "ticket": ticket, "ahead": ahead})


def _int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(_("The request is not valid.")) from None
    if not 1 <= number <= 2**63 - 1:
        raise BadRequest(_("The request is not valid."))
    return number


@login_required
@require_POST
def queue_call(request, node: str, window: str):
    node = _node(request.user, node)
    window = get_object_or_404(node.windows, code=window)
    try:
        ticket = services.call_next(request.user, window)
    except services.BookingError as error:
        raise PermissionDenied(str(error)) from None
    if ticket is None:
        messages.info(request, _("Nobody is waiting at %(window)s.") % {"window": window.name})
    else:
        messages.success(request, _("Number %(number)s, please come to %(window)s.") % {
            "number": ticket.label, "window": window.name})
    return redirect(reverse("queue_board", args=[node.code]))
