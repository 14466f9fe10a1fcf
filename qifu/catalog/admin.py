from django.contrib import admin

from .models import ServiceItem


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "node", "section", "provider_side", "frequency")
    list_filter = ("region", "provider_side", "frequency", "node")
    search_fields = ("code", "name", "content", "units_text")
    filter_horizontal = ("units",)
    list_select_related = ("node", "section")
