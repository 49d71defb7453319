"""The shop-floor station: track-in through the qualification gate, track-out with quantities and
inspection results, and the controlled override of a refusal.

A track-in resolves what was scanned (an unknown badge, work order, operation or asset is bad input:
refused, nothing written), checks the order's state (closed, already tracked in: refused, nothing written),
then asks the gate. The gate's decision, with exactly what it rested on, is stored in the same
transaction: with the run when allowed, as a refusal record when not. Stored decisions are never
recomputed: they stay as they were when the grant they cite later expires.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import SignatureMeaning, User
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.services import esignature_sign
from qualiflow.core import context
from qualiflow.core.errors import Conflict, NotFound, PermissionDenied
from qualiflow.documents.models import DocumentRevision
from qualiflow.equipment import selectors as equipment_selectors
from qualiflow.equipment.models import Equipment
from qualiflow.integration import events
from qualiflow.people.models import Employee, EmployeeStatus
from qualiflow.quality import services as quality_services
from qualiflow.quality.models import QualityEventKind
from qualiflow.training import selectors as training_selectors
from qualiflow.training.domain import status as training_domain

from ..domain import gate
from ..errors import ProductionErrorCode
from ..models import GateRefusal, OperationRun, StepStatus, WorkOrder, WorkOrderOperation, WorkOrderStatus
from .orders import (
    authorize,
    mark_completed_if_done,
    mark_started,
    place_of,
    refuse,
    step_domain_requirements,
    system_moment,
)

TRACKABLE = (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)
TRACK_REASON = "shop-floor station"


@dataclass(frozen=True)
class Scan:
    operator: Employee
    work_order: WorkOrder
    step: WorkOrderOperation
    equipment: Equipment | None


@dataclass(frozen=True)
class TrackIn:
    """What a track-in came to: the run when allowed, the refusal record when not, and the stored decision."""

    allowed: bool
    decision: dict[str, Any]
    run: OperationRun | None = None
    refusal: GateRefusal | None = None


def _not_found(field: str, code: ProductionErrorCode, message) -> NotFound:
    return NotFound(code, message, details={"fields": {field: [message]}})


def split_scan(work_order: str, sequence: int | str | None) -> tuple[str, int | None]:
    """A work-order barcode may carry the operation: "WO-0001/20"."""
    text = (work_order or "").strip()
    if (sequence is None or str(sequence).strip() == "") and "/" in text:
        text, _sep, sequence = text.rpartition("/")
    if sequence is None or str(sequence).strip() == "":
        return text, None
    try:
        return text, int(str(sequence).strip())
    except ValueError:
        raise _not_found("sequence", ProductionErrorCode.UNKNOWN_OPERATION,
                         _("%(value)s is not an operation number.") % {"value": sequence}) from None


def station_resolve(*, badge: str, work_order: str, sequence: int | str | None = None, asset_number: str = "") -> Scan:
    """What the scanner read, as records; anything unknown is refused with a message naming what was read."""
    badge = (badge or "").strip()
    operator = Employee.objects.filter(employee_number=badge).first() if badge else None
    if operator is None:
        raise _not_found("badge", ProductionErrorCode.UNKNOWN_BADGE,
                         _("No one has badge %(badge)s.") % {"badge": badge or "-"})
    number, sequence = split_scan(work_order, sequence)
    order = WorkOrder.objects.select_related("line").filter(number=number).first() if number else None
    if order is None:
        raise _not_found("work_order", ProductionErrorCode.UNKNOWN_WORK_ORDER,
                         _("There is no work order %(number)s.") % {"number": number or "-"})
    if sequence is None:
        raise _not_found("sequence", ProductionErrorCode.UNKNOWN_OPERATION, _("Scan or enter the operation."))
    step = order.steps.filter(sequence=sequence).first()
    if step is None:
        raise _not_found("sequence", ProductionErrorCode.UNKNOWN_OPERATION,
                         _("Work order %(number)s has no operation %(sequence)s.") % {"number": order.number, "sequence": sequence})
    asset_number = (asset_number or "").strip()
    equipment = None
    if asset_number:
        equipment = Equipment.objects.filter(asset_number=asset_number).first()
        if equipment is None:
            raise _not_found("asset_number", ProductionErrorCode.UNKNOWN_EQUIPMENT,
                             _("There is no equipment %(asset)s.") % {"asset": asset_number})
    return Scan(operator, order, step, equipment)


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def _work_instruction(step: WorkOrderOperation, facts: training_domain.PersonFacts) -> gate.WorkInstruction | None:
    if step.work_instruction_id is None:
        return None
    document_id = str(step.work_instruction_id)
    revisions = tuple(
        training_domain.DocumentRevision(document_id, number, label, effective_from, dt.timedelta(days=grace))
        for number, label, effective_from, grace in DocumentRevision.objects.filter(
            document_id=step.work_instruction_id, training_required=True,
        ).values_list("revision", "label", "effective_from", "retraining_grace_days")
    )
    trainings = tuple(t for t in facts.trainings if t.document_id == document_id)
    return gate.WorkInstruction(document_id, step.work_instruction.code, revisions, trainings)


def _equipment_state(equipment: Equipment | None, at: dt.datetime):
    if equipment is None:
        return None, None
    availability = equipment_selectors.availability_of(equipment, at)
    state = gate.EquipmentState(
        str(equipment.pk), str(equipment.equipment_class_id), availability.available,
        tuple((str(f.code), tuple(f.params)) for f in availability.reasons),
    )
    return state, availability


def _decision_record(
    scan: Scan, decision: gate.Decision, facts: training_domain.PersonFacts, availability: Any, at: dt.datetime,
) -> dict[str, Any]:
    """The decision as stored with the run or refusal: allowed, reasons, and everything it rested on."""
    grants = {g.id: g for g in facts.grants}
    codes = {r["qualification_id"]: r["code"] for r in scan.step.requirements}  # copied at release
    qualifications = []
    for status in decision.verdict.statuses:
        grant_id = next((e.split(":", 1)[1] for e in status.evidence if e.startswith("grant:")), None)
        grant = grants.get(grant_id) if grant_id else None
        qualifications.append({
            "qualification_id": status.qualification_id,
            "code": codes.get(status.qualification_id, ""),
            "state": str(status.state),
            "grant_id": grant_id,
            "valid_from": _iso(grant.valid_from) if grant else None,
            "valid_until": _iso(status.valid_until),
            "certificate_numbers": [e.split(":", 1)[1] for e in status.evidence if e.startswith("certificate:")],
            "evidence": list(status.evidence),
        })
    instruction = None
    if scan.step.work_instruction_id is not None and decision.work_instruction is not None:
        wi = decision.work_instruction
        instruction = {
            "document_id": str(scan.step.work_instruction_id), "code": scan.step.work_instruction.code,
            "revision": wi.revision.revision if wi.revision else None, "label": wi.revision.label if wi.revision else "",
            "trained_revision": wi.trained_revision, "record_id": wi.record_id or None,
            "in_grace_until": _iso(wi.in_grace_until),
        }
    equipment = None
    if scan.equipment is not None:
        equipment = {
            "id": str(scan.equipment.pk), "asset_number": scan.equipment.asset_number, "name": scan.equipment.name,
            "available": availability.available,
            "calibration_record_id": availability.calibration_record_id,
            "calibration_certificate": availability.calibration_certificate,
            "calibrated_at": _iso(availability.calibrated_at),
            "calibration_due": _iso(availability.calibration_due),
            "reasons": [{"code": str(f.code), "params": dict(f.params)} for f in availability.reasons],
            "evidence": list(availability.evidence),
        }
    return {
        "allowed": decision.allowed,
        "at": _iso(at),
        "overridden": False,
        "operator": {"id": str(scan.operator.pk), "employee_number": scan.operator.employee_number,
                     "name": scan.operator.full_name},
        "work_order": scan.work_order.number,
        "sequence": scan.step.sequence,
        "qualifications": qualifications,
        "expiring": list(decision.verdict.expiring),
        "work_instruction": instruction,
        "equipment": equipment,
        "reasons": [reason.as_dict() for reason in decision.reasons],
    }


def _check_trackable(scan: Scan, step: WorkOrderOperation) -> None:
    """Input refusals (nothing is recorded): the order's state, the operation already done, already in."""
    if scan.work_order.status not in TRACKABLE:
        raise Conflict(ProductionErrorCode.WORK_ORDER_STATE, _("Work order %(number)s is %(status)s: nothing can be tracked on it.") % {
            "number": scan.work_order.number, "status": scan.work_order.get_status_display()})
    if step.status == StepStatus.DONE:
        raise Conflict(ProductionErrorCode.WORK_ORDER_STATE, _("Operation %(sequence)s of %(number)s is already done.") % {
            "sequence": step.sequence, "number": scan.work_order.number})
    if step.runs.filter(operator=scan.operator, tracked_out_at__isnull=True).exists():
        raise Conflict(ProductionErrorCode.ALREADY_TRACKED_IN, _("%(name)s is already tracked in at operation %(sequence)s of %(number)s.") % {
            "name": scan.operator.full_name, "sequence": step.sequence, "number": scan.work_order.number})


