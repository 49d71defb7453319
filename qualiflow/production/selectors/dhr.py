"""Reads for the device history record (DHR, 器械历史记录) of a work order.

`dhr_content` assembles everything an inspector asks about a lot from what was stored at the time: each
run's gate decision as frozen at track-in (qualification evidence, work instruction revision, calibration
of the equipment), never today's status of the people or the equipment. The result is plain JSON in a fixed
order, so the same facts always give the same bytes and the same hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.audit.tracking import object_type
from qualiflow.core.errors import CoreErrorCode, NotFound, PermissionDenied

from ..errors import ProductionErrorCode
from ..models import DhrExport, GateRefusal, OperationRun, Routing, WorkOrder, WorkOrderOperation

SCHEMA = "qualiflow.dhr/1"


@dataclass(frozen=True)
class _Placed:
    """A work order's place in the organisation, as `has_perm` reads it (the order's line)."""

    site_id: UUID | None
    department_id: UUID | None
    line_id: UUID | None


def placed(work_order: WorkOrder) -> _Placed:
    line = work_order.line
    return _Placed(line.site_id, line.department_id, line.pk)


def _require(user, perm: str, work_order: WorkOrder) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to do this."))
    if not has_perm(user, perm, placed(work_order)):
        raise PermissionDenied(ProductionErrorCode.OUT_OF_SCOPE, _("This work order is outside the area you may see."))


def dhr_work_order(*, user, work_order_id: UUID | str, perm: str = Perm.PRODUCTION_VIEW) -> WorkOrder:
    """The work order whose DHR `user` may read (or, with `perm`, export)."""
    work_order = WorkOrder.objects.select_related("line").filter(pk=work_order_id).first()
    if work_order is None:
        raise NotFound(ProductionErrorCode.UNKNOWN_WORK_ORDER, _("Work order not found."))
    _require(user, perm, work_order)
    return work_order


def dhr_export_get(*, user, export_id: UUID | str) -> DhrExport:
    """A stored DHR export `user` may read (production.view over the order's line)."""
    export = DhrExport.objects.select_related("work_order__line", "exported_by").filter(pk=export_id).first()
    if export is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Device history record export not found."))
    _require(user, Perm.PRODUCTION_VIEW, export.work_order)
    return export


def dhr_exports(*, work_order: WorkOrder) -> list[DhrExport]:
    return list(work_order.dhr_exports.select_related("exported_by").order_by("-exported_at"))


def export_signatures(export: DhrExport) -> list[dict[str, Any]]:
    return [_signature(s) for s in ESignature.objects.filter(
        object_type=object_type(DhrExport), object_id=str(export.pk)).order_by("signed_at", "id")]


# ---- content -------------------------------------------------------------------------------------------


def _utc(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def _frozen_time(value: Any) -> Any:
    """A time from a stored decision, in the same UTC form as the rest; kept as is if it is not one."""
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return _utc(moment) if moment.tzinfo is not None else value
    return value


def _id(value: Any) -> str | None:
    return str(value) if value is not None else None


def _decimal(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _unit(unit) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {"id": str(unit.pk), "code": unit.code, "name": unit.name, "name_en": unit.name_en}


def _signature(signature: ESignature) -> dict[str, Any]:
    return {
        "id": str(signature.pk), "printed_name": signature.printed_name, "meaning": signature.meaning,
        "signed_at": _utc(signature.signed_at), "reason": signature.reason, "content_hash": signature.content_hash,
    }


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _reasons(decision: dict) -> list[dict[str, Any]]:
    """The gate's reasons, whatever the station wrote them as (`params` or `message_params`)."""
    out = []
    for reason in _list(decision.get("reasons")):
        reason = _dict(reason)
        params = _dict(reason.get("params") or reason.get("message_params"))
        out.append({"code": str(reason.get("code") or ""), "detail": str(reason.get("detail") or ""),
                    "params": {str(k): str(v) for k, v in sorted(params.items())}})
    return out


def _operator(employee, decision: dict) -> dict[str, Any]:
    frozen = _dict(decision.get("operator"))
    return {
        "id": str(employee.pk),
        "employee_number": frozen.get("employee_number") or employee.employee_number,
        "name": frozen.get("name") or employee.full_name,
    }


def _equipment(equipment, decision: dict) -> dict[str, Any] | None:
    """The equipment and its calibration as the gate saw them at track-in."""
    frozen = _dict(decision.get("equipment"))
    if equipment is None and not frozen:
        return None
    return {
        "id": _id(frozen.get("id")) or _id(equipment.pk if equipment else None),
        "asset_number": frozen.get("asset_number") or (equipment.asset_number if equipment else ""),
        "name": frozen.get("name") or (equipment.name if equipment else ""),
        "available": frozen.get("available"),
        "calibration_record_id": _id(frozen.get("calibration_record_id")),
        "calibration_certificate": frozen.get("calibration_certificate") or "",
        "calibrated_at": _frozen_time(frozen.get("calibrated_at")),
        "calibration_due": _frozen_time(frozen.get("calibration_due")),
        "reasons": [r if isinstance(r, dict) else str(r) for r in _list(frozen.get("reasons"))],
        "evidence": [str(e) for e in _list(frozen.get("evidence"))],
    }


def _work_instruction(decision: dict) -> dict[str, Any] | None:
    frozen = decision.get("work_instruction")
    if not isinstance(frozen, dict):
        return None
    return {
        "document_id": _id(frozen.get("document_id")), "code": frozen.get("code") or "",
        "revision": frozen.get("revision"), "label": frozen.get("label") or "",
        "trained_revision": frozen.get("trained_revision"), "record_id": _id(frozen.get("record_id")),
        "in_grace_until": _frozen_time(frozen.get("in_grace_until")),
    }


def _qualifications(decision: dict) -> list[dict[str, Any]]:
    expiring = {str(q) for q in _list(decision.get("expiring"))}
    out = []
    for q in _list(decision.get("qualifications")):
        q = _dict(q)
        qualification_id = _id(q.get("qualification_id"))
        state = str(q.get("state") or "")
        out.append({
            "qualification_id": qualification_id, "code": q.get("code") or "", "name": q.get("name") or "",
            "state": state, "expiring": state == "expiring" or qualification_id in expiring,
            "grant_id": _id(q.get("grant_id")), "valid_from": _frozen_time(q.get("valid_from")),
            "valid_until": _frozen_time(q.get("valid_until")),
            "certificate_numbers": sorted(str(n) for n in _list(q.get("certificate_numbers"))),
            "evidence": [e if isinstance(e, dict | str) else str(e) for e in _list(q.get("evidence"))],
        })
    return sorted(out, key=lambda q: (q["code"], q["qualification_id"] or ""))


def _inspections(run: OperationRun, points: list) -> list[dict[str, Any]]:
    """Each result with the characteristic and limits it was checked against (from the order's copy)."""
    by_code = {_dict(p).get("code"): _dict(p) for p in points}
    out = []
    for result in _list(run.inspection_results):
        result = _dict(result)
        point = by_code.get(result.get("code"), {})
        out.append({
            "code": result.get("code") or "", "characteristic": point.get("characteristic", ""),
            "unit": point.get("unit", ""), "lower": point.get("lower"), "upper": point.get("upper"),
            "value": result.get("value"), "passed": result.get("passed"),
        })
    return out


def _deviation(event) -> dict[str, Any] | None:
    if event is None:
        return None
    return {"id": str(event.pk), "number": event.number, "kind": event.kind, "title": event.title,
            "status": event.status, "opened_at": _utc(event.opened_at), "closed_at": _utc(event.closed_at)}


def _run(run: OperationRun, step: WorkOrderOperation, signatures: dict[str, list]) -> dict[str, Any]:
    decision = _dict(run.decision)
    return {
        "id": str(run.pk),
        "operator": _operator(run.operator, decision),
        "tracked_in_at": _utc(run.tracked_in_at), "tracked_out_at": _utc(run.tracked_out_at),
        "station": run.station,
        "recorded_by": run.tracked_in_by.printed_name if run.tracked_in_by_id else "",
        "equipment": _equipment(run.equipment, decision),
        "good_quantity": run.good_quantity, "scrap_quantity": run.scrap_quantity,
        "inspections": _inspections(run, _list(step.inspection_points)),
        "decision": {"allowed": bool(decision.get("allowed")), "at": _frozen_time(decision.get("at")),
                     "reasons": _reasons(decision)},
        "work_instruction": _work_instruction(decision),
        "qualifications": _qualifications(decision),
        "overridden": run.overridden, "override_reason": run.override_reason,
        "override_signatures": signatures.get(str(run.pk), []),
        "deviation": _deviation(run.deviation),
    }


def _refusal(refusal: GateRefusal, signatures: dict[str, list]) -> dict[str, Any]:
    decision = _dict(refusal.decision)
    equipment = _equipment(refusal.equipment, decision)
    return {
        "id": str(refusal.pk), "at": _utc(refusal.at), "operator": _operator(refusal.operator, decision),
        "equipment": equipment["asset_number"] if equipment else "", "station": refusal.station,
        "reasons": _reasons(decision), "qualifications": _qualifications(decision),
        "overridden": refusal.run_id is not None, "run_id": _id(refusal.run_id),
        "signatures": signatures.get(str(refusal.pk), []),
    }


def _signatures_by_object(routing: Routing, run_ids: list[str], refusal_ids: list[str]) -> dict[str, list]:
    """Every signature the record cites, in one query: the routing's approval, overrides of the gate."""
    wanted = Q(object_type=object_type(Routing), object_id=str(routing.pk))
    if run_ids:
        wanted |= Q(object_type=object_type(OperationRun), object_id__in=run_ids)
    if refusal_ids:
        wanted |= Q(object_type=object_type(GateRefusal), object_id__in=refusal_ids)
    out: dict[str, list] = {}
    for signature in ESignature.objects.filter(wanted).order_by("signed_at", "id"):
        out.setdefault(signature.object_id, []).append(_signature(signature))
    return out


def _load(work_order_id) -> WorkOrder:
    runs = OperationRun.objects.select_related("operator", "equipment", "deviation", "tracked_in_by").order_by(
        "tracked_in_at", "id")
    refusals = GateRefusal.objects.select_related("operator", "equipment").order_by("at", "id")
    steps = WorkOrderOperation.objects.select_related("work_center", "equipment_class", "work_instruction").order_by(
        "sequence").prefetch_related(Prefetch("runs", queryset=runs), Prefetch("refusals", queryset=refusals))
    return WorkOrder.objects.select_related("product", "routing", "line__site").prefetch_related(
        Prefetch("steps", queryset=steps)).get(pk=work_order_id)


def dhr_content(*, work_order: WorkOrder) -> dict[str, Any]:
    """The DHR of `work_order` as JSON-ready data: header, steps with their runs, refusals, deviations,
    totals and a summary of exceptions. A fixed number of queries, however many runs."""
    order = _load(work_order.pk)
    steps = list(order.steps.all())
    runs = [(step, run) for step in steps for run in step.runs.all()]
    refusals = [(step, refusal) for step in steps for refusal in step.refusals.all()]
    signatures = _signatures_by_object(order.routing, [str(r.pk) for _s, r in runs], [str(r.pk) for _s, r in refusals])
    product, routing, line = order.product, order.routing, order.line

    step_out = []
    for step in steps:
        step_out.append({
            "id": str(step.pk), "sequence": step.sequence, "name": step.name, "name_en": step.name_en,
            "work_center": _unit(step.work_center), "standard_minutes": _decimal(step.standard_minutes),
            "equipment_class": _unit(step.equipment_class) if step.equipment_class_id else None,
            "work_instruction": {"id": str(step.work_instruction.pk), "code": step.work_instruction.code,
                                 "title": step.work_instruction.title, "title_en": step.work_instruction.title_en}
            if step.work_instruction_id else None,
            "requirements": sorted(
                ({"qualification_id": _id(_dict(r).get("qualification_id")), "code": _dict(r).get("code") or "",
                  "mandatory": bool(_dict(r).get("mandatory", True))} for r in _list(step.requirements)),
                key=lambda r: (r["code"], r["qualification_id"] or "")),
            "inspection_points": _list(step.inspection_points),
            "status": step.status, "good_quantity": step.good_quantity, "scrap_quantity": step.scrap_quantity,
            "completed_at": _utc(step.completed_at),
            "runs": [_run(run, step, signatures) for run in step.runs.all()],
        })

    refusal_out = sorted(
        ({**_refusal(refusal, signatures), "step_sequence": step.sequence} for step, refusal in refusals),
        key=lambda r: (r["at"], r["id"]),
    )
    deviations = {run.deviation.number: {**_deviation(run.deviation), "step_sequence": step.sequence,
                                         "run_id": str(run.pk)}
                  for step, run in runs if run.deviation_id}
    return {
        "schema": SCHEMA,
        "header": {
            "work_order_id": str(order.pk), "work_order_number": order.number,
            "product": {"id": str(product.pk), "code": product.code, "name": product.name, "name_en": product.name_en,
                        "model": product.model, "device_class": product.device_class, "udi_di": product.udi_di},
            "routing": {"id": str(routing.pk), "version": routing.version, "status": routing.status,
                        "effective_from": _utc(routing.effective_from), "approved_at": _utc(routing.approved_at),
                        "signatures": signatures.get(str(routing.pk), [])},
            "lot_number": order.lot_number, "serial_numbers": [str(s) for s in _list(order.serial_numbers)],
            "quantity": order.quantity, "line": _unit(line), "site": _unit(line.site),
            "planned_start": _utc(order.planned_start), "planned_end": _utc(order.planned_end),
            "released_at": _utc(order.released_at), "started_at": _utc(order.started_at),
            "completed_at": _utc(order.completed_at), "closed_at": _utc(order.closed_at), "status": order.status,
        },
        "steps": step_out,
        "refusals": refusal_out,
        "deviations": [deviations[number] for number in sorted(deviations)],
        "totals": _totals(order, steps),
        "exceptions": _exceptions(step_out, refusal_out),
    }


def _totals(order: WorkOrder, steps: list[WorkOrderOperation]) -> dict[str, Any]:
    """Good = what left the last operation; scrap = scrapped at any operation; yield = good / (good + scrap)."""
    good = steps[-1].good_quantity if steps else 0
    scrap = sum(step.scrap_quantity for step in steps)
    made = good + scrap
    yield_percent = str((Decimal(good) * 100 / made).quantize(Decimal("0.01"))) if made else None
    return {"quantity": order.quantity, "good": good, "scrap": scrap, "yield_percent": yield_percent}


def _exceptions(steps: list[dict], refusals: list[dict]) -> dict[str, Any]:
    overrides, failed, expiring, open_runs = [], [], [], []
    for step in steps:
        for run in step["runs"]:
            where = {"step_sequence": step["sequence"], "run_id": run["id"],
                     "employee_number": run["operator"]["employee_number"], "name": run["operator"]["name"]}
            if run["overridden"]:
                overrides.append({**where, "reason": run["override_reason"],
                                  "deviation": run["deviation"]["number"] if run["deviation"] else ""})
            failed += [{**where, "code": i["code"], "value": i["value"]} for i in run["inspections"] if i["passed"] is False]
            expiring += [{**where, "code": q["code"], "valid_until": q["valid_until"]}
                         for q in run["qualifications"] if q["expiring"]]
            if run["tracked_out_at"] is None:
                open_runs.append(where)
    return {"overrides": overrides, "failed_inspections": failed, "expiring_qualifications": expiring,
            "open_runs": open_runs, "refusals": len(refusals),
            "count": len(overrides) + len(failed) + len(expiring) + len(open_runs) + len(refusals)}
