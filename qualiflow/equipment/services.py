"""Writes for equipment classes, assets, their plans and the maintenance and calibration done on them.

All are regulated records: every write states a reason, is audited by the model layer and emits its event
in the same transaction. `by` None is the system (seed, import); a user must hold `equipment.manage`
(classes, assets, plans) or `equipment.service` (records) over the asset's site or line.

Work under a plan that names a qualification is gated: a technician who does not hold it at the moment
the work starts is refused and nothing is written; the verdict is stored with the record either way.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, NoReturn

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.core.validation import assign, full_clean, require_reason
from qualiflow.integration import events
from qualiflow.people.models import Employee
from qualiflow.training import selectors as training
from qualiflow.training.domain.status import Requirement
from qualiflow.training.selectors.reports import STATE_LABELS, finding_text

# The certificate scan check of training (content by magic bytes, size limit, name by hash), shared so a
# calibration certificate and a personal certificate are judged alike.
from qualiflow.training.services.certificates import _scan_type, _sha256

from .errors import EquipmentErrorCode
from .models import (
    Equipment,
    EquipmentClass,
    EquipmentPlan,
    EquipmentRecord,
    EquipmentStatus,
    PlanKind,
    RecordResult,
)
from .selectors import last_passing_calibration, placement

CLASS_FIELDS = ("code", "name", "name_en", "is_active", "external_refs")
EQUIPMENT_FIELDS = (
    "asset_number", "name", "name_en", "equipment_class", "site", "line", "work_center", "status", "manufacturer",
    "model_number", "serial_number", "external_refs",
)
PLAN_FIELDS = (
    "kind", "title", "interval_days", "tasks", "tolerance", "qualification", "first_due", "is_active", "external_refs",
)
# A plan keeps its kind: its records were judged as maintenance or as calibration.
PLAN_EDITABLE_FIELDS = tuple(name for name in PLAN_FIELDS if name != "kind")


def _refuse(field: str, message, code: EquipmentErrorCode) -> NoReturn:
    raise ValidationFailed(message, fields={field: [message]}, code=code)


def _authorize(by, perm: str, equipment: Equipment | None = None) -> None:
    if by is None or has_perm(by, perm, placement(equipment) if equipment is not None else None):
        return
    if perm == Perm.EQUIPMENT_SERVICE:
        message = _("You are not allowed to record maintenance or calibration on this equipment.")
    elif equipment is None:
        message = _("You are not allowed to manage equipment.")
    else:
        message = _("You are not allowed to manage this equipment.")
    raise PermissionDenied(EquipmentErrorCode.OUT_OF_SCOPE, message)


def _changed(instance, data: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    """Assign `data` and name the fields whose value actually changed."""
    before = {name: getattr(instance, name) for name in data if name in fields}
    assign(instance, data, fields)
    return sorted(name for name, old in before.items() if getattr(instance, name) != old)


def _moment(field: str, value: Any, code: EquipmentErrorCode, *, future_ok: bool = False) -> dt.datetime:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        _refuse(field, _("Enter a date and time with its time zone."), code)
    if not future_ok and value > timezone.now():
        _refuse(field, _("The time cannot be in the future."), code)
    return value


# ---- classes ------------------------------------------------------------------------------------------


def _class_payload(equipment_class: EquipmentClass) -> dict[str, Any]:
    return {"code": equipment_class.code, "name": equipment_class.name, "is_active": equipment_class.is_active}


def _refuse_taken_class_code(equipment_class: EquipmentClass) -> None:
    code = equipment_class.code
    if code and EquipmentClass.objects.filter(code=code).exclude(pk=equipment_class.pk).exists():
        _refuse("code", _("The code %(code)s is already used.") % {"code": code}, EquipmentErrorCode.CODE_TAKEN)


@transaction.atomic
def equipment_class_create(*, data: dict[str, Any], by=None, reason: str = "") -> EquipmentClass:
    reason = require_reason(EquipmentClass, reason)
    _authorize(by, Perm.EQUIPMENT_MANAGE)
    equipment_class = EquipmentClass()
    assign(equipment_class, data, CLASS_FIELDS)
    equipment_class.code = (equipment_class.code or "").strip()
    _refuse_taken_class_code(equipment_class)
    full_clean(equipment_class)
    with context.acting(reason=reason):
        equipment_class.save()
        events.emit("equipment.equipment_class.created", f"equipment/class/{equipment_class.pk}",
                    _class_payload(equipment_class))
    return equipment_class


@transaction.atomic
def equipment_class_update(
    *, equipment_class: EquipmentClass, data: dict[str, Any], by=None, reason: str = ""
) -> EquipmentClass:
    """Change the fields in `data`; unchanged values write nothing."""
    reason = require_reason(EquipmentClass, reason)
    _authorize(by, Perm.EQUIPMENT_MANAGE)
    equipment_class = EquipmentClass.objects.select_for_update().get(pk=equipment_class.pk)
    changed = _changed(equipment_class, data, CLASS_FIELDS)
    if not changed:
        return equipment_class
    _refuse_taken_class_code(equipment_class)
    full_clean(equipment_class)
    with context.acting(reason=reason):
        equipment_class.save()
        events.emit("equipment.equipment_class.updated", f"equipment/class/{equipment_class.pk}",
                    {**_class_payload(equipment_class), "fields": changed})
    return equipment_class


# ---- assets -------------------------------------------------------------------------------------------


def _equipment_payload(equipment: Equipment) -> dict[str, Any]:
    return {
        "asset_number": equipment.asset_number, "name": equipment.name, "equipment_class_id": equipment.equipment_class_id,
        "site_id": equipment.site_id, "line_id": equipment.line_id, "work_center_id": equipment.work_center_id,
        "status": equipment.status,
    }


def _validate_equipment(equipment: Equipment, changed: list[str] | None = None) -> None:
    # Before model validation, so a taken number is refused with its own code.
    if Equipment.objects.filter(asset_number=equipment.asset_number).exclude(pk=equipment.pk).exists():
        _refuse("asset_number", _("Asset number %(number)s is already used.") % {"number": equipment.asset_number},
                EquipmentErrorCode.CODE_TAKEN)
    full_clean(equipment)
    code = EquipmentErrorCode.RECORD_INVALID
    errors: dict[str, list] = {}
    if equipment.line_id and equipment.line.site_id != equipment.site_id:
        errors["line"] = [_("The production line belongs to another site.")]
    if equipment.work_center_id and equipment.work_center.line_id != equipment.line_id:
        errors["work_center"] = [_("The work center belongs to another production line.")]
    if (changed is None or "equipment_class" in changed) and not equipment.equipment_class.is_active:
        errors["equipment_class"] = [_("The equipment class %(code)s is no longer in use.") % {
            "code": equipment.equipment_class.code}]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors, code=code)


@transaction.atomic
def equipment_create(*, data: dict[str, Any], by=None, reason: str = "") -> Equipment:
    reason = require_reason(Equipment, reason)
    equipment = Equipment()
    assign(equipment, data, EQUIPMENT_FIELDS)
    equipment.asset_number = (equipment.asset_number or "").strip()
    _validate_equipment(equipment)
    _authorize(by, Perm.EQUIPMENT_MANAGE, equipment)
    with context.acting(reason=reason):
        equipment.save()
        events.emit("equipment.equipment.created", f"equipment/equipment/{equipment.pk}", _equipment_payload(equipment))
    return equipment


@transaction.atomic
def equipment_update(*, equipment: Equipment, data: dict[str, Any], by=None, reason: str = "") -> Equipment:
    """Change the fields in `data` (the status included: out of service and retired block the asset);
    unchanged values write nothing."""
    reason = require_reason(Equipment, reason)
    equipment = Equipment.objects.select_for_update(of=("self",)).select_related("line").get(pk=equipment.pk)
    _authorize(by, Perm.EQUIPMENT_MANAGE, equipment)
    previous_status = equipment.status
    changed = _changed(equipment, data, EQUIPMENT_FIELDS)
    if not changed:
        return equipment
    _validate_equipment(equipment, changed)
    _authorize(by, Perm.EQUIPMENT_MANAGE, equipment)  # and may still manage it where it now stands
    with context.acting(reason=reason):
        equipment.save()
        subject = f"equipment/equipment/{equipment.pk}"
        events.emit("equipment.equipment.updated", subject, {**_equipment_payload(equipment), "fields": changed})
        if "status" in changed:
            events.emit("equipment.equipment.status_changed", subject, {
                "equipment_id": equipment.pk, "asset_number": equipment.asset_number,
                "from_status": previous_status, "to_status": equipment.status, "reason": reason,
            })
    return equipment


# ---- plans --------------------------------------------------------------------------------------------


def _plan_payload(plan: EquipmentPlan) -> dict[str, Any]:
    return {
        "equipment_id": plan.equipment_id, "kind": plan.kind, "title": plan.title, "interval_days": plan.interval_days,
        "qualification_id": plan.qualification_id, "first_due": plan.first_due, "is_active": plan.is_active,
    }


def _validate_plan(plan: EquipmentPlan, changed: list[str] | None = None) -> None:
    code = EquipmentErrorCode.PLAN_INVALID
    if plan.kind not in PlanKind.values:
        _refuse("kind", _("Choose maintenance or calibration."), code)
    if not isinstance(plan.interval_days, int) or isinstance(plan.interval_days, bool) or plan.interval_days < 1:
        _refuse("interval_days", _("The interval is at least one day."), code)
    if plan.first_due is None:
        _refuse("first_due", _("Enter when the first occurrence is due."), code)
    _moment("first_due", plan.first_due, code, future_ok=True)
    if (changed is None or "qualification" in changed) and plan.qualification_id and not plan.qualification.is_active:
        _refuse("qualification", _("The qualification %(code)s is no longer in use.") % {
            "code": plan.qualification.code}, code)
    full_clean(plan)


@transaction.atomic
def equipment_plan_create(*, equipment: Equipment, data: dict[str, Any], by=None, reason: str = "") -> EquipmentPlan:
    """A recurring maintenance or calibration of `equipment`; the first occurrence is due at `first_due`,
    each later one `interval_days` after the last passing completion."""
    reason = require_reason(EquipmentPlan, reason)
    equipment = Equipment.objects.select_for_update(of=("self",)).select_related("line").get(pk=equipment.pk)
    _authorize(by, Perm.EQUIPMENT_MANAGE, equipment)
    if equipment.status == EquipmentStatus.RETIRED:
        _refuse("equipment", _("The equipment %(number)s is retired.") % {"number": equipment.asset_number},
                EquipmentErrorCode.PLAN_INVALID)
    plan = EquipmentPlan(equipment=equipment)
    assign(plan, data, PLAN_FIELDS)
    plan.title = (plan.title or "").strip()
    _validate_plan(plan)
    with context.acting(reason=reason):
        plan.save()
        events.emit("equipment.plan.created", f"equipment/plan/{plan.pk}", _plan_payload(plan))
    return plan


@transaction.atomic
def equipment_plan_update(*, plan: EquipmentPlan, data: dict[str, Any], by=None, reason: str = "") -> EquipmentPlan:
    """Change the fields in `data` (not the kind); unchanged values write nothing."""
    reason = require_reason(EquipmentPlan, reason)
    plan = EquipmentPlan.objects.select_for_update(of=("self",)).select_related("equipment__line").get(pk=plan.pk)
    _authorize(by, Perm.EQUIPMENT_MANAGE, plan.equipment)
    changed = _changed(plan, data, PLAN_EDITABLE_FIELDS)
    if not changed:
        return plan
    _validate_plan(plan, changed)
    with context.acting(reason=reason):
        plan.save()
        events.emit("equipment.plan.updated", f"equipment/plan/{plan.pk}", {**_plan_payload(plan), "fields": changed})
    return plan


# ---- records ------------------------------------------------------------------------------------------


def _qualification_gate(record: EquipmentRecord, equipment: Equipment) -> dict[str, Any]:
    """The technician's verdict on the plan's qualification at the start of the work, as the record keeps
    it; refuses the work when the verdict does."""
    plan = record.plan
    if record.performed_by_id is None:
        return {"required": bool(plan and plan.qualification_id), "external_lab": record.external_lab}
    if plan is None or plan.qualification_id is None:
        return {"required": False}
    qualification = plan.qualification
    verdict = training.can(
        record.performed_by, [Requirement(training.domain_qualification(qualification))], record.started_at
    )
    evidence = {
        "required": True, "allowed": verdict.allowed, "qualification_id": str(qualification.pk),
        "qualification_code": qualification.code, "employee_id": str(record.performed_by_id),
        "at": record.started_at.isoformat(), "evidence": list(verdict.evidence), "expiring": list(verdict.expiring),
        "states": {s.qualification_id: str(s.state) for s in verdict.statuses},
        "reasons": [{"code": str(f.code), "params": dict(f.params)} for f in verdict.reasons],
    }
    if not verdict.allowed:
        zone = zoneinfo.ZoneInfo(equipment.site.time_zone)
        state = verdict.statuses[0].state if verdict.statuses else None
        why = " ".join(finding_text(f, zone=zone) for f in verdict.reasons)
        message = _("%(employee)s does not hold the qualification %(code)s %(name)s (%(state)s): %(why)s") % {
            "employee": record.performed_by, "code": qualification.code, "name": qualification.name,
            "state": STATE_LABELS.get(state, state) if state else "", "why": why,
        }
        _refuse("performed_by", message, EquipmentErrorCode.TECHNICIAN_NOT_QUALIFIED)
    return evidence


def _open_record(
    *, equipment: Equipment, plan: EquipmentPlan | None, kind: str, performed_by: Employee | None, external_lab: str,
    started_at: dt.datetime | None, notes: str,
) -> EquipmentRecord:
    """The record as started, validated and gated, not yet saved."""
    code = EquipmentErrorCode.RECORD_INVALID
    if equipment.status == EquipmentStatus.RETIRED:
        _refuse("equipment", _("The equipment %(number)s is retired.") % {"number": equipment.asset_number}, code)
    if plan is not None:
        if plan.equipment_id != equipment.pk:
            _refuse("plan", _("The plan belongs to other equipment."), code)
        if not plan.is_active:
            _refuse("plan", _("The plan is no longer in use."), code)
        kind = kind or plan.kind
        if kind != plan.kind:
            _refuse("kind", _("The record must be of the plan's kind."), code)
    if kind not in PlanKind.values:
        _refuse("kind", _("Choose maintenance or calibration."), code)
    external_lab = (external_lab or "").strip()
    if (performed_by is None) == (not external_lab):
        _refuse("performed_by", _("Name either the technician who does the work or the external laboratory."), code)
    if performed_by is not None and not performed_by.is_active:
        _refuse("performed_by", _("%(employee)s is not an active employee.") % {"employee": performed_by}, code)
    started_at = timezone.now() if started_at is None else _moment("started_at", started_at, code)
    if plan is not None and EquipmentRecord.objects.filter(plan=plan, completed_at__isnull=True).exists():
        _refuse("plan", _("Work under this plan is already open; complete it first."), code)
    record = EquipmentRecord(
        equipment=equipment, plan=plan, kind=kind, performed_by=performed_by, external_lab=external_lab,
        started_at=started_at, notes=(notes or "").strip(),
    )
    record.qualification_evidence = _qualification_gate(record, equipment)
    return record


def _complete(
    record: EquipmentRecord, *, result: str, completed_at: dt.datetime | None, as_found: str, as_left: str,
    certificate_number: str, certificate_file: UploadedFile | None, notes: str | None,
) -> str:
    """Set the completion on `record` after validating it; returns the stored file's extension ("" without)."""
    code = EquipmentErrorCode.RECORD_INVALID
    if result not in RecordResult.values:
        _refuse("result", _("Choose pass or fail."), code)
    completed_at = timezone.now() if completed_at is None else _moment("completed_at", completed_at, code)
    if completed_at < record.started_at:
        _refuse("completed_at", _("The work cannot be completed before it started."), code)
    certificate_number = (certificate_number or "").strip()
    if record.kind == PlanKind.CALIBRATION and record.external_lab and not certificate_number:
        _refuse("certificate_number", _("Enter the number of the laboratory's calibration certificate."), code)
    extension = ""
    if certificate_file is not None:
        try:
            extension = _scan_type(certificate_file)
        except ValidationFailed as exc:
            _refuse("certificate_file", exc.message, EquipmentErrorCode.CERTIFICATE_INVALID)
    record.result, record.completed_at = result, completed_at
    record.as_found, record.as_left = (as_found or "").strip(), (as_left or "").strip()
    record.certificate_number = certificate_number
    if notes is not None:
        record.notes = notes.strip()
    full_clean(record, exclude=["certificate_file"])
    return extension


