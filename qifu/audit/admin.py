from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry

SOURCES = {"web": _("web page"), "api": _("API"), "cli": _("command line"), "system": _("system")}


class SourceFilter(admin.SimpleListFilter):
    title = _("source")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return list(SOURCES.items())

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.RelatedFieldListFilter):
    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("object type")

    def field_choices(self, field, request, model_admin):
        types = AuditEntry.objects.values_list("content_type", flat=True).distinct()
        from django.contrib.contenttypes.models import ContentType

        return sorted(((ct.pk, str(ct.model_class()._meta.verbose_name) if ct.model_class() else str(ct))
                       for ct in ContentType.objects.filter(pk__in=types)), key=lambda c: c[1])


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Browse-only: nobody adds, changes or deletes audit entries through the application."""

    list_display = ("at", "actor_username", "source_label", "action", "object_type", "object_repr")
    list_select_related = ("content_type",)  # object_type reads it: one query for the page, not one per row
    list_filter = ("action", SourceFilter, ("content_type", ObjectTypeFilter))
    search_fields = ("object_repr", "actor_username", "object_id", "note")
    date_hierarchy = "at"
    readonly_fields = [f.name if f.name != "source" else "source_label" for f in AuditEntry._meta.fields] + [
        "changes_table"]
    exclude = ("before", "after", "source")

    @admin.display(description=_("source"), ordering="source")
    def source_label(self, obj):
        return SOURCES.get(obj.source, obj.source)

    @admin.display(description=_("object type"), ordering="content_type")
    def object_type(self, obj):
        return obj.content_type.model_class()._meta.verbose_name if obj.content_type.model_class() else obj.content_type

    @admin.display(description=_("changes"))
    def changes_table(self, obj):
        model = obj.content_type.model_class()

        def label(name):
            try:
                return model._meta.get_field(name).verbose_name if model else name
            except Exception:  # a key that is not a field (e.g. a transition's "action")
                return gettext(name)

        rows = obj.changes().items()  # the values are data as stored: shown as they are
        return format_html_join("\n", '<div><b>{}</b>: <span translate="no">{} → {}</span></div>',
                                ((label(k), b, a) for k, (b, a) in rows))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and (request.user.is_superuser or request.user.has_role("admin"))
