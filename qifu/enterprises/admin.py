from django.contrib import admin

from .models import Enterprise, LiaisonOfficer, Tag


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "jurisdiction", "industry", "size", "region")
    list_filter = ("region", "size")
    search_fields = ("name", "uscc")
    filter_horizontal = ("tags",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "category")
    list_filter = ("kind",)
    search_fields = ("name",)




@admin.register(LiaisonOfficer)
class LiaisonOfficerAdmin(admin.ModelAdmin):
    """Pairings of liaison officers (助企员) with enterprises."""

    list_display = ("user", "region", "department", "active")
    list_filter = ("region", "active")
    search_fields = ("user__username", "user__display_name", "enterprises__name")
    autocomplete_fields = ("enterprises",)
    raw_id_fields = ("user",)
