from django.contrib import admin
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qifu import jobs
from qifu.audit.trail import record

from .models import DingTalkIdentity, JobRun, Notification, OutboxMessage


@admin.register(DingTalkIdentity)
class DingTalkIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "userid")
    search_fields = ("user__username", "user__display_name", "userid")
    autocomplete_fields = ("user",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("subject", "recipient", "event", "created_at", "read_at")
    list_filter = ("event",)
    search_fields = ("subject", "recipient__username")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("subject", "channel", "address", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("address", "subject", "recipient__username")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send again now"))
    def retry_now(self, request, queryset):
        n = 0
        with transaction.atomic():
            for message in queryset.exclude(status=OutboxMessage.Status.SENT):
                before = {"status": message.status, "attempts": message.attempts}
                OutboxMessage.objects.filter(pk=message.pk).update(
                    status=OutboxMessage.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
                )
                record("update", message, before, {"status": "pending", "attempts": 0}, note="send again")
                n += 1
            if n:
                jobs.defer("notify.deliver")
        self.message_user(request, _("%(n)d messages queued again.") % {"n": n})


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("name", "last_started_at", "last_finished_at", "locked_until")
    readonly_fields = ("name", "last_started_at", "last_finished_at", "locked_until")

    def has_add_permission(self, request):
        return False
