from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Browse-only: nobody adds, changes or deletes audit entries through the application."""

    list_display = ("at", "actor_username", "source", "action", "content_type", "object_repr")
    list_filter = ("action", "source", "content_type")
    search_fields = ("object_repr", "actor_username", "object_id", "note")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields] + ["changes_table"]
    exclude = ("before", "after")

    @admin.display(description=_("changes"))
    def changes_table(self, obj):
        rows = obj.changes().items()
        return format_html_join("\n", "<div><b>{}</b>: {} → {}</div>", ((k, b, a) for k, (b, a) in rows))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and (request.user.is_superuser or request.user.has_role("admin"))
