from django.contrib import admin

from .models import AppealItem, GuideMaterial, Listing, ServiceGuide, ServiceItem


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "node", "section", "provider_side", "frequency")
    list_filter = ("region", "provider_side", "frequency", "node")
    search_fields = ("code", "name", "content", "units_text")
    filter_horizontal = ("units",)
    list_select_related = ("node", "section")


class MaterialInline(admin.TabularInline):
    model = GuideMaterial
    extra = 1


@admin.register(ServiceGuide)
class ServiceGuideAdmin(admin.ModelAdmin):
    list_display = ("item", "handling_unit", "time_limit", "updated_at")
    search_fields = ("item__code", "item__name", "handling_unit")
    raw_id_fields = ("item",)
    inlines = [MaterialInline]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "status", "provider_unit", "submitted_at", "due_at")
    list_filter = ("region", "status", "kind")
    raw_id_fields = ("item",)
    readonly_fields = ("submitted_at", "reviewed_at", "overdue_at")


@admin.register(AppealItem)
class AppealItemAdmin(admin.ModelAdmin):
    list_display = ("appeal", "item", "request")
    list_filter = ("request",)
    raw_id_fields = ("appeal", "item")
