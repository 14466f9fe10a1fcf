from django.contrib import admin

from .models import GuideMaterial, ServiceGuide, ServiceItem


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
