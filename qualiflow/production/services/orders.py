"""Writes for work orders: create, release (the routing's operations and requirements copied into the
order, with a warning where the line lacks qualified people), start, complete, close and cancel.

Work orders are regulated records: every write states a reason, is audited by the model layer and emits
`production.workorder.<past verb>` in the same transaction. `by` None is the system (ERP import, seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core import context
from qualiflow.core.errors import Conflict, PermissionDenied, ValidationFailed
from qualiflow.core.validation import full_clean, require_reason
from qualiflow.integration import events
from qualiflow.org.models import ProductionLine
from qualiflow.people.models import Employee, EmployeeStatus
from qualiflow.training import selectors as training_selectors
from qualiflow.training.domain import status as training_domain
from qualiflow.training.models import Requirement, TargetKind

from ..errors import ProductionErrorCode
from ..models import (
    Operation,
    Product,
    Routing,
    RoutingStatus,
    StepStatus,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)


@dataclass(frozen=True)
class Place:
    """Where a work order stands in the organisation, for scoped permissions (site, department, line)."""

    site_id: UUID | None
    department_id: UUID | None
    line_id: UUID | None


def place_of(line: ProductionLine) -> Place:
    return Place(line.site_id, line.department_id, line.pk)


def authorize(by, perm: str, line: ProductionLine) -> None:
    if by is not None and not has_perm(by, perm, place_of(line)):
        raise PermissionDenied(ProductionErrorCode.OUT_OF_SCOPE, _("You are not allowed to do this on this production line."))


def refuse(field: str, message, code: ProductionErrorCode) -> NoReturn:
    raise ValidationFailed(message, fields={field: [message]}, code=code)


def refuse_state(work_order: WorkOrder, action) -> NoReturn:
    raise Conflict(
        ProductionErrorCode.WORK_ORDER_STATE,
        _("Work order %(number)s is %(status)s: it cannot be %(action)s.") % {
            "number": work_order.number, "status": work_order.get_status_display(), "action": action},
    )


def system_moment(at: datetime | None, by) -> datetime:
    """When a write happens: now, except that the system (seed, import of history) may record a past moment."""
    return at if at is not None and by is None else timezone.now()


def work_order_payload(work_order: WorkOrder) -> dict[str, Any]:
    return {
        "number": work_order.number, "product_id": work_order.product_id, "routing_id": work_order.routing_id,
        "line_id": work_order.line_id, "quantity": work_order.quantity, "lot_number": work_order.lot_number,
        "serial_numbers": work_order.serial_numbers, "status": work_order.status,
    }


def _emit(work_order: WorkOrder, verb: str, **extra: Any) -> None:
    events.emit(f"production.workorder.{verb}", f"production/workorder/{work_order.pk}",
                {**work_order_payload(work_order), **extra})


def _clean_serials(serial_numbers: list[str] | None, quantity: int) -> list[str]:
    serials = [str(s).strip() for s in (serial_numbers or []) if str(s).strip()]
    if len(set(serials)) != len(serials):
        refuse("serial_numbers", _("A serial number is listed twice."), ProductionErrorCode.WORK_ORDER_INVALID)
    if serials and len(serials) != quantity:
        refuse("serial_numbers", _("Give one serial number per unit: %(quantity)s expected, %(count)s given.") % {
            "quantity": quantity, "count": len(serials)}, ProductionErrorCode.WORK_ORDER_INVALID)
    return serials


@transaction.atomic
def work_order_create(
    *,
    number: str,
    product: Product,
    routing: Routing,
    line: ProductionLine,
    quantity: int,
    planned_start: datetime,
    planned_end: datetime,
    lot_number: str = "",
    serial_numbers: list[str] | None = None,
    external_refs: dict[str, str] | None = None,
    by=None,
    reason: str = "",
) -> WorkOrder:
    reason = require_reason(WorkOrder, reason)
    authorize(by, Perm.PRODUCTION_MANAGE, line)
    number = (number or "").strip()
    if not number:
        refuse("number", _("Give the work order a number."), ProductionErrorCode.WORK_ORDER_INVALID)
    if WorkOrder.objects.filter(number=number).exists():
        refuse("number", _("The number %(number)s is already used.") % {"number": number}, ProductionErrorCode.CODE_TAKEN)
    if not product.is_active:
        refuse("product", _("Product %(code)s is no longer active.") % {"code": product.code}, ProductionErrorCode.PRODUCT_INACTIVE)
    if routing.product_id != product.pk:
        refuse("routing", _("This routing belongs to another product."), ProductionErrorCode.ROUTING_INVALID)
    if routing.status != RoutingStatus.APPROVED:
        refuse("routing", _("Only an approved routing can make work orders."), ProductionErrorCode.ROUTING_NOT_APPROVED)
    if not line.is_active:
        refuse("line", _("This production line is no longer active."), ProductionErrorCode.WORK_ORDER_INVALID)
    if quantity is None or quantity < 1:
        refuse("quantity", _("The quantity is at least 1."), ProductionErrorCode.WORK_ORDER_INVALID)
    if planned_end < planned_start:
        refuse("planned_end", _("The planned end cannot be before the planned start."), ProductionErrorCode.WORK_ORDER_INVALID)
    lot_number = (lot_number or "").strip()
    serials = _clean_serials(serial_numbers, quantity)
    if not lot_number and not serials:
        refuse("lot_number", _("Give a lot number or the serial numbers."), ProductionErrorCode.WORK_ORDER_INVALID)
    work_order = WorkOrder(
        number=number, product=product, routing=routing, line=line, quantity=quantity, lot_number=lot_number,
        serial_numbers=serials, planned_start=planned_start, planned_end=planned_end, external_refs=external_refs or {},
    )
    full_clean(work_order)
    with context.acting(reason=reason):
        work_order.save()
        _emit(work_order, "created")
    return work_order


def _locked(work_order: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.select_for_update(of=("self",)).select_related("line", "routing").get(pk=work_order.pk)


def _step_requirements(operations: list[Operation]) -> dict[UUID, list[dict[str, Any]]]:
    rows = Requirement.objects.filter(
        target_kind=TargetKind.OPERATION, target_id__in=[op.pk for op in operations], qualification__is_active=True,
    ).values_list("target_id", "qualification_id", "qualification__code", "mandatory").order_by("qualification__code")
    found: dict[UUID, list[dict[str, Any]]] = {}
    for target_id, qualification_id, code, mandatory in rows:
        found.setdefault(target_id, []).append({"qualification_id": str(qualification_id), "code": code, "mandatory": mandatory})
    return found


def step_domain_requirements(step: WorkOrderOperation) -> list[training_domain.Requirement]:
    """The qualifications copied into the step at release, as the training domain judges them."""
    qualifications = training_selectors.domain_qualifications([r["qualification_id"] for r in step.requirements])
    return [
        training_domain.Requirement(qualifications[UUID(r["qualification_id"])], r["mandatory"])
        for r in step.requirements if UUID(r["qualification_id"]) in qualifications
    ]


def staffing_shortfalls(work_order: WorkOrder, steps: list[WorkOrderOperation]) -> list[dict[str, Any]]:
    """Operations for which the line has fewer people qualified for the whole planned window than the
    standard time needs (at least one). One fact query for the whole line."""
    window_minutes = max((work_order.planned_end - work_order.planned_start).total_seconds() / 60, 1)
    people = Employee.objects.filter(line_id=work_order.line_id, status=EmployeeStatus.ACTIVE)
    qualification_ids = {r["qualification_id"] for step in steps for r in step.requirements}
    facts = training_selectors.facts_for(people, qualification_ids=qualification_ids)
    revisions = training_selectors.revisions_for(qualification_ids)
    shortfalls = []
    for step in steps:
        requirements = step_domain_requirements(step)
        needed = max(1, math.ceil(float(step.standard_minutes) * work_order.quantity / window_minutes))
        qualified = sum(
            1 for person in facts.values()
            if all(training_domain.evaluate(facts=person, requirements=requirements, revisions=revisions, at=moment).allowed
                   for moment in (work_order.planned_start, work_order.planned_end))
        )
        if qualified < needed:
            shortfalls.append({"sequence": step.sequence, "name": step.name, "needed": needed, "qualified": qualified})
    return shortfalls


@transaction.atomic
def work_order_release(*, work_order: WorkOrder, by=None, reason: str = "", at: datetime | None = None) -> WorkOrder:
    """Copy the routing's operations, with their required qualifications and inspection points, into the
    order, and note where the line lacks qualified people for the planned window (a warning, not a refusal:
    people may still be trained in time)."""
    work_order, reason = _begin(work_order, by, reason, (WorkOrderStatus.CREATED,), _("released"))
    if work_order.routing.status != RoutingStatus.APPROVED:
        refuse("routing", _("Only an approved routing can make work orders."), ProductionErrorCode.ROUTING_NOT_APPROVED)
    operations = list(work_order.routing.operations.order_by("sequence"))
    if not operations:
        refuse("routing", _("The routing has no operations."), ProductionErrorCode.ROUTING_INVALID)
    requirements = _step_requirements(operations)
    with context.acting(reason=reason):
        steps = [
            WorkOrderOperation(
                work_order=work_order, operation=op, sequence=op.sequence, name=op.name, name_en=op.name_en,
                work_center_id=op.work_center_id, standard_minutes=op.standard_minutes,
                equipment_class_id=op.equipment_class_id, work_instruction_id=op.work_instruction_id,
                requirements=requirements.get(op.pk, []), inspection_points=op.inspection_points,
            )
            for op in operations
        ]
        for step in steps:
            step.save()
        work_order.status = WorkOrderStatus.RELEASED
        work_order.released_at = system_moment(at, by)
        work_order.release_warnings = staffing_shortfalls(work_order, steps)
        work_order.save()
        _emit(work_order, "released", warnings=work_order.release_warnings)
    return work_order


def _move(work_order: WorkOrder, status: str, verb: str, **moments: datetime) -> None:
    """Put the order in `status` with the moments given (inside the caller's transaction and reason)."""
    work_order.status = status
    for field, value in moments.items():
        setattr(work_order, field, value)
    work_order.save(update_fields=["status", *moments, "updated_at"])
    _emit(work_order, verb)


def mark_started(work_order: WorkOrder, at: datetime) -> None:
    """The first track-in starts a released order."""
    _move(work_order, WorkOrderStatus.IN_PROGRESS, "started", started_at=at)


def mark_completed_if_done(work_order: WorkOrder, at: datetime) -> bool:
    """Complete the order when its last operation is done."""
    if work_order.steps.exclude(status=StepStatus.DONE).exists():
        return False
    _move(work_order, WorkOrderStatus.COMPLETED, "completed", completed_at=at)
    return True


def _begin(work_order: WorkOrder, by, reason: str, states: tuple[str, ...], action) -> tuple[WorkOrder, str]:
    """The common start of a lifecycle step: a reason, the order locked, the caller's right, its state."""
    reason = require_reason(WorkOrder, reason)
    work_order = _locked(work_order)
    authorize(by, Perm.PRODUCTION_MANAGE, work_order.line)
    if work_order.status not in states:
        refuse_state(work_order, action)
    return work_order, reason


@transaction.atomic
def work_order_start(*, work_order: WorkOrder, by=None, reason: str = "", at: datetime | None = None) -> WorkOrder:
    work_order, reason = _begin(work_order, by, reason, (WorkOrderStatus.RELEASED,), _("started"))
    with context.acting(reason=reason):
        mark_started(work_order, system_moment(at, by))
    return work_order


@transaction.atomic
def work_order_complete(*, work_order: WorkOrder, by=None, reason: str = "", at: datetime | None = None) -> WorkOrder:
    """Complete an order whose operations are all done (normally this happens at the last track-out)."""
    work_order, reason = _begin(work_order, by, reason, (WorkOrderStatus.IN_PROGRESS,), _("completed"))
    with context.acting(reason=reason):
        if not mark_completed_if_done(work_order, system_moment(at, by)):
            raise Conflict(ProductionErrorCode.WORK_ORDER_STATE,
                           _("Work order %(number)s still has operations that are not done.") % {"number": work_order.number})
    return work_order


@transaction.atomic
def work_order_close(*, work_order: WorkOrder, by=None, reason: str = "", at: datetime | None = None) -> WorkOrder:
    """Close a completed order after review: nothing more can be recorded on it."""
    work_order, reason = _begin(work_order, by, reason, (WorkOrderStatus.COMPLETED,), _("closed"))
    with context.acting(reason=reason):
        _move(work_order, WorkOrderStatus.CLOSED, "closed", closed_at=system_moment(at, by))
    return work_order


@transaction.atomic
def work_order_cancel(*, work_order: WorkOrder, by=None, reason: str = "", at: datetime | None = None) -> WorkOrder:
    """Cancel an order nothing has been done on yet."""
    work_order, reason = _begin(work_order, by, reason, (WorkOrderStatus.CREATED, WorkOrderStatus.RELEASED), _("cancelled"))
    with context.acting(reason=reason):
        _move(work_order, WorkOrderStatus.CANCELLED, "cancelled")
    return work_order
