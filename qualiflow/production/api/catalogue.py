"""Catalogue API under /api/v1/production: products, their routing versions and the operations of drafts.
Reads need `production.view`, writes `production.manage` and a reason, which the audit trail keeps.

Approving a routing is an e-signature: it re-authenticates the signer with their password and is accepted
only from the signer's own browser session, since an API token identifies a program, not the person whose
signature it is.
"""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.db import models
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.errors import AccountsErrorCode
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
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.documents.models import Document
from qualiflow.equipment.models import EquipmentClass
from qualiflow.org.models import WorkCenter
from qualiflow.training.selectors.catalogue import qualifications_get
from qualiflow.training.services.catalogue import RequirementItem

from ..models import DeviceClass, Operation
from ..selectors import catalogue as selectors
from ..services import catalogue as services

router = Router(tags=["production"])

_view = requires(Perm.PRODUCTION_VIEW)
_manage = requires(Perm.PRODUCTION_MANAGE)

DeviceClassValue = Literal[tuple(DeviceClass.values)]
ProductOrdering = Literal[selectors.PRODUCT_ORDERINGS]
# Model field -> the API field a caller sends it as.
_OPERATION_API_NAMES = {"work_center": "work_center_id", "equipment_class": "equipment_class_id",
                        "work_instruction": "work_instruction_id"}
_SEQUENCE_MAX = 99999


def _reason() -> Any:
    return Field(..., min_length=1, max_length=2000, description="Why the change is made (required; kept in the audit trail).")


# ---- schemas -----------------------------------------------------------------------------------------


class ProductOut(Schema):
    id: UUID
    code: str
    name: str
    name_en: str
    model: str
    device_class: str
    udi_di: str
    is_active: bool
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductListOut(ProductOut):
    routing_count: int = Field(..., description="Routing versions of any status.")
    version_in_effect: int | None = Field(..., description="The routing version work orders follow now.")


class RoutingOut(Schema):
    id: UUID
    product_id: UUID
    version: int
    status: str
    effective_from: dt.datetime | None
    approved_at: dt.datetime | None
    notes: str
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime


class RoutingListOut(RoutingOut):
    operation_count: int


class ProductDetailOut(ProductOut):
    routings: list[RoutingListOut] = Field(..., description="Its routing versions, newest first.")
    routing_in_effect_id: UUID | None = Field(..., description="The routing version work orders follow now.")


class InspectionPoint(Schema):
    code: str = Field(..., min_length=1, max_length=services.INSPECTION_CODE_MAX_LENGTH)
    characteristic: str = Field(..., min_length=1, max_length=services.INSPECTION_TEXT_MAX_LENGTH)
    unit: str = Field("", max_length=services.INSPECTION_TEXT_MAX_LENGTH)
    lower: float | None = Field(None, description="Lower limit; none at all (no lower, no upper) is a pass / fail check.")
    upper: float | None = None


class InspectionPointIn(InspectionPoint, WriteSchema):
    pass


class OperationRequirementOut(Schema):
    qualification_id: UUID
    qualification_code: str
    mandatory: bool
    grace_days: int


class RevisionRefOut(Schema):
    id: UUID
    revision: int
    label: str
    effective_from: dt.datetime


class OperationOut(Schema):
    id: UUID
    routing_id: UUID
    sequence: int
    name: str
    name_en: str
    work_center_id: UUID
    work_center_code: str
    standard_minutes: Decimal = Field(..., description="Standard time in minutes per unit.")
    equipment_class_id: UUID | None
    work_instruction_id: UUID | None
    work_instruction_revision: RevisionRefOut | None = Field(
        ..., description="The work instruction's revision in effect now (operators must be trained on it)."
    )
    inspection_points: list[InspectionPoint]
    requirements: list[OperationRequirementOut] = Field(..., description="Qualifications operators must hold.")
    external_refs: dict[str, str]


class RoutingSignatureOut(Schema):
    id: UUID
    printed_name: str
    meaning: str
    signed_at: dt.datetime
    reason: str
    matches: bool = Field(..., description="False once the routing changed after signing (e.g. retired).")


class RoutingDetailOut(RoutingOut):
    in_effect: bool = Field(..., description="Whether work orders follow this version now.")
    operations: list[OperationOut]
    signatures: list[RoutingSignatureOut]


