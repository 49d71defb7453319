"""The demo plant's production, equipment and quality: seeded once for the module (through the services,
it takes a while), then read by every test."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from qualiflow.accounts.models import ESignature
from qualiflow.audit.models import AuditEntry
from qualiflow.demo import production_plan
from qualiflow.equipment.domain.status import Block
from qualiflow.equipment.models import Equipment, EquipmentRecord
from qualiflow.equipment.selectors import availability_for
from qualiflow.production.models import (
    GateRefusal,
    OperationRun,
    Routing,
    RoutingStatus,
    StepStatus,
    WorkOrder,
    WorkOrderStatus,
)
from qualiflow.production.selectors.dhr import dhr_content
from qualiflow.production.selectors.orders import calibration_impact
from qualiflow.quality.models import QualityEvent, QualityEventKind

EMPLOYEES = 300


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One seed for the module, rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed", "--employees", str(EMPLOYEES), stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_the_seed_reports_production(seeded):
    assert "equipment: 16 assets" in seeded
    assert "work orders: " in seeded and " operation runs, " in seeded


def test_about_two_hundred_work_orders_over_the_last_year(seeded):
    orders = WorkOrder.objects.all()
    assert orders.count() >= 150
    now = timezone.now()
    oldest = orders.order_by("planned_start").first().planned_start
    assert now - dt.timedelta(days=380) < oldest < now - dt.timedelta(days=300)
    assert orders.filter(status=WorkOrderStatus.CLOSED).count() > orders.count() * 0.8
    assert set(orders.values_list("line__code", flat=True)) == {p.line for p in production_plan.PRODUCTS}
    assert Routing.objects.filter(status=RoutingStatus.APPROVED).count() == len(production_plan.PRODUCTS)
    for order in orders.filter(status=WorkOrderStatus.CLOSED)[:20]:
        steps = list(order.steps.order_by("sequence"))
        assert all(step.status == StepStatus.DONE for step in steps)
        assert steps[0].good_quantity + steps[0].scrap_quantity == order.quantity


def test_every_run_passed_the_gate_or_was_overridden_with_a_deviation_and_two_signatures(seeded):
    runs = OperationRun.objects.all()
    assert runs.count() >= 400
    for run in runs:
        assert run.decision["allowed"] or run.overridden, run.pk
    overridden = list(runs.filter(overridden=True).select_related("deviation"))
    assert 2 <= len(overridden) <= 3
    for run in overridden:
        assert run.deviation is not None and run.deviation.kind == QualityEventKind.DEVIATION
        assert run.decision["allowed"] is False and run.decision["overridden"] is True
        signers = set(ESignature.objects.filter(object_id=str(run.pk)).values_list("signer__username", flat=True))
        assert signers == {"supervisor.a", "qa"}
        assert GateRefusal.objects.get(run=run).operator_id == run.operator_id
    # A few refusals in the history, kept with their reasons.
    refused = GateRefusal.objects.filter(run__isnull=True)
    assert refused.exists()
    assert all(not r.decision["allowed"] and r.decision["reasons"] for r in refused)


def test_inspections_and_scrap_are_plausible(seeded):
    runs = OperationRun.objects.filter(tracked_out_at__isnull=False)
    failed = [r for r in runs if any(not i["passed"] for i in r.inspection_results)]
    assert 0 < len(failed) < runs.count() * 0.1
    assert runs.filter(scrap_quantity__gt=0).exists()
    assert QualityEvent.objects.filter(kind=QualityEventKind.NONCONFORMANCE).count() >= 2


def test_exactly_one_asset_is_blocked_for_an_overdue_calibration_and_some_are_due_soon(seeded):
    now = timezone.now()
    states = availability_for(Equipment.objects.all(), now)
    overdue = [pk for pk, s in states.items() if any(f.code == Block.CALIBRATION_OVERDUE for f in s.reasons)]
    assert len(overdue) == 1
    assert Equipment.objects.get(pk=overdue[0]).asset_number == "SZ-LT-A02"
    due_soon = [s for s in states.values() if s.available and s.calibration_due
                and s.calibration_due <= now + dt.timedelta(days=7)]
    assert len(due_soon) >= 2
    assert sum(1 for s in states.values() if s.available) >= len(states) - 2


def test_a_failed_calibration_has_an_impact_to_assess(seeded):
    failed = EquipmentRecord.objects.get(kind="calibration", result="fail")
    assert EquipmentRecord.objects.filter(equipment=failed.equipment, kind="calibration", result="pass",
                                          completed_at__gt=failed.completed_at).exists()
    since, runs = calibration_impact(failed, user=None)
    assert since is not None and runs.exists()
    assert availability_for([failed.equipment])[failed.equipment.pk].available


def test_the_station_has_work_today(seeded):
    today = timezone.now() - dt.timedelta(hours=12)
    active = WorkOrder.objects.filter(status__in=(WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS),
                                      planned_end__gte=today)
    assert active.count() >= 8
    assert active.filter(status=WorkOrderStatus.IN_PROGRESS).exists()
    assert OperationRun.objects.filter(tracked_out_at__isnull=True).exists()
    warned = active.filter(status=WorkOrderStatus.RELEASED).exclude(release_warnings=[])
    assert warned.exists()


def test_the_dhr_of_a_closed_order_builds_and_the_audit_chain_holds(seeded):
    order = WorkOrder.objects.filter(status=WorkOrderStatus.CLOSED).order_by("planned_start").first()
    content = dhr_content(work_order=order)
    assert content["header"]["work_order_number"] == order.number
    assert all(step["runs"] for step in content["steps"])
    assert content["totals"]["good"] > 0
    overridden = OperationRun.objects.filter(overridden=True).first()
    content = dhr_content(work_order=overridden.step.work_order)
    assert content["exceptions"]["overrides"] and content["deviations"]
    assert AuditEntry.objects.filter(object_type="production.operationrun").count() >= OperationRun.objects.count()
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "audit chain intact" in out.getvalue()
