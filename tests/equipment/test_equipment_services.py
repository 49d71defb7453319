"""Equipment writes: the technician gate (a refusal writes nothing), calibration failure and its event,
what blocks an asset, and the input refused."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from equipment_helpers import DAY, PDF

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.equipment import selectors, services
from qualiflow.equipment.domain.status import Block
from qualiflow.equipment.models import Equipment, EquipmentPlan, EquipmentRecord
from qualiflow.integration.models import OutboxEvent


def _written(media=None) -> tuple[int, ...]:
    files = sum(1 for p in media.rglob("*") if p.is_file()) if media is not None else 0
    return (Equipment.objects.count(), EquipmentPlan.objects.count(), EquipmentRecord.objects.count(),
            AuditEntry.objects.count(), OutboxEvent.objects.count(), files)


def _calibrate(equipment, plan, by, at, *, result="pass", **extra):
    values = {"equipment": equipment, "plan": plan, "started_at": at - DAY / 24, "completed_at": at,
              "result": result, "as_found": "+0.3 °C", "as_left": "+0.1 °C", "by": by, "reason": "scheduled calibration"}
    return services.equipment_record_create(**{**values, **extra})


def test_qualified_technician_records_calibration_with_the_verdict_as_evidence(
    steriliser, calibration_plan, technician, maintenance_user, now
):
    record = _calibrate(steriliser, calibration_plan, maintenance_user, now - DAY, performed_by=technician,
                        certificate_number="CAL-2026-001")
    assert (record.kind, record.result, record.completed_at) == ("calibration", "pass", now - DAY)
    evidence = record.qualification_evidence
    assert (evidence["required"], evidence["allowed"], evidence["qualification_code"]) == (True, True, "Q-MET-T")
    assert evidence["evidence"][0].startswith("grant:")
    (created,) = OutboxEvent.objects.filter(type="equipment.record.created")
    assert created.data["record_id"] == str(record.pk)
    entry = AuditEntry.objects.get(object_type="equipment.equipmentrecord", object_id=str(record.pk))
    assert entry.reason == "scheduled calibration"
    state = selectors.availability_of(steriliser, now)
    assert state.available
    assert state.evidence == (f"calibration:{record.pk}", "certificate:CAL-2026-001")
    assert state.calibration_due == now - DAY + 180 * DAY


@pytest.mark.parametrize("step", ["start", "create"])
def test_unqualified_technician_is_refused_and_nothing_is_written(
    steriliser, calibration_plan, trainee, maintenance_user, now, media, step
):
    before = _written(media)
    with pytest.raises(ValidationFailed) as refused:
        if step == "start":
            services.equipment_record_start(equipment=steriliser, plan=calibration_plan, performed_by=trainee,
                                            by=maintenance_user, reason="scheduled calibration")
        else:
            _calibrate(steriliser, calibration_plan, maintenance_user, now - DAY, performed_by=trainee,
                       certificate_file=SimpleUploadedFile("c.pdf", PDF))
    assert refused.value.code == "equipment.technician_not_qualified"
    message = refused.value.fields["performed_by"][0]
    assert "Q-MET-T" in str(message) and "Never granted." in str(message)
    assert _written(media) == before


def test_expired_qualification_refuses_work_started_after_expiry(steriliser, calibration_plan, make_employee,
                                                                   metrology, now):
    from qualiflow.training import services as training

    employee = make_employee()
    training.qualification_grant(employee=employee, qualification=metrology, valid_from=now - 800 * DAY,
                                 source="manual", reason="old course")
    with pytest.raises(ValidationFailed) as refused:
        _calibrate(steriliser, calibration_plan, None, now - DAY, performed_by=employee)
    assert refused.value.code == "equipment.technician_not_qualified"
    assert "Expired" in str(refused.value.fields["performed_by"][0])


def test_external_lab_needs_no_qualification_but_its_certificate_number(steriliser, calibration_plan, now, media):
    with pytest.raises(ValidationFailed) as refused:
        _calibrate(steriliser, calibration_plan, None, now - DAY, external_lab="江苏省计量科学研究院")
    assert list(refused.value.fields) == ["certificate_number"]
    record = _calibrate(steriliser, calibration_plan, None, now - DAY, external_lab="江苏省计量科学研究院",
                        certificate_number="JSMI-2026-0815", certificate_file=SimpleUploadedFile("cert.pdf", PDF))
    assert record.qualification_evidence == {"required": True, "external_lab": "江苏省计量科学研究院"}
    assert record.certificate_file.name == f"equipment/certificates/{now - DAY:%Y}/{hashlib.sha256(PDF).hexdigest()[:32]}.pdf"
    assert (media / record.certificate_file.name).read_bytes() == PDF


def test_performer_is_the_technician_or_the_lab(steriliser, calibration_plan, technician, now):
    for extra in ({}, {"performed_by": technician, "external_lab": "Lab"}):
        with pytest.raises(ValidationFailed) as refused:
            _calibrate(steriliser, calibration_plan, None, now - DAY, **extra)
        assert refused.value.code == "equipment.record_invalid"


def test_failed_calibration_blocks_and_emits_once_with_the_window_since_the_last_pass(
    steriliser, calibration_plan, technician, maintenance_user, now
):
    first = _calibrate(steriliser, calibration_plan, maintenance_user, now - 60 * DAY, performed_by=technician)
    second = _calibrate(steriliser, calibration_plan, maintenance_user, now - 30 * DAY, performed_by=technician)
    record = services.equipment_record_start(equipment=steriliser, plan=calibration_plan, performed_by=technician,
                                             started_at=now - 2 * DAY, by=maintenance_user, reason="calibration")
    assert not OutboxEvent.objects.filter(type="equipment.calibration.failed").exists()
    services.equipment_record_complete(record=record, result="fail", completed_at=now - DAY, as_found="+1.2 °C",
                                       as_left="+1.2 °C", by=maintenance_user, reason="probe 4 out of tolerance")
    (failed,) = OutboxEvent.objects.filter(type="equipment.calibration.failed")
    assert failed.data == {
        "equipment_id": str(steriliser.pk), "asset_number": "EQ-0001", "record_id": str(record.pk),
        "failed_at": (now - DAY).isoformat().replace("+00:00", "Z"),
        "since": (now - 30 * DAY).isoformat().replace("+00:00", "Z"), "since_record_id": str(second.pk),
    }
    assert first.pk != second.pk
    state = selectors.availability_of(steriliser, now)
    assert [f.code for f in state.reasons] == [Block.CALIBRATION_FAILED]
    assert state.calibration_record_id == str(second.pk)
    # A later passing calibration releases the asset.
    _calibrate(steriliser, calibration_plan, maintenance_user, now - DAY / 2, performed_by=technician)
    assert selectors.availability_of(steriliser, now).available


def test_first_calibration_failing_has_no_window_start(steriliser, calibration_plan, technician, now):
    _calibrate(steriliser, calibration_plan, None, now - DAY, performed_by=technician, result="fail")
    (failed,) = OutboxEvent.objects.filter(type="equipment.calibration.failed")
    assert failed.data["since"] is None and failed.data["since_record_id"] is None


def test_overdue_calibration_plan_blocks(steriliser, metrology, now):
    plan = services.equipment_plan_create(
        equipment=steriliser, data={"kind": "calibration", "title": "压力表校准", "interval_days": 365,
                                    "first_due": now - DAY}, reason="plan taken over from paper records")
    state = selectors.availability_of(steriliser, now)
    assert [(f.code, f.param("plan")) for f in state.reasons] == [(Block.CALIBRATION_OVERDUE, str(plan.pk))]
    services.equipment_plan_update(plan=plan, data={"is_active": False}, reason="gauge removed")
    assert selectors.availability_of(steriliser, now).available


def test_open_maintenance_blocks_and_completing_it_unblocks(steriliser, maintenance_plan, technician,
                                                              maintenance_user, now):
    record = services.equipment_record_start(equipment=steriliser, plan=maintenance_plan, performed_by=technician,
                                             started_at=now - DAY / 24, by=maintenance_user, reason="door seal check")
    assert record.qualification_evidence == {"required": False}
    assert [f.code for f in selectors.availability_of(steriliser, now).reasons] == [Block.MAINTENANCE_OPEN]
    with pytest.raises(ValidationFailed) as twice:
        services.equipment_record_start(equipment=steriliser, plan=maintenance_plan, performed_by=technician,
                                        by=maintenance_user, reason="again")
    assert twice.value.code == "equipment.record_invalid"
    services.equipment_record_complete(record=record, result="pass", completed_at=now, by=maintenance_user,
                                       reason="seal replaced")
    assert selectors.availability_of(steriliser, now).available
    with pytest.raises(ValidationFailed) as closed:
        services.equipment_record_complete(record=record, result="pass", by=maintenance_user, reason="again")
    assert closed.value.code == "equipment.record_not_open"
    assert OutboxEvent.objects.filter(type="equipment.record.completed").count() == 1


def test_status_change_blocks_and_is_reported(steriliser, maintenance_user, now):
    services.equipment_update(equipment=steriliser, data={"status": "out_of_service"}, by=maintenance_user,
                              reason="door hinge broken")
    assert [f.code for f in selectors.availability_of(steriliser, now).reasons] == [Block.OUT_OF_SERVICE]
    (changed,) = OutboxEvent.objects.filter(type="equipment.equipment.status_changed")
    assert (changed.data["from_status"], changed.data["to_status"]) == ("in_service", "out_of_service")
    # Saving the same values writes nothing.
    before = _written()
    services.equipment_update(equipment=steriliser, data={"status": "out_of_service"}, by=maintenance_user, reason="x")
    assert _written() == before


def test_interval_of_zero_is_refused(steriliser, now):
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        services.equipment_plan_create(equipment=steriliser, data={"kind": "maintenance", "title": "x",
                                                                   "interval_days": 0, "first_due": now},
                                       reason="plan")
    assert (refused.value.code, list(refused.value.fields)) == ("equipment.plan_invalid", ["interval_days"])
    assert _written() == before


def test_completion_before_start_is_refused(steriliser, maintenance_plan, technician, now):
    record = services.equipment_record_start(equipment=steriliser, plan=maintenance_plan, performed_by=technician,
                                             started_at=now - DAY, reason="check")
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        services.equipment_record_complete(record=record, result="pass", completed_at=now - 2 * DAY, reason="done")
    assert list(refused.value.fields) == ["completed_at"]
    assert _written() == before
    record.refresh_from_db()
    assert record.completed_at is None


@pytest.mark.parametrize("upload, size_limit", [
    (SimpleUploadedFile("cert.pdf", b"MZ\x90\x00 not a pdf"), None),
    (SimpleUploadedFile("cert.pdf", PDF + b"\x00" * 2048), 1024),
])
def test_certificate_must_be_a_small_pdf_or_image(steriliser, calibration_plan, technician, now, media, settings,
                                                  upload, size_limit):
    if size_limit:
        settings.QUALIFLOW_CERTIFICATE_MAX_BYTES = size_limit
    before = _written(media)
    with pytest.raises(ValidationFailed) as refused:
        _calibrate(steriliser, calibration_plan, None, now - DAY, performed_by=technician, certificate_file=upload)
    assert (refused.value.code, list(refused.value.fields)) == ("equipment.certificate_invalid", ["certificate_file"])
    assert _written(media) == before


def test_reason_is_required(steriliser_class, plant):
    with pytest.raises(ValidationFailed) as refused:
        services.equipment_create(data={"asset_number": "EQ-9", "name": "x", "equipment_class": steriliser_class,
                                        "site": plant.site_a}, reason=" ")
    assert refused.value.code == "core.reason_required"


def test_asset_number_and_placement_are_checked(steriliser, steriliser_class, plant):
    with pytest.raises(ValidationFailed) as taken:
        services.equipment_create(data={"asset_number": "EQ-0001", "name": "x", "equipment_class": steriliser_class,
                                        "site": plant.site_a}, reason="r")
    assert taken.value.code == "equipment.code_taken"
    with pytest.raises(ValidationFailed) as elsewhere:
        services.equipment_create(data={"asset_number": "EQ-0002", "name": "x", "equipment_class": steriliser_class,
                                        "site": plant.site_b, "line": plant.line_a}, reason="r")
    assert list(elsewhere.value.fields) == ["line"]


def test_permissions_follow_role_and_line(steriliser, steriliser_class, calibration_plan, technician, plant,
                                          make_user, operator_user, now):
    line_b_tech = make_user(Role.MAINTENANCE, scope_kind=ScopeKind.LINE, scope_id=plant.line_b.pk)
    department_tech = make_user(Role.MAINTENANCE, scope_kind=ScopeKind.DEPARTMENT, scope_id=plant.assembly.pk)
    before = _written()
    with pytest.raises(PermissionDenied):
        services.equipment_class_create(data={"code": "X", "name": "x"}, by=operator_user, reason="r")
    with pytest.raises(PermissionDenied):
        services.equipment_update(equipment=steriliser, data={"name": "y"}, by=operator_user, reason="r")
    with pytest.raises(PermissionDenied):
        _calibrate(steriliser, calibration_plan, line_b_tech, now - DAY, performed_by=technician)
    assert _written() == before
    _calibrate(steriliser, calibration_plan, department_tech, now - DAY, performed_by=technician)
    with pytest.raises(PermissionDenied):
        services.equipment_update(equipment=steriliser, data={"line": plant.line_b2, "site": plant.site_b},
                                  by=department_tech, reason="moved to Changzhou")