def gate_check(scan: Scan, step: WorkOrderOperation, at: dt.datetime) -> dict[str, Any]:
    """Ask the gate at `at` and return the decision as it is stored."""
    requirements = step_domain_requirements(step)
    facts = training_selectors.facts_for([scan.operator.pk])[scan.operator.pk]
    qualification_ids = [r.qualification.id for r in requirements]
    revisions = training_selectors.revisions_for(qualification_ids) if any(
        r.qualification.document_ids for r in requirements) else ()
    verdict = training_domain.evaluate(facts=facts, requirements=requirements, revisions=revisions, at=at)
    previous = step.work_order.steps.filter(sequence__lt=step.sequence).order_by("-sequence").values_list(
        "sequence", "status").first()
    equipment_state, availability = _equipment_state(scan.equipment, at)
    decision = gate.decide(gate.GateInput(
        operator_active=scan.operator.status == EmployeeStatus.ACTIVE,
        previous_done=previous is None or previous[1] == StepStatus.DONE,
        previous_sequence=previous[0] if previous else None,
        verdict=verdict,
        work_instruction=_work_instruction(step, facts),
        required_equipment_class=str(step.equipment_class_id) if step.equipment_class_id else None,
        equipment=equipment_state,
    ), at)
    return _decision_record(scan, decision, facts, availability, at)


