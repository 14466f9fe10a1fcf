from django.contrib import admin

from .models import Enterprise, Tag


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


