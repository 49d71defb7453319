"""The gate's stored reasons in the reader's language: the same text on the station, in the API's refusal
and on the run, the refusal and the device history record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from qualiflow.documents.models import Document
from qualiflow.training.domain import status as training_domain
from qualiflow.training.selectors.reports import STATE_LABELS, finding_text

from ..domain.gate import GateReason

_EQUIPMENT_TEXT = {
    "out_of_service": lambda p: _("The equipment is out of service."),
    "retired": lambda p: _("The equipment is retired."),
    "calibration_overdue": lambda p: _("Its calibration was due on %(day)s.") % {"day": _day(p.get("due"))},
    "calibration_failed": lambda p: _("Its last calibration failed."),
    "maintenance_open": lambda p: _("Maintenance on it is still open."),
}


def _day(value: str | None) -> str:
    return dt.datetime.fromisoformat(value).date().isoformat() if value else ""


def reason_text(reason: dict[str, Any], decision: dict[str, Any], *, zone: dt.tzinfo = dt.UTC,
                documents: dict[str, str] | None = None) -> str:
    """One stored reason of a gate decision as a sentence for the operator; `documents` names documents
    (id -> code) that retraining reasons cite."""
    code, detail, params = reason.get("code"), reason.get("detail", ""), reason.get("params", {})
    if code == GateReason.QUALIFICATION:
        codes = {q.get("qualification_id"): q.get("code") for q in decision.get("qualifications", [])}
        qualification = codes.get(params.get("qualification")) or params.get("qualification", "")
        try:
            finding = training_domain.Finding(
                training_domain.Reason(detail), params.get("qualification", ""),
                tuple(sorted((k, v) for k, v in params.items() if k != "qualification")),
            )
        except ValueError:
            return _("Qualification %(code)s is not held.") % {"code": qualification}
        return _("Qualification %(code)s: %(why)s") % {
            "code": qualification, "why": finding_text(finding, zone=zone, documents=documents)}
    if code == GateReason.WORK_INSTRUCTION_NOT_TRAINED:
        return _("Not trained on revision %(revision)s of work instruction %(code)s.") % {
            "revision": params.get("revision", ""), "code": params.get("code", "")}
    if code == GateReason.PREVIOUS_OPERATION_OPEN:
        return _("Operation %(sequence)s before this one is not complete.") % {"sequence": params.get("sequence", "")}
    if code == GateReason.OPERATOR_INACTIVE:
        return _("The operator is not an active employee.")
    if code == GateReason.EQUIPMENT_REQUIRED:
        return _("This operation needs equipment: scan the asset.")
    if code == GateReason.EQUIPMENT_WRONG_CLASS:
        return _("The scanned equipment is not of the class this operation needs.")
    if code == GateReason.EQUIPMENT_BLOCKED:
        asset = (decision.get("equipment") or {}).get("asset_number", "")
        text = _EQUIPMENT_TEXT.get(detail)
        why = text(params) if text else _("It is blocked.")
        return _("Equipment %(asset)s may not be used: %(why)s") % {"asset": asset, "why": why}
    return str(code)


def reasons_text(decision: dict[str, Any], *, zone: dt.tzinfo = dt.UTC) -> list[str]:
    reasons = decision.get("reasons", [])
    documents = document_codes(reasons)
    return [reason_text(reason, decision, zone=zone, documents=documents) for reason in reasons]


def document_codes(reasons: list[dict[str, Any]]) -> dict[str, str]:
    """The codes of the documents the reasons cite (one query, none when no reason cites one)."""
    ids = {r.get("params", {}).get("document") for r in reasons} - {None, ""}
    if not ids:
        return {}
    return {str(pk): code for pk, code in Document.objects.filter(pk__in=ids).values_list("pk", "code")}


def decision_view(decision: dict[str, Any]) -> dict[str, Any]:
    """The stored decision for a page: qualification states in the reader's language, times as datetimes."""
    def moment(value: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value else None

    qualifications = [
        {**q, "state_label": STATE_LABELS.get(q.get("state"), q.get("state")),
         "valid_from": moment(q.get("valid_from")), "valid_until": moment(q.get("valid_until"))}
        for q in decision.get("qualifications", [])
    ]
    equipment = decision.get("equipment")
    if equipment:
        equipment = {**equipment, "calibrated_at": moment(equipment.get("calibrated_at")),
                     "calibration_due": moment(equipment.get("calibration_due"))}
    return {**decision, "qualifications": qualifications, "equipment": equipment, "at": moment(decision.get("at"))}