def _subject(step: WorkOrderOperation) -> str:
    return f"production/workorder/{step.work_order_id}"


def _run_payload(run: OperationRun, scan: Scan) -> dict[str, Any]:
    return {
        "run_id": run.pk, "work_order": scan.work_order.number, "sequence": scan.step.sequence,
        "operator_id": scan.operator.pk, "employee_number": scan.operator.employee_number,
        "equipment_id": scan.equipment.pk if scan.equipment else None,
    }


@transaction.atomic
def operation_track_in(
    *,
    badge: str,
    work_order: str,
    sequence: int | str | None = None,
    asset_number: str = "",
    station: str = "",
    by=None,
    at: dt.datetime | None = None,
) -> TrackIn:
    """Track the badge's holder in at the operation, through the gate. A refusal is recorded and returned
    (not raised), so that it is kept: callers show its reasons."""
    scan = station_resolve(badge=badge, work_order=work_order, sequence=sequence, asset_number=asset_number)
    authorize(by, Perm.PRODUCTION_EXECUTE, scan.work_order.line)
    at = system_moment(at, by)
    # One track-in at a time per operation: the sequence, quantity and double-track-in checks hold under races.
    step = WorkOrderOperation.objects.select_for_update(of=("self",)).select_related("work_instruction", "work_order").get(pk=scan.step.pk)
    scan = Scan(scan.operator, scan.work_order, step, scan.equipment)
    _check_trackable(scan, step)
    decision = gate_check(scan, step, at)
    recorder = by if isinstance(by, User) else None
    with context.acting(reason=TRACK_REASON):
        if not decision["allowed"]:
            refusal = GateRefusal.objects.create(
                step=step, operator=scan.operator, equipment=scan.equipment, at=at, decision=decision, station=station,
            )
            events.emit("production.operation.refused", _subject(step), {
                "refusal_id": refusal.pk, "work_order": scan.work_order.number, "sequence": step.sequence,
                "operator_id": scan.operator.pk, "employee_number": scan.operator.employee_number,
                "reasons": decision["reasons"],
            })
            return TrackIn(False, decision, refusal=refusal)
        run = _start_run(scan, step, decision, at, station, recorder)
    return TrackIn(True, decision, run=run)


def _start_run(
    scan: Scan, step: WorkOrderOperation, decision: dict[str, Any], at: dt.datetime, station: str, recorder,
    **override: Any,
) -> OperationRun:
    # The step row is locked and `_check_trackable` ran under the lock: no concurrent open run can exist,
    # and the unique constraint stays the last line of defence.
    run = OperationRun.objects.create(
        step=step, operator=scan.operator, equipment=scan.equipment, tracked_in_at=at, decision=decision,
        station=station, tracked_in_by=recorder, **override,
    )
    if step.status == StepStatus.PENDING:
        step.status = StepStatus.IN_PROGRESS
        step.save(update_fields=["status", "updated_at"])
    if scan.work_order.status == WorkOrderStatus.RELEASED:
        mark_started(scan.work_order, at)
    events.emit("production.operation.tracked_in", _subject(step), {**_run_payload(run, scan), "overridden": run.overridden})
    return run


