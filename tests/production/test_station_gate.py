"""The production gate at the station: who may track in, what is recorded when they may not, and the
evidence stored with every run."""

from __future__ import annotations

import datetime as dt

import pytest
import station_plant
from django.utils import timezone

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qualiflow.documents import services as document_services
from qualiflow.equipment.models import EquipmentPlan
from qualiflow.integration.models import OutboxEvent
from qualiflow.production.models import GateRefusal, OperationRun, StepStatus, WorkOrderStatus
from qualiflow.production.services import orders, station
from qualiflow.quality.models import QualityEvent, QualityEventKind
from qualiflow.training import services as training_services

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def line(plant):
    return station_plant.build(plant)


@pytest.fixture
def operator(line, make_employee):
    person = make_employee(employee_number="OP-100", family_name="李", given_name="娜")
    station_plant.qualify(line, person)
    return person


def _written() -> tuple[int, int, int, int]:
    return (OperationRun.objects.count(), GateRefusal.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count())


def _codes(decision) -> list[tuple[str, str]]:
    return [(r["code"], r["detail"]) for r in decision["reasons"]]


def _track_out_first(line, operator):
    run = station.operation_track_in(badge=operator.employee_number, work_order="WO-0001", sequence=10).run
    return station.operation_track_out(run=run, good_quantity=10, inspection_results={"LEAK": "1.5"})


def test_a_qualified_operator_is_tracked_in_with_the_evidence_stored(line, operator):
    result = station.operation_track_in(badge="OP-100", work_order="WO-0001/10", station="ST-1")

    assert result.allowed and result.refusal is None
    run = OperationRun.objects.get()
    assert run == result.run and run.operator == operator and run.station == "ST-1" and not run.overridden
    grant = operator.qualification_grants.get(qualification=line.assembly)
    (evidence,) = run.decision["qualifications"]
    assert evidence["code"] == "Q-ASM" and evidence["state"] == "qualified"
    assert evidence["grant_id"] == str(grant.pk)
    assert evidence["valid_until"] == grant.valid_until.isoformat()
    assert evidence["certificate_numbers"] == ["CERT-Q-ASM-OP-100"]
    assert run.decision["work_instruction"]["code"] == "WI-ASM-01"
    assert run.decision["work_instruction"]["trained_revision"] == 1
    assert run.decision["reasons"] == []
    step = run.step
    assert step.status == StepStatus.IN_PROGRESS
    assert step.work_order.status == WorkOrderStatus.IN_PROGRESS
    assert list(OutboxEvent.objects.filter(type__startswith="production.operation").values_list("type", flat=True)) == [
        "production.operation.tracked_in"]


def test_the_equipment_operation_stores_the_calibration_it_rested_on(line, operator):
    _track_out_first(line, operator)
    result = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=20, asset_number="EO-01")

    assert result.allowed
    equipment = result.run.decision["equipment"]
    assert equipment["asset_number"] == "EO-01"
    assert equipment["calibration_record_id"] == str(line.calibration.pk)
    assert equipment["calibration_certificate"] == "CAL-2026-0042"
    assert result.run.equipment == line.steriliser


@pytest.mark.parametrize("case, expected", [
    ("missing", ("qualification", "no_grant")),
    ("expired", ("qualification", "expired")),
    ("suspended", ("qualification", "suspended")),
    ("revoked", ("qualification", "revoked")),
])
def test_an_operator_without_a_valid_qualification_is_refused_and_no_run_is_created(line, make_employee, case, expected):
    person = make_employee(employee_number="OP-200")
    now = timezone.now()
    if case != "missing":
        station_plant.qualify(line, person, valid_until=now - dt.timedelta(days=1) if case == "expired" else None)
    if case == "suspended":
        training_services.qualification_suspend(employee=person, qualification=line.assembly, reason="leak test failures")
    if case == "revoked":
        training_services.qualification_revoke(employee=person, qualification=line.assembly, reason="falsified record")
    if case == "missing":
        station_plant.train_on_instruction(line, person, revision=1, label="A", at=now - dt.timedelta(days=5))
    runs = OperationRun.objects.count()

    result = station.operation_track_in(badge="OP-200", work_order="WO-0001", sequence=10)

    assert not result.allowed and result.run is None
    assert OperationRun.objects.count() == runs == 0
    refusal = GateRefusal.objects.get()
    assert refusal == result.refusal and refusal.operator == person
    assert _codes(refusal.decision) == [expected]
    assert OutboxEvent.objects.filter(type="production.operation.refused").count() == 1
    assert OutboxEvent.objects.filter(type="production.operation.tracked_in").count() == 0


