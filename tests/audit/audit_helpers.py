"""Audit-trail test helpers: reading entries back, and tampering with the audit table the way someone
with database administrator rights could (guards dropped inside the test transaction, so it all rolls back)."""

from __future__ import annotations

import json

from django.db import connection

from qualiflow.audit.domain.chain import COLUMNS
from qualiflow.audit.models import AuditEntry


def entries_for(obj=None, *, object_type: str | None = None, object_id=None) -> list[AuditEntry]:
    if obj is not None:
        object_type = f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = obj.pk
    return list(AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("seq"))


def changes_of(entry: AuditEntry) -> dict:
    return json.loads(entry.changes)


def last_seq() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


class Tamperer:
    """Raw SQL against audit_auditentry with its immutability guard removed (engine-specific)."""

    def __init__(self) -> None:
        self._unguarded = False

    def _unguard(self) -> None:
        if self._unguarded:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("DROP TRIGGER audit_auditentry_refuse_update")
                cursor.execute("DROP TRIGGER audit_auditentry_refuse_delete")
            else:
                cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER qualiflow_immutable")
        self._unguarded = True

    def update(self, seq: int, **values: str) -> None:
        self._unguard()
        assignments = ", ".join(f"{column} = %s" for column in values)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE audit_auditentry SET {assignments} WHERE seq = %s", [*values.values(), seq])
            assert cursor.rowcount == 1

    def delete(self, seq: int) -> None:
        self._unguard()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditentry WHERE seq = %s", [seq])
            assert cursor.rowcount == 1

    def insert(self, **values) -> None:
        """A forged row (inserting needs no guard removed: only UPDATE and DELETE are refused)."""
        row = {column: values.get(column, "") for column in COLUMNS}
        row["recorded_at"] = values["recorded_at"]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO audit_auditentry ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                [row[c] if c != "recorded_at" else connection.ops.adapt_datetimefield_value(row[c]) for c in COLUMNS],
            )
