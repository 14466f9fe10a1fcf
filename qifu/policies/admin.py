from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    ApplicationStatus,
    ClauseMatches,
    Payout,
    Policy,
    PolicyClause,
)


class ClauseInline(admin.StackedInline):
    model = PolicyClause
    extra = 0
    fields = ("code", "title", "no_application", "conditions", "benefit", "apply_from", "apply_to", "review_days",
              "materials", "contact", "sort_order")


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "level", "department", "status", "effective_from", "effective_to")
    list_filter = ("region", "level", "status")
    search_fields = ("code", "title", "document_number")
    inlines = [ClauseInline]
    readonly_fields = ("published_at", "created_by")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.after_policy_change(form.instance)


@admin.register(PolicyClause)
class PolicyClauseAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "policy", "no_application", "apply_from", "apply_to")
    list_filter = ("no_application", "policy__region")
    search_fields = ("code", "title")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.after_clause_change(obj)


@admin.register(ClauseMatches)
class ClauseMatchesAdmin(admin.ModelAdmin):
    list_display = ("clause", "eligible", "unknown", "amount", "computed_at")
    search_fields = ("clause__code",)
    exclude = ("eligible_ids", "unknown_ids")
    raw_id_fields = ("clause",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    list_display = ("clause", "enterprise", "amount", "status", "paid_amount", "paid_on", "reference")
    list_filter = ("status",)
    search_fields = ("enterprise__name", "clause__code", "reference")
    raw_id_fields = ("enterprise", "clause", "application")


class EventInline(admin.TabularInline):
    model = ApplicationEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("seq", "action_label", "actor", "at", "from_label", "to_label", "note")

    @admin.display(description=_("action"))
    def action_label(self, obj):
        from .applications import ACTION_LABELS

        return ACTION_LABELS.get(obj.action, obj.action)

    @admin.display(description=_("from"))
    def from_label(self, obj):
        return ApplicationStatus(obj.from_status).label if obj.from_status else "—"

    @admin.display(description=_("to"))
    def to_label(self, obj):
        return ApplicationStatus(obj.to_status).label if obj.to_status else "—"

    def has_add_permission(self, request, obj=None):
        return False


class MaterialInline(admin.TabularInline):
    """Read-only: materials come in only through an application, past the upload check (qifu.lib.uploads)."""

    model = ApplicationMaterial
    extra = 0
    can_delete = False
    readonly_fields = ("name", "file", "uploaded_by", "uploaded_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Read-only: applications move only through their state machine (qifu.policies.applications)."""

    list_display = ("number", "clause", "enterprise", "status", "submitted_at", "review_due", "amount")
    list_filter = ("status",)
    search_fields = ("enterprise__name", "clause__code")
    inlines = [MaterialInline, EventInline]
    readonly_fields = ("clause", "enterprise", "applicant", "note", "status", "version", "submitted_at", "review_due",
                       "decided_at", "decision_note", "amount")

    @admin.display(description=_("number"), ordering="pk")
    def number(self, obj):
        return obj.pk

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # its events are append-only (qifu.audit.protect): the database refuses to delete them
