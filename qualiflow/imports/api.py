"""API for legacy data import, under /api/v1/imports: upload a file (its dry run follows at once), read a
batch with its status, progress and counts, page through its row errors, commit it (queued for the
worker), roll it back; and the source systems with their column and value mappings.

Reading needs `integration.view`; everything that writes needs `integration.import`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import InputSchema, PageParams, WriteSchema, error_responses, page_schema, paginate
from qualiflow.core.errors import NotFound, ValidationFailed

from . import selectors, services
from .forms import MAX_UPLOAD_BYTES
from .models import BatchStatus, ImportBatch, ImportKind

router = Router(tags=["imports"])

_view = requires(Perm.INTEGRATION_VIEW)
_import = requires(Perm.INTEGRATION_IMPORT)

KindValue = Literal[tuple(ImportKind.values)]
StatusValue = Literal[tuple(BatchStatus.values)]


class ProgressOut(Schema):
    done: int
    total: int
    percent: int


class BatchOut(Schema):
    id: UUID
    kind: str
    source: str = Field(..., description="Code of the source system.")
    file_name: str
    encoding: str = Field(..., description="As detected: utf-8, utf-8-sig, gb18030 or xlsx.")
    status: str
    rows: int
    created: int = Field(..., description="Dry run: would be created; committed: were created.")
    updated: int
    skipped: int = Field(..., description="Rows whose record already holds these values.")
    errors: int
    progress: ProgressOut
    failure: str
    created_at: dt.datetime
    committed_at: dt.datetime | None
    rolled_back_at: dt.datetime | None
    rollback_reason: str


class RowErrorOut(Schema):
    row: int | None = Field(..., description="Row number as a spreadsheet shows it; null: the whole file.")
    column: str
    code: str
    message: str


class UploadIn(InputSchema):
    kind: KindValue
    source: str = Field(..., min_length=1, max_length=40, description="Code of the source system.")


class RollbackIn(WriteSchema):
    reason: str = Field(..., min_length=1, max_length=2000, description="Why (kept in the audit trail).")


class BatchFilters(PageParams):
    status: StatusValue | None = None
    kind: KindValue | None = None


class SourceOut(Schema):
    id: UUID
    code: str
    name: str


class SourceIn(WriteSchema):
    code: str = Field(..., min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(..., min_length=1, max_length=200)


class SourcePatch(WriteSchema):
    name: str = Field(..., min_length=1, max_length=200)


class ColumnMappingOut(Schema):
    kind: str
    columns: dict[str, str]


class ColumnMappingIn(WriteSchema):
    columns: dict[str, str] = Field(..., description="Qualiflow field → source column header.")


class ValueMappingOut(Schema):
    id: UUID
    field: str
    legacy_value: str
    value: str


class ValueMappingIn(WriteSchema):
    field: str = Field(..., min_length=1, max_length=60)
    legacy_value: str = Field(..., min_length=1, max_length=200)
    value: str = Field("", max_length=200)


def _out(batch: ImportBatch) -> dict:
    return {
        "id": batch.pk, "kind": batch.kind, "source": batch.source_system.code, "file_name": batch.file_name,
        "encoding": batch.encoding, "status": batch.status, "rows": batch.rows, "created": batch.created_count,
        "updated": batch.updated_count, "skipped": batch.skipped_count, "errors": batch.error_count,
        "progress": selectors.batch_progress(batch=batch), "failure": batch.failure, "created_at": batch.created_at,
        "committed_at": batch.committed_at, "rolled_back_at": batch.rolled_back_at,
        "rollback_reason": batch.rollback_reason,
    }


def _source(code: str):
    """The source named in a form field: unknown is a field error, not a missing resource."""
    try:
        return selectors.source_get(code=code)
    except NotFound as exc:
        raise ValidationFailed(exc.message, fields={"source": [exc.message]}) from exc


# ---- batches --------------------------------------------------------------------------------------------


@router.post("/batches", response={201: BatchOut, **error_responses(403, 422)}, auth=_import,
             operation_id="imports_batch_create")
def batch_create(request, payload: Form[UploadIn], file: File[UploadedFile]):
    """Upload a CSV or XLSX file (multipart) and run its dry run: the answer says what a commit would
    create, update and skip, and how many rows have errors (listed under `/errors`). Nothing is written
    to Qualiflow data."""
    if file.size > MAX_UPLOAD_BYTES:
        message = _("The file is larger than %(limit)s MiB.") % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}
        raise ValidationFailed(message, fields={"file": [message]})
    source = _source(payload.source)
    batch = services.batch_upload(kind=payload.kind, source=source, file=file, file_name=file.name or "import",
                                  by=request.user)
    batch = services.batch_validate(batch=batch, by=request.user)
    return Status(201, _out(batch))


@router.get("/batches", response={200: page_schema(BatchOut), **error_responses(403, 422)}, auth=_view,
            operation_id="imports_batch_list")
def batch_list(request, filters: Query[BatchFilters]):
    page = paginate(selectors.batch_list(status=filters.status, kind=filters.kind), filters)
    return {"count": page["count"], "items": [_out(b) for b in page["items"]]}


@router.get("/batches/{batch_id}", response={200: BatchOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="imports_batch_get")
def batch_get(request, batch_id: UUID):
    """Status, live progress while committing, and counts."""
    return _out(selectors.batch_get(batch_id=batch_id))


@router.get("/batches/{batch_id}/errors", response={200: page_schema(RowErrorOut), **error_responses(403, 404, 422)},
            auth=_view, operation_id="imports_batch_errors")
def batch_errors(request, batch_id: UUID, page: Query[PageParams]):
    batch = selectors.batch_get(batch_id=batch_id)
    result = paginate(selectors.batch_errors(batch=batch), page)
    return {"count": result["count"], "items": [
        {"row": e.row_number, "column": e.column, "code": e.code, "message": e.message} for e in result["items"]]}


@router.post("/batches/{batch_id}/commit", response={202: BatchOut, **error_responses(403, 404, 409, 422)},
             auth=_import, operation_id="imports_batch_commit")
def batch_commit(request, batch_id: UUID):
    """Queue a batch whose dry run found no error; the worker commits it in one transaction. Poll the
    batch for progress and the outcome."""
    batch = services.batch_queue(batch=selectors.batch_get(batch_id=batch_id), by=request.user)
    return Status(202, _out(selectors.batch_get(batch_id=batch.pk)))


@router.post("/batches/{batch_id}/rollback", response={200: BatchOut, **error_responses(403, 404, 409, 422)},
             auth=_import, operation_id="imports_batch_rollback")
def batch_rollback(request, batch_id: UUID, payload: RollbackIn):
    """Undo a committed batch completely (created rows removed, updated rows restored), or nothing when a
    created row is referred to by data added since."""
    batch = services.batch_rollback(batch=selectors.batch_get(batch_id=batch_id), reason=payload.reason,
                                    by=request.user)
    return _out(selectors.batch_get(batch_id=batch.pk))


# ---- source systems and mappings ------------------------------------------------------------------------


@router.get("/sources", response={200: list[SourceOut], **error_responses(403)}, auth=_view,
            operation_id="imports_source_list")
def source_list(request):
    return list(selectors.source_list())


@router.post("/sources", response={201: SourceOut, **error_responses(403, 422)}, auth=_import,
             operation_id="imports_source_create")
def source_create(request, payload: SourceIn):
    return Status(201, services.source_system_create(code=payload.code, name=payload.name, by=request.user))


@router.patch("/sources/{code}", response={200: SourceOut, **error_responses(403, 404, 422)}, auth=_import,
              operation_id="imports_source_update")
def source_update(request, code: str, payload: SourcePatch):
    return services.source_system_rename(source=selectors.source_get(code=code), name=payload.name, by=request.user)


@router.get("/sources/{code}/columns", response={200: list[ColumnMappingOut], **error_responses(403, 404)},
            auth=_view, operation_id="imports_column_mapping_list")
def column_mapping_list(request, code: str):
    return list(selectors.column_mappings(source=selectors.source_get(code=code)))


@router.put("/sources/{code}/columns/{kind}", response={200: ColumnMappingOut, **error_responses(403, 404, 422)},
            auth=_import, operation_id="imports_column_mapping_set")
def column_mapping_set(request, code: str, kind: KindValue, payload: ColumnMappingIn):
    """Replace the saved column mapping of this source system for one kind of file."""
    return services.column_mapping_set(source=selectors.source_get(code=code), kind=kind, columns=payload.columns,
                                       by=request.user)


@router.get("/sources/{code}/values", response={200: list[ValueMappingOut], **error_responses(403, 404)},
            auth=_view, operation_id="imports_value_mapping_list")
def value_mapping_list(request, code: str):
    return list(selectors.value_mappings(source=selectors.source_get(code=code)))


@router.post("/sources/{code}/values", response={201: ValueMappingOut, **error_responses(403, 404, 422)},
             auth=_import, operation_id="imports_value_mapping_set")
def value_mapping_set(request, code: str, payload: ValueMappingIn):
    """Add a value mapping, or change the Qualiflow value of an existing legacy value."""
    return Status(201, services.value_mapping_set(source=selectors.source_get(code=code), by=request.user,
                                                  **payload.model_dump()))


@router.delete("/sources/{code}/values/{mapping_id}", response={204: None, **error_responses(403, 404)},
               auth=_import, operation_id="imports_value_mapping_delete")
def value_mapping_delete(request, code: str, mapping_id: UUID):
    mapping = selectors.value_mapping_get(source=selectors.source_get(code=code), mapping_id=mapping_id)
    services.value_mapping_remove(mapping=mapping, by=request.user)
    return Status(204, None)