def _record_payload(record: EquipmentRecord) -> dict[str, Any]:
    return {
        "equipment_id": record.equipment_id, "record_id": record.pk, "plan_id": record.plan_id, "kind": record.kind,
        "performed_by_id": record.performed_by_id, "external_lab": record.external_lab,
        "started_at": record.started_at, "completed_at": record.completed_at, "result": record.result,
        "certificate_number": record.certificate_number,
    }


def _save_completed(record: EquipmentRecord, certificate_file: UploadedFile | None, extension: str, event: str) -> None:
    """Store the certificate, save the record and emit; a failed calibration also reports the window of
    production it puts in doubt (since the last passing calibration of the same plan)."""
    if certificate_file is not None:
        # Named by its content's hash: the stored name reveals nothing of the uploaded one.
        record.certificate_file.save(f"{_sha256(certificate_file)[:32]}{extension}", certificate_file, save=False)
    record.save()
    events.emit(event, f"equipment/record/{record.pk}", _record_payload(record))
    if record.kind == PlanKind.CALIBRATION and record.result == RecordResult.FAIL:
        previous = last_passing_calibration(record.equipment, record.completed_at, plan_id=record.plan_id)
        events.emit("equipment.calibration.failed", f"equipment/record/{record.pk}", {
            "equipment_id": record.equipment_id, "asset_number": record.equipment.asset_number,
            "record_id": record.pk, "failed_at": record.completed_at,
            "since": previous.completed_at if previous is not None else None,
            "since_record_id": previous.pk if previous is not None else None,
        })


