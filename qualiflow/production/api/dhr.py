"""Device history record API under /api/v1/production: a work order's live DHR content, a stored (signed)
export with its verification, and the export's PDF. Reading needs `production.view` over the order's line.
Exports are made in the browser only: signing needs the signer's password in their own session."""

import datetime as dt
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from ninja import Field, Router, Schema

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import error_responses

from ..selectors import dhr as selectors
from ..views.dhr import export_document, pdf_response

router = Router()

_view = requires(Perm.PRODUCTION_VIEW)


class DhrSignatureOut(Schema):
    id: UUID
    printed_name: str
    meaning: str
    signed_at: dt.datetime
    reason: str
    content_hash: str = Field(..., description="SHA-256 of the signed export record at signing.")


class DhrExportOut(Schema):
    id: UUID
    work_order_id: UUID
    work_order_number: str
    exported_at: dt.datetime
    exported_by: str = Field(..., description="The exporter's printed name.")
    content_hash: str = Field(..., description="SHA-256 of `content` as JSON with sorted keys, no spaces, UTF-8.")
    hash_algorithm: str
    verified: bool = Field(..., description="The stored content still hashes to `content_hash`.")
    signatures: list[DhrSignatureOut]
    content: dict[str, Any] = Field(..., description="The device history record exactly as exported and hashed.")


@router.get(
    "/work-orders/{work_order_id}/dhr", response={200: dict[str, Any], **error_responses(403, 404)}, auth=_view,
    summary="Device history record of a work order (live)", operation_id="production_dhr_content",
)
def dhr_content(request, work_order_id: UUID):
    """The DHR as it stands now: header, operations with every run (operator, equipment and calibration,
    quantities, inspections, qualification evidence frozen at track-in, overrides), refusals, deviations,
    totals and exceptions. Not signed: export it in the application for a signed, hashed record."""
    work_order = selectors.dhr_work_order(user=request.user, work_order_id=work_order_id)
    return selectors.dhr_content(work_order=work_order)


@router.get(
    "/dhr-exports/{export_id}", response={200: DhrExportOut, **error_responses(403, 404)}, auth=_view,
    summary="A signed device history record export", operation_id="production_dhr_export",
)
def dhr_export(request, export_id: UUID):
    """The stored content with its hash, whether it still verifies, and its e-signatures."""
    return export_document(selectors.dhr_export_get(user=request.user, export_id=export_id))


@router.get(
    "/dhr-exports/{export_id}/pdf", response={200: None, **error_responses(403, 404)}, auth=_view,
    summary="A device history record export as PDF", operation_id="production_dhr_export_pdf",
    openapi_extra={"responses": {200: {"description": "The export as a PDF batch record.",
                                       "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}},
)
def dhr_export_pdf(request, export_id: UUID) -> HttpResponse:
    """The stored export laid out as a batch record, in the caller's language."""
    return pdf_response(selectors.dhr_export_get(user=request.user, export_id=export_id))

