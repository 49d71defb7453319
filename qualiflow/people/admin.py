from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.admin import AuditedModelAdmin

from .models import Employee, PositionAssignment


class PositionAssignmentInline(admin.TabularInline):
    """History is kept by the position-change service; shown here, not edited."""

    model = PositionAssignment
    fields = ("position", "start_date", "end_date")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Employee)
class EmployeeAdmin(AuditedModelAdmin):
    list_display = (
        "employee_number", "full_name", "latin_name", "employment_type", "status", "site", "department", "line",
        "position", "hire_date",
    )
    list_filter = ("status", "employment_type", "site", "department")
    search_fields = ("employee_number", "family_name", "given_name", "latin_name", "email", "phone")
    list_select_related = ("site", "department", "line", "position")
    raw_id_fields = ("manager", "user")
    # The current position follows the assignment history, which the position-change service keeps.
    readonly_fields = ("position",)
    inlines = (PositionAssignmentInline,)
    date_hierarchy = "hire_date"

    @admin.display(description=_("name"), ordering="family_name")
    def full_name(self, obj: Employee) -> str:
        return obj.full_name


@admin.register(PositionAssignment)
class PositionAssignmentAdmin(AuditedModelAdmin):
    list_display = ("employee", "position", "start_date", "end_date")
    list_filter = ("position",)
    search_fields = ("employee__employee_number", "employee__family_name", "employee__given_name")
    list_select_related = ("employee", "position")
    raw_id_fields = ("employee",)
    date_hierarchy = "start_date"