def _lock_equipment(equipment: Equipment) -> Equipment:
    return Equipment.objects.select_for_update(of=("self",)).select_related("site", "line").get(pk=equipment.pk)


def _lock_plan(plan: EquipmentPlan | None) -> EquipmentPlan | None:
    if plan is None:
        return None
    return EquipmentPlan.objects.select_for_update(of=("self",)).select_related("qualification").get(pk=plan.pk)


@transaction.atomic
def equipment_record_start(
    *,
    equipment: Equipment,
    plan: EquipmentPlan | None = None,
    kind: str = "",
    performed_by: Employee | None = None,
    external_lab: str = "",
    started_at: dt.datetime | None = None,
    notes: str = "",
    by=None,
    reason: str = "",
) -> EquipmentRecord:
    """Open maintenance or calibration work on `equipment` (open maintenance blocks the asset until it is
    completed). `performed_by` (gated by the plan's qualification) or `external_lab` does the work."""
    reason = require_reason(EquipmentRecord, reason)
    equipment = _lock_equipment(equipment)
    _authorize(by, Perm.EQUIPMENT_SERVICE, equipment)
    record = _open_record(equipment=equipment, plan=_lock_plan(plan), kind=kind, performed_by=performed_by,
                          external_lab=external_lab, started_at=started_at, notes=notes)
    full_clean(record, exclude=["certificate_file"])
    with context.acting(reason=reason):
        record.save()
        events.emit("equipment.record.started", f"equipment/record/{record.pk}", _record_payload(record))
    return record


