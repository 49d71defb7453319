"""Training write services against the real database: grants, suspensions and revocations change what
`can()` answers; refused actions write nothing; events, audit reasons and e-signatures are exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.integration.models import OutboxEvent
from qualiflow.training import services
from qualiflow.training.domain.status import Requirement as DomainRequirement
from qualiflow.training.models import (
    Course,
    CourseQualification,
    QualificationGrant,
    QualificationRevocation,
    QualificationSuspension,
    Requirement,
    TrainingRecord,
)
from qualiflow.training.selectors import can, domain_qualification
from tests.conftest import PASSWORD

T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _written() -> tuple[int, ...]:
    return (
        QualificationGrant.objects.count(), QualificationSuspension.objects.count(),
        QualificationRevocation.objects.count(), ESignature.objects.count(), AuditEntry.objects.count(),
        OutboxEvent.objects.count(),
    )


def _release_lot(qualification) -> None:
    services.requirement_set(
        qualification=qualification, target_kind="capability", capability="release_lot", reason="release gate"
    )


def test_grant_suspend_and_revoke_change_what_can_answers(make_employee, eo_operator, coordinator):
    _release_lot(eo_operator)
    employee = make_employee()
    refused = can(employee, "release_lot", T0)
    assert refused.allowed is False
    assert [r.code for r in refused.reasons] == ["no_grant"]

    grant = services.qualification_grant(
        employee=employee, qualification=eo_operator, valid_from=T0, source="manual", by=coordinator,
        reason="qualified by practical assessment",
    )
    assert grant.valid_until == T0 + 365 * DAY
    allowed = can(employee, "release_lot", T0 + DAY)
    assert allowed.allowed is True
    assert allowed.evidence == (f"grant:{grant.pk}",)
    expiring = can(employee, "release_lot", T0 + 340 * DAY)
    assert (expiring.allowed, expiring.expiring) == (True, (str(eo_operator.pk),))
    expired = can(employee, "release_lot", T0 + 365 * DAY)
    assert expired.allowed is False
    assert [r.code for r in expired.reasons] == ["expired"]

    services.qualification_suspend(
        employee=employee, qualification=eo_operator, start=T0 + 10 * DAY, end=T0 + 20 * DAY, by=coordinator,
        reason="deviation DEV-2025-014 under investigation",
    )
    suspended = can(employee, "release_lot", T0 + 15 * DAY)
    assert suspended.allowed is False
    assert [(r.code, r.param("reason")) for r in suspended.reasons] == [
        ("suspended", "deviation DEV-2025-014 under investigation")]
    assert can(employee, "release_lot", T0 + 20 * DAY).allowed is True

    services.qualification_revoke(
        employee=employee, qualification=eo_operator, at=T0 + 30 * DAY, by=coordinator, reason="falsified record",
    )
    revoked = can(employee, "release_lot", T0 + 31 * DAY)
    assert revoked.allowed is False
    assert [s.state for s in revoked.statuses] == ["revoked"]

    regranted = services.qualification_grant(
        employee=employee, qualification=eo_operator, valid_from=T0 + 40 * DAY, source="manual",
        reason="retrained and reassessed",
    )
    again = can(employee, "release_lot", T0 + 41 * DAY)
    assert again.allowed is True
    assert again.evidence == (f"grant:{regranted.pk}",)


def test_grant_validity_explicit_or_unlimited(make_employee, eo_operator):
    employee = make_employee()
    grant = services.qualification_grant(
        employee=employee, qualification=eo_operator, valid_from=T0, valid_until=T0 + 90 * DAY,
        source="certificate", certificate_number="TS-2025-0042", issuer="市场监督管理局", reason="licence registered",
    )
    assert (grant.valid_until, grant.certificate_number, grant.issuer) == (T0 + 90 * DAY, "TS-2025-0042", "市场监督管理局")
    assert can(employee, [_requirement(eo_operator)], T0).evidence == (f"grant:{grant.pk}", "certificate:TS-2025-0042")
    lasting = services.qualification_create(
        data={"code": "Q-GOWN", "name": "洁净服穿戴", "name_en": "Clean-room gowning"}, reason="catalogue",
    )
    unlimited = services.qualification_grant(
        employee=employee, qualification=lasting, valid_from=T0, source="manual", reason="gowning observed",
    )
    assert unlimited.valid_until is None
    assert can(employee, [_requirement(lasting)], T0 + 3650 * DAY).allowed is True


def _requirement(qualification):
    return DomainRequirement(domain_qualification(qualification))


@pytest.mark.parametrize("until", [T0, T0 - timedelta(seconds=1), T0 - 30 * DAY])
def test_grant_refuses_valid_until_not_after_valid_from_and_writes_nothing(make_employee, eo_operator, until):
    employee = make_employee()
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        services.qualification_grant(
            employee=employee, qualification=eo_operator, valid_from=T0, valid_until=until, source="manual",
            reason="typo in the dates",
        )
    assert refused.value.code == "training.grant_dates_invalid"
    assert {k: [str(m) for m in v] for k, v in refused.value.fields.items()} == {
        "valid_until": ["The valid-until date must be after the valid-from date."]}
    assert refused.value.status == 422
    assert _written() == before


def test_grant_refuses_naive_dates_missing_reason_and_unknown_evidence(make_employee, eo_operator):
    employee = make_employee()
    before = _written()
    with pytest.raises(ValidationFailed) as naive:
        services.qualification_grant(
            employee=employee, qualification=eo_operator, valid_from=datetime(2025, 1, 6), source="manual", reason="x",
        )
    assert (naive.value.code, list(naive.value.fields)) == ("training.grant_dates_invalid", ["valid_from"])
    with pytest.raises(ValidationFailed) as no_reason:
        services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=T0, source="manual")
    assert (no_reason.value.code, list(no_reason.value.fields)) == ("core.reason_required", ["reason"])
    with pytest.raises(ValidationFailed) as no_certificate:
        services.qualification_grant(
            employee=employee, qualification=eo_operator, valid_from=T0, source="certificate", reason="licence",
        )
    assert list(no_certificate.value.fields) == ["certificate_number"]
    with pytest.raises(ValidationFailed) as no_record:
        services.qualification_grant(
            employee=employee, qualification=eo_operator, valid_from=T0, source="training_record",
            evidence={"training_record_ids": ["7a1f4a4e-5d43-4d55-9d0e-6a5f58a7a111"]}, reason="course passed",
        )
    assert no_record.value.code == "training.grant_evidence_invalid"
    assert _written() == before


def test_grant_from_training_records_keeps_them_as_evidence(make_employee, eo_operator):
    employee = make_employee()
    course = services.course_create(
        data={"code": "C-EO-101", "name": "环氧乙烷灭菌操作培训", "kind": "classroom", "duration_hours": "4",
              "max_score": "100", "pass_mark": "80"},
        confers=[eo_operator], reason="course catalogue",
    )
    record = TrainingRecord.objects.create(employee=employee, course=course, completed_at=T0, passed=True, score=92)
    failed = TrainingRecord.objects.create(employee=employee, course=course, completed_at=T0, passed=False, score=50)
    with pytest.raises(ValidationFailed):
        services.qualification_grant(
            employee=employee, qualification=eo_operator, valid_from=T0, source="training_record",
            evidence={"training_record_ids": [str(failed.pk)]}, reason="course passed",
        )
    grant = services.qualification_grant(
        employee=employee, qualification=eo_operator, valid_from=T0, source="training_record",
        evidence={"training_record_ids": [str(record.pk)]}, reason="course passed",
    )
    assert can(employee, [_requirement(eo_operator)], T0).evidence == (f"grant:{grant.pk}", f"record:{record.pk}")


def test_suspension_with_wrong_password_writes_nothing(make_employee, eo_operator, coordinator):
    employee = make_employee()
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=T0, source="manual", reason="ok")
    before = _written()
    with pytest.raises(PermissionDenied) as refused:
        services.qualification_suspend(
            employee=employee, qualification=eo_operator, start=T0 + DAY, by=coordinator, signer=coordinator,
            password="not-the-password", reason="health certificate lapsed",
        )
    assert refused.value.code == "accounts.signature_password_invalid"
    assert _written() == before
    assert can(employee, [_requirement(eo_operator)], T0 + 2 * DAY).allowed is True


def test_suspension_and_revocation_are_signed_as_approved(make_employee, eo_operator, coordinator):
    employee = make_employee()
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=T0, source="manual", reason="ok")
    suspension = services.qualification_suspend(
        employee=employee, qualification=eo_operator, start=T0 + DAY, by=coordinator, signer=coordinator,
        password=PASSWORD, reason="health certificate lapsed",
    )
    revocation = services.qualification_revoke(
        employee=employee, qualification=eo_operator, at=T0 + 2 * DAY, by=coordinator, signer=coordinator,
        password=PASSWORD, reason="repeated gowning violations",
    )
    signatures = list(ESignature.objects.order_by("signed_at").values_list("object_type", "object_id", "meaning", "signer_id", "reason"))
    assert signatures == [
        ("training.qualificationsuspension", str(suspension.pk), "approved", coordinator.pk, "health certificate lapsed"),
        ("training.qualificationrevocation", str(revocation.pk), "approved", coordinator.pk, "repeated gowning violations"),
    ]
    suspended = OutboxEvent.objects.get(type="training.qualification.suspended")
    assert suspended.data["signature_id"] == str(ESignature.objects.get(object_id=str(suspension.pk)).pk)
    with pytest.raises(ValidationFailed) as half:
        services.qualification_revoke(
            employee=employee, qualification=eo_operator, at=T0 + 3 * DAY, signer=coordinator, reason="again",
        )
    assert (half.value.code, list(half.value.fields)) == ("training.signature_incomplete", ["password"])


def test_events_are_emitted_with_exact_types_and_subjects(make_employee, eo_operator, coordinator):
    employee = make_employee()
    course = services.course_create(
        data={"code": "C-EO-101", "name": "环氧乙烷灭菌操作培训", "duration_hours": "4"}, confers=[eo_operator],
        reason="course catalogue",
    )
    requirement = services.requirement_set(
        qualification=eo_operator, target_kind="capability", capability="release_lot", reason="release gate",
    )
    services.requirement_set(
        qualification=eo_operator, target_kind="capability", capability="release_lot", grace_days=14,
        reason="grace for newcomers",
    )
    grant = services.qualification_grant(
        employee=employee, qualification=eo_operator, valid_from=T0, source="manual", by=coordinator, reason="ok",
    )
    suspension = services.qualification_suspend(
        employee=employee, qualification=eo_operator, start=T0 + DAY, reason="investigation",
    )
    revocation = services.qualification_revoke(employee=employee, qualification=eo_operator, at=T0 + 2 * DAY, reason="fraud")
    events = list(OutboxEvent.objects.filter(type__startswith="training.").values_list("type", "subject"))
    assert events == [
        ("training.qualification.created", f"training/qualification/{eo_operator.pk}"),
        ("training.course.created", f"training/course/{course.pk}"),
        ("training.requirement.created", f"training/requirement/{requirement.pk}"),
        ("training.requirement.updated", f"training/requirement/{requirement.pk}"),
        ("training.qualification.granted", f"training/grant/{grant.pk}"),
        ("training.qualification.suspended", f"training/suspension/{suspension.pk}"),
        ("training.qualification.revoked", f"training/revocation/{revocation.pk}"),
    ]
    granted = OutboxEvent.objects.get(type="training.qualification.granted")
    assert granted.data == {
        "employee_id": str(employee.pk), "employee_number": employee.employee_number,
        "qualification_id": str(eo_operator.pk), "qualification_code": "Q-EO-OP", "grant_id": str(grant.pk),
        "valid_from": "2025-01-06T08:00:00Z", "valid_until": "2026-01-06T08:00:00Z", "source": "manual",
        "certificate_number": "",
    }
    assert granted.actor == "system:qualiflow"


def test_grant_audit_entry_carries_the_reason(make_employee, eo_operator, coordinator):
    employee = make_employee()
    grant = services.qualification_grant(
        employee=employee, qualification=eo_operator, valid_from=T0, source="manual", by=coordinator,
        reason="passed practical assessment PA-77",
    )
    entry = AuditEntry.objects.get(object_type="training.qualificationgrant", object_id=str(grant.pk))
    assert (entry.action, entry.reason) == ("create", "passed practical assessment PA-77")
    changes = json.loads(entry.changes)
    assert changes["valid_from"] == [None, T0.isoformat()]
    assert changes["valid_until"] == [None, (T0 + 365 * DAY).isoformat()]
    assert changes["employee_id"] == [None, str(employee.pk)]
    assert changes["source"] == [None, "manual"]


def test_only_training_managers_in_scope_may_grant(plant, make_employee, make_user, eo_operator):
    employee = make_employee(line=plant.line_a)
    refused_users = [
        make_user(Role.PRODUCTION_SUPERVISOR),
        make_user(Role.QA),
        make_user(Role.AUDITOR),
        make_user(Role.OPERATOR),
        make_user(Role.TRAINING_COORDINATOR, scope_kind=ScopeKind.SITE, scope_id=plant.site_b.pk),
    ]
    before = _written()
    for user in refused_users:
        with pytest.raises(PermissionDenied) as refused:
            services.qualification_grant(
                employee=employee, qualification=eo_operator, valid_from=T0, source="manual", by=user, reason="ok",
            )
        assert refused.value.code == "training.out_of_scope"
    assert _written() == before
    with pytest.raises(PermissionDenied):
        services.qualification_create(data={"code": "Q-X", "name": "X"}, by=make_user(Role.QA), reason="new")
    for manager in (make_user(Role.HR_ADMIN), make_user(Role.TRAINING_COORDINATOR, scope_kind=ScopeKind.SITE,
                                                        scope_id=plant.site_a.pk)):
        services.qualification_grant(
            employee=employee, qualification=eo_operator, valid_from=T0, source="manual", by=manager, reason="ok",
        )
    assert QualificationGrant.objects.filter(employee=employee).count() == 2


def test_suspend_and_revoke_refuse_bad_input_and_write_nothing(make_employee, eo_operator):
    employee = make_employee()
    before = _written()
    with pytest.raises(ValidationFailed) as not_held:
        services.qualification_suspend(employee=employee, qualification=eo_operator, start=T0, reason="check")
    assert (not_held.value.code, list(not_held.value.fields)) == ("training.not_held", ["start"])
    with pytest.raises(ValidationFailed) as not_held_revoke:
        services.qualification_revoke(employee=employee, qualification=eo_operator, at=T0, reason="check")
    assert not_held_revoke.value.code == "training.not_held"
    assert _written() == before
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=T0, source="manual", reason="ok")
    before = _written()
    with pytest.raises(ValidationFailed) as backwards:
        services.qualification_suspend(
            employee=employee, qualification=eo_operator, start=T0 + 5 * DAY, end=T0 + DAY, reason="check",
        )
    assert (backwards.value.code, list(backwards.value.fields)) == ("training.suspension_dates_invalid", ["end"])
    with pytest.raises(ValidationFailed) as no_reason:
        services.qualification_suspend(employee=employee, qualification=eo_operator, start=T0 + DAY, reason="  ")
    assert no_reason.value.code == "core.reason_required"
    with pytest.raises(ValidationFailed):
        services.qualification_revoke(employee=employee, qualification=eo_operator, at=T0 + DAY, reason="")
    assert _written() == before


def test_requirement_set_validates_targets_and_writes_only_changes(plant, eo_operator):
    with pytest.raises(ValidationFailed) as mixed:
        services.requirement_set(
            qualification=eo_operator, target_kind="capability", capability="release_lot", target_id=plant.operator.pk,
            reason="x",
        )
    assert mixed.value.code == "training.requirement_target_invalid"
    for kwargs in ({"target_kind": "position", "target_id": plant.site_a.pk},
                   {"target_kind": "capability", "capability": "Release Lot"},
                   {"target_kind": "operation"},
                   {"target_kind": "shift"}):
        with pytest.raises(ValidationFailed):
            services.requirement_set(qualification=eo_operator, reason="x", **kwargs)
    assert Requirement.objects.count() == 0

    first = services.requirement_set(
        qualification=eo_operator, target_kind="position", target_id=plant.operator.pk, grace_days=30, reason="onboarding",
    )
    entries = AuditEntry.objects.count()
    same = services.requirement_set(
        qualification=eo_operator, target_kind="position", target_id=plant.operator.pk, grace_days=30, reason="again",
    )
    assert same.pk == first.pk
    assert AuditEntry.objects.count() == entries
    changed = services.requirement_set(
        qualification=eo_operator, target_kind="position", target_id=plant.operator.pk, mandatory=False, reason="optional",
    )
    assert (changed.pk, changed.mandatory, changed.grace_days) == (first.pk, False, 0)
    assert Requirement.objects.count() == 1


def test_requirement_constraints_hold_at_the_database(plant, eo_operator):
    inconsistent = (
        {"target_kind": "capability", "target_id": plant.operator.pk, "capability": "release_lot"},
        {"target_kind": "capability", "capability": ""},
        {"target_kind": "position", "target_id": None},
        {"target_kind": "position", "target_id": plant.operator.pk, "capability": "release_lot"},
    )
    for fields in inconsistent:
        with pytest.raises(IntegrityError), transaction.atomic():
            Requirement.objects.create(qualification=eo_operator, **fields)
    Requirement.objects.create(qualification=eo_operator, target_kind="capability", capability="release_lot")
    with pytest.raises(IntegrityError), transaction.atomic():
        Requirement.objects.create(qualification=eo_operator, target_kind="capability", capability="release_lot")
    Requirement.objects.create(qualification=eo_operator, target_kind="position", target_id=plant.operator.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Requirement.objects.create(qualification=eo_operator, target_kind="position", target_id=plant.operator.pk)


def test_grant_dates_constraint_holds_at_the_database(make_employee, eo_operator):
    employee = make_employee()
    with pytest.raises(IntegrityError), transaction.atomic():
        QualificationGrant.objects.create(
            employee=employee, qualification=eo_operator, valid_from=T0, valid_until=T0, source="manual",
        )


def test_course_create_records_what_it_confers(eo_operator):
    gowning = services.qualification_create(data={"code": "Q-GOWN", "name": "洁净服穿戴"}, reason="catalogue")
    course = services.course_create(
        data={"code": "C-EO-101", "name": "环氧乙烷灭菌操作培训", "kind": "on_the_job", "duration_hours": "8",
              "trainer_qualification": eo_operator},
        confers=[eo_operator, gowning, eo_operator], reason="course catalogue",
    )
    assert set(course.confers.values_list("code", flat=True)) == {"Q-EO-OP", "Q-GOWN"}
    links = CourseQualification.objects.filter(course=course)
    assert AuditEntry.objects.filter(object_type="training.coursequalification", action="create",
                                     object_id__in=[str(pk) for pk in links.values_list("pk", flat=True)],
                                     reason="course catalogue").count() == 2
    before = Course.objects.count()
    for data, field in (
        ({"code": "C-2", "name": "n", "duration_hours": "1", "pass_mark": "80"}, "max_score"),
        ({"code": "C-EO-101", "name": "n", "duration_hours": "1"}, "code"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            services.course_create(data=data, reason="x")
        assert list(refused.value.fields) == [field]
    with pytest.raises(ValidationFailed) as no_link:
        services.course_create(data={"code": "C-3", "name": "n", "duration_hours": "1", "kind": "e_learning"}, reason="x")
    assert [str(m) for m in no_link.value.fields["__all__"]] == ["An e-learning course needs its link."]
    assert Course.objects.count() == before
