"""Admin for the audit trail (read-only) and the base classes other apps' admins use.

Admin writes go through the models' save and delete, so they are audited like any other path; these
classes add the reason a regulated record's change needs, and make evidence records read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from qualiflow.core import context
from qualiflow.core.admin import ReadOnlyAdmin

from .models import AuditEntry, DatabaseChange


class ReasonForm(forms.ModelForm):
    audit_reason = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the audit trail with the change."),
    )


class AuditedModelAdmin(admin.ModelAdmin):
    """For records whose changes need a reason (`audit_reason_required`): the change form asks for one and
    the audit entry carries it. Such records are not deleted here; their services deactivate them."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        if getattr(self.model, "audit_reason_required", False):
            kwargs["form"] = type("ReasonModelForm", (ReasonForm, self.form), {})
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if "audit_reason" in fields:
            fields.remove("audit_reason")
            fields.append("audit_reason")
        return fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return not getattr(self.model, "audit_reason_required", False) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        with context.acting(reason=form.cleaned_data.get("audit_reason", "")):
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        with context.acting(reason=form.cleaned_data.get("audit_reason", "")):
            super().save_related(request, form, formsets, change)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "recorded_at", "actor_name", "actor_kind", "action", "object_type", "object_id", "object_repr")
    list_filter = ("action", "actor_kind", "object_type")
    search_fields = ("object_id", "object_repr", "actor_name", "request_id", "reason")
    date_hierarchy = "recorded_at"
    show_full_result_count = False


@admin.register(DatabaseChange)
class DatabaseChangeAdmin(ReadOnlyAdmin):
    list_display = ("id", "occurred_at", "table_name", "operation", "row_id", "database_user", "client_address")
    list_filter = ("table_name", "operation")
    search_fields = ("row_id", "database_user", "application_name")
    date_hierarchy = "occurred_at"