@transaction.atomic
def equipment_record_complete(
    *,
    record: EquipmentRecord,
    result: str,
    completed_at: dt.datetime | None = None,
    as_found: str = "",
    as_left: str = "",
    certificate_number: str = "",
    certificate_file: UploadedFile | None = None,
    notes: str | None = None,
    by=None,
    reason: str = "",
) -> EquipmentRecord:
    """Close open work with its result. A calibration found out of tolerance (`fail`) blocks the asset
    until a later one passes and emits `equipment.calibration.failed`."""
    reason = require_reason(EquipmentRecord, reason)
    record = EquipmentRecord.objects.select_for_update(of=("self",)).select_related(
        "equipment", "equipment__site", "equipment__line"
    ).get(pk=record.pk)
    _authorize(by, Perm.EQUIPMENT_SERVICE, record.equipment)
    if record.completed_at is not None:
        _refuse("record", _("This work was already completed."), EquipmentErrorCode.RECORD_NOT_OPEN)
    extension = _complete(record, result=result, completed_at=completed_at, as_found=as_found, as_left=as_left,
                          certificate_number=certificate_number, certificate_file=certificate_file, notes=notes)
    with context.acting(reason=reason):
        _save_completed(record, certificate_file, extension, "equipment.record.completed")
    return record


