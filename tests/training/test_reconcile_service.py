"""The reconciler against the database: hire → onboarding, idempotence, retirement, renewal, triggers."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied
from qualiflow.integration.models import OutboxEvent
from qualiflow.people import services as people_services
from qualiflow.training import services
from qualiflow.training.models import (
    AssignmentReason,
    AssignmentStatus,
    GrantSource,
    TrainingAssignment,
    TrainingRecord,
)
from qualiflow.training.services.catalogue import requirement_remove
from qualiflow.training.services.reconcile import assignments_reconcile

NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def eo_course(eo_operator):
    return services.course_create(
        data={"code": "C-EO", "name": "环氧乙烷灭菌操作培训", "duration_hours": 8}, confers=[eo_operator],
        reason="catalogue set-up",
    )


@pytest.fixture
def operator_requires_eo(plant, eo_operator, eo_course):
    return services.requirement_set(
        qualification=eo_operator, target_kind="position", target_id=plant.operator.pk, grace_days=14,
        reason="operators run the steriliser",
    )


def _open(employee):
    return list(TrainingAssignment.objects.filter(employee=employee, status=AssignmentStatus.OPEN))


def test_hiring_into_a_position_creates_the_onboarding_assignment(
    plant, make_employee, operator_requires_eo, eo_course, eo_operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        employee = make_employee(position=plant.operator, hire_date=timezone.localdate())
    [assignment] = _open(employee)
    assert assignment.reason == AssignmentReason.ONBOARDING
    assert (assignment.course, assignment.qualification) == (eo_course, eo_operator)
    assert assignment.source_key == f"req:{eo_operator.pk}"
    # Enforced from the start of the 15th day: due by the end of the 14th.
    assert assignment.due_on == timezone.localdate() + dt.timedelta(days=13)
    assert OutboxEvent.objects.filter(type="training.assignment.created", subject=f"training/assignment/{assignment.pk}").count() == 1
    assert AuditEntry.objects.filter(object_id=str(assignment.pk), action="create").count() == 1


def test_a_second_run_changes_nothing(plant, make_employee, operator_requires_eo, eo_operator):
    employees = [make_employee(position=plant.operator, hire_date=dt.date(2026, 5, 20)) for _ in range(3)]
    first = assignments_reconcile(employees=employees, at=NOW)
    assert (first.created, first.retired) == (3, 0)
    events = OutboxEvent.objects.count()
    second = assignments_reconcile(employees=employees, at=NOW)
    assert (second.people, second.created, second.retired, second.unchanged) == (3, 0, 0, 3)
    assert OutboxEvent.objects.count() == events
    assert TrainingAssignment.objects.count() == 3


def test_whole_plant_run_covers_every_active_employee(plant, make_employee, operator_requires_eo):
    hired = make_employee(position=plant.operator, hire_date=dt.date(2026, 5, 20))
    make_employee(position=plant.supervisor, hire_date=dt.date(2026, 5, 20))
    summary = assignments_reconcile(at=NOW)
    assert (summary.people, summary.created) == (2, 1)
    assert [a.employee for a in TrainingAssignment.objects.all()] == [hired]


def test_removing_the_requirement_retires_the_assignment(plant, make_employee, operator_requires_eo):
    employee = make_employee(position=plant.operator, hire_date=dt.date(2026, 5, 20))
    assignments_reconcile(employees=[employee], at=NOW)
    requirement_remove(requirement=operator_requires_eo, reason="no longer needed")
    summary = assignments_reconcile(employees=[employee], at=NOW)
    assert (summary.created, summary.retired) == (0, 1)
    [assignment] = TrainingAssignment.objects.filter(employee=employee)
    assert (assignment.status, assignment.closed_at) == (AssignmentStatus.RETIRED, NOW)
    assert OutboxEvent.objects.filter(type="training.assignment.retired").count() == 1
    assert assignments_reconcile(employees=[employee], at=NOW).retired == 0


def test_being_granted_retires_the_assignment(plant, make_employee, operator_requires_eo, eo_operator):
    employee = make_employee(position=plant.operator, hire_date=dt.date(2026, 5, 20))
    assignments_reconcile(employees=[employee], at=NOW)
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=NOW - dt.timedelta(days=1),
                                 source=GrantSource.MANUAL, reason="certificate seen")
    assert assignments_reconcile(employees=[employee], at=NOW).retired == 1
    assert _open(employee) == []


def test_expiring_grant_gets_a_renewal(plant, make_employee, operator_requires_eo, eo_operator):
    employee = make_employee(position=plant.operator, hire_date=dt.date(2020, 1, 1))
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=NOW - dt.timedelta(days=350),
                                 source=GrantSource.MANUAL, reason="held")
    assignments_reconcile(employees=[employee], at=NOW)
    [assignment] = _open(employee)
    assert assignment.reason == AssignmentReason.RENEWAL
    # Valid until NOW + 15 days (exclusive): the last valid day, in the site's time zone, is the due date.
    valid_until = (NOW + dt.timedelta(days=15)).astimezone(zoneinfo.ZoneInfo(plant.site_a.time_zone))
    assert assignment.due_on == (valid_until - dt.timedelta(microseconds=1)).date()


def test_position_change_reason(plant, make_employee, operator_requires_eo, django_capture_on_commit_callbacks):
    employee = make_employee(position=plant.supervisor, hire_date=dt.date(2020, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        people_services.employee_change_position(employee=employee, position=plant.operator,
                                                 start_date=timezone.localdate(), reason="promotion")
    [assignment] = _open(employee)
    assert assignment.reason == AssignmentReason.POSITION_CHANGE


def test_new_requirement_reconciles_the_position_holders(
    plant, make_employee, eo_operator, eo_course, django_capture_on_commit_callbacks
):
    employee = make_employee(position=plant.operator, hire_date=dt.date(2020, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        services.requirement_set(qualification=eo_operator, target_kind="position", target_id=plant.operator.pk,
                                 reason="new rule")
    [assignment] = _open(employee)
    assert assignment.reason == AssignmentReason.AD_HOC


def test_a_failing_handler_is_logged_not_raised(plant, make_employee, operator_requires_eo, monkeypatch,
                                                django_capture_on_commit_callbacks, caplog):
    from qualiflow.training.services import reconcile

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(reconcile, "assignments_reconcile", broken)
    with django_capture_on_commit_callbacks(execute=True):
        employee = make_employee(position=plant.operator)
    assert employee.pk and _open(employee) == []
    assert "boom" in caplog.text


def test_only_training_managers_may_reconcile(plant, make_employee, make_user, operator_requires_eo):
    employee = make_employee(position=plant.operator, hire_date=dt.date(2026, 5, 20))
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR)
    with pytest.raises(PermissionDenied):
        assignments_reconcile(employees=[employee], at=NOW, by=supervisor)
    assert TrainingAssignment.objects.count() == 0
    assert assignments_reconcile(employees=[employee], at=NOW, by=make_user(Role.TRAINING_COORDINATOR)).created == 1


def test_a_new_document_revision_assigns_retraining(
    plant, make_employee, operator_requires_eo, eo_operator, django_capture_on_commit_callbacks
):
    from qualiflow.documents import services as document_services
    from qualiflow.documents.models import DocumentRevision
    from qualiflow.training.services.catalogue import qualification_documents_set

    sop = document_services.document_create(data={"code": "SOP-EO-001", "title": "环氧乙烷灭菌操作规程"}, reason="new SOP")
    document_services.revision_create(document=sop, label="A", effective_from=NOW - dt.timedelta(days=400), reason="A")
    reader = services.course_create(
        data={"code": "C-SOP-EO", "name": "SOP 阅读", "duration_hours": 1, "kind": "read_and_understand", "document": sop},
        confers=[eo_operator], reason="read and understand",
    )
    qualification_documents_set(qualification=eo_operator, documents=[sop], reason="rests on the SOP")
    employee = make_employee(position=plant.operator, hire_date=dt.date(2020, 1, 1))
    now = timezone.now()
    with context.acting(reason="trained on revision A"):
        TrainingRecord.objects.create(employee=employee, course=reader, completed_at=now - dt.timedelta(days=10),
                                      passed=True, document_id=sop.pk, document_revision=1, document_revision_label="A")
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=now - dt.timedelta(days=10),
                                 source=GrantSource.MANUAL, reason="held")
    assert assignments_reconcile(employees=[employee], at=now).created == 0
    with django_capture_on_commit_callbacks(execute=True):
        revision = document_services.revision_create(document=sop, label="B", effective_from=now - dt.timedelta(hours=1),
                                                     retraining_grace_days=7, reason="new step")
    [assignment] = _open(employee)
    assert (assignment.reason, assignment.course, assignment.document_revision) == (
        AssignmentReason.DOCUMENT_REVISION, reader, DocumentRevision.objects.get(pk=revision.pk))


def test_a_line_coordinator_reconciles_only_their_line(plant, make_employee, make_user, operator_requires_eo):
    mine = make_employee(line=plant.line_a, position=plant.operator, hire_date=dt.date(2026, 5, 20))
    theirs = make_employee(line=plant.line_b, position=plant.operator, hire_date=dt.date(2026, 5, 20))
    coordinator = make_user(Role.TRAINING_COORDINATOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    for employees in (None, [mine, theirs]):
        with pytest.raises(PermissionDenied):
            assignments_reconcile(employees=employees, at=NOW, by=coordinator)
    assert TrainingAssignment.objects.count() == 0
    assert assignments_reconcile(employees=[mine], at=NOW, by=coordinator).created == 1


def test_a_key_in_the_reconcilers_namespace_naming_no_qualification_is_retired(plant, make_employee, operator_requires_eo,
                                                                        eo_course):
    employee = make_employee(position=plant.operator, hire_date=dt.date(2026, 5, 20))
    TrainingAssignment.objects.create(employee=employee, course=eo_course, reason=AssignmentReason.AD_HOC,
                                      due_on=dt.date(2026, 7, 1), source_key="req:not-a-qualification")
    summary = assignments_reconcile(employees=[employee], at=NOW)
    assert (summary.created, summary.retired) == (1, 1)
