"""Reads of the import app: batches, their errors and live progress, source systems and mappings."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from qualiflow.core.errors import CoreErrorCode, NotFound

from . import progress
from .models import BatchStatus, ColumnMapping, ImportBatch, ImportRowError, SourceSystem, ValueMapping


def batch_list(*, status: str | None = None, kind: str | None = None) -> QuerySet[ImportBatch]:
    queryset = ImportBatch.objects.select_related("source_system", "created_by").order_by("-created_at")
    if status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset


def batch_get(*, batch_id: UUID | str) -> ImportBatch:
    batch = ImportBatch.objects.select_related("source_system", "created_by", "committed_by", "rolled_back_by").filter(
        pk=batch_id).first()
    if batch is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("No such import batch."))
    return batch


def batch_errors(*, batch: ImportBatch) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(batch=batch).order_by("row_number", "id")


def batch_progress(*, batch: ImportBatch) -> dict[str, Any]:
    """Rows done of rows to do; while committing, as the commit's own connection last reported."""
    done, total = batch.progress_done, batch.progress_total or batch.rows
    if batch.status == BatchStatus.COMMITTING:
        live = progress.read(batch.pk)
        if live is not None:
            done, total = live
    elif batch.status in (BatchStatus.UPLOADED, BatchStatus.VALIDATED, BatchStatus.QUEUED):
        done = 0
    percent = int(done * 100 / total) if total else (100 if batch.status == BatchStatus.COMMITTED else 0)
    return {"done": done, "total": total, "percent": min(100, percent)}


def source_list() -> QuerySet[SourceSystem]:
    return SourceSystem.objects.order_by("code")


def source_get(*, code: str | None = None, source_id: UUID | str | None = None) -> SourceSystem:
    queryset = SourceSystem.objects.all()
    source = queryset.filter(code=code).first() if code is not None else queryset.filter(pk=source_id).first()
    if source is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("No source system %(code)s; create it first.") % {
            "code": code or source_id})
    return source


def column_mappings(*, source: SourceSystem) -> QuerySet[ColumnMapping]:
    return ColumnMapping.objects.filter(source_system=source).order_by("kind")


def value_mappings(*, source: SourceSystem) -> QuerySet[ValueMapping]:
    return ValueMapping.objects.filter(source_system=source).order_by("field", "legacy_value")


def value_mapping_get(*, source: SourceSystem, mapping_id: UUID | str) -> ValueMapping:
    mapping = ValueMapping.objects.filter(source_system=source, pk=mapping_id).first()
    if mapping is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("No such value mapping."))
    return mapping
