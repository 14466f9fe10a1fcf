"""GET /notifications (one's own, newest first) and POST /notifications/{id}/read."""

import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from qifu.api.pagination import Paginated
from qifu.api.schemas import errors

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


@router.get("", response={200: list[NotificationOut], **errors(400)}, summary="Your notifications, newest first")
@paginate(Paginated)
def list_notifications(request, unread: bool = False):
    qs = Notification.objects.filter(recipient=request.user)
    return qs.filter(read_at__isnull=True) if unread else qs


@router.post("/{int:notification_id}/read", response={200: NotificationOut, **errors(404)},
             summary="Mark one of yours as read")
def read_notification(request, notification_id: int):
    return mark_read(get_object_or_404(Notification, pk=notification_id, recipient=request.user))