@transaction.atomic
def equipment_record_create(
    *,
    equipment: Equipment,
    started_at: dt.datetime,
    result: str,
    completed_at: dt.datetime | None = None,
    plan: EquipmentPlan | None = None,
    kind: str = "",
    performed_by: Employee | None = None,
    external_lab: str = "",
    as_found: str = "",
    as_left: str = "",
    certificate_number: str = "",
    certificate_file: UploadedFile | None = None,
    notes: str = "",
    by=None,
    reason: str = "",
) -> EquipmentRecord:
    """Record finished work in one step (started and completed), gated and validated as if it had been
    started and completed separately."""
    reason = require_reason(EquipmentRecord, reason)
    equipment = _lock_equipment(equipment)
    _authorize(by, Perm.EQUIPMENT_SERVICE, equipment)
    if started_at is None:
        _refuse("started_at", _("Enter when the work started."), EquipmentErrorCode.RECORD_INVALID)
    record = _open_record(equipment=equipment, plan=_lock_plan(plan), kind=kind, performed_by=performed_by,
                          external_lab=external_lab, started_at=started_at, notes=notes)
    extension = _complete(record, result=result, completed_at=completed_at, as_found=as_found, as_left=as_left,
                          certificate_number=certificate_number, certificate_file=certificate_file, notes=None)
    with context.acting(reason=reason):
        _save_completed(record, certificate_file, extension, "equipment.record.created")
    return record