class ProductIn(WriteSchema):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    model: str = Field("", max_length=120)
    device_class: DeviceClassValue
    udi_di: str = Field("", max_length=60, description="Device identifier of the UDI, if the product has one.")
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class ProductPatch(WriteSchema):
    """Only the fields sent are changed."""

    code: str = patch_field(min_length=1, max_length=40)
    name: str = patch_field(min_length=1, max_length=200)
    name_en: str = patch_field(max_length=200)
    model: str = patch_field(max_length=120)
    device_class: DeviceClassValue = patch_field()
    udi_di: str = patch_field(max_length=60)
    is_active: bool = patch_field()
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


class ProductFilters(PageParams):
    search: str = Field("", description="Part of the code, either name, the model or the UDI-DI.")
    device_class: DeviceClassValue | None = None
    is_active: bool | None = Field(True, description="Only active (true, default) or inactive (false) products.")
    ordering: ProductOrdering = "code"


class RoutingIn(WriteSchema):
    notes: str = Field("", max_length=5000)
    reason: str = _reason()


class RoutingPatch(WriteSchema):
    """A draft's notes or external references; only the fields sent are changed."""

    notes: str = patch_field(max_length=5000)
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


class RoutingCopyIn(WriteSchema):
    notes: str | None = Field(None, max_length=5000, description="The new version's notes (default: the copied ones).")
    reason: str = _reason()


class RoutingApproveIn(WriteSchema):
    effective_from: dt.datetime | None = Field(
        None, description="With its time zone; not in the past. Empty: in effect from now.")
    password: str = Field(..., min_length=1, max_length=200, description="The signer's password, re-entered to sign.")
    reason: str = _reason()


class ReasonIn(WriteSchema):
    reason: str = _reason()


class ReasonQuery(InputSchema):
    reason: str = _reason()


class OperationRequirementIn(WriteSchema):
    qualification_id: UUID
    mandatory: bool = True
    grace_days: int = Field(0, ge=0, le=3650)


