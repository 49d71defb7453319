"""Writes for controlled documents and their revisions.

Documents are regulated records: every write states a reason, is audited by the model layer and emits its
event in the same transaction. `by` None is the system (seed, import); a user must hold `documents.manage`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.core.validation import assign, full_clean, require_reason
from qualiflow.integration import events

from .errors import DocumentErrorCode
from .models import Document, DocumentRevision

DOCUMENT_FIELDS = ("code", "title", "title_en", "kind", "is_active", "external_refs")


def _authorize(by) -> None:
    if by is not None and not has_perm(by, Perm.DOCUMENTS_MANAGE):
        raise PermissionDenied(DocumentErrorCode.OUT_OF_SCOPE, _("You are not allowed to manage controlled documents."))


def _refuse(field: str, message, code: DocumentErrorCode) -> NoReturn:
    raise ValidationFailed(message, fields={field: [message]}, code=code)


def _document_payload(document: Document) -> dict[str, Any]:
    return {"code": document.code, "title": document.title, "kind": document.kind, "is_active": document.is_active}


@transaction.atomic
def document_create(*, data: dict[str, Any], by=None, reason: str = "") -> Document:
    reason = require_reason(Document, reason)
    _authorize(by)
    document = Document()
    assign(document, data, DOCUMENT_FIELDS)
    document.code = (document.code or "").strip()
    if document.code and Document.objects.filter(code=document.code).exists():
        _refuse("code", _("The code %(code)s is already used.") % {"code": document.code}, DocumentErrorCode.CODE_TAKEN)
    full_clean(document)
    with context.acting(reason=reason):
        document.save()
        events.emit("documents.document.created", f"documents/document/{document.pk}", _document_payload(document))
    return document


@transaction.atomic
def document_update(*, document: Document, data: dict[str, Any], by=None, reason: str = "") -> Document:
    """Change the fields in `data`; unchanged values write nothing."""
    reason = require_reason(Document, reason)
    _authorize(by)
    document = Document.objects.select_for_update().get(pk=document.pk)
    before = {name: getattr(document, name) for name in data if name in DOCUMENT_FIELDS}
    assign(document, data, DOCUMENT_FIELDS)
    changed = sorted(name for name, old in before.items() if getattr(document, name) != old)
    if not changed:
        return document
    if "code" in changed and Document.objects.filter(code=document.code).exclude(pk=document.pk).exists():
        _refuse("code", _("The code %(code)s is already used.") % {"code": document.code}, DocumentErrorCode.CODE_TAKEN)
    full_clean(document)
    with context.acting(reason=reason):
        document.save()
        events.emit(
            "documents.document.updated", f"documents/document/{document.pk}",
            {**_document_payload(document), "fields": changed},
        )
    return document


@transaction.atomic
def revision_create(
    *,
    document: Document,
    label: str,
    effective_from: datetime,
    training_required: bool = True,
    retraining_grace_days: int = 0,
    summary: str = "",
    by=None,
    reason: str = "",
) -> DocumentRevision:
    """The next revision of `document` (numbered after the last one), effective from `effective_from`.

    A revision with `training_required` makes holders of qualifications resting on the document retrain
    within `retraining_grace_days` of the effective date.
    """
    reason = require_reason(DocumentRevision, reason)
    _authorize(by)
    # The lock serialises revision numbering per document.
    document = Document.objects.select_for_update().get(pk=document.pk)
    if not document.is_active:
        _refuse("document", _("The document %(code)s is no longer in use.") % {"code": document.code},
                DocumentErrorCode.REVISION_INVALID)
    if not isinstance(effective_from, datetime) or timezone.is_naive(effective_from):
        _refuse("effective_from", _("Enter a date and time with its time zone."), DocumentErrorCode.REVISION_INVALID)
    label = (label or "").strip()
    revisions = DocumentRevision.objects.filter(document=document)
    if label and revisions.filter(label=label).exists():
        _refuse("label", _("This document already has a revision %(label)s.") % {"label": label},
                DocumentErrorCode.REVISION_TAKEN)
    latest = revisions.order_by("-revision").first()
    if latest is not None and effective_from <= latest.effective_from:
        _refuse(
            "effective_from",
            _("A new revision must become effective after revision %(label)s (%(date)s).") % {
                "label": latest.label, "date": timezone.localtime(latest.effective_from).strftime("%Y-%m-%d %H:%M")},
            DocumentErrorCode.REVISION_INVALID,
        )
    number = (revisions.aggregate(last=Max("revision"))["last"] or 0) + 1
    revision = DocumentRevision(
        document=document, revision=number, label=label, effective_from=effective_from,
        training_required=training_required, retraining_grace_days=retraining_grace_days, summary=summary.strip(),
    )
    full_clean(revision)
    with context.acting(reason=reason):
        revision.save()
        events.emit(
            "documents.revision.created", f"documents/revision/{revision.pk}",
            {"document_id": document.pk, "document_code": document.code, "revision": number, "label": label,
             "effective_from": effective_from, "training_required": training_required,
             "retraining_grace_days": retraining_grace_days},
        )
    return revision
