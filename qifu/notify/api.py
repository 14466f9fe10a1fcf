"""GET /notifications (one's own, newest first) and POST /notifications/{id}/read."""

import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from .models import Notification
from .views import mark_read

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    event: str
    subject: str
    body: str
    url: str
    created_at: datetime.datetime
    read_at: datetime.datetime | None


@router.get("", response=list[NotificationOut], summary="Your notifications, newest first")
@paginate(LimitOffsetPagination)
def list_notifications(request, unread: bool = False):
    qs = Notification.objects.filter(recipient=request.user)
    return qs.filter(read_at__isnull=True) if unread else qs


@router.post("/{int:notification_id}/read", response=NotificationOut, summary="Mark one of yours as read")
def read_notification(request, notification_id: int):
    return mark_read(get_object_or_404(Notification, pk=notification_id, recipient=request.user))
