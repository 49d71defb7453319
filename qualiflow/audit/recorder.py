"""Writing audit entries: the only way anything enters the trail."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from qualiflow.core import context

from .domain.chain import COLUMNS, GENESIS_HASH, chain_digest, timestamp_text
from .models import AuditEntry

# Serialises writers on PostgreSQL for the length of a transaction; SQLite's IMMEDIATE transactions
# already do. The same statement marks the transaction as made by the application, so the raw-SQL
# trace triggers stay quiet for it.
_PG_CHAIN_LOCK = "SELECT pg_advisory_xact_lock(7127001), set_config('qualiflow.audited', 'on', true)"


def mark_application_write(using: str) -> None:
    """Tell the PostgreSQL trace triggers that this transaction's row changes are the application's own."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_CHAIN_LOCK)


@dataclass(frozen=True)
class Change:
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: Mapping[str, Any]
    reason: str | None = None


def record(
    *,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str = "",
    changes: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    return record_many(
        [Change(action, object_type, str(object_id), object_repr, changes or {}, reason)]
    )[0]


def record_many(items: Iterable[Change], *, using: str | None = None) -> list[AuditEntry]:
    db = using or router.db_for_write(AuditEntry)
    rows = write(items, using=db)
    entries = []
    for row in rows:
        entry = AuditEntry(**dict(zip(COLUMNS, row, strict=True)))
        entry._state.adding = False
        entry._state.db = db
        entries.append(entry)
    return entries


# Keys sorted and no spaces: the exact text stored is the text hashed.
_changes_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode

_TIP_SQL = "SELECT seq, hash FROM audit_auditentry ORDER BY seq DESC LIMIT 1"


@functools.cache
def _insert_sql(rows: int, placeholder: str) -> str:
    values = f"({', '.join([placeholder] * len(COLUMNS))})"
    return f"INSERT INTO audit_auditentry ({', '.join(COLUMNS)}) VALUES {', '.join([values] * rows)}"


def write(items: Iterable[Change], *, using: str) -> list[tuple]:
    """Chain and insert entries for `items`; returns their rows in `COLUMNS` order.

    This runs after every audited write, so it talks to the driver's own cursor with two fixed
    statements (Django's cursor wrapper costs more than the statements do on SQLite); the statements
    do not appear in Django's query log. Without a savepoint: a failure poisons the caller's
    transaction, so a change can never commit without its entry."""
    items = list(items)
    if not items:
        return []
    ctx = context.current()
    actor = ctx.actor
    actor_name = actor.name[:150]
    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(using=using, savepoint=False), connection.wrap_database_errors:
        cursor = connection.connection.cursor()
        try:
            if postgres:
                # One round trip; the second statement takes its own snapshot, after the lock is held.
                cursor.execute(f"{_PG_CHAIN_LOCK}; {_TIP_SQL}")
                cursor.nextset()
            else:
                cursor.execute(_TIP_SQL)
            tip = cursor.fetchone()
            seq, prev_hash = tip if tip else (0, GENESIS_HASH)
            now = timezone.now()
            recorded_text = timestamp_text(now)
            recorded_db = connection.ops.adapt_datetimefield_value(now)
            rows = []
            params = []
            for item in items:
                seq += 1
                reason = item.reason if item.reason is not None else ctx.reason
                values = (
                    actor.kind, actor.id, actor_name, item.action, item.object_type, item.object_id,
                    item.object_repr[:255], _changes_json(item.changes), reason, ctx.request_id, prev_hash,
                )
                digest = chain_digest(seq, recorded_text, values)
                rows.append((seq, now, *values, digest))
                params.append((seq, recorded_db, *values, digest))
                prev_hash = digest
            # Multi-row VALUES: one round trip per few hundred entries, for bulk writes.
            per_statement = max(1, min(500, (connection.features.max_query_params or 10_000) // len(COLUMNS)))
            placeholder = "%s" if postgres else "?"
            for start in range(0, len(params), per_statement):
                chunk = params[start : start + per_statement]
                cursor.execute(_insert_sql(len(chunk), placeholder), [value for row in chunk for value in row])
        finally:
            cursor.close()
    return rows
