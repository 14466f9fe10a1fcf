from django.contrib import admin

from . import models


@admin.register(models.Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "model_name")


@admin.register(models.Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "level", "parent", "region")
    list_filter = ("region", "level")
    search_fields = ("name", "code")


@admin.register(models.Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "category", "region")
    list_filter = ("region", "kind")
    search_fields = ("name", "code")


@admin.register(models.ServiceNode)
class ServiceNodeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "station_type", "parent", "address", "region")
    list_filter = ("region", "kind")
    search_fields = ("name", "code", "address")


@admin.register(models.Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "lead_department", "chief_officer", "chief_specialist", "region")
    list_filter = ("region",)
    filter_horizontal = ("specialists", "other_departments")


@admin.register(models.Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "node", "lead_department", "chief_receptionist", "region")
    list_filter = ("region",)


@admin.register(models.Window)
class WindowAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "node", "zone", "region")
    list_filter = ("region",)


@admin.register(models.Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "code", "node", "section", "zone", "holder", "backup", "holder_since")
    list_filter = ("region", "node")


@admin.register(models.RosterShift)
class RosterShiftAdmin(admin.ModelAdmin):
    list_display = ("date", "node", "user", "note")
    list_filter = ("node",)
    date_hierarchy = "date"


@admin.register(models.PostChange)
class PostChangeAdmin(admin.ModelAdmin):
    list_display = ("post", "new_holder", "requested_on", "effective_on", "status", "decided_by")
    list_filter = ("status",)
    readonly_fields = ("status", "decided_by", "decided_at")
    actions = ["approve", "reject"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.requested_by = request.user
        super().save_model(request, obj, form, change)

    def get_exclude(self, request, obj=None):
        return ("requested_by",)

    @admin.action(description="Approve selected post changes")
    def approve(self, request, queryset):
        for change in queryset.filter(status=models.PostChange.Status.PENDING):
            change.decide(request.user, approve=True)

    @admin.action(description="Reject selected post changes")
    def reject(self, request, queryset):
        for change in queryset.filter(status=models.PostChange.Status.PENDING):
            change.decide(request.user, approve=False)


class BodyMembershipInline(admin.TabularInline):
    model = models.BodyMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(models.Body)
class BodyAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "function", "escalation_level", "parent", "region"]
    list_filter = ["region", "kind"]
    search_fields = ["name", "code"]
    inlines = [BodyMembershipInline]
