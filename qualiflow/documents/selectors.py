"""Reads of controlled documents. Documents are plant-wide (not scoped to a site); reading them needs
`documents.view`, which the views and the API check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.core.errors import CoreErrorCode, NotFound

from .models import Document, DocumentRevision

ORDERINGS = ("code", "-code", "title", "-title", "kind", "-kind")


def _in_effect(at: dt.datetime) -> QuerySet[DocumentRevision]:
    """Revisions of the outer document in effect at `at`, newest first."""
    return DocumentRevision.objects.filter(document=OuterRef("pk"), effective_from__lte=at).order_by("-revision")


def document_list(
    *, search: str = "", kind: str = "", active: bool | None = True, ordering: str = "code",
    at: dt.datetime | None = None,
) -> QuerySet[Document]:
    """Documents with the label and effective date of the revision in effect at `at` (default: now)."""
    at = timezone.now() if at is None else at
    qs = Document.objects.annotate(
        current_label=Subquery(_in_effect(at).values("label")[:1]),
        current_effective_from=Subquery(_in_effect(at).values("effective_from")[:1]),
        revision_count=Count("revisions", distinct=True),
    )
    term = search.strip()
    if term:
        qs = qs.filter(Q(code__icontains=term) | Q(title__icontains=term) | Q(title_en__icontains=term))
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by(ordering if ordering in ORDERINGS else "code", "code")


def document_get(*, document_id: Any) -> Document:
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Document not found."))
    return document


def revision_get(*, document: Document, revision_id: Any) -> DocumentRevision:
    revision = DocumentRevision.objects.filter(document=document, pk=revision_id).first()
    if revision is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Document revision not found."))
    return revision


@dataclass(frozen=True)
class RevisionRow:
    revision: DocumentRevision
    state: str  # "current", "pending" (effective later) or "superseded"


@dataclass(frozen=True)
class DocumentDetail:
    document: Document
    revisions: list[RevisionRow]
    current: DocumentRevision | None
    # Read through the reverse relations the training models declare, so documents need not import training.
    qualifications: list[Any]
    courses: list[Any]


def document_detail(*, document: Document, at: dt.datetime | None = None) -> DocumentDetail:
    """The document's revisions (newest first, each marked current / pending / superseded), the
    qualifications that rest on it and the courses that train on it."""
    at = timezone.now() if at is None else at
    revisions = list(DocumentRevision.objects.filter(document=document).order_by("-revision"))
    current = next((r for r in revisions if r.effective_from <= at), None)
    rows = [
        RevisionRow(r, "current" if r is current else "pending" if r.effective_from > at else "superseded")
        for r in revisions
    ]
    return DocumentDetail(
        document=document,
        revisions=rows,
        current=current,
        qualifications=list(document.qualifications.order_by("code")),
        courses=list(document.courses.order_by("code")),
    )
