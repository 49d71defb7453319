"""Reads of work orders and what was done on them: lists scoped to the reader's lines, an order with its
operations, runs and refusals, one run with its frozen evidence, and the runs on an asset in a window (the
impact of a failed calibration)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import Scope, scope_for
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import CoreErrorCode, NotFound
from qualiflow.equipment import selectors as equipment_selectors
from qualiflow.equipment.models import Equipment, EquipmentRecord, PlanKind, RecordResult
from qualiflow.people.models import Employee

from ..models import GateRefusal, OperationRun, WorkOrder, WorkOrderOperation

ORDERINGS = ("-planned_start", "planned_start", "number", "-number", "status", "-status")


def _scope_q(scope: Scope, prefix: str = "") -> Q:
    """Work orders (or records reached through `prefix`) on lines within `scope`."""
    if scope.everywhere:
        return Q()
    q = Q(pk__in=[])
    if scope.site_ids:
        q |= Q(**{f"{prefix}line__site_id__in": scope.site_ids})
    if scope.department_ids:
        q |= Q(**{f"{prefix}line__department_id__in": scope.department_ids})
    if scope.line_ids:
        q |= Q(**{f"{prefix}line_id__in": scope.line_ids})
    return q


def work_orders_visible(user, perm: str = Perm.PRODUCTION_VIEW) -> QuerySet[WorkOrder]:
    """Work orders `user` may see with `perm`; `user` None is the system, which sees everything."""
    qs = WorkOrder.objects.all()
    return qs if user is None else qs.filter(_scope_q(scope_for(user, perm)))


def work_order_list(
    *, user, search: str = "", status: str = "", line_id: UUID | None = None, product_id: UUID | None = None,
    ordering: str = "-planned_start",
) -> QuerySet[WorkOrder]:
    qs = work_orders_visible(user).select_related("product", "line", "routing")
    term = search.strip()
    if term:
        qs = qs.filter(Q(number__icontains=term) | Q(lot_number__icontains=term) | Q(product__code__icontains=term)
                       | Q(product__name__icontains=term))
    if status:
        qs = qs.filter(status=status)
    if line_id:
        qs = qs.filter(line_id=line_id)
    if product_id:
        qs = qs.filter(product_id=product_id)
    return qs.order_by(ordering if ordering in ORDERINGS else "-planned_start", "number")


def work_order_get(*, user, work_order_id: Any, perm: str = Perm.PRODUCTION_VIEW) -> WorkOrder:
    order = work_orders_visible(user, perm).select_related("product", "line", "line__site", "routing").filter(
        pk=work_order_id).first()
    if order is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("There is no such work order, or it is not yours to see."))
    return order


def work_order_steps(work_order: WorkOrder) -> list[WorkOrderOperation]:
    """The order's operations with their runs (operator, equipment) and refusals, in three queries."""
    steps = list(work_order.steps.select_related("work_center", "equipment_class", "work_instruction").order_by("sequence"))
    runs: dict[UUID, list[OperationRun]] = {step.pk: [] for step in steps}
    refusals: dict[UUID, list[GateRefusal]] = {step.pk: [] for step in steps}
    for run in OperationRun.objects.filter(step__work_order=work_order).select_related(
            "operator", "equipment", "deviation").order_by("tracked_in_at"):
        runs[run.step_id].append(run)
    for refusal in GateRefusal.objects.filter(step__work_order=work_order).select_related(
            "operator", "equipment").order_by("at"):
        refusals[refusal.step_id].append(refusal)
    for step in steps:
        step.run_list = runs[step.pk]
        step.refusal_list = refusals[step.pk]
    return steps


def run_get(*, user, run_id: Any) -> OperationRun:
    run = OperationRun.objects.select_related(
        "step", "step__work_order", "step__work_order__line", "step__work_order__product", "operator", "equipment",
        "deviation",
    ).filter(pk=run_id).filter(_scope_q(scope_for(user, Perm.PRODUCTION_VIEW), "step__work_order__") if user else Q()).first()
    if run is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("There is no such run, or it is not yours to see."))
    return run


def refusal_get(*, user, refusal_id: Any, perm: str = Perm.PRODUCTION_VIEW) -> GateRefusal:
    refusal = GateRefusal.objects.select_related(
        "step", "step__work_order", "step__work_order__line", "operator", "equipment", "run",
    ).filter(pk=refusal_id).filter(_scope_q(scope_for(user, perm), "step__work_order__") if user else Q()).first()
    if refusal is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("There is no such refusal, or it is not yours to see."))
    return refusal


def refusal_list(*, user, overridden: bool | None = None) -> QuerySet[GateRefusal]:
    qs = GateRefusal.objects.select_related("step", "step__work_order", "operator", "equipment", "run")
    if user is not None:
        qs = qs.filter(_scope_q(scope_for(user, Perm.PRODUCTION_VIEW), "step__work_order__"))
    if overridden is not None:
        qs = qs.filter(run__isnull=not overridden)
    return qs.order_by("-at")


def open_runs(operator: Employee) -> list[OperationRun]:
    """Where the operator is tracked in now (what the station offers to track out)."""
    return list(OperationRun.objects.filter(operator=operator, tracked_out_at__isnull=True).select_related(
        "step", "step__work_order", "equipment").order_by("tracked_in_at"))


def runs_on_equipment(equipment: Equipment, *, since: dt.datetime | None, until: dt.datetime) -> QuerySet[OperationRun]:
    """Runs that used the asset in [since, until]: tracked in before `until` and not out before `since`."""
    qs = OperationRun.objects.filter(equipment=equipment, tracked_in_at__lte=until)
    if since is not None:
        qs = qs.filter(Q(tracked_out_at__isnull=True) | Q(tracked_out_at__gte=since))
    return qs.select_related("step", "step__work_order", "step__work_order__product", "operator").order_by("tracked_in_at")


def impact_record_get(*, user, record_id: Any) -> EquipmentRecord:
    """A calibration record of an asset `user` may see with production.view (None: any)."""
    qs = EquipmentRecord.objects.select_related("equipment").filter(pk=record_id)
    if user is not None:
        qs = qs.filter(equipment__in=equipment_selectors.equipment_visible(user, Perm.PRODUCTION_VIEW))
    record = qs.first()
    if record is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("There is no such calibration record, or it is not yours to see."))
    return record


def calibration_impact(record: EquipmentRecord, *, user) -> tuple[dt.datetime | None, QuerySet[OperationRun]]:
    """For a failed calibration: the completion of the last passing one before it, and every run on the
    asset since then that `user` may see (None: all) — what QA assesses for impact."""
    if record.kind != PlanKind.CALIBRATION or record.result != RecordResult.FAIL or record.completed_at is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Only a failed calibration has an impact assessment."))
    previous = equipment_selectors.last_passing_calibration(record.equipment, record.completed_at, plan_id=record.plan_id)
    since = previous.completed_at if previous is not None else None
    runs = runs_on_equipment(record.equipment, since=since, until=record.completed_at)
    if user is not None:
        runs = runs.filter(_scope_q(scope_for(user, Perm.PRODUCTION_VIEW), "step__work_order__"))
    return since, runs

