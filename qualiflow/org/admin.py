from django.contrib import admin

from qualiflow.audit.admin import AuditedModelAdmin

from .models import Company, Department, Position, ProductionLine, Site, WorkCenter


class OrgUnitAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "name_en", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "name_en")
    ordering = ("code",)


@admin.register(Company)
class CompanyAdmin(OrgUnitAdmin):
    pass


@admin.register(Site)
class SiteAdmin(OrgUnitAdmin):
    list_display = ("code", "name", "name_en", "company", "time_zone", "is_active")
    list_filter = ("is_active", "company", "time_zone")


@admin.register(Department)
class DepartmentAdmin(OrgUnitAdmin):
    list_display = ("code", "name", "name_en", "site", "parent", "is_active")
    list_filter = ("is_active", "site")
    list_select_related = ("site", "parent")


@admin.register(ProductionLine)
class ProductionLineAdmin(OrgUnitAdmin):
    list_display = ("code", "name", "name_en", "site", "department", "clean_room_class", "is_active")
    list_filter = ("is_active", "site", "department")
    list_select_related = ("site", "department")


@admin.register(WorkCenter)
class WorkCenterAdmin(OrgUnitAdmin):
    list_display = ("code", "name", "name_en", "line", "is_active")
    list_filter = ("is_active", "line")
    list_select_related = ("line",)


@admin.register(Position)
class PositionAdmin(OrgUnitAdmin):
    list_display = ("code", "name", "name_en", "department", "is_active")
    list_filter = ("is_active", "department")
    list_select_related = ("department",)