def test_an_operator_untrained_on_the_new_work_instruction_revision_is_refused(line, operator):
    document_services.revision_create(document=line.wi, label="B", effective_from=timezone.now() - dt.timedelta(hours=1),
                                      reason="new torque values")

    result = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10)

    assert not result.allowed
    assert _codes(result.decision) == [("work_instruction_not_trained", "")]
    assert result.decision["reasons"][0]["params"]["revision"] == "B"
    assert OperationRun.objects.count() == 0

    station_plant.train_on_instruction(line, operator, revision=2, label="B", at=timezone.now() - dt.timedelta(minutes=5))
    assert station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10).allowed


def test_a_new_revision_inside_its_grace_period_still_lets_the_operator_in(line, operator):
    document_services.revision_create(document=line.wi, label="B", effective_from=timezone.now() - dt.timedelta(hours=1),
                                      retraining_grace_days=14, reason="typo and photo update")

    result = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10)

    assert result.allowed
    assert result.run.decision["work_instruction"]["trained_revision"] == 1
    assert result.run.decision["work_instruction"]["in_grace_until"] is not None


def test_equipment_with_an_overdue_calibration_is_refused(line, operator):
    _track_out_first(line, operator)
    EquipmentPlan.objects.filter(equipment=line.steriliser).update(interval_days=20)  # the last calibration is 31 days old

    result = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=20, asset_number="EO-01")

    assert not result.allowed
    assert _codes(result.decision) == [("equipment_blocked", "calibration_overdue")]
    assert OperationRun.objects.filter(step__sequence=20).count() == 0


def test_an_operation_that_needs_equipment_is_refused_without_it(line, operator):
    _track_out_first(line, operator)

    result = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=20)

    assert _codes(result.decision) == [("equipment_required", "")]


def test_out_of_sequence_is_a_gate_refusal(line, operator):
    result = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=20, asset_number="EO-01")

    assert not result.allowed
    assert _codes(result.decision) == [("previous_operation_open", "")]
    assert result.decision["reasons"][0]["params"] == {"sequence": "10"}
    assert GateRefusal.objects.count() == 1 and OperationRun.objects.count() == 0


def test_the_stored_evidence_does_not_change_after_the_grant_expires(line, make_employee):
    person = make_employee(employee_number="OP-300")
    station_plant.qualify(line, person, valid_until=timezone.now() + dt.timedelta(days=2))
    run = station.operation_track_in(badge="OP-300", work_order="WO-0001", sequence=10).run
    stored = dict(run.decision)
    assert stored["qualifications"][0]["state"] == "expiring"

    later = timezone.now() + dt.timedelta(days=3)
    # The same person, asked again after expiry, is refused; the run keeps what it was decided on.
    refused = station.gate_check(station.station_resolve(badge="OP-300", work_order="WO-0001", sequence=10),
                                 run.step, later)
    assert _codes(refused) == [("qualification", "expired")]
    run.refresh_from_db()
    assert run.decision == stored


@pytest.mark.parametrize("badge, work_order, sequence, asset, error, field", [
    ("NOBODY", "WO-0001", 10, "", NotFound, "badge"),
    ("OP-100", "WO-9999", 10, "", NotFound, "work_order"),
    ("OP-100", "WO-0001", 99, "", NotFound, "sequence"),
    ("OP-100", "WO-0001", "x", "", NotFound, "sequence"),
    ("OP-100", "WO-0001", 10, "NO-SUCH", NotFound, "asset_number"),
])
def test_unknown_scans_are_refused_and_nothing_is_recorded(line, operator, badge, work_order, sequence, asset, error, field):
    before = _written()
    with pytest.raises(error) as refused:
        station.operation_track_in(badge=badge, work_order=work_order, sequence=sequence, asset_number=asset)
    assert list(refused.value.details["fields"]) == [field]
    assert _written() == before


def test_tracking_in_twice_is_refused_and_nothing_is_recorded(line, operator):
    station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10)
    before = _written()
    with pytest.raises(Conflict) as refused:
        station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10)
    assert refused.value.code == "production.already_tracked_in"
    assert _written() == before


def test_tracking_out_more_than_the_order_quantity_is_refused(line, operator):
    run = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10).run
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        station.operation_track_out(run=run, good_quantity=9, scrap_quantity=2, inspection_results={"LEAK": "1"})
    assert refused.value.code == "production.quantity_exceeded"
    assert _written() == before
    run.refresh_from_db()
    assert run.tracked_out_at is None


def test_inspection_results_are_checked_against_their_limits(line, operator):
    run = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10).run
    with pytest.raises(ValidationFailed):
        station.operation_track_out(run=run, good_quantity=10, inspection_results={})
    with pytest.raises(ValidationFailed):
        station.operation_track_out(run=run, good_quantity=10, inspection_results={"LEAK": "abc"})
    out = station.operation_track_out(run=run, good_quantity=9, scrap_quantity=1, inspection_results={"LEAK": "7.5"})
    assert out.inspection_results == [{"code": "LEAK", "value": "7.5", "passed": False}]
    assert out.step.status == StepStatus.DONE


