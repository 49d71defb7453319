"""Reads of the audit trail: chain verification, the entry list with its filters, one record's history and
the PostgreSQL trace of writes made outside the application."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import QuerySet

from .domain.chain import COLUMNS, ChainBreak, ChainState, verify_rows
from .models import AuditEntry, DatabaseChange

# `recorded_at` rendered by the database in exactly the text `domain.chain.timestamp_text` produces, so
# verification skips building a datetime per row. Django stores SQLite datetimes as naive UTC text
# "YYYY-MM-DD HH:MM:SS[.ffffff]" (no fraction when the microseconds are zero).
_TIMESTAMP_TEXT_SQL = {
    "sqlite": (
        "substr(recorded_at, 1, 10) || 'T' || substr(recorded_at, 12, 8) || '.' "
        "|| substr(substr(recorded_at, 21) || '000000', 1, 6) || 'Z'"
    ),
    "postgresql": """to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
}


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    checked: int
    first_break: ChainBreak | None


def timestamp_text_sql(vendor: str) -> str:
    """SQL for `recorded_at` as `timestamp_text` would write it; plain column on other engines."""
    return _TIMESTAMP_TEXT_SQL.get(vendor, "recorded_at")


def chain_query(vendor: str) -> str:
    columns = ", ".join(timestamp_text_sql(vendor) if c == "recorded_at" else c for c in COLUMNS)
    return f"SELECT {columns} FROM audit_auditentry WHERE seq > %s ORDER BY seq LIMIT %s"


def chain_verify(*, page_size: int = 50_000) -> ChainReport:
    """Re-hash the whole audit trail in `seq` order, a page at a time, and report the first break."""
    using = router.db_for_read(AuditEntry)
    connection = connections[using]
    sql = chain_query(connection.vendor)
    state = ChainState()
    last_seq = -(2**63)  # below any seq, so rows inserted with seq <= 0 are seen too
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [last_seq, page_size])
            rows = cursor.fetchall()
            if not rows:
                return ChainReport(intact=True, checked=state.checked, first_break=None)
            broken = verify_rows(rows, state)
            if broken is not None:
                return ChainReport(intact=False, checked=state.checked, first_break=broken)
            last_seq = rows[-1][0]


# What an export carries: every column, so each exported row can be re-hashed.
EXPORT_COLUMNS = COLUMNS


@dataclass(frozen=True)
class EntryFilters:
    object_type: str = ""
    object_id: str = ""
    actor: str = ""
    action: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def entry_list(filters: EntryFilters) -> QuerySet[AuditEntry]:
    """Audit entries matching `filters`, newest first."""
    entries = AuditEntry.objects.all()
    if filters.object_type:
        entries = entries.filter(object_type=filters.object_type)
    if filters.object_id:
        entries = entries.filter(object_id=filters.object_id)
    if filters.actor:
        entries = entries.filter(actor_name__icontains=filters.actor)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.since is not None:
        entries = entries.filter(recorded_at__gte=filters.since)
    if filters.until is not None:
        entries = entries.filter(recorded_at__lt=filters.until)
    return entries.order_by("-seq")


def object_types() -> list[str]:
    return list(AuditEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct())


def object_history(*, object_type: str, object_id: str) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("-seq")


def viewer_time_zone(user) -> zoneinfo.ZoneInfo | None:
    """The time zone of the site where the signed-in person works, when their login is linked to an
    employee record (reached through the reverse relation: people sits above audit)."""
    site = getattr(getattr(user, "employee", None), "site", None)
    name = getattr(site, "time_zone", "")
    if not name or name == "UTC":
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def trace_supported() -> bool:
    """Only PostgreSQL has the triggers that trace writes made outside the application."""
    return connections[router.db_for_write(DatabaseChange)].vendor == "postgresql"


def database_changes() -> QuerySet[DatabaseChange]:
    """Row changes made to regulated tables outside the application (only PostgreSQL records them)."""
    return DatabaseChange.objects.order_by("-id")
