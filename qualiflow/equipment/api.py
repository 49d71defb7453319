"""API for equipment classes, assets, their maintenance and calibration plans and records, under
/api/v1/equipment; and whether an asset may be used at a moment, with the evidence.

Reads go through the scoped selectors (an asset outside the caller's sites and lines is not found),
writes through the services as the caller. All are regulated records: every write states a reason.
"""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import (
    InputSchema,
    PageParams,
    WriteSchema,
    api_field_names,
    error_responses,
    page_schema,
    paginate,
    patch_field,
)
from qualiflow.core.errors import NotFound, ValidationFailed
from qualiflow.org import selectors as org_selectors
from qualiflow.org.models import ProductionLine, Site, WorkCenter
from qualiflow.people import selectors as people_selectors
from qualiflow.training.models import Qualification

from . import selectors, services
from .domain.status import Availability
from .models import Equipment, EquipmentStatus, PlanKind, RecordResult

router = Router(tags=["equipment"])

StatusValue = Literal[tuple(EquipmentStatus.values)]
KindValue = Literal[tuple(PlanKind.values)]
ResultValue = Literal[tuple(RecordResult.values)]
Ordering = Literal[selectors.ORDERINGS]
ClassOrdering = Literal[selectors.CLASS_ORDERINGS]

_view = requires(Perm.EQUIPMENT_VIEW)
_manage = requires(Perm.EQUIPMENT_MANAGE)
_service = requires(Perm.EQUIPMENT_SERVICE)

# Model field -> the API field a caller sends it as.
_API_NAMES = {"equipment_class": "equipment_class_id", "site": "site_id", "line": "line_id",
              "work_center": "work_center_id", "qualification": "qualification_id", "performed_by": "performed_by_id",
              "plan": "plan_id"}


def _reason() -> Any:
    return Field(..., min_length=1, max_length=2000, description="Why the change is made (required; kept in the audit trail).")


# ---- schemas ------------------------------------------------------------------------------------------


class EquipmentClassOut(Schema):
    id: UUID
    code: str
    name: str
    name_en: str
    is_active: bool
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime


class EquipmentClassIn(WriteSchema):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class EquipmentClassPatch(WriteSchema):
    """Only the fields sent are changed."""

    code: str = patch_field(min_length=1, max_length=40)
    name: str = patch_field(min_length=1, max_length=200)
    name_en: str = patch_field(max_length=200)
    is_active: bool = patch_field()
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


class FindingOut(Schema):
    code: str = Field(..., description="e.g. `calibration_overdue`, `calibration_failed`, `maintenance_open`.")
    params: dict[str, str]
    message: str = Field(..., description="The finding in the caller's language.")


class AvailabilityOut(Schema):
    equipment_id: UUID
    at: dt.datetime
    available: bool
    reasons: list[FindingOut] = Field(..., description="Why the asset is blocked (empty when available).")
    warnings: list[FindingOut]
    calibration_record_id: UUID | None = Field(None, description="The latest passing calibration.")
    calibration_certificate: str
    calibrated_at: dt.datetime | None
    calibration_due: dt.datetime | None = Field(None, description="The earliest due moment of the active calibration plans.")
    evidence: list[str] = Field(..., description='e.g. "calibration:<record id>", "certificate:<number>".')


class EquipmentOut(Schema):
    id: UUID
    asset_number: str
    name: str
    name_en: str
    equipment_class_id: UUID
    site_id: UUID
    line_id: UUID | None
    work_center_id: UUID | None
    status: str
    manufacturer: str
    model_number: str
    serial_number: str
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime


class EquipmentListItemOut(EquipmentOut):
    available: bool = Field(..., description="May the asset be used now.")
    calibration_due: dt.datetime | None


class EquipmentDetailOut(EquipmentOut):
    availability: AvailabilityOut


