"""The in-app inbox: one's own notifications, newest first; mark one or all as read."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .models import Notification

PER_PAGE = 50


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])  # audited
    return notification


def _page(request):
    mine = Notification.objects.filter(recipient=request.user)
    return Paginator(mine, PER_PAGE).get_page(request.GET.get("page"))


@login_required
def inbox(request):
    return render(request, "notify/inbox.html", {"page": _page(request), "unread": unread_count(request.user)})


@login_required
@require_POST
def read_one(request, pk: int):
    note = mark_read(get_object_or_404(Notification, pk=pk, recipient=request.user))
    if request.headers.get("HX-Request"):
        return render(request, "notify/_row.html", {"n": note, "oob_unread": unread_count(request.user)})
    return redirect("inbox")


@login_required
@require_POST
def read_all(request):
    for note in Notification.objects.filter(recipient=request.user, read_at__isnull=True):
        mark_read(note)
    if request.headers.get("HX-Request"):
        return render(request, "notify/_list.html", {"page": _page(request), "unread": 0, "oob_unread": 0})
    return redirect("inbox")
