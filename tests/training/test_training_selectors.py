"""Facts, requirements and the capability check, read from the real database."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from qualiflow.people.models import Employee
from qualiflow.training import services
from qualiflow.training.domain.status import Grant, PersonFacts, Requirement, Revocation, Suspension, Training
from qualiflow.training.models import (
    QualificationGrant,
    QualificationRevocation,
    QualificationSuspension,
    TrainingRecord,
)
from qualiflow.training.selectors import (
    can,
    domain_qualification,
    facts_for,
    requirements_for,
    status_of,
)

T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SOP = uuid.UUID("5f0c3d2e-1111-4c6b-9b7e-2f1a0c3d4e5f")


def _course(qualification):
    return services.course_create(
        data={"code": "C-EO-101", "name": "环氧乙烷灭菌操作培训", "duration_hours": "4"}, confers=[qualification],
        reason="course catalogue",
    )


def _people(plant, count: int) -> list[Employee]:
    return Employee.objects.bulk_create(
        Employee(employee_number=f"B{i:05d}", family_name="李", given_name=f"{i}", hire_date=dt.date(2023, 1, 1),
                 site=plant.site_a, department=plant.assembly, line=plant.line_a)
        for i in range(count)
    )


def _facts(people, qualification, course) -> None:
    """Every person: a grant and a document training; every third: a suspension; every fifth: a revocation."""
    QualificationGrant.objects.bulk_create(
        QualificationGrant(employee=p, qualification=qualification, valid_from=T0, valid_until=T0 + 365 * DAY,
                           source="import", evidence={"training_record_ids": []}, certificate_number=f"N{i}")
        for i, p in enumerate(people)
    )
    TrainingRecord.objects.bulk_create(
        TrainingRecord(employee=p, course=course, completed_at=T0, passed=True, document_id=SOP, document_revision=2)
        for p in people
    )
    QualificationSuspension.objects.bulk_create(
        QualificationSuspension(employee=p, qualification=qualification, start=T0 + DAY, reason="audit finding")
        for p in people[::3]
    )
    QualificationRevocation.objects.bulk_create(
        QualificationRevocation(employee=p, qualification=qualification, at=T0 + 2 * DAY, reason="left the line")
        for p in people[::5]
    )


def test_facts_selector_query_count_is_the_same_for_1_and_1000_people(plant, eo_operator, django_assert_num_queries):
    people = _people(plant, 1000)
    _facts(people, eo_operator, _course(eo_operator))
    ids = [p.pk for p in people]

    with django_assert_num_queries(1):
        one = facts_for(ids[:1])
    with django_assert_num_queries(1):
        everyone = facts_for(ids)
    with django_assert_num_queries(1):
        limited = facts_for(people, qualification_ids=[eo_operator.pk])
    site = Employee.objects.filter(site=plant.site_a)
    with django_assert_num_queries(2):
        one_by_filter = facts_for(site.filter(pk=ids[0]))
    with django_assert_num_queries(2):
        everyone_by_filter = facts_for(site)

    assert len(one) == len(one_by_filter) == 1
    assert len(everyone) == len(limited) == len(everyone_by_filter) == 1000
    assert everyone == everyone_by_filter
    # Limited to a qualification, trainings count only on the documents it rests on (here none).
    assert {pk: (f.grants, f.suspensions, f.revocations) for pk, f in everyone.items()} == {
        pk: (f.grants, f.suspensions, f.revocations) for pk, f in limited.items()}
    assert all(f.trainings == () for f in limited.values())
    assert one[ids[0]] == everyone[ids[0]]
    assert sum(len(f.suspensions) for f in everyone.values()) == 334
    assert sum(len(f.revocations) for f in everyone.values()) == 200
    assert all(len(f.grants) == 1 and len(f.trainings) == 1 for f in everyone.values())


def test_facts_map_every_kind_of_record(make_employee, eo_operator):
    employee = make_employee()
    other = make_employee()
    course = _course(eo_operator)
    record = TrainingRecord.objects.create(
        employee=employee, course=course, completed_at=T0, passed=True, score=90, document_id=SOP, document_revision=3,
        document_revision_label="C",
    )
    TrainingRecord.objects.create(employee=employee, course=course, completed_at=T0, passed=False, document_id=SOP,
                                  document_revision=4)
    grant = services.qualification_grant(
        employee=employee, qualification=eo_operator, valid_from=T0, source="training_record",
        evidence={"training_record_ids": [str(record.pk)]}, reason="course passed",
    )
    suspension = services.qualification_suspend(
        employee=employee, qualification=eo_operator, start=T0 + DAY, end=T0 + 2 * DAY, reason="investigation",
    )
    revocation = services.qualification_revoke(employee=employee, qualification=eo_operator, at=T0 + 3 * DAY, reason="fraud")
    q = str(eo_operator.pk)

    facts = facts_for([employee, other.pk, str(employee.pk)])

    assert list(facts) == [employee.pk, other.pk]
    assert facts[employee.pk] == PersonFacts(
        str(employee.pk),
        grants=(Grant(str(grant.pk), q, T0, T0 + 365 * DAY, (f"record:{record.pk}",)),),
        suspensions=(Suspension(str(suspension.pk), q, T0 + DAY, T0 + 2 * DAY, "investigation"),),
        revocations=(Revocation(str(revocation.pk), q, T0 + 3 * DAY, "fraud"),),
        trainings=(Training(str(SOP), 3, T0, str(record.pk)),),
    )
    assert facts[other.pk] == PersonFacts(str(other.pk))
    assert facts_for([]) == {}
    assert facts_for([employee.pk], qualification_ids=[uuid.uuid4()])[employee.pk].grants == ()


def test_position_requirements_are_enforced_after_the_grace_period_from_assignment(plant, make_employee, eo_operator):
    services.requirement_set(
        qualification=eo_operator, target_kind="position", target_id=plant.operator.pk, grace_days=30,
        reason="onboarding",
    )
    employee = make_employee(position=plant.operator, hire_date=dt.date(2025, 3, 1))
    # Assigned on 1 March at the Suzhou site: the grace period starts at local midnight.
    assigned = datetime(2025, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    requirements = requirements_for(position_id=plant.operator.pk, assigned_at=assigned)
    assert requirements == [Requirement(domain_qualification(eo_operator), True, assigned + 30 * DAY)]
    assert requirements_for(position_id=plant.operator.pk) == [Requirement(domain_qualification(eo_operator))]

    in_grace = can(employee, plant.operator, assigned + 29 * DAY)
    assert in_grace.allowed is True
    assert [(r.code, r.param("until")) for r in in_grace.reasons] == [
        ("requirement_in_grace", datetime(2025, 3, 30, 16, 0, tzinfo=UTC).isoformat())]
    enforced = can(employee, plant.operator, assigned + 30 * DAY)
    assert enforced.allowed is False
    assert [r.code for r in enforced.reasons] == ["no_grant"]
    # Someone who does not hold the position gets no grace.
    outsider = make_employee(position=plant.supervisor, hire_date=dt.date(2025, 3, 1))
    assert can(outsider, plant.operator, assigned + DAY).allowed is False
    assert can(employee, plant.supervisor, assigned + DAY).allowed is True  # nothing required


def test_capability_check_denies_unconfigured_capabilities_and_merges_targets(plant, make_employee, eo_operator):
    employee = make_employee()
    unconfigured = can(employee, "release_lot", T0)
    assert unconfigured.allowed is False
    assert [(r.code, r.param("capability")) for r in unconfigured.reasons] == [("capability_not_configured", "release_lot")]

    services.requirement_set(qualification=eo_operator, target_kind="capability", capability="release_lot",
                             mandatory=False, reason="advisory")
    assert can(employee, "release_lot", T0).allowed is True
    services.requirement_set(qualification=eo_operator, target_kind="position", target_id=plant.operator.pk,
                             grace_days=10, reason="onboarding")
    merged = requirements_for(position_id=plant.operator.pk, capability="release_lot", assigned_at=T0)
    assert merged == [Requirement(domain_qualification(eo_operator), True, T0 + 10 * DAY)]


def test_status_of_reports_expiring_and_expired_with_evidence(make_employee, eo_operator):
    employee = make_employee()
    grant = services.qualification_grant(
        employee=employee, qualification=eo_operator, valid_from=T0, source="certificate", certificate_number="EO-7",
        reason="licence",
    )
    assert status_of(employee, eo_operator, T0 - DAY).state == "missing"
    qualified = status_of(employee, eo_operator, T0)
    assert (qualified.state, qualified.evidence, qualified.valid_until) == (
        "qualified", (f"grant:{grant.pk}", "certificate:EO-7"), T0 + 365 * DAY)
    assert status_of(employee, eo_operator, T0 + 335 * DAY).state == "expiring"
    assert status_of(employee, eo_operator, T0 + 365 * DAY).state == "expired"


def test_can_accepts_domain_requirements(make_employee, eo_operator):
    employee = make_employee()
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=T0, source="manual", reason="ok")
    requirement = Requirement(domain_qualification(eo_operator))
    assert can(employee, requirement, T0).allowed is True
    assert can(employee, [requirement], T0 - DAY).allowed is False
    assert can(employee, [], T0).allowed is True
