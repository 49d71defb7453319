import json

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    SIGN = "sign", _("Signed")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Login failed")
    LOGOUT = "logout", _("Logged out")
    EXPORT = "export", _("Exported")
    READ = "read", _("Read sensitive data")


class SequenceField(models.BigIntegerField):
    """A 64-bit integer key that is SQLite's rowid itself ("integer primary key"), not a second B-tree
    beside it ("bigint primary key"): one index less to maintain on every audited write."""

    def db_type(self, connection) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class AuditEntry(models.Model):
    """One immutable line of the audit trail; the database refuses UPDATE and DELETE on this table."""

    seq = SequenceField(_("sequence"), primary_key=True)
    recorded_at = models.DateTimeField(_("time (UTC)"), db_index=True)
    actor_kind = models.CharField(_("actor type"), max_length=20)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True)
    # No index: the viewer matches any part of the name, which a B-tree cannot serve.
    actor_name = models.CharField(_("actor"), max_length=150)
    # No index: a handful of values would not narrow a search; the viewer pages by seq anyway.
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    # The exact JSON text that was hashed; kept as text so verification needs no re-serialisation.
    changes = models.TextField(_("changes"), blank=True, default="{}")
    reason = models.TextField(_("reason"), blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx")]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    @property
    def change_list(self) -> list[tuple[str, object, object]]:
        data = json.loads(self.changes or "{}")
        return [(field, pair[0], pair[1]) for field, pair in data.items()]


class DatabaseChange(models.Model):
    """A row change made to a regulated table outside the application (PostgreSQL triggers write these)."""

    occurred_at = models.DateTimeField(_("time (UTC)"))
    table_name = models.CharField(_("table"), max_length=100)
    operation = models.CharField(_("operation"), max_length=10)
    row_id = models.CharField(_("row id"), max_length=64)
    old_row = models.JSONField(_("old row"), null=True)
    new_row = models.JSONField(_("new row"), null=True)
    database_user = models.CharField(_("database user"), max_length=100)
    client_address = models.CharField(_("client address"), max_length=100, blank=True)
    application_name = models.CharField(_("application"), max_length=100, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("database-level change")
        verbose_name_plural = _("database-level changes")

    def __str__(self) -> str:
        return f"{self.operation} {self.table_name}:{self.row_id}"