class EquipmentIn(WriteSchema):
    asset_number: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    equipment_class_id: UUID
    site_id: UUID
    line_id: UUID | None = None
    work_center_id: UUID | None = None
    status: StatusValue = EquipmentStatus.IN_SERVICE.value
    manufacturer: str = Field("", max_length=120)
    model_number: str = Field("", max_length=120)
    serial_number: str = Field("", max_length=120)
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class EquipmentPatch(WriteSchema):
    """Only the fields sent are changed; `status` out_of_service or retired blocks the asset."""

    asset_number: str = patch_field(min_length=1, max_length=40)
    name: str = patch_field(min_length=1, max_length=200)
    name_en: str = patch_field(max_length=200)
    equipment_class_id: UUID = patch_field()
    site_id: UUID = patch_field()
    line_id: UUID | None = None
    work_center_id: UUID | None = None
    status: StatusValue = patch_field()
    manufacturer: str = patch_field(max_length=120)
    model_number: str = patch_field(max_length=120)
    serial_number: str = patch_field(max_length=120)
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


class EquipmentFilters(PageParams):
    search: str = Field("", description="Part of the asset number, either name or the serial number.")
    site_id: UUID | None = None
    line_id: UUID | None = None
    equipment_class_id: UUID | None = None
    status: StatusValue | None = None
    blocked: bool | None = Field(None, description="Only blocked (true) or only available (false) assets, now.")
    due_within_days: int | None = Field(None, ge=0, le=3650, description="Calibration due within so many days (overdue included).")
    ordering: Ordering = "asset_number"


class ClassFilters(PageParams):
    search: str = ""
    is_active: bool | None = True
    ordering: ClassOrdering = "code"


class PlanOut(Schema):
    id: UUID
    equipment_id: UUID
    kind: str
    title: str
    interval_days: int
    tasks: str
    tolerance: str
    qualification_id: UUID | None = Field(None, description="The qualification technicians must hold.")
    first_due: dt.datetime
    is_active: bool
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime


class PlanIn(WriteSchema):
    kind: KindValue
    title: str = Field(..., min_length=1, max_length=200)
    interval_days: int = Field(..., le=36500, description="At least 1.")
    tasks: str = Field("", max_length=10000)
    tolerance: str = Field("", max_length=200)
    qualification_id: UUID | None = None
    first_due: dt.datetime = Field(..., description="With its time zone.")
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class PlanPatch(WriteSchema):
    """Only the fields sent are changed; a plan keeps its kind."""

    title: str = patch_field(min_length=1, max_length=200)
    interval_days: int = patch_field(le=36500)
    tasks: str = patch_field(max_length=10000)
    tolerance: str = patch_field(max_length=200)
    qualification_id: UUID | None = None
    first_due: dt.datetime = patch_field()
    is_active: bool = patch_field()
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


class EquipmentRecordOut(Schema):
    id: UUID
    equipment_id: UUID
    plan_id: UUID | None
    kind: str
    performed_by_id: UUID | None
    external_lab: str
    started_at: dt.datetime
    completed_at: dt.datetime | None
    result: str = Field(..., description='"pass", "fail", or "" while the work is open.')
    as_found: str
    as_left: str
    certificate_number: str
    has_certificate_file: bool
    notes: str
    qualification_evidence: dict[str, Any] = Field(..., description="The technician's verdict when the work started.")
    created_at: dt.datetime

    @staticmethod
    def resolve_has_certificate_file(obj) -> bool:
        return bool(obj.certificate_file)


class RecordStartIn(WriteSchema):
    plan_id: UUID | None = Field(None, description="Without a plan: unplanned work of `kind`.")
    kind: KindValue | None = Field(None, description="Defaults to the plan's kind.")
    performed_by_id: UUID | None = Field(None, description="The technician (employee); or name `external_lab`.")
    external_lab: str = Field("", max_length=200)
    started_at: dt.datetime | None = Field(None, description="Default: now.")
    notes: str = Field("", max_length=10000)
    reason: str = _reason()


