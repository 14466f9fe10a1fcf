"""Scenarios come from the preset file (`.presets`); the admin shows them and lets an administrator correct one.
Agency cases are worked on their page (`/agency-cases/<id>/`, every event audited): here they are read only."""

from django.contrib import admin

from .models import AgencyCase, CaseItem, Scenario, ScenarioItem


class ScenarioItemInline(admin.TabularInline):
    model = ScenarioItem
    extra = 0
    fields = ("order", "name", "kind", "sides", "units_text", "stage", "service_item", "time_limit_days")
    raw_id_fields = ("service_item",)


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "annex", "origin", "lifecycle_stage", "chain_node", "region")
    list_filter = ("region", "origin", "lifecycle_stage", "annex")
    search_fields = ("code", "name")
    inlines = [ScenarioItemInline]


class CaseItemInline(admin.TabularInline):
    model = CaseItem
    extra = 0
    can_delete = False
    fields = ("order", "name", "stage", "status", "time_limit_days", "due_at", "overdue_at", "dropped_reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AgencyCase)
class AgencyCaseAdmin(admin.ModelAdmin):
    list_display = ("id", "scenario", "enterprise", "agent", "status", "opened_at")
    list_filter = ("region", "status")
    search_fields = ("enterprise__name", "enterprise__uscc", "scenario__name")
    list_select_related = ("scenario", "enterprise", "agent")
    exclude = ("idempotency_key", "idempotency_hash")
    inlines = [CaseItemInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
