from django.contrib import admin

from qualiflow.core.admin import ReadOnlyAdmin

from .models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("position", "time", "type", "subject", "status", "actor", "request_id")
    list_filter = ("status", "type")
    search_fields = ("id", "type", "subject", "actor", "request_id")
    date_hierarchy = "time"
