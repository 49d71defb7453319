"""Device history records: export (content frozen, hashed and e-signed) and verification.

An export stores the content exactly as hashed; the PDF and the JSON download (`views.dhr`) are made from
that stored content, never from live data, so what an inspector receives is what was signed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import SignatureMeaning, User
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.services import esignature_sign
from qualiflow.core import context
from qualiflow.core.errors import CoreErrorCode, PermissionDenied, ValidationFailed
from qualiflow.integration import events

from ..errors import ProductionErrorCode
from ..models import DhrExport, WorkOrder, WorkOrderStatus
from ..selectors import dhr as selectors

EXPORTABLE = (WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED)


def canonical_json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def content_digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


@transaction.atomic
def dhr_export(*, work_order: WorkOrder, signer: User, password: str, reason: str = "") -> DhrExport:
    """Freeze the DHR of a completed or closed work order, hash it and sign it as approved by `signer`.
    A wrong password undoes everything: no export is kept."""
    if not has_perm(signer, Perm.PRODUCTION_EXPORT):
        raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to export device history records."))
    work_order = WorkOrder.objects.select_for_update().select_related("line").get(pk=work_order.pk)
    if not has_perm(signer, Perm.PRODUCTION_EXPORT, selectors.placed(work_order)):
        raise PermissionDenied(ProductionErrorCode.OUT_OF_SCOPE, _("This work order is outside the area you may see."))
    if work_order.status not in EXPORTABLE:
        raise ValidationFailed(
            _("Only a completed or closed work order has a device history record to export; %(number)s is %(status)s.")
            % {"number": work_order.number, "status": work_order.get_status_display()},
            fields={"__all__": [_("The work order is not completed yet.")]}, code=ProductionErrorCode.DHR_INVALID,
        )
    content = selectors.dhr_content(work_order=work_order)
    reason = reason.strip()
    with context.acting(reason=reason or str(_("Device history record exported"))):
        export = DhrExport.objects.create(
            work_order=work_order, exported_at=timezone.now(), exported_by=signer, content=content,
            content_hash=content_digest(content),
        )
        signature = esignature_sign(signer=signer, password=password, record=export,
                                    meaning=SignatureMeaning.APPROVED, reason=reason)
        events.emit("production.dhr.exported", f"production/dhr/{export.pk}", {
            "export_id": export.pk, "work_order_id": work_order.pk, "work_order_number": work_order.number,
            "content_hash": export.content_hash, "signature_id": signature.pk, "exported_by": signer.username,
        })
    return export


def dhr_verify(export: DhrExport) -> bool:
    """Does the stored content still hash to the stored hash? False once either was altered."""
    return content_digest(export.content) == export.content_hash

