from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.admin import AuditedModelAdmin
from qualiflow.core.admin import ReadOnlyAdmin

from .models import ApiToken, ESignature, RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fields = ("role", "scope_kind", "scope_id")
    extra = 0


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    list_display = ("username", "printed_name", "email", "language", "is_active", "is_staff", "is_integration", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "is_integration", "language")
    search_fields = ("username", "first_name", "last_name", "email")
    # Access comes from role assignments, not Django groups or permissions (which would also bypass the
    # audit trail: many-to-many changes are not model saves).
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "email", "language")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "is_integration")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ()
    inlines = (RoleAssignmentInline,)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedModelAdmin):
    list_display = ("user", "role", "scope_kind", "scope_id")
    list_filter = ("role", "scope_kind")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    """Tokens are issued by the service, which shows the secret once; here they are reviewed and revoked."""

    list_display = ("name", "user", "prefix", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    fields = ("user", "name", "prefix", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("user", "prefix", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ESignature)
class ESignatureAdmin(ReadOnlyAdmin):
    list_display = ("signed_at", "printed_name", "signer", "meaning", "object_type", "object_id", "content_hash")
    list_filter = ("meaning", "object_type")
    search_fields = ("printed_name", "signer__username", "object_id", "content_hash")
    date_hierarchy = "signed_at"