def test_several_operators_each_record_their_run_and_the_order_completes(line, operator, make_employee):
    second = make_employee(employee_number="OP-101")
    station_plant.qualify(line, second)
    first_run = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10).run
    second_run = station.operation_track_in(badge="OP-101", work_order="WO-0001", sequence=10).run
    station.operation_track_out(run=first_run, good_quantity=6, inspection_results={"LEAK": "1"})
    step = first_run.step
    step.refresh_from_db()
    assert step.status == StepStatus.IN_PROGRESS
    station.operation_track_out(run=second_run, good_quantity=4, inspection_results={"LEAK": "2"})
    step.refresh_from_db()
    assert (step.status, step.good_quantity, step.scrap_quantity) == (StepStatus.DONE, 10, 0)

    sterilise = station.operation_track_in(badge="OP-101", work_order="WO-0001", sequence=20, asset_number="EO-01").run
    # Only the 10 good units of operation 10 reach operation 20.
    with pytest.raises(ValidationFailed):
        station.operation_track_out(run=sterilise, good_quantity=11)
    station.operation_track_out(run=sterilise, good_quantity=10)
    work_order = line.work_order
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.COMPLETED
    assert OperationRun.objects.count() == 3


def test_a_closed_work_order_refuses_track_in_and_nothing_is_recorded(line, operator):
    _track_out_first(line, operator)
    run = station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=20, asset_number="EO-01").run
    station.operation_track_out(run=run, good_quantity=10)
    orders.work_order_close(work_order=line.work_order, reason="batch review done")
    before = _written()
    with pytest.raises(Conflict) as refused:
        station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=20, asset_number="EO-01")
    assert refused.value.code == "production.work_order_state"
    assert _written() == before


def test_an_operator_of_another_line_cannot_use_the_station_here(line, operator, make_user, plant):
    outsider = make_user(Role.OPERATOR, scope_kind="line", scope_id=plant.line_b.pk)
    before = _written()
    with pytest.raises(PermissionDenied):
        station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10, by=outsider)
    assert _written() == before


@pytest.fixture
def refused(line, make_employee):
    person = make_employee(employee_number="OP-400")
    station_plant.qualify(line, person, valid_until=timezone.now() - dt.timedelta(days=1))
    return station.operation_track_in(badge="OP-400", work_order="WO-0001", sequence=10).refusal


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.PRODUCTION_SUPERVISOR, username="sup")


@pytest.fixture
def qa(make_user):
    return make_user(Role.QA, username="qa")


def test_an_override_signed_by_supervisor_and_qa_lets_the_refused_operator_in_and_opens_a_deviation(refused, supervisor, qa):
    run = station.operation_override(refusal=refused, supervisor=supervisor, supervisor_password=PASSWORD, qa=qa,
                                     qa_password=PASSWORD, reason="Renewal exam passed yesterday, record pending")

    assert run.overridden and run.override_reason.startswith("Renewal exam")
    assert run.decision["overridden"] is True and run.decision["allowed"] is False
    refused.refresh_from_db()
    assert refused.run == run
    deviation = QualityEvent.objects.get()
    assert deviation == run.deviation and deviation.kind == QualityEventKind.DEVIATION
    assert (deviation.source_type, deviation.source_id) == ("production.operationrun", str(run.pk))
    signers = set(ESignature.objects.filter(object_id=str(run.pk)).values_list("signer__username", "meaning"))
    assert signers == {("sup", "approved"), ("qa", "approved")}
    assert OutboxEvent.objects.filter(type="production.operation.overridden").count() == 1


@pytest.mark.parametrize("wrong", ["supervisor", "qa"])
def test_an_override_needs_both_signatures(refused, supervisor, qa, wrong):
    before = (*_written(), QualityEvent.objects.count(), ESignature.objects.count())
    with pytest.raises(PermissionDenied):
        station.operation_override(
            refusal=refused, supervisor=supervisor, qa=qa, reason="line stop otherwise",
            supervisor_password="wrong" if wrong == "supervisor" else PASSWORD,
            qa_password="wrong" if wrong == "qa" else PASSWORD,
        )
    # Only the failed signing attempt is audited (outside the override's transaction); nothing else is kept.
    after = (*_written(), QualityEvent.objects.count(), ESignature.objects.count())
    assert after[:2] == before[:2] and after[3:] == before[3:]
    refused.refresh_from_db()
    assert refused.run is None


def test_an_override_needs_a_supervisor_and_qa_who_are_two_people(refused, supervisor, make_user):
    other_supervisor = make_user(Role.PRODUCTION_SUPERVISOR)
    with pytest.raises(PermissionDenied):
        station.operation_override(refusal=refused, supervisor=supervisor, supervisor_password=PASSWORD,
                                   qa=other_supervisor, qa_password=PASSWORD, reason="x")
    with pytest.raises(ValidationFailed):
        station.operation_override(refusal=refused, supervisor=supervisor, supervisor_password=PASSWORD,
                                   qa=supervisor, qa_password=PASSWORD, reason="x")
    assert OperationRun.objects.count() == 0
