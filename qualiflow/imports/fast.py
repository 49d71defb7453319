"""Inserting many rows of an audited model without building model instances, still audited row by row.

What `AuditedQuerySet.bulk_create` does, minus Django's per-object machinery: every concrete field takes
the row's value or its default, the rows go in with one executemany (SQLite) or COPY (PostgreSQL), and
each row gets the same audit entry (action create, every tracked field from None to its value, the
model's own text for the record) through `audit.recorder.write`, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from qualiflow.audit import recorder
from qualiflow.audit.models import AuditAction
from qualiflow.audit.tracking import json_value, object_type, tracked_fields

_NOT_GIVEN = object()


def _sqlite_adapter(field: models.Field) -> Callable[[Any], Any]:
    if isinstance(field, models.UUIDField) or (field.is_relation and isinstance(field.target_field, models.UUIDField)):
        return lambda v: v.hex if v is not None else None
    if isinstance(field, models.DateTimeField):
        # As Django's adapter stores it (UTC, naive, "YYYY-MM-DD HH:MM:SS[.ffffff]"), without its per-call checks.
        return lambda v: str(v.astimezone(dt.UTC).replace(tzinfo=None)) if v is not None else None
    if isinstance(field, models.DateField):
        return lambda v: v.isoformat() if v is not None else None
    if isinstance(field, models.JSONField):
        return json.dumps
    if isinstance(field, models.DecimalField):
        return lambda v: str(v) if v is not None else None
    return lambda v: v


def _postgres_adapter(field: models.Field) -> Callable[[Any], Any]:
    if isinstance(field, models.JSONField):
        from psycopg.types.json import Jsonb

        return Jsonb
    return lambda v: v


def insert(model: type[models.Model], rows: list[Mapping[str, Any]]) -> list[uuid.UUID]:
    """Insert `rows` ({attname: value}, the rest defaulted) and audit each; returns the new keys."""
    fields = model._meta.concrete_fields
    now = timezone.now()
    defaults = {}
    for f in fields:
        if f.primary_key:
            continue
        if f.attname in ("created_at", "updated_at"):
            defaults[f.attname] = now
        elif f.has_default() and not callable(f.default):
            defaults[f.attname] = f.default
        elif f.has_default():
            defaults[f.attname] = _NOT_GIVEN  # a callable default is called per row
        else:
            defaults[f.attname] = None if f.null else _NOT_GIVEN
    full_rows = []
    for row in rows:
        values = {"id": uuid.uuid4()}
        for f in fields:
            if f.primary_key:
                continue
            value = row.get(f.attname, defaults[f.attname])
            if value is _NOT_GIVEN:
                value = f.get_default()
            values[f.attname] = value
        full_rows.append(values)
    postgres = connection.vendor == "postgresql"
    adapters = [(_postgres_adapter if postgres else _sqlite_adapter)(f) for f in fields]
    columns = [f.column for f in fields]
    attnames = [f.attname for f in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    tracked = [f.attname for f in tracked_fields(model)]
    kind = object_type(model)
    changes = [
        recorder.Change(AuditAction.CREATE, kind, str(values["id"]), model.__str__(SimpleNamespace(**values))[:255],
                        {a: [None, json_value(values[a])] for a in tracked})
        for values in full_rows
    ]
    with transaction.atomic(savepoint=False):
        # The audit entries first: on PostgreSQL their statement also marks the transaction as the
        # application's, which the trace trigger checks.
        recorder.write(changes, using=connection.alias)
        cursor = connection.connection.cursor()
        try:
            if postgres:
                with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for values in full_rows:
                        copy.write_row([adapt(values[a]) for adapt, a in zip(adapters, attnames, strict=True)])
            else:
                placeholders = ", ".join(["?"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})",
                    ([adapt(values[a]) for adapt, a in zip(adapters, attnames, strict=True)] for values in full_rows),
                )
        finally:
            cursor.close()
    return [values["id"] for values in full_rows]
