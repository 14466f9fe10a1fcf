from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from qifu.front.labels import permission_label

from .forms import AdminPasswordChangeForm, AdminUserCreationForm
from .models import ApiToken, RoleGrant, User


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 1


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [RoleGrantInline]
    add_form = AdminUserCreationForm  # a password chosen here is changed by the user at first sign-in
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "display_name", "region", "department", "node", "enterprise", "is_active")
    list_filter = ("role_grants__role", "region", "is_active")
    search_fields = ("username", "display_name", "phone")
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Sign-in"), {"fields": ("must_change_password",)}),
        (_("Place in the organization"), {"fields": ("display_name", "phone", "region", "jurisdiction", "node",
                                                      "department", "enterprise")}),
    )
    autocomplete_fields = ("enterprise",)

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "user_permissions":
            field.label_from_instance = permission_label
        return field


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "permissions":
            field.label_from_instance = permission_label
        return field


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request):
        return False  # tokens are issued by `qifu token create`, which shows the key once


@admin.register(AccessAttempt)
class SignInFailureAdmin(admin.ModelAdmin):
    """Sign-in failures still counting towards a lockout (qifu.accounts.lockout). Deleting a row unlocks
    that account and address at once; rows older than the lockout time no longer count."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time", "counts_until")
    search_fields = ("username", "ip_address")
    date_hierarchy = "attempt_time"
    fields = ("username", "ip_address", "failures_since_start", "attempt_time", "path_info", "user_agent")
    readonly_fields = fields

    @admin.display(description=_("counts until"))
    def counts_until(self, obj):
        return obj.attempt_time + settings.AXES_COOLOFF_TIME

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and (request.user.is_superuser or request.user.has_role("admin"))

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)  # deleting = unlocking
