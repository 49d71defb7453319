"""The station over the API: an MES terminal or scanner gateway tracks in and out through the same gate
as the tablet page. A refused track-in answers 409 `production.gate_refused` with the reasons in the
caller's language; the refusal itself is recorded."""

import datetime as dt
from typing import Any
from uuid import UUID

from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import WriteSchema, error_responses
from qualiflow.core.errors import Conflict

from ..errors import ProductionErrorCode
from ..selectors import orders as selectors
from ..selectors.station import reasons_text
from ..services import station as services

router = Router()

_view = requires(Perm.PRODUCTION_VIEW)
_execute = requires(Perm.PRODUCTION_EXECUTE)


class RunOut(Schema):
    id: UUID
    work_order: str
    sequence: int
    operator_id: UUID
    employee_number: str
    equipment_id: UUID | None
    tracked_in_at: dt.datetime
    tracked_out_at: dt.datetime | None
    good_quantity: int | None
    scrap_quantity: int | None
    inspection_results: list[dict[str, Any]]
    overridden: bool
    override_reason: str
    deviation: str | None = Field(None, description="Number of the deviation an override opened.")
    decision: dict[str, Any] = Field(..., description="The gate's decision and the evidence it rested on, as stored at track-in.")


class RefusalOut(Schema):
    id: UUID
    work_order: str
    sequence: int
    operator_id: UUID
    employee_number: str
    equipment_id: UUID | None
    at: dt.datetime
    reasons: list[str] = Field(..., description="Why, in the caller's language.")
    decision: dict[str, Any]
    overriding_run_id: UUID | None


def run_out(run) -> dict[str, Any]:
    return {
        "id": run.pk, "work_order": run.step.work_order.number, "sequence": run.step.sequence,
        "operator_id": run.operator_id, "employee_number": run.operator.employee_number,
        "equipment_id": run.equipment_id, "tracked_in_at": run.tracked_in_at, "tracked_out_at": run.tracked_out_at,
        "good_quantity": run.good_quantity, "scrap_quantity": run.scrap_quantity,
        "inspection_results": run.inspection_results, "overridden": run.overridden,
        "override_reason": run.override_reason, "deviation": run.deviation.number if run.deviation_id else None,
        "decision": run.decision,
    }


def refusal_out(refusal) -> dict[str, Any]:
    return {
        "id": refusal.pk, "work_order": refusal.step.work_order.number, "sequence": refusal.step.sequence,
        "operator_id": refusal.operator_id, "employee_number": refusal.operator.employee_number,
        "equipment_id": refusal.equipment_id, "at": refusal.at, "reasons": reasons_text(refusal.decision),
        "decision": refusal.decision, "overriding_run_id": refusal.run_id,
    }


class TrackInIn(WriteSchema):
    badge: str = Field(..., min_length=1, max_length=40, description="The operator's badge (employee number).")
    work_order: str = Field(..., min_length=1, max_length=60, description='The work order number, or "number/sequence".')
    sequence: int | None = Field(None, ge=0, description="The operation; may be carried by `work_order`.")
    asset_number: str = Field("", max_length=40, description="The equipment scanned, when the operation needs one.")
    station: str = Field("", max_length=100)


class TrackOutIn(WriteSchema):
    good_quantity: int = Field(..., ge=0, le=10_000_000)
    scrap_quantity: int = Field(0, ge=0, le=10_000_000)
    inspection_results: dict[str, str] = Field(default_factory=dict, description="Inspection point code -> value, or pass / fail.")
    finish: bool = Field(False, description="No more units will come to this operation.")


class ImpactOut(Schema):
    record_id: UUID
    equipment_id: UUID
    since: dt.datetime | None = Field(..., description="Completion of the last passing calibration before the failure.")
    failed_at: dt.datetime
    runs: list[RunOut]


@router.post("/track-in", response={201: RunOut, **error_responses(403, 404, 409, 422)}, auth=_execute,
             operation_id="operation_track_in")
def operation_track_in(request, payload: TrackInIn):
    """Track the badge's holder in through the gate: qualifications (with the work-instruction revision),
    equipment availability and calibration, and the previous operation."""
    result = services.operation_track_in(
        badge=payload.badge, work_order=payload.work_order, sequence=payload.sequence,
        asset_number=payload.asset_number, station=payload.station, by=request.user,
    )
    if not result.allowed:
        raise Conflict(ProductionErrorCode.GATE_REFUSED, _("Track-in refused."), details={
            "refusal_id": str(result.refusal.pk), "reasons": reasons_text(result.decision),
            "decision": result.decision,
        })
    return Status(201, run_out(result.run))


@router.post("/runs/{run_id}/track-out", response={200: RunOut, **error_responses(403, 404, 409, 422)}, auth=_execute,
             operation_id="operation_track_out")
def operation_track_out(request, run_id: UUID, payload: TrackOutIn):
    run = selectors.run_get(user=None, run_id=run_id)
    run = services.operation_track_out(
        run=run, good_quantity=payload.good_quantity, scrap_quantity=payload.scrap_quantity,
        inspection_results=payload.inspection_results, finish=payload.finish, by=request.user,
    )
    return run_out(selectors.run_get(user=None, run_id=run.pk))


@router.get("/runs/{run_id}", response={200: RunOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="operation_run_get")
def operation_run_get(request, run_id: UUID):
    return run_out(selectors.run_get(user=request.user, run_id=run_id))


@router.get("/refusals/{refusal_id}", response={200: RefusalOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="gate_refusal_get")
def gate_refusal_get(request, refusal_id: UUID):
    return refusal_out(selectors.refusal_get(user=request.user, refusal_id=refusal_id))


@router.get("/calibration-impact/{record_id}", response={200: ImpactOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="calibration_impact_get")
def calibration_impact_get(request, record_id: UUID):
    """Every run on the asset since its last passing calibration, for a calibration found out of tolerance."""
    record = selectors.impact_record_get(user=request.user, record_id=record_id)
    since, runs = selectors.calibration_impact(record, user=request.user)
    return {"record_id": record.pk, "equipment_id": record.equipment_id, "since": since, "failed_at": record.completed_at,
            "runs": [run_out(run) for run in runs.select_related("deviation")]}
