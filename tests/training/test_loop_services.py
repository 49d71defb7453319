"""The training closed loop against the real database: assignment → session → enrolment → attendance and
assessment → completion signed by the trainer → qualifications granted, assignment completed, effectiveness
check scheduled; the trainee's signature and the supervisor's evaluation. Bad input is refused with its
code and writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from qualiflow.accounts.models import ESignature, User
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import Conflict, PermissionDenied, ValidationFailed
from qualiflow.documents import services as document_services
from qualiflow.integration.models import OutboxEvent
from qualiflow.people.models import Employee
from qualiflow.training import services
from qualiflow.training.models import (
    Assessment,
    Attendance,
    Course,
    EffectivenessCheck,
    Qualification,
    QualificationGrant,
    TrainingAssignment,
    TrainingRecord,
    TrainingSession,
)
from qualiflow.training.services import loop
from tests.conftest import PASSWORD

DAY = dt.timedelta(days=1)


def _written() -> tuple[int, ...]:
    return (
        TrainingAssignment.objects.count(), TrainingSession.objects.count(), Attendance.objects.count(),
        Assessment.objects.count(), TrainingRecord.objects.count(), QualificationGrant.objects.count(),
        EffectivenessCheck.objects.count(), ESignature.objects.count(), AuditEntry.objects.count(),
        OutboxEvent.objects.count(),
    )


def _events(kind: str) -> list[dict]:
    return [e.data for e in OutboxEvent.objects.filter(type=kind).order_by("time", "id")]


@dataclass
class World:
    course: Course
    conferred: list[Qualification]
    trainer_qualification: Qualification
    other: Qualification  # exists, not conferred by the course
    trainer: Employee
    trainer_user: User
    trainee: Employee
    trainee_user: User
    manager: Employee
    manager_user: User


def build_world(make_employee, make_user, eo_operator) -> World:
    """A course conferring two qualifications, taught by a qualified trainer, and a trainee with a manager
    (each with a login)."""
    trainer_q = services.qualification_create(
        data={"code": "Q-EO-TRAINER", "name": "环氧乙烷灭菌培训师", "name_en": "EO steriliser trainer"}, reason="set-up")
    cleanroom = services.qualification_create(
        data={"code": "Q-CR", "name": "洁净区行为规范", "name_en": "Clean-room behaviour", "validity_days": 730},
        reason="set-up")
    other = services.qualification_create(data={"code": "Q-OTHER", "name": "其他资质"}, reason="set-up")
    course = services.course_create(
        data={"code": "C-EO", "name": "环氧乙烷灭菌培训", "duration_hours": 8, "max_score": 100, "pass_mark": 80,
              "trainer_qualification": trainer_q, "effectiveness_check_days": 30},
        confers=[eo_operator, cleanroom], reason="set-up",
    )
    trainer_user, trainee_user, manager_user = make_user(Role.OPERATOR), make_user(Role.OPERATOR), \
        make_user(Role.PRODUCTION_SUPERVISOR)
    trainer = make_employee(family_name="李", given_name="师傅", user=trainer_user)
    manager = make_employee(family_name="张", given_name="主管", user=manager_user)
    trainee = make_employee(family_name="王", given_name="芳", manager=manager, user=trainee_user)
    services.qualification_grant(employee=trainer, qualification=trainer_q, valid_from=timezone.now() - 90 * DAY,
                                 source="manual", reason="certified trainer")
    return World(course, [eo_operator, cleanroom], trainer_q, other, trainer, trainer_user, trainee, trainee_user,
                 manager, manager_user)


@pytest.fixture
def world(plant, make_employee, make_user, eo_operator) -> World:
    return build_world(make_employee, make_user, eo_operator)


def _schedule(world: World, by, **overrides) -> TrainingSession:
    now = timezone.now()
    values = {"course": world.course, "starts_at": now - 3 * dt.timedelta(hours=1), "ends_at": now - dt.timedelta(hours=1),
              "capacity": 10, "place": "培训室 2", "trainer": world.trainer, "by": by, "reason": "quarterly EO training"}
    return loop.session_schedule(**{**values, **overrides})


def _attend(session: TrainingSession, employee: Employee, by, *, score=None, **attendance) -> Attendance:
    enrolled = Attendance.objects.filter(session=session, employee=employee).first() or loop.session_enrol(
        session=session, employees=[employee], by=by, reason="enrolled")[0]
    loop.attendance_record(attendance=enrolled, attended=attendance.pop("attended", True), by=by,
                           reason="attendance sheet", **attendance)
    if score is not None:
        loop.assessment_record(attendance=enrolled, kind="written", score=score, by=by, reason="exam marked")
    return enrolled


def _complete(session: TrainingSession, world: World, password: str = PASSWORD) -> list[TrainingRecord]:
    return loop.session_complete(session=session, by=world.trainer_user, reason="session held",
                                 signer=world.trainer_user, password=password)


def test_the_loop_grants_the_conferred_qualifications(world, coordinator):
    assignment = loop.assignment_create(employee=world.trainee, course=world.course, reason="onboarding",
                                        due_on=timezone.now().date() + 30 * DAY, by=coordinator)
    assert _events("training.assignment.created")[0]["assignment_id"] == str(assignment.pk)
    session = _schedule(world, coordinator)
    attendance = _attend(session, world.trainee, coordinator, score=92, practical_signed_off=True, skill_level=3)
    assert attendance.assignment_id == assignment.pk

    (record,) = _complete(session, world)

    record.refresh_from_db()
    assert (record.passed, record.score, record.trainer_id, record.session_id) == (True, Decimal("92.00"),
                                                                                   world.trainer.pk, session.pk)
    grants = {g.qualification.code: g for g in QualificationGrant.objects.filter(employee=world.trainee)}
    assert set(grants) == {"Q-EO-OP", "Q-CR"}
    assessment = Assessment.objects.get(attendance=attendance)
    for grant in grants.values():
        assert grant.source == "training_record" and grant.valid_from == record.completed_at
        assert grant.evidence == {"training_record_ids": [str(record.pk)], "assessment_ids": [str(assessment.pk)]}
    assert grants["Q-EO-OP"].valid_until == record.completed_at + 365 * DAY
    assert grants["Q-CR"].valid_until == record.completed_at + 730 * DAY
    assignment.refresh_from_db()
    assert (assignment.status, assignment.closed_at) == ("completed", record.completed_at)
    session.refresh_from_db()
    assert session.status == "completed"

    (signature,) = ESignature.objects.filter(object_id=str(record.pk))
    assert (signature.signer_id, signature.meaning) == (world.trainer_user.pk, "performed")
    check = EffectivenessCheck.objects.get(record=record)
    local_day = record.completed_at.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
    assert (check.due_on, check.evaluator_id, check.status) == (local_day + 30 * DAY, world.manager.pk, "pending")

    (completed,) = _events("training.record.completed")
    assert (completed["record_id"], completed["passed"], sorted(completed["qualification_codes"])) == (
        str(record.pk), True, ["Q-CR", "Q-EO-OP"])
    granted = _events("training.qualification.granted")
    assert sorted(e["qualification_code"] for e in granted if e["employee_id"] == str(world.trainee.pk)) == [
        "Q-CR", "Q-EO-OP"]
    entry = AuditEntry.objects.get(object_type="training.trainingrecord", object_id=str(record.pk), action="create")
    assert entry.reason == "session held"


def test_trainee_signs_and_supervisor_finds_training_not_effective(world, coordinator):
    session = _schedule(world, coordinator)
    _attend(session, world.trainee, coordinator, score=85, practical_signed_off=True)
    (record,) = _complete(session, world)

    signature = loop.record_sign_trainee(record=record, signer=world.trainee_user, password=PASSWORD)
    assert (signature.meaning, signature.signer_id) == ("reviewed", world.trainee_user.pk)
    with pytest.raises(Conflict):
        loop.record_sign_trainee(record=record, signer=world.trainee_user, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        loop.record_sign_trainee(record=record, signer=world.manager_user, password=PASSWORD)

    check = EffectivenessCheck.objects.get(record=record)
    before = _written()
    with pytest.raises(PermissionDenied):  # neither the evaluator nor a training manager
        loop.effectiveness_evaluate(check=check, effective=True, comment="fine", by=world.trainee_user,
                                    password=PASSWORD)
    with pytest.raises(PermissionDenied):  # wrong password: nothing evaluated
        loop.effectiveness_evaluate(check=check, effective=False, comment="errors", by=world.manager_user,
                                    password="wrong")
    assert _written() == before

    loop.effectiveness_evaluate(check=check, effective=False, comment="Two loading errors in the first week.",
                                by=world.manager_user, password=PASSWORD)
    check.refresh_from_db()
    assert (check.status, check.comment) == ("not_effective", "Two loading errors in the first week.")
    assert ESignature.objects.get(object_id=str(check.pk)).meaning == "reviewed"
    retraining = TrainingAssignment.objects.get(employee=world.trainee, status="open")
    assert (retraining.course_id, retraining.reason, retraining.source_key) == (
        world.course.pk, "ad_hoc", f"effectiveness:{check.pk}")
    (evaluated,) = _events("training.effectiveness.evaluated")
    assert (evaluated["effective"], evaluated["retraining_assignment_id"]) == (False, str(retraining.pk))
    with pytest.raises(ValidationFailed) as refused:
        loop.effectiveness_evaluate(check=check, effective=True, comment="again", by=world.manager_user,
                                    password=PASSWORD)
    assert refused.value.code == "training.effectiveness_invalid"


def test_failed_assessment_grants_nothing(world, coordinator):
    assignment = loop.assignment_create(employee=world.trainee, course=world.course, reason="renewal",
                                        due_on=timezone.now().date() + 10 * DAY, by=coordinator)
    session = _schedule(world, coordinator)
    attendance = _attend(session, world.trainee, coordinator, score=95, practical_signed_off=True)
    # A resit that fails: the latest result counts.
    loop.assessment_record(attendance=attendance, kind="written", score=60, by=coordinator, reason="resit")

    (record,) = _complete(session, world)

    assert record.passed is False and record.score == Decimal("60")
    assert not QualificationGrant.objects.filter(employee=world.trainee).exists()
    assert not EffectivenessCheck.objects.exists()
    assignment.refresh_from_db()
    assert assignment.status == "open"
    assert [e["passed"] for e in _events("training.record.completed")] == [False]
    assert not [e for e in _events("training.qualification.granted") if e["employee_id"] == str(world.trainee.pk)]


def test_practical_signoff_and_skill_level_decide_the_result(world, coordinator, make_employee):
    world.conferred[0].requires_practical_signoff = True
    world.conferred[0].min_skill_level = 3
    world.conferred[0].save()
    session = _schedule(world, coordinator)
    signed_off = world.trainee
    not_signed_off, too_junior, absent = make_employee(), make_employee(), make_employee()
    _attend(session, signed_off, coordinator, score=90, practical_signed_off=True, skill_level=3)
    _attend(session, not_signed_off, coordinator, score=90, skill_level=4)
    _attend(session, too_junior, coordinator, score=90, practical_signed_off=True, skill_level=2)
    _attend(session, absent, coordinator, attended=False)

    records = {r.employee_id: r.passed for r in _complete(session, world)}

    assert records == {signed_off.pk: True, not_signed_off.pk: False, too_junior.pk: False, absent.pk: False}
    assert set(QualificationGrant.objects.filter(qualification__in=world.conferred).values_list(
        "employee_id", flat=True)) == {signed_off.pk}


def test_score_outside_the_range_is_refused_and_nothing_is_written(world, coordinator):
    session = _schedule(world, coordinator)
    attendance = _attend(session, world.trainee, coordinator)
    before = _written()
    for score, message in ((101, "between 0 and 100"), (-1, "between 0 and 100"), ("100.01", "between 0 and 100"),
                           ("NaN", "between 0 and 100"), ("lots", "as a number")):
        with pytest.raises(ValidationFailed) as refused:
            loop.assessment_record(attendance=attendance, kind="written", score=score, by=coordinator, reason="exam")
        assert refused.value.code == "training.score_out_of_range"
        assert message in str(refused.value.fields["score"][0])
    assert _written() == before
    loop.assessment_record(attendance=attendance, kind="written", score=100, by=coordinator, reason="exam")
    assert Assessment.objects.get().passed is True


def test_session_ending_before_it_starts_is_refused(world, coordinator):
    before = _written()
    now = timezone.now()
    for ends_at in (now, now - dt.timedelta(minutes=1)):
        with pytest.raises(ValidationFailed) as refused:
            _schedule(world, coordinator, starts_at=now, ends_at=ends_at)
        assert refused.value.code == "training.session_dates_invalid" and "ends_at" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        _schedule(world, coordinator, capacity=0)
    assert "capacity" in refused.value.fields
    assert _written() == before


def test_trainer_without_the_trainer_qualification_is_refused(world, coordinator, make_employee):
    unqualified = make_employee(family_name="赵", given_name="新")
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        _schedule(world, coordinator, trainer=unqualified)
    assert refused.value.code == "training.trainer_not_qualified"
    assert "Q-EO-TRAINER" in str(refused.value.message)
    with pytest.raises(ValidationFailed) as refused:
        _schedule(world, coordinator, trainer=None, external_trainer="供应商讲师")
    assert refused.value.code == "training.trainer_not_qualified"
    # Suspended since before the session: not qualified at its start.
    services.qualification_suspend(employee=world.trainer, qualification=world.trainer_qualification,
                                   start=timezone.now() - 10 * DAY, reason="under investigation")
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        _schedule(world, coordinator)
    assert refused.value.code == "training.trainer_not_qualified"
    assert _written() == before


def test_enrolment_respects_capacity_and_duplicates(world, coordinator, make_employee):
    session = _schedule(world, coordinator, capacity=2)
    first, second, third = make_employee(), make_employee(), make_employee()
    loop.session_enrol(session=session, employees=[first], by=coordinator, reason="enrolled")
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        loop.session_enrol(session=session, employees=[second, third], by=coordinator, reason="enrolled")
    assert refused.value.code == "training.session_full"
    with pytest.raises(ValidationFailed):
        loop.session_enrol(session=session, employees=[first], by=coordinator, reason="again")
    with pytest.raises(ValidationFailed):
        loop.session_enrol(session=session, employees=[world.trainer], by=coordinator, reason="trainer")
    assert _written() == before


def test_completion_needs_the_trainers_signature_and_writes_nothing_otherwise(world, coordinator):
    session = _schedule(world, coordinator)
    _attend(session, world.trainee, coordinator, score=90, practical_signed_off=True)
    before = _written()
    with pytest.raises(PermissionDenied) as wrong_password:
        _complete(session, world, password="not-the-password")
    assert wrong_password.value.code == "accounts.signature_password_invalid"
    with pytest.raises(PermissionDenied):  # the coordinator cannot sign for the trainer
        loop.session_complete(session=session, by=coordinator, reason="held", signer=coordinator, password=PASSWORD)
    with pytest.raises(ValidationFailed) as unsigned:
        loop.session_complete(session=session, by=coordinator, reason="held")
    assert unsigned.value.code == "training.signature_incomplete"
    assert _written() == before
    session.refresh_from_db()
    assert session.status == "planned"


def test_completion_needs_every_result(world, coordinator, make_employee):
    session = _schedule(world, coordinator)
    _attend(session, world.trainee, coordinator, score=90)
    unassessed = make_employee(family_name="孙", given_name="未考")
    _attend(session, unassessed, coordinator)
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        _complete(session, world)
    assert refused.value.code == "training.loop_incomplete" and "孙未考" in str(refused.value.fields["score"][0])
    assert _written() == before
    future = _schedule(world, coordinator, starts_at=timezone.now() + DAY, ends_at=timezone.now() + 2 * DAY)
    _attend(future, world.trainee, coordinator, score=90)
    with pytest.raises(ValidationFailed) as early:
        _complete(future, world)
    assert early.value.code == "training.loop_incomplete"


def test_read_and_understand_session_keeps_the_revision_in_effect(world, coordinator):
    sop = document_services.document_create(data={"code": "SOP-EO-01", "title": "环氧乙烷灭菌操作规程"}, reason="set-up")
    now = timezone.now()
    first = document_services.revision_create(document=sop, label="A", effective_from=now - 60 * DAY, reason="issue")
    document_services.revision_create(document=sop, label="B", effective_from=now + 10 * DAY, reason="revise")
    reading = services.course_create(
        data={"code": "C-RU-EO", "name": "规程阅读", "kind": "read_and_understand", "duration_hours": 1, "document": sop},
        confers=[world.conferred[0]], reason="set-up")
    session = loop.session_schedule(course=reading, starts_at=now - 2 * dt.timedelta(hours=1),
                                    ends_at=now - dt.timedelta(hours=1), capacity=5, by=coordinator, reason="reading")
    assert session.document_revision_id == first.pk
    _attend(session, world.trainee, coordinator)
    (record,) = loop.session_complete(session=session, by=coordinator, reason="read", signer=coordinator,
                                      password=PASSWORD)
    assert (record.passed, record.document_id, record.document_revision, record.document_revision_label) == (
        True, sop.pk, 1, "A")
    assert ESignature.objects.get(object_id=str(record.pk)).meaning == "verified"


def test_assignment_refusals_and_cancel(world, coordinator, make_user, plant):
    outsider = make_user(Role.TRAINING_COORDINATOR, scope_kind="site", scope_id=plant.site_b.pk)
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        loop.assignment_create(employee=world.trainee, course=world.course, reason="whim", due_on=timezone.now().date(),
                               by=coordinator)
    assert refused.value.code == "training.assignment_invalid"
    with pytest.raises(ValidationFailed):
        loop.assignment_create(employee=world.trainee, course=world.course, reason="ad_hoc",
                               due_on=timezone.now().date(), qualification=world.other, by=coordinator)
    with pytest.raises(PermissionDenied):
        loop.assignment_create(employee=world.trainee, course=world.course, reason="ad_hoc",
                               due_on=timezone.now().date(), by=outsider)
    assert _written() == before

    assignment = loop.assignment_create(employee=world.trainee, course=world.course, reason="ad_hoc",
                                        due_on=timezone.now().date(), source_key="capa:42", by=coordinator)
    with pytest.raises(ValidationFailed):  # one open assignment per source
        loop.assignment_create(employee=world.trainee, course=world.course, reason="capa",
                               due_on=timezone.now().date(), source_key="capa:42", by=coordinator)
    with pytest.raises(ValidationFailed) as no_reason:
        loop.assignment_cancel(assignment=assignment, by=coordinator, reason=" ")
    assert no_reason.value.code == "core.reason_required"
    loop.assignment_cancel(assignment=assignment, by=coordinator, reason="CAPA closed without retraining")
    assignment.refresh_from_db()
    assert assignment.status == "cancelled"
    update = AuditEntry.objects.get(object_id=str(assignment.pk), action="update")
    assert update.reason == "CAPA closed without retraining" and json.loads(update.changes)["status"] == ["open",
                                                                                                          "cancelled"]
    with pytest.raises(ValidationFailed) as closed:
        loop.assignment_cancel(assignment=assignment, by=coordinator, reason="again")
    assert closed.value.code == "training.assignment_closed"