class OperationIn(WriteSchema):
    sequence: int = Field(..., ge=1, le=_SEQUENCE_MAX)
    name: str = Field(..., min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    work_center_id: UUID
    standard_minutes: Decimal = Field(..., ge=0, max_digits=9, decimal_places=2)
    equipment_class_id: UUID | None = None
    work_instruction_id: UUID | None = Field(None, description="The controlled document operators follow.")
    inspection_points: list[InspectionPointIn] = Field(default_factory=list)
    requirements: list[OperationRequirementIn] = Field(default_factory=list, description="Qualifications operators must hold.")
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class OperationPatch(WriteSchema):
    """Only the fields sent are changed; `requirements`, when sent, replaces what the operation requires."""

    sequence: int = patch_field(ge=1, le=_SEQUENCE_MAX)
    name: str = patch_field(min_length=1, max_length=200)
    name_en: str = patch_field(max_length=200)
    work_center_id: UUID = patch_field()
    standard_minutes: Decimal = patch_field(ge=0, max_digits=9, decimal_places=2)
    equipment_class_id: UUID | None = None
    work_instruction_id: UUID | None = None
    inspection_points: list[InspectionPointIn] = patch_field()
    requirements: list[OperationRequirementIn] | None = None
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


# ---- helpers -----------------------------------------------------------------------------------------


def _record(model: type[models.Model], field: str, value: UUID | None):
    """The record a reference names, or a field error."""
    if value is None:
        return None
    record = model.objects.filter(pk=value).first()
    if record is None:
        raise ValidationFailed(_("Please correct the errors below."), fields={field: [_("No such record.")]})
    return record


def _operation_data(values: dict[str, Any]) -> dict[str, Any]:
    """API operation fields -> service data: ids become the records they name."""
    data = dict(values)
    for name, model in (("work_center", WorkCenter), ("equipment_class", EquipmentClass),
                        ("work_instruction", Document)):
        api_name = _OPERATION_API_NAMES[name]
        if api_name in data:
            data[name] = _record(model, api_name, data.pop(api_name))
    if "work_center" in data and data["work_center"] is None:
        raise ValidationFailed(_("Please correct the errors below."),
                               fields={"work_center_id": [_("This field is required.")]})
    return data


def _requirement_items(items: list[dict[str, Any]] | None) -> list[RequirementItem] | None:
    if items is None:
        return None
    by_id = {q.pk: q for q in qualifications_get([item["qualification_id"] for item in items], field_name="requirements")}
    return [RequirementItem(by_id[item["qualification_id"]], item["mandatory"], item["grace_days"]) for item in items]


def _operation_out(row: selectors.OperationRow) -> dict[str, Any]:
    operation = row.operation
    return {
        **{name: getattr(operation, name) for name in (
            "id", "routing_id", "sequence", "name", "name_en", "work_center_id", "standard_minutes",
            "equipment_class_id", "work_instruction_id", "inspection_points", "external_refs")},
        "work_center_code": operation.work_center.code,
        "work_instruction_revision": row.work_instruction_revision,
        "requirements": [{"qualification_id": r.qualification_id, "qualification_code": r.qualification.code,
                          "mandatory": r.mandatory, "grace_days": r.grace_days} for r in row.requirements],
    }


def _routing_out(routing) -> dict[str, Any]:
    routing = selectors.routing_get(routing_id=routing.pk)
    detail = selectors.routing_detail(routing=routing)
    return {
        **{name: getattr(routing, name) for name in RoutingOut.model_fields},
        "in_effect": detail.in_effect,
        "operations": [_operation_out(row) for row in detail.operations],
        "signatures": [{"id": s.signature.pk, "printed_name": s.signature.printed_name,
                        "meaning": s.signature.meaning, "signed_at": s.signature.signed_at,
                        "reason": s.signature.reason, "matches": s.matches} for s in detail.signatures],
    }


def _product_out(product) -> dict[str, Any]:
    current = selectors.routing_in_effect(product)
    return {
        **{name: getattr(product, name) for name in ProductOut.model_fields},
        "routings": list(selectors.routing_list(product=product)),
        "routing_in_effect_id": current.pk if current else None,
    }


def _operation_row(operation: Operation) -> dict[str, Any]:
    detail = selectors.routing_detail(routing=operation.routing)
    return _operation_out(next(row for row in detail.operations if row.operation.pk == operation.pk))


def _own_session(request) -> None:
    """A signature is given by the person at their own signed-in session: a token authenticates a program
    (the bearer scheme wins over the cookie when both are sent), not the person whose signature it is."""
    if "HTTP_AUTHORIZATION" in request.META:
        raise PermissionDenied(AccountsErrorCode.SIGNATURE_NOT_ALLOWED, _(
            "Signatures are given in your own signed-in session, not with an API token."))


# ---- products ----------------------------------------------------------------------------------------


@router.get("/products", response={200: page_schema(ProductListOut), **error_responses(403, 422)}, auth=_view,
            operation_id="product_list")
def product_list(request, filters: Query[ProductFilters]):
    return paginate(
        selectors.product_list(search=filters.search, device_class=filters.device_class or "",
                               active=filters.is_active, ordering=filters.ordering),
        filters,
    )


@router.post("/products", response={201: ProductDetailOut, **error_responses(403, 422)}, auth=_manage,
             operation_id="product_create")
def product_create(request, payload: ProductIn):
    product = services.product_create(data=payload.model_dump(exclude={"reason"}), by=request.user,
                                      reason=payload.reason)
    return Status(201, _product_out(product))


@router.get("/products/{product_id}", response={200: ProductDetailOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="product_get")
def product_get(request, product_id: UUID):
    """The product with its routing versions and the one in effect now."""
    return _product_out(selectors.product_get(product_id=product_id))


@router.patch("/products/{product_id}", response={200: ProductDetailOut, **error_responses(403, 404, 422)},
              auth=_manage, operation_id="product_update")
def product_update(request, product_id: UUID, payload: ProductPatch):
    product = services.product_update(
        product=selectors.product_get(product_id=product_id),
        data=payload.model_dump(exclude_unset=True, exclude={"reason"}), by=request.user, reason=payload.reason,
    )
    return _product_out(product)


# ---- routings ----------------------------------------------------------------------------------------


@router.get("/products/{product_id}/routings", response={200: list[RoutingListOut], **error_responses(403, 404, 422)},
            auth=_view, operation_id="routing_list")
def routing_list(request, product_id: UUID):
    """The product's routing versions, newest first."""
    return list(selectors.routing_list(product=selectors.product_get(product_id=product_id)))


@router.post("/products/{product_id}/routings", response={201: RoutingDetailOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="routing_create")
def routing_create(request, product_id: UUID, payload: RoutingIn):
    """A new, empty draft: the product's next routing version."""
    routing = services.routing_create(product=selectors.product_get(product_id=product_id), notes=payload.notes,
                                      by=request.user, reason=payload.reason)
    return Status(201, _routing_out(routing))


@router.get("/routings/{routing_id}", response={200: RoutingDetailOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="routing_get")
def routing_get(request, routing_id: UUID):
    """The routing with its operations (requirements, equipment class, work instruction revision in effect,
    inspection points) and its signatures."""
    return _routing_out(selectors.routing_get(routing_id=routing_id))


@router.patch("/routings/{routing_id}", response={200: RoutingDetailOut, **error_responses(403, 404, 422)},
              auth=_manage, operation_id="routing_update")
def routing_update(request, routing_id: UUID, payload: RoutingPatch):
    routing = services.routing_update(
        routing=selectors.routing_get(routing_id=routing_id),
        data=payload.model_dump(exclude_unset=True, exclude={"reason"}), by=request.user, reason=payload.reason,
    )
    return _routing_out(routing)


@router.post("/routings/{routing_id}/copy", response={201: RoutingDetailOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="routing_copy")
def routing_copy(request, routing_id: UUID, payload: RoutingCopyIn):
    """Copy a version (its operations and their requirements) into the product's next draft version."""
    routing = services.routing_copy(routing=selectors.routing_get(routing_id=routing_id), notes=payload.notes,
                                    by=request.user, reason=payload.reason)
    return Status(201, _routing_out(routing))


@router.post("/routings/{routing_id}/approve", response={200: RoutingDetailOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="routing_approve")
def routing_approve(request, routing_id: UUID, payload: RoutingApproveIn):
    """Approve a draft with the caller's e-signature (meaning "approved"); signed-in sessions only."""
    _own_session(request)
    routing = services.routing_approve(
        routing=selectors.routing_get(routing_id=routing_id), signer=request.user, password=payload.password,
        effective_from=payload.effective_from, reason=payload.reason,
    )
    return _routing_out(routing)


@router.post("/routings/{routing_id}/retire", response={200: RoutingDetailOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="routing_retire")
def routing_retire(request, routing_id: UUID, payload: ReasonIn):
    """Withdraw an approved version: it makes no more work orders."""
    routing = services.routing_retire(routing=selectors.routing_get(routing_id=routing_id), by=request.user,
                                      reason=payload.reason)
    return _routing_out(routing)


# ---- operations --------------------------------------------------------------------------------------


@router.post("/routings/{routing_id}/operations", response={201: OperationOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="operation_create")
def operation_create(request, routing_id: UUID, payload: OperationIn):
    """Add an operation to a draft routing."""
    routing = selectors.routing_get(routing_id=routing_id)
    values = payload.model_dump(exclude={"reason"})
    requirements = _requirement_items(values.pop("requirements"))
    with api_field_names(_OPERATION_API_NAMES):
        operation = services.operation_create(routing=routing, data=_operation_data(values), requirements=requirements,
                                              by=request.user, reason=payload.reason)
    return Status(201, _operation_row(operation))


@router.patch("/operations/{operation_id}", response={200: OperationOut, **error_responses(403, 404, 422)},
              auth=_manage, operation_id="operation_update")
def operation_update(request, operation_id: UUID, payload: OperationPatch):
    """Change an operation of a draft routing."""
    operation = selectors.operation_get(operation_id=operation_id)
    values = payload.model_dump(exclude_unset=True, exclude={"reason"})
    requirements = _requirement_items(values.pop("requirements", None))
    with api_field_names(_OPERATION_API_NAMES):
        operation = services.operation_update(operation=operation, data=_operation_data(values),
                                              requirements=requirements, by=request.user, reason=payload.reason)
    return _operation_row(operation)


@router.delete("/operations/{operation_id}", response={200: RoutingDetailOut, **error_responses(403, 404, 422)},
               auth=_manage, operation_id="operation_delete")
def operation_delete(request, operation_id: UUID, params: Query[ReasonQuery]):
    """Remove an operation (and its requirements) from a draft routing; answers with the routing. The reason
    travels as a query parameter, since a DELETE carries no body."""
    operation = selectors.operation_get(operation_id=operation_id)
    services.operation_remove(operation=operation, by=request.user, reason=params.reason)
    return _routing_out(operation.routing)
