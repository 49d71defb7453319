"""Work orders over the API: what an ERP sends (create, release) and what it reads back (the order with
its operations, runs and refusals)."""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import (
    PageParams,
    WriteSchema,
    api_field_names,
    error_responses,
    page_schema,
    paginate,
)
from qualiflow.core.errors import ValidationFailed
from qualiflow.org.models import ProductionLine

from ..errors import ProductionErrorCode
from ..models import Product, Routing, WorkOrderStatus
from ..selectors import orders as selectors
from ..selectors.catalogue import routing_in_effect
from ..services import orders as services
from .station import RefusalOut, RunOut, refusal_out, run_out

router = Router()

_view = requires(Perm.PRODUCTION_VIEW)
_manage = requires(Perm.PRODUCTION_MANAGE)
StatusValue = Literal[tuple(WorkOrderStatus.values)]
Ordering = Literal[selectors.ORDERINGS]
RENAMES = {"product": "product_id", "routing": "routing_id", "line": "line_id"}


def _reason() -> Any:
    return Field(..., min_length=1, max_length=2000, description="Why (required; kept in the audit trail).")


class WorkOrderStepOut(Schema):
    id: UUID
    sequence: int
    name: str
    name_en: str
    work_center_id: UUID
    standard_minutes: float
    equipment_class_id: UUID | None
    work_instruction_id: UUID | None
    requirements: list[dict[str, Any]] = Field(..., description="Qualifications copied at release: qualification_id, code, mandatory.")
    inspection_points: list[dict[str, Any]]
    status: str
    good_quantity: int
    scrap_quantity: int
    completed_at: dt.datetime | None


class WorkOrderOut(Schema):
    id: UUID
    number: str
    product_id: UUID
    routing_id: UUID
    line_id: UUID
    quantity: int
    lot_number: str
    serial_numbers: list[str]
    planned_start: dt.datetime
    planned_end: dt.datetime
    status: str
    released_at: dt.datetime | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    closed_at: dt.datetime | None
    release_warnings: list[dict[str, Any]] = Field(..., description="Operations the line lacks qualified people for.")
    external_refs: dict[str, str]


class WorkOrderDetailOut(WorkOrderOut):
    steps: list[WorkOrderStepOut]
    runs: list[RunOut]
    refusals: list[RefusalOut]


class WorkOrderIn(WriteSchema):
    number: str = Field(..., min_length=1, max_length=40)
    product_id: UUID
    routing_id: UUID | None = Field(None, description="Default: the product's routing in effect at the planned start.")
    line_id: UUID
    quantity: int = Field(..., ge=1, le=10_000_000)
    lot_number: str = Field("", max_length=60)
    serial_numbers: list[str] = Field(default_factory=list, max_length=100_000)
    planned_start: dt.datetime
    planned_end: dt.datetime
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class WorkOrderTransitionIn(WriteSchema):
    reason: str = _reason()


class WorkOrderFilters(PageParams):
    search: str = Field("", description="Part of the number, lot number or product.")
    status: StatusValue | None = None
    line_id: UUID | None = None
    product_id: UUID | None = None
    ordering: Ordering = "-planned_start"


def _detail(order) -> dict[str, Any]:
    steps = selectors.work_order_steps(order)
    return {
        **{name: getattr(order, name) for name in WorkOrderOut.model_fields},
        "steps": steps,
        "runs": [run_out(run) for step in steps for run in step.run_list],
        "refusals": [refusal_out(refusal) for step in steps for refusal in step.refusal_list],
    }


@router.get("/work-orders", response={200: page_schema(WorkOrderOut), **error_responses(403, 422)}, auth=_view,
            operation_id="work_order_list")
def work_order_list(request, filters: Query[WorkOrderFilters]):
    orders = selectors.work_order_list(
        user=request.user, search=filters.search, status=filters.status or "", line_id=filters.line_id,
        product_id=filters.product_id, ordering=filters.ordering,
    )
    return paginate(orders, filters)


@router.post("/work-orders", response={201: WorkOrderDetailOut, **error_responses(403, 404, 409, 422)}, auth=_manage,
             operation_id="work_order_create")
def work_order_create(request, payload: WorkOrderIn):
    """Create an order for a product on a line, as a lot or with one serial number per unit."""
    product = get_object_or_404(Product, pk=payload.product_id)
    line = get_object_or_404(ProductionLine, pk=payload.line_id)
    routing = (get_object_or_404(Routing, pk=payload.routing_id) if payload.routing_id
               else routing_in_effect(product, payload.planned_start))
    if routing is None:
        message = _("No approved routing of this product is in effect at the planned start.")
        raise ValidationFailed(message, fields={"routing_id": [message]}, code=ProductionErrorCode.ROUTING_NOT_APPROVED)
    with api_field_names(RENAMES):
        order = services.work_order_create(
            number=payload.number, product=product, routing=routing, line=line, quantity=payload.quantity,
            lot_number=payload.lot_number, serial_numbers=payload.serial_numbers, planned_start=payload.planned_start,
            planned_end=payload.planned_end, external_refs=payload.external_refs, by=request.user, reason=payload.reason,
        )
    return Status(201, _detail(order))


@router.get("/work-orders/{work_order_id}", response={200: WorkOrderDetailOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="work_order_get")
def work_order_get(request, work_order_id: UUID):
    """The order with its operations, every run (with its stored gate decision) and every refusal."""
    return _detail(selectors.work_order_get(user=request.user, work_order_id=work_order_id))


def _transition(action: str, description: str):
    service = getattr(services, f"work_order_{action}")

    def handler(request, work_order_id: UUID, payload: WorkOrderTransitionIn):
        order = selectors.work_order_get(user=request.user, work_order_id=work_order_id)
        return _detail(service(work_order=order, by=request.user, reason=payload.reason))

    handler.__doc__ = description
    router.post(f"/work-orders/{{work_order_id}}/{action}", response={200: WorkOrderDetailOut, **error_responses(403, 404, 409, 422)},
                auth=_manage, operation_id=f"work_order_{action}")(handler)


_transition("release", "Copy the routing's operations and requirements into the order; warnings name short staffing.")
_transition("start", "Start a released order (the first track-in also does).")
_transition("complete", "Complete an order whose operations are all done.")
_transition("close", "Close a completed order after review.")
_transition("cancel", "Cancel an order nothing has been done on.")
