"""Writes of the audit app itself: an export of the trail is evidence too and leaves its own entry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

from django.db import transaction

from . import recorder
from .models import AuditAction, AuditEntry
from .selectors import EntryFilters, entry_list


@transaction.atomic
def entries_export(*, filters: EntryFilters) -> tuple[int, Iterator[AuditEntry]]:
    """Record that the entries matching `filters` were exported; return their count and the entries
    (newest first) as they stood before the export's own entry."""
    entries = entry_list(filters)
    count = entries.count()
    criteria = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(filters).items() if v}
    export = recorder.record(
        action=AuditAction.EXPORT,
        object_type="audit.auditentry",
        object_id="",
        object_repr=f"CSV export of {count} entries",
        changes={"filters": [None, criteria], "entries": [None, count]},
    )
    return count, entries.filter(seq__lt=export.seq).iterator(chunk_size=2000)