class RecordCompleteIn(WriteSchema):
    result: ResultValue
    completed_at: dt.datetime | None = Field(None, description="Default: now.")
    as_found: str = Field("", max_length=400)
    as_left: str = Field("", max_length=400)
    certificate_number: str = Field("", max_length=100)
    notes: str | None = Field(None, max_length=10000)
    reason: str = _reason()


class RecordCreateIn(RecordStartIn):
    """Finished work recorded in one step."""

    started_at: dt.datetime
    result: ResultValue
    completed_at: dt.datetime | None = Field(None, description="Default: now.")
    as_found: str = Field("", max_length=400)
    as_left: str = Field("", max_length=400)
    certificate_number: str = Field("", max_length=100)


class AvailabilityQuery(InputSchema):
    at: dt.datetime | None = Field(None, description="The moment asked (default: now), with its time zone.")


# ---- helpers ------------------------------------------------------------------------------------------


def _references(request, values: dict[str, Any], equipment: Equipment | None = None) -> dict[str, Any]:
    """API field values -> service data: ids become the records they name; unknown ids are field errors."""
    org = {"site_id": Site, "line_id": ProductionLine, "work_center_id": WorkCenter}
    data: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for key, value in values.items():
        name = key.removesuffix("_id") if key in _API_NAMES.values() else key
        try:
            if value is None or key not in _API_NAMES.values():
                data[name] = value
            elif key in org:
                data[name] = org_selectors.org_unit_get(model=org[key], unit_id=value)
            elif key == "equipment_class_id":
                data[name] = selectors.equipment_class_get(class_id=value)
            elif key == "qualification_id":
                data[name] = Qualification.objects.get(pk=value)
            elif key == "performed_by_id":
                data[name] = people_selectors.employee_get(user=request.user, employee_id=value)
            else:
                data[name] = selectors.plan_get(equipment=equipment, plan_id=value)
        except (NotFound, Qualification.DoesNotExist):
            errors[key] = [_("No such record.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return data


def _availability(state: Availability, at: dt.datetime, plans: dict[str, str]) -> dict[str, Any]:
    zone = timezone.get_current_timezone()

    def findings(items) -> list[dict[str, Any]]:
        return [{"code": f.code, "params": dict(f.params),
                 "message": selectors.finding_text(f, zone=zone, plans=plans)} for f in items]

    return {
        "equipment_id": state.equipment_id, "at": at, "available": state.available,
        "reasons": findings(state.reasons), "warnings": findings(state.warnings),
        "calibration_record_id": state.calibration_record_id, "calibration_certificate": state.calibration_certificate,
        "calibrated_at": state.calibrated_at, "calibration_due": state.calibration_due, "evidence": list(state.evidence),
    }


def _detail(equipment: Equipment, at: dt.datetime | None = None) -> dict[str, Any]:
    at = timezone.now() if at is None else at
    state = selectors.availability_of(equipment, at)
    return {
        **{name: getattr(equipment, name) for name in EquipmentOut.model_fields},
        "availability": _availability(state, at, selectors.plan_names([equipment.pk])),
    }


def _asset(request, equipment_id: UUID) -> Equipment:
    return selectors.equipment_get(user=request.user, equipment_id=equipment_id)


# ---- classes ------------------------------------------------------------------------------------------


@router.get("/classes", response={200: page_schema(EquipmentClassOut), **error_responses(403, 422)}, auth=_view,
            operation_id="equipment_class_list")
def equipment_class_list(request, filters: Query[ClassFilters]):
    classes = selectors.equipment_class_list(search=filters.search, active=filters.is_active, ordering=filters.ordering)
    return paginate(classes, filters)


@router.post("/classes", response={201: EquipmentClassOut, **error_responses(403, 422)}, auth=_manage,
             operation_id="equipment_class_create")
def equipment_class_create(request, payload: EquipmentClassIn):
    created = services.equipment_class_create(data=payload.model_dump(exclude={"reason"}), by=request.user,
                                              reason=payload.reason)
    return Status(201, created)


@router.get("/classes/{class_id}", response={200: EquipmentClassOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="equipment_class_get")
def equipment_class_get(request, class_id: UUID):
    return selectors.equipment_class_get(class_id=class_id)


@router.patch("/classes/{class_id}", response={200: EquipmentClassOut, **error_responses(403, 404, 422)},
              auth=_manage, operation_id="equipment_class_update")
def equipment_class_update(request, class_id: UUID, payload: EquipmentClassPatch):
    return services.equipment_class_update(
        equipment_class=selectors.equipment_class_get(class_id=class_id),
        data=payload.model_dump(exclude_unset=True, exclude={"reason"}), by=request.user, reason=payload.reason,
    )


# ---- records by id ------------------------------------------------------------------------------------


@router.get("/records/{record_id}", response={200: EquipmentRecordOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="equipment_record_get")
def equipment_record_get(request, record_id: UUID):
    return selectors.record_get(user=request.user, record_id=record_id)


@router.post("/records/{record_id}/complete", response={200: EquipmentRecordOut, **error_responses(403, 404, 422)},
             auth=_service, operation_id="equipment_record_complete")
def equipment_record_complete(request, record_id: UUID, payload: RecordCompleteIn):
    """Close open work with its result; a failed calibration blocks the asset and emits
    `equipment.calibration.failed`. The certificate scan is uploaded through the record's page."""
    record = selectors.record_get(user=request.user, record_id=record_id)
    return services.equipment_record_complete(record=record, **payload.model_dump(exclude={"reason"}),
                                              by=request.user, reason=payload.reason)


# ---- assets -------------------------------------------------------------------------------------------


@router.get("", response={200: page_schema(EquipmentListItemOut), **error_responses(403, 422)}, auth=_view,
            operation_id="equipment_list")
def equipment_list(request, filters: Query[EquipmentFilters]):
    """Assets the caller may see, filtered, sorted and paginated, each with whether it may be used now."""
    assets = selectors.equipment_list(
        user=request.user, search=filters.search, site_id=filters.site_id, line_id=filters.line_id,
        class_id=filters.equipment_class_id, status=filters.status or "", blocked=filters.blocked,
        due_within_days=filters.due_within_days, ordering=filters.ordering,
    )
    page = paginate(assets, filters)
    states = selectors.availability_for(page["items"])
    page["items"] = [
        {**{name: getattr(e, name) for name in EquipmentOut.model_fields},
         "available": states[e.pk].available, "calibration_due": states[e.pk].calibration_due}
        for e in page["items"]
    ]
    return page


@router.post("", response={201: EquipmentDetailOut, **error_responses(403, 422)}, auth=_manage,
             operation_id="equipment_create")
def equipment_create(request, payload: EquipmentIn):
    data = _references(request, payload.model_dump(exclude={"reason"}))
    with api_field_names(_API_NAMES):
        equipment = services.equipment_create(data=data, by=request.user, reason=payload.reason)
    return Status(201, _detail(equipment))


@router.get("/{equipment_id}", response={200: EquipmentDetailOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="equipment_get")
def equipment_get(request, equipment_id: UUID):
    """The asset with whether it may be used now, why not, and its calibration evidence."""
    return _detail(_asset(request, equipment_id))


@router.patch("/{equipment_id}", response={200: EquipmentDetailOut, **error_responses(403, 404, 422)},
              auth=_manage, operation_id="equipment_update")
def equipment_update(request, equipment_id: UUID, payload: EquipmentPatch):
    equipment = _asset(request, equipment_id)
    data = _references(request, payload.model_dump(exclude_unset=True, exclude={"reason"}))
    with api_field_names(_API_NAMES):
        equipment = services.equipment_update(equipment=equipment, data=data, by=request.user, reason=payload.reason)
    return _detail(equipment)


@router.get("/{equipment_id}/availability", response={200: AvailabilityOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="equipment_availability")
def equipment_availability(request, equipment_id: UUID, query: Query[AvailabilityQuery]):
    """May the asset be used at `at` (default: now)? Blocks, warnings and the calibration evidence."""
    return _detail(_asset(request, equipment_id), query.at)["availability"]


# ---- plans --------------------------------------------------------------------------------------------


@router.get("/{equipment_id}/plans", response={200: list[PlanOut], **error_responses(403, 404, 422)},
            auth=_view, operation_id="equipment_plan_list")
def equipment_plan_list(request, equipment_id: UUID):
    return list(selectors.plans_for(_asset(request, equipment_id)))


@router.post("/{equipment_id}/plans", response={201: PlanOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="equipment_plan_create")
def equipment_plan_create(request, equipment_id: UUID, payload: PlanIn):
    equipment = _asset(request, equipment_id)
    data = _references(request, payload.model_dump(exclude={"reason"}))
    with api_field_names(_API_NAMES):
        plan = services.equipment_plan_create(equipment=equipment, data=data, by=request.user, reason=payload.reason)
    return Status(201, plan)


@router.patch("/{equipment_id}/plans/{plan_id}", response={200: PlanOut, **error_responses(403, 404, 422)},
              auth=_manage, operation_id="equipment_plan_update")
def equipment_plan_update(request, equipment_id: UUID, plan_id: UUID, payload: PlanPatch):
    plan = selectors.plan_get(equipment=_asset(request, equipment_id), plan_id=plan_id)
    data = _references(request, payload.model_dump(exclude_unset=True, exclude={"reason"}))
    with api_field_names(_API_NAMES):
        return services.equipment_plan_update(plan=plan, data=data, by=request.user, reason=payload.reason)


# ---- records of an asset ------------------------------------------------------------------------------


@router.get("/{equipment_id}/records", response={200: page_schema(EquipmentRecordOut), **error_responses(403, 404, 422)},
            auth=_view, operation_id="equipment_record_list")
def equipment_record_list(request, equipment_id: UUID, page: Query[PageParams]):
    """The asset's maintenance and calibration records, newest first."""
    return paginate(selectors.records_for(_asset(request, equipment_id)), page)


def _record_kwargs(request, equipment: Equipment, payload: RecordStartIn) -> dict[str, Any]:
    values = payload.model_dump(exclude={"reason"})
    values["kind"] = values["kind"] or ""
    return _references(request, values, equipment)


@router.post("/{equipment_id}/records/start", response={201: EquipmentRecordOut, **error_responses(403, 404, 422)},
             auth=_service, operation_id="equipment_record_start")
def equipment_record_start(request, equipment_id: UUID, payload: RecordStartIn):
    """Open work on the asset; a technician must hold the plan's qualification (refused otherwise with
    `equipment.technician_not_qualified`, and nothing is written). Open maintenance blocks the asset."""
    equipment = _asset(request, equipment_id)
    kwargs = _record_kwargs(request, equipment, payload)
    with api_field_names(_API_NAMES):
        record = services.equipment_record_start(equipment=equipment, **kwargs, by=request.user, reason=payload.reason)
    return Status(201, record)


@router.post("/{equipment_id}/records", response={201: EquipmentRecordOut, **error_responses(403, 404, 422)},
             auth=_service, operation_id="equipment_record_create")
def equipment_record_create(request, equipment_id: UUID, payload: RecordCreateIn):
    """Record finished work in one step, gated and validated as if started and completed separately."""
    equipment = _asset(request, equipment_id)
    kwargs = _record_kwargs(request, equipment, payload)
    with api_field_names(_API_NAMES):
        record = services.equipment_record_create(equipment=equipment, **kwargs, by=request.user,
                                                  reason=payload.reason)
    return Status(201, record)
