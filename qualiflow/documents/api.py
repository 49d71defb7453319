"""API for controlled documents and their revisions, under /api/v1/documents.

Documents are regulated records: every write states a reason, which the audit trail keeps.
"""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import PageParams, WriteSchema, error_responses, page_schema, paginate, patch_field

from . import selectors, services
from .models import DocumentKind

router = Router(tags=["documents"])

KindValue = Literal[tuple(DocumentKind.values)]
Ordering = Literal[selectors.ORDERINGS]

_view = requires(Perm.DOCUMENTS_VIEW)
_manage = requires(Perm.DOCUMENTS_MANAGE)


def _reason() -> Any:
    return Field(..., min_length=1, max_length=2000, description="Why the change is made (required; kept in the audit trail).")


class RevisionOut(Schema):
    id: UUID
    document_id: UUID
    revision: int
    label: str
    effective_from: dt.datetime
    training_required: bool
    retraining_grace_days: int
    summary: str
    created_at: dt.datetime


class DocumentOut(Schema):
    id: UUID
    code: str
    title: str
    title_en: str
    kind: str
    is_active: bool
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime


class DocumentDetailOut(DocumentOut):
    revisions: list[RevisionOut]
    current_revision_id: UUID | None = Field(None, description="The revision in effect now.")
    qualification_ids: list[UUID] = Field(..., description="Qualifications that rest on this document.")
    course_ids: list[UUID] = Field(..., description="Courses that train on this document.")


class DocumentIn(WriteSchema):
    code: str = Field(..., min_length=1, max_length=40)
    title: str = Field(..., min_length=1, max_length=200)
    title_en: str = Field("", max_length=200)
    kind: KindValue = DocumentKind.SOP.value
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class DocumentPatch(WriteSchema):
    """Only the fields sent are changed."""

    code: str = patch_field(min_length=1, max_length=40)
    title: str = patch_field(min_length=1, max_length=200)
    title_en: str = patch_field(max_length=200)
    kind: KindValue = patch_field()
    is_active: bool = patch_field()
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


class RevisionIn(WriteSchema):
    label: str = Field(..., min_length=1, max_length=40, description='As printed on the document, e.g. "C".')
    effective_from: dt.datetime = Field(..., description="With its time zone, e.g. 2026-12-01T00:00:00+08:00.")
    training_required: bool = True
    retraining_grace_days: int = Field(0, ge=0, le=3650)
    summary: str = Field("", max_length=5000)
    reason: str = _reason()


class DocumentFilters(PageParams):
    search: str = Field("", description="Part of the code or either title.")
    kind: KindValue | None = None
    is_active: bool | None = Field(True, description="Only active (true, default) or inactive (false) documents.")
    ordering: Ordering = "code"


def _detail(document) -> dict[str, Any]:
    detail = selectors.document_detail(document=document)
    return {
        **{name: getattr(document, name) for name in DocumentOut.model_fields},
        "revisions": [row.revision for row in detail.revisions],
        "current_revision_id": detail.current.pk if detail.current else None,
        "qualification_ids": [q.pk for q in detail.qualifications],
        "course_ids": [c.pk for c in detail.courses],
    }


@router.get("", response={200: page_schema(DocumentOut), **error_responses(403, 422)}, auth=_view,
            operation_id="document_list")
def document_list(request, filters: Query[DocumentFilters]):
    documents = selectors.document_list(
        search=filters.search, kind=filters.kind or "", active=filters.is_active, ordering=filters.ordering
    )
    return paginate(documents, filters)


@router.post("", response={201: DocumentDetailOut, **error_responses(403, 422)}, auth=_manage,
             operation_id="document_create")
def document_create(request, payload: DocumentIn):
    document = services.document_create(
        data=payload.model_dump(exclude={"reason"}), by=request.user, reason=payload.reason
    )
    return Status(201, _detail(document))


@router.get("/{document_id}", response={200: DocumentDetailOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="document_get")
def document_get(request, document_id: UUID):
    """The document with its revisions (newest first) and what rests on it."""
    return _detail(selectors.document_get(document_id=document_id))


@router.patch("/{document_id}", response={200: DocumentDetailOut, **error_responses(403, 404, 422)}, auth=_manage,
              operation_id="document_update")
def document_update(request, document_id: UUID, payload: DocumentPatch):
    document = selectors.document_get(document_id=document_id)
    document = services.document_update(
        document=document, data=payload.model_dump(exclude_unset=True, exclude={"reason"}), by=request.user,
        reason=payload.reason,
    )
    return _detail(document)


@router.get("/{document_id}/revisions", response={200: list[RevisionOut], **error_responses(403, 404, 422)},
            auth=_view, operation_id="document_revision_list")
def revision_list(request, document_id: UUID):
    return [row.revision for row in selectors.document_detail(document=selectors.document_get(document_id=document_id)).revisions]


@router.post("/{document_id}/revisions", response={201: RevisionOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="document_revision_create")
def revision_create(request, document_id: UUID, payload: RevisionIn):
    """Add the next revision; numbering follows the last revision."""
    document = selectors.document_get(document_id=document_id)
    revision = services.revision_create(
        document=document, **payload.model_dump(exclude={"reason"}), by=request.user, reason=payload.reason
    )
    return Status(201, selectors.revision_get(document=document, revision_id=revision.pk))