def _available_quantity(step: WorkOrderOperation) -> int:
    """Units that may pass this operation: the order quantity, or what the previous operation passed as good."""
    previous = step.work_order.steps.filter(sequence__lt=step.sequence).order_by("-sequence").first()
    return step.work_order.quantity if previous is None else previous.good_quantity


def _inspection_results(step: WorkOrderOperation, results: dict[str, Any]) -> list[dict[str, Any]]:
    """One result per inspection point: a measured value within its limits, or pass / fail."""
    recorded, errors = [], []
    unknown = sorted(set(results) - {p["code"] for p in step.inspection_points})
    if unknown:
        errors.append(_("Operation %(sequence)s has no inspection point %(code)s.") % {"sequence": step.sequence, "code": unknown[0]})
    for point in step.inspection_points:
        code = point["code"]
        value = results.get(code)
        if value is None or str(value).strip() == "":
            errors.append(_("Enter the result of inspection %(code)s.") % {"code": code})
            continue
        lower, upper = point.get("lower"), point.get("upper")
        if lower is None and upper is None:
            text = str(value).strip().lower()
            if text not in ("pass", "fail"):
                errors.append(_("Enter pass or fail for inspection %(code)s.") % {"code": code})
                continue
            recorded.append({"code": code, "value": text, "passed": text == "pass"})
            continue
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            errors.append(_("Inspection %(code)s needs a number.") % {"code": code})
            continue
        if not number.is_finite():
            errors.append(_("Inspection %(code)s needs a number.") % {"code": code})
            continue
        passed = (lower is None or number >= Decimal(str(lower))) and (upper is None or number <= Decimal(str(upper)))
        recorded.append({"code": code, "value": str(number), "passed": passed})
    if errors:
        refuse("inspection_results", errors[0], ProductionErrorCode.INSPECTION_INVALID)
    return recorded


