from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Booking, QueueTicket, Slot, SlotPlan


@admin.register(SlotPlan)
class SlotPlanAdmin(admin.ModelAdmin):
    list_display = ("node", "window", "section", "service", "weekdays", "slot_minutes", "capacity", "active")
    list_filter = ("region", "active", "node")
    raw_id_fields = ("service",)
    actions = ["generate_slots"]

    @admin.action(description=_("Create the time slots of the next working days"))
    def generate_slots(self, request, queryset):
        created = 0
        for region_id in queryset.values_list("region_id", flat=True).distinct():
            plans = queryset.filter(region_id=region_id)
            try:
                created += services.generate(plans.first().region, plans=plans)
            except services.BookingError as error:
                self.message_user(request, str(error), messages.ERROR)
                return
        self.message_user(request, ngettext("%(n)d time slot created.", "%(n)d time slots created.", created)
                          % {"n": created}, messages.SUCCESS)


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = ("start", "end", "node", "window", "section", "service", "capacity", "booked")
    list_filter = ("region", "node")
    date_hierarchy = "start"
    raw_id_fields = ("service",)
    readonly_fields = ("booked",)


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-only: bookings change through the pages and the API (places, timers and the audit trail)."""

    list_display = ("name", "phone", "slot", "enterprise", "status", "created_at")
    list_filter = ("region", "status")
    search_fields = ("name", "phone", "enterprise__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(QueueTicket)
class QueueTicketAdmin(admin.ModelAdmin):
    list_display = ("day", "window", "number", "status", "taken_at", "called_at")
    list_filter = ("region", "node", "status")
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
