"""Reads of the audit trail: chain verification, the entry list with its filters, one record's history and
the PostgreSQL trace of writes made outside the application."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import QuerySet

from .domain.chain import COLUMNS, ChainBreak, ChainState, verify_canonical_rows
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


def canonical_text_sql(vendor: str) -> str:
    """SQL rendering an entry's canonical text (`domain.chain.canonical_text`) from its stored columns."""
    parts = ["CAST(seq AS TEXT)", timestamp_text_sql(vendor), *COLUMNS[2:13]]
    if vendor == "postgresql":
        return f"concat_ws(chr(31), {', '.join(parts)})"
    return " || char(31) || ".join(parts)


def chain_query(vendor: str, *, bounded: bool = False) -> str:
    """Rows of (seq, prev_hash, hash, canonical text) after a seq (and up to one), in order. One statement
    streamed through a server-side cursor rather than pages: with statistics that lag a large insert,
    PostgreSQL would sort the whole table again for every page."""
    upper = " AND seq <= %s" if bounded else ""
    return (
        f"SELECT seq, prev_hash, hash, {canonical_text_sql(vendor)} FROM audit_auditentry "
        f"WHERE seq > %s{upper} ORDER BY seq"
    )


def chain_verify(*, page_size: int = 50_000, workers: int = 1) -> ChainReport:
    """Re-hash the whole audit trail in `seq` order, a page at a time, and report the first break.

    `workers` > 1 splits a large trail into contiguous `seq` ranges checked by that many processes (each
    entry's hash depends only on its own row, which stores the previous hash); the seams between ranges
    are then checked here. Only outside a transaction: the workers read what is committed."""
    using = router.db_for_read(AuditEntry)
    connection = connections[using]
    if workers > 1 and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(seq), max(seq), count(*) FROM audit_auditentry")
            low, high, count = cursor.fetchone()
        if count >= PARALLEL_MIN_ENTRIES:
            return _chain_verify_parallel(using, low, high, workers, page_size)
    return verify_range(using, None, None, page_size).report()


# Below this many entries a second process costs more than it saves.
PARALLEL_MIN_ENTRIES = 100_000


@dataclass
class RangeResult:
    checked: int
    first_seq: int | None
    first_prev_hash: str | None
    last_hash: str | None
    first_break: ChainBreak | None

    def report(self) -> ChainReport:
        return ChainReport(intact=self.first_break is None, checked=self.checked, first_break=self.first_break)


def verify_range(using: str, after: int | None, through: int | None, page_size: int) -> RangeResult:
    """Verify the entries with `after` < seq <= `through`; `after` None starts the chain (seq 1, genesis
    hash, and any row below seq 1 counts as inserted), `through` None runs to the end."""
    connection = connections[using]
    sql = chain_query(connection.vendor, bounded=through is not None)
    state = ChainState() if after is None else ChainState(expected_seq=after + 1, prev_hash="")
    first_seq = first_prev = None
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [-(2**63) if after is None else after, *([through] if through is not None else [])])
        while True:
            rows = cursor.fetchmany(page_size)
            if not rows:
                break
            if first_seq is None:
                first_seq, first_prev = rows[0][0], rows[0][1]
                if after is not None:
                    state.prev_hash = first_prev  # the seam with the range before is checked by the caller
            broken = verify_canonical_rows(rows, state)
            if broken is not None:
                return RangeResult(state.checked, first_seq, first_prev, state.prev_hash, broken)
    broken = None
    if through is not None and state.expected_seq <= through:
        # A range that ends early lost its last rows: the next range starts at `through` + 1 regardless.
        gap = f"entry {through} is" if state.expected_seq == through else f"entries {state.expected_seq}..{through} are"
        broken = ChainBreak(state.expected_seq, "missing", f"{gap} missing")
    return RangeResult(state.checked, first_seq, first_prev, state.prev_hash, broken)


def _verify_range_in_worker(using: str, after: int | None, through: int, page_size: int) -> RangeResult:
    try:
        return verify_range(using, after, through, page_size)
    finally:
        connections.close_all()


def range_bounds(low: int, high: int, parts: int) -> list[int | None]:
    """Seams splitting seq `low`..`high` into `parts` ranges: range k is (bounds[k], bounds[k + 1]]; the
    first bound is None (the start of the chain, taking any row below seq 1 too)."""
    first = max(low, 1)
    step = max(1, (high - first + 1) // parts)
    inner = sorted({first - 1 + step * k for k in range(1, parts)} - {high})
    return [None, *(b for b in inner if first <= b < high), high]


def stitch(bounds: list[int | None], results: list[RangeResult]) -> ChainReport:
    """One report from per-range results, in seq order: the first break inside a range or at a seam."""
    checked = 0
    previous: RangeResult | None = None
    for after, result in zip(bounds[:-1], results, strict=True):
        # Each range starts exactly at its seam (its worker reports a gap otherwise); the link is checked here.
        if previous is not None and result.first_seq == after + 1 and result.first_prev_hash != previous.last_hash:
            seq = result.first_seq
            return ChainReport(False, checked, ChainBreak(seq, "inserted", f"entry {seq} does not link to the entry before it"))
        checked += result.checked
        if result.first_break is not None:
            return ChainReport(False, checked, result.first_break)
        previous = result
    return ChainReport(True, checked, None)


def _chain_verify_parallel(using: str, low: int, high: int, workers: int, page_size: int) -> ChainReport:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    bounds = range_bounds(low, high, workers)
    parts = len(bounds) - 1
    # Forked workers must not share this process's database connections.
    connections.close_all()
    with ProcessPoolExecutor(max_workers=parts, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_verify_range_in_worker, [using] * parts, bounds[:-1], bounds[1:], [page_size] * parts))
    return stitch(bounds, results)


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
