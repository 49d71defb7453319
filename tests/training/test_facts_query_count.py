"""The facts selector and the checks built on it take a fixed number of queries, whatever the head count,
and bring document revisions into the computed status."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta

import pytest

from qualiflow.core import context
from qualiflow.documents.models import Document, DocumentRevision
from qualiflow.people.models import Employee
from qualiflow.training import services
from qualiflow.training.domain.status import DocumentRevision as RevisionFact
from qualiflow.training.domain.status import Qualification as QualificationFact
from qualiflow.training.domain.status import State, qualification_status
from qualiflow.training.models import (
    QualificationDocument,
    QualificationGrant,
    QualificationRevocation,
    QualificationSuspension,
    TrainingRecord,
)
from qualiflow.training.selectors import (
    can,
    domain_qualification,
    domain_qualifications,
    facts_for,
    requirements_for,
    revisions_for,
    status_of,
)

T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def sop(eo_operator):
    """SOP-EO-001 in revision 1 (effective before T0) and revision 2 (effective T0 + 30 days, 14 days' grace),
    plus a cosmetic revision 3 that needs no training; the EO operator qualification rests on it."""
    with context.acting(reason="document control"):
        document = Document.objects.create(code="SOP-EO-001", title="环氧乙烷灭菌操作规程")
        DocumentRevision.objects.create(document=document, revision=1, label="A", effective_from=T0 - 100 * DAY)
        DocumentRevision.objects.create(
            document=document, revision=2, label="B", effective_from=T0 + 30 * DAY, retraining_grace_days=14
        )
        DocumentRevision.objects.create(
            document=document, revision=3, label="B1", effective_from=T0 + 60 * DAY, training_required=False
        )
        QualificationDocument.objects.create(qualification=eo_operator, document=document)
    return document


def _unordered(facts: dict) -> dict:
    """Facts with each kind as a set: the selector promises no order within a kind."""
    return {pk: (set(f.grants), set(f.suspensions), set(f.revocations), set(f.trainings)) for pk, f in facts.items()}


def _course(qualification):
    return services.course_create(
        data={"code": "C-EO-101", "name": "环氧乙烷灭菌操作培训", "duration_hours": "4"}, confers=[qualification],
        reason="course catalogue",
    )


def _people(plant, count: int) -> list[Employee]:
    return Employee.objects.bulk_create(
        Employee(employee_number=f"Q{i:05d}", family_name="张", given_name=f"{i}", hire_date=dt.date(2023, 1, 1),
                 site=plant.site_a, department=plant.assembly, line=plant.line_a)
        for i in range(count)
    )


def _facts(people, qualification, course, document) -> None:
    """Every person: a grant and training on revision 1; every second also on revision 2; every third a
    suspension; every fifth a revocation; every seventh a failed training on revision 2 (which never counts)."""
    QualificationGrant.objects.bulk_create(
        QualificationGrant(employee=p, qualification=qualification, valid_from=T0, valid_until=T0 + 365 * DAY,
                           source="import", evidence={}, certificate_number=f"N{i}")
        for i, p in enumerate(people)
    )
    TrainingRecord.objects.bulk_create(
        [TrainingRecord(employee=p, course=course, completed_at=T0, passed=True, document_id=document.pk,
                        document_revision=1) for p in people]
        + [TrainingRecord(employee=p, course=course, completed_at=T0 + 35 * DAY, passed=True, document_id=document.pk,
                          document_revision=2) for p in people[::2]]
        + [TrainingRecord(employee=p, course=course, completed_at=T0 + 35 * DAY, passed=False, document_id=document.pk,
                          document_revision=2) for p in people[1::7]]
    )
    QualificationSuspension.objects.bulk_create(
        QualificationSuspension(employee=p, qualification=qualification, start=T0 + DAY, end=T0 + 2 * DAY,
                                reason="audit finding")
        for p in people[::3]
    )
    QualificationRevocation.objects.bulk_create(
        QualificationRevocation(employee=p, qualification=qualification, at=T0 + 200 * DAY, reason="left the line")
        for p in people[::5]
    )


def test_facts_and_revisions_take_the_same_queries_for_1_and_1000_people(
    plant, eo_operator, sop, django_assert_num_queries
):
    people = _people(plant, 1000)
    _facts(people, eo_operator, _course(eo_operator), sop)
    ids = [p.pk for p in people]

    # One query for grants, suspensions, revocations and document trainings together.
    with django_assert_num_queries(1):
        one = facts_for(ids[:1], qualification_ids=[eo_operator.pk])
    with django_assert_num_queries(1):
        everyone = facts_for(ids, qualification_ids=[eo_operator.pk])
    # A queryset adds the query for its ids, for one person as for all.
    with django_assert_num_queries(2):
        facts_for(Employee.objects.filter(pk=ids[0]))
    with django_assert_num_queries(2):
        by_queryset = facts_for(Employee.objects.filter(site=plant.site_a))
    with django_assert_num_queries(1):
        revisions = revisions_for([eo_operator.pk])

    assert one[ids[0]] == everyone[ids[0]]
    assert len(everyone) == len(by_queryset) == 1000
    assert _unordered(by_queryset) == _unordered(everyone)
    assert sum(len(f.trainings) for f in everyone.values()) == 1000 + 500
    assert sorted((r.revision, r.label, r.retraining_grace) for r in revisions) == [(1, "A", dt.timedelta(0)),
                                                                                    (2, "B", 14 * DAY)]

    # The same matrix column for everyone, from the loaded facts alone.
    qualification = domain_qualification(eo_operator)
    assert qualification == QualificationFact(str(eo_operator.pk), 30 * DAY, (str(sop.pk),))
    at = T0 + 50 * DAY  # revision 2 is past its grace; suspensions are over; no revocation yet
    states = [qualification_status(person=everyone[pk], qualification=qualification, revisions=revisions, at=at).state
              for pk in ids]
    assert states == [State.QUALIFIED if i % 2 == 0 else State.RETRAINING_REQUIRED for i in range(1000)]


def test_status_of_and_can_take_a_fixed_number_of_queries(plant, eo_operator, sop, django_assert_num_queries):
    people = _people(plant, 3)
    _facts(people, eo_operator, _course(eo_operator), sop)
    services.requirement_set(qualification=eo_operator, target_kind="capability", capability="sterilise_load",
                             reason="EO release")
    requirements = requirements_for(capability="sterilise_load")
    revisions = revisions_for([eo_operator.pk])

    # facts (1) + revisions (1) + the qualification's documents (1)
    with django_assert_num_queries(3):
        status_of(people[0], eo_operator, T0)
    # requirements (1) + facts (1) + revisions (1)
    with django_assert_num_queries(3):
        can(people[0], "sterilise_load", T0)
    # resolved requirements: facts (1) + revisions (1); with revisions given, facts only
    with django_assert_num_queries(2):
        can(people[0], requirements, T0)
    with django_assert_num_queries(1):
        can(people[0], requirements, T0, revisions=revisions)


def test_a_newer_revision_past_its_grace_requires_retraining_until_trained_on_it(
    make_employee, eo_operator, sop
):
    employee = make_employee()
    course = _course(eo_operator)
    record = TrainingRecord.objects.create(employee=employee, course=course, completed_at=T0 - DAY, passed=True,
                                           document_id=sop.pk, document_revision=1, document_revision_label="A")
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=T0, source="training_record",
                                 evidence={"training_record_ids": [str(record.pk)]}, reason="course passed")
    services.requirement_set(qualification=eo_operator, target_kind="capability", capability="sterilise_load",
                             reason="EO release")

    trained = status_of(employee, eo_operator, T0 + DAY)
    assert trained.state == State.QUALIFIED
    assert f"document:{sop.pk}@1 record:{record.pk}" in trained.evidence

    in_grace = status_of(employee, eo_operator, T0 + 43 * DAY)
    assert in_grace.state == State.QUALIFIED
    assert [(f.code, f.param("revision")) for f in in_grace.findings][1:] == [("newer_revision_in_grace", "B")]

    due = T0 + 44 * DAY
    overdue = status_of(employee, eo_operator, due)
    assert overdue.state == State.RETRAINING_REQUIRED
    assert [(f.code, f.param("revision"), f.param("due")) for f in overdue.findings] == [
        ("newer_revision", "B", due.isoformat())]
    verdict = can(employee, "sterilise_load", due)
    assert verdict.allowed is False
    assert [r.code for r in verdict.reasons] == ["newer_revision"]
    # Revisions passed by the caller are the ones judged by.
    assert can(employee, "sterilise_load", due, revisions=[]).allowed is True

    # A failed training on the new revision changes nothing; a passed one restores the qualification.
    TrainingRecord.objects.create(employee=employee, course=course, completed_at=due, passed=False,
                                  document_id=sop.pk, document_revision=2, document_revision_label="B")
    assert status_of(employee, eo_operator, due + DAY).state == State.RETRAINING_REQUIRED
    TrainingRecord.objects.create(employee=employee, course=course, completed_at=due + DAY, passed=True,
                                  document_id=sop.pk, document_revision=2, document_revision_label="B")
    assert status_of(employee, eo_operator, due + 2 * DAY).state == State.QUALIFIED
    assert can(employee, "sterilise_load", due + 2 * DAY).allowed is True


def test_withdrawn_documents_and_revisions_without_training_never_require_retraining(
    make_employee, eo_operator, sop
):
    employee = make_employee()
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=T0, source="manual",
                                 reason="licence")
    assert status_of(employee, eo_operator, T0 + DAY).state == State.RETRAINING_REQUIRED  # never trained on rev 1
    with context.acting(reason="document withdrawn"):
        sop.is_active = False
        sop.save()
    assert revisions_for([eo_operator.pk]) == []
    assert status_of(employee, eo_operator, T0 + DAY).state == State.QUALIFIED


def test_requirements_carry_the_documents_of_their_qualifications(plant, eo_operator, sop):
    with context.acting(reason="document control"):
        other = Document.objects.create(code="WI-EO-002", title="灭菌柜装载作业指导书")
        QualificationDocument.objects.create(qualification=eo_operator, document=other)
    services.requirement_set(qualification=eo_operator, target_kind="position", target_id=plant.operator.pk,
                             reason="onboarding")
    services.requirement_set(qualification=eo_operator, target_kind="capability", capability="sterilise_load",
                             reason="EO release")
    [requirement] = requirements_for(position_id=plant.operator.pk, capability="sterilise_load")
    assert requirement.qualification.document_ids == tuple(sorted((str(sop.pk), str(other.pk))))
    assert domain_qualifications([eo_operator.pk]) == {eo_operator.pk: requirement.qualification}
    assert {r.document_id for r in revisions_for([eo_operator.pk])} == {str(sop.pk)}
    assert isinstance(revisions_for([eo_operator.pk])[0], RevisionFact)