@transaction.atomic
def operation_track_out(
    *,
    run: OperationRun,
    good_quantity: int,
    scrap_quantity: int = 0,
    inspection_results: dict[str, Any] | None = None,
    finish: bool = False,
    by=None,
    at: dt.datetime | None = None,
) -> OperationRun:
    """Track the run out with its quantities and inspection results. The operation is done when all units
    that reached it are accounted for (or `finish` says no more will come) and nobody else is still in."""
    step = WorkOrderOperation.objects.select_for_update(of=("self",)).select_related("work_order", "work_order__line").get(pk=run.step_id)
    work_order = step.work_order
    authorize(by, Perm.PRODUCTION_EXECUTE, work_order.line)
    run = OperationRun.objects.select_related("operator").get(pk=run.pk)
    if run.tracked_out_at is not None:
        raise Conflict(ProductionErrorCode.NOT_TRACKED_IN, _("%(name)s is not tracked in at this operation.") % {"name": run.operator.full_name})
    if work_order.status not in TRACKABLE:
        raise Conflict(ProductionErrorCode.WORK_ORDER_STATE, _("Work order %(number)s is %(status)s: nothing can be tracked on it.") % {
            "number": work_order.number, "status": work_order.get_status_display()})
    for field, value in (("good_quantity", good_quantity), ("scrap_quantity", scrap_quantity)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            refuse(field, _("Quantities are whole numbers, 0 or more."), ProductionErrorCode.QUANTITY_EXCEEDED)
    available = _available_quantity(step)
    total = step.good_quantity + step.scrap_quantity + good_quantity + scrap_quantity
    if total > available:
        refuse("good_quantity", _("Only %(available)s units reached this operation; %(done)s are already tracked out.") % {
            "available": available, "done": step.good_quantity + step.scrap_quantity}, ProductionErrorCode.QUANTITY_EXCEEDED)
    results = _inspection_results(step, inspection_results or {})
    at = system_moment(at, by)
    if at < run.tracked_in_at:
        at = run.tracked_in_at
    with context.acting(reason=TRACK_REASON):
        run.tracked_out_at = at
        run.good_quantity = good_quantity
        run.scrap_quantity = scrap_quantity
        run.inspection_results = results
        run.save(update_fields=["tracked_out_at", "good_quantity", "scrap_quantity", "inspection_results", "updated_at"])
        step.good_quantity += good_quantity
        step.scrap_quantity += scrap_quantity
        previous_done = not work_order.steps.filter(sequence__lt=step.sequence).exclude(status=StepStatus.DONE).exists()
        others_in = step.runs.filter(tracked_out_at__isnull=True).exists()
        done = previous_done and not others_in and (finish or step.good_quantity + step.scrap_quantity >= available)
        if done:
            step.status = StepStatus.DONE
            step.completed_at = at
        step.save(update_fields=["good_quantity", "scrap_quantity", "status", "completed_at", "updated_at"])
        events.emit("production.operation.tracked_out", _subject(step), {
            "run_id": run.pk, "work_order": work_order.number, "sequence": step.sequence,
            "operator_id": run.operator_id, "good_quantity": good_quantity, "scrap_quantity": scrap_quantity,
            "inspections_failed": sum(1 for r in results if not r["passed"]), "operation_done": done,
        })
        if done:
            mark_completed_if_done(work_order, at)
    return run


@transaction.atomic
def operation_override(
    *,
    refusal: GateRefusal,
    supervisor: User,
    supervisor_password: str,
    qa: User,
    qa_password: str,
    reason: str,
    station: str = "",
) -> OperationRun:
    """Let a refused track-in proceed: a production supervisor and QA both sign with the reason. The run is
    flagged as overridden, keeps the refusal's decision, and a deviation is opened for it. Either signature
    failing leaves nothing behind."""
    reason = (reason or "").strip()
    if not reason:
        refuse("reason", _("Give the reason for the override."), ProductionErrorCode.OVERRIDE_INVALID)
    refusal = GateRefusal.objects.select_for_update(of=("self",)).select_related(
        "step", "step__work_order", "step__work_order__line", "operator", "equipment").get(pk=refusal.pk)
    if refusal.run_id is not None:
        raise Conflict(ProductionErrorCode.OVERRIDE_INVALID, _("This refusal has already been overridden."))
    work_order = refusal.step.work_order
    if supervisor.pk == qa.pk:
        refuse("qa", _("The supervisor and QA must be two different people."), ProductionErrorCode.OVERRIDE_INVALID)
    if not has_perm(supervisor, Perm.PRODUCTION_OVERRIDE, place_of(work_order.line)):
        raise PermissionDenied(ProductionErrorCode.OVERRIDE_INVALID, _("%(name)s may not override the gate on this line.") % {
            "name": supervisor.printed_name})
    if not has_perm(qa, Perm.QUALITY_APPROVE):
        raise PermissionDenied(ProductionErrorCode.OVERRIDE_INVALID, _("%(name)s may not approve overrides for QA.") % {
            "name": qa.printed_name})
    step = WorkOrderOperation.objects.select_for_update(of=("self",)).select_related("work_instruction", "work_order").get(pk=refusal.step_id)
    scan = Scan(refusal.operator, work_order, step, refusal.equipment)
    _check_trackable(scan, step)
    at = timezone.now()
    decision = {**refusal.decision, "overridden": True, "override_reason": reason}
    run_id = uuid.uuid4()
    with context.acting(reason=reason):
        deviation = quality_services.quality_event_open(
            kind=QualityEventKind.DEVIATION,
            title=str(_("Gate override: %(operator)s at %(number)s / %(sequence)s") % {
                "operator": refusal.operator.full_name, "number": work_order.number, "sequence": step.sequence}),
            description=reason, site=work_order.line.site, source_type="production.operationrun", source_id=str(run_id),
            by=None, reason=reason,
        )
        run = _start_run(scan, step, decision, at, station or refusal.station, supervisor,
                         id=run_id, overridden=True, override_reason=reason, deviation=deviation)
        # Both sign the run as it stands, decision and deviation included: their signatures bind to it.
        esignature_sign(signer=supervisor, password=supervisor_password, record=run, meaning=SignatureMeaning.APPROVED, reason=reason)
        esignature_sign(signer=qa, password=qa_password, record=run, meaning=SignatureMeaning.APPROVED, reason=reason)
        refusal.run = run
        refusal.save(update_fields=["run", "updated_at"])
        events.emit("production.operation.overridden", _subject(step), {
            **_run_payload(run, scan), "refusal_id": refusal.pk, "deviation": deviation.number,
            "supervisor": supervisor.username, "qa": qa.username, "reason": reason,
        })
    return run
