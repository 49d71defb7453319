"""Writes for the training closed loop: assignments, sessions, enrolment, attendance, assessments, the
completion of a session (training records signed by the trainer, qualifications granted, effectiveness
checks scheduled), the trainee's signature and the supervisor's effectiveness evaluation.

Like every training write: regulated records need a reason, `by` must hold `training.manage` over the
people concerned (None is the system), each row is audited by the model layer and each change emits its
event in the same transaction, so a refused step leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any, NoReturn

from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import ESignature, SignatureMeaning, User
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.services import esignature_sign
from qualiflow.audit.tracking import object_type
from qualiflow.core import context
from qualiflow.core.errors import Conflict, CoreErrorCode, PermissionDenied, ValidationFailed
from qualiflow.core.validation import full_clean, require_reason
from qualiflow.documents.models import DocumentRevision
from qualiflow.integration import events
from qualiflow.org.models import ProductionLine
from qualiflow.people.models import Employee

from ..errors import TrainingErrorCode
from ..models import (
    Assessment,
    AssessmentKind,
    AssignmentReason,
    AssignmentStatus,
    Attendance,
    Course,
    EffectivenessCheck,
    EffectivenessStatus,
    GrantSource,
    Qualification,
    SessionStatus,
    TrainingAssignment,
    TrainingRecord,
    TrainingSession,
)
from ..selectors import status_of
from . import _authorize, _refuse, _require_moment, qualification_grant

# A training found not effective is repeated within this many days.
RETRAINING_DUE_DAYS = 30


def _refuse_plain(field: str, message) -> NoReturn:
    raise ValidationFailed(message, fields={field: [message]})


def _require_stated(reason: str | None) -> str:
    """A reason even where the model does not demand one: cancelling is a decision someone must explain."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("A reason is required for changes to this record."),
            fields={"reason": [_("State why this change is made.")]}, code=CoreErrorCode.REASON_REQUIRED,
        )
    return reason


def _authorize_line(by, line: ProductionLine | None) -> None:
    """`training.manage` over the line a session is for (anywhere, for a session for no particular line)."""
    if by is None:
        return
    # A line is placed by its site and department, and is itself the unit a line-scoped role names.
    place = None if line is None else SimpleNamespace(site_id=line.site_id, department_id=line.department_id, line_id=line.pk)
    if not has_perm(by, Perm.TRAINING_MANAGE, place):
        raise PermissionDenied(TrainingErrorCode.OUT_OF_SCOPE, _("You are not allowed to manage training for this line."))


def _zone(employee: Employee) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(employee.site.time_zone)


def _refuse_inactive_course(course: Course) -> None:
    if not course.is_active:
        _refuse("course", _("The course %(code)s is no longer in use.") % {"code": course.code},
                TrainingErrorCode.COURSE_INACTIVE)


def _lock_planned(session: TrainingSession) -> TrainingSession:
    """The session, locked so enrolment, results and completion happen one at a time; only a planned
    session takes changes."""
    session = TrainingSession.objects.select_for_update(of=("self",)).select_related("course").get(pk=session.pk)
    if session.status != SessionStatus.PLANNED:
        _refuse("session", _("This session can no longer be changed (status: %(status)s).") % {
            "status": session.get_status_display()}, TrainingErrorCode.SESSION_CLOSED)
    return session


def _person(employee: Employee) -> dict[str, Any]:
    return {"employee_id": employee.pk, "employee_number": employee.employee_number}


# ---- assignments --------------------------------------------------------------------------------------


def _assignment_payload(assignment: TrainingAssignment) -> dict[str, Any]:
    return {
        **_person(assignment.employee), "assignment_id": assignment.pk, "course_id": assignment.course_id,
        "course_code": assignment.course.code, "qualification_id": assignment.qualification_id,
        "reason": assignment.reason, "due_on": assignment.due_on, "status": assignment.status,
        "source_key": assignment.source_key,
    }


def _assignment_add(
    *, employee: Employee, course: Course, reason: str, due_on: dt.date, qualification: Qualification | None,
    document_revision: DocumentRevision | None, source_key: str, note: str,
) -> TrainingAssignment:
    """Create an assignment once the caller has been authorised (a user's request or the loop itself)."""
    code = TrainingErrorCode.ASSIGNMENT_INVALID
    if reason not in AssignmentReason.values:
        _refuse("reason", _("Unknown reason for an assignment."), code)
    if not isinstance(due_on, dt.date) or isinstance(due_on, dt.datetime):
        _refuse("due_on", _("Enter the due date as a date."), code)
    _refuse_inactive_course(course)
    if not employee.is_active:
        _refuse("employee", _("%(employee)s is no longer employed.") % {"employee": employee.full_name}, code)
    if qualification is not None and not course.confers.filter(pk=qualification.pk).exists():
        _refuse("qualification", _("The course %(course)s does not confer %(qualification)s.") % {
            "course": course.code, "qualification": qualification.code}, code)
    if (document_revision is not None and course.document_id is not None
            and document_revision.document_id != course.document_id):
        _refuse("document_revision", _("The revision is not one of the document this course trains on."), code)
    source_key = (source_key or "").strip()
    if source_key and TrainingAssignment.objects.filter(
        employee=employee, source_key=source_key, status=AssignmentStatus.OPEN
    ).exists():
        _refuse("source_key", _("This person already has an open assignment for this."), code)
    assignment = TrainingAssignment(
        employee=employee, course=course, qualification=qualification, document_revision=document_revision,
        reason=reason, due_on=due_on, source_key=source_key, note=(note or "").strip(),
    )
    full_clean(assignment)
    with context.acting(reason=assignment.note or assignment.get_reason_display()):
        assignment.save()
        events.emit("training.assignment.created", f"training/assignment/{assignment.pk}", _assignment_payload(assignment))
    return assignment


@transaction.atomic
def assignment_create(
    *,
    employee: Employee,
    course: Course,
    reason: str,
    due_on: dt.date,
    qualification: Qualification | None = None,
    document_revision: DocumentRevision | None = None,
    source_key: str = "",
    note: str = "",
    by=None,
) -> TrainingAssignment:
    """`employee` must take `course` by `due_on`, for `reason` (an `AssignmentReason`; `note` says more).
    `source_key` names what created it: an open assignment with the same key is refused."""
    # The lock serialises assignments of one person, so two requests cannot both pass the key check.
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    _authorize(by, employee)
    return _assignment_add(
        employee=employee, course=course, reason=reason, due_on=due_on, qualification=qualification,
        document_revision=document_revision, source_key=source_key, note=note,
    )


@transaction.atomic
def assignment_cancel(*, assignment: TrainingAssignment, by=None, reason: str) -> TrainingAssignment:
    reason = _require_stated(reason)
    assignment = TrainingAssignment.objects.select_for_update(of=("self",)).select_related("employee", "course").get(pk=assignment.pk)
    _authorize(by, assignment.employee)
    if assignment.status != AssignmentStatus.OPEN:
        _refuse("assignment", _("The assignment is already %(status)s.") % {"status": assignment.get_status_display()},
                TrainingErrorCode.ASSIGNMENT_CLOSED)
    assignment.status = AssignmentStatus.CANCELLED
    assignment.closed_at = timezone.now()
    with context.acting(reason=reason):
        assignment.save()
        events.emit("training.assignment.cancelled", f"training/assignment/{assignment.pk}",
                    {**_assignment_payload(assignment), "cancel_reason": reason})
    return assignment


def _open_assignment(employee: Employee, course: Course) -> TrainingAssignment | None:
    return (TrainingAssignment.objects.filter(employee=employee, course=course, status=AssignmentStatus.OPEN)
            .order_by("due_on", "created_at").first())


# ---- sessions -----------------------------------------------------------------------------------------


def _refuse_unqualified_trainer(course: Course, trainer: Employee | None, at: dt.datetime) -> None:
    code = TrainingErrorCode.TRAINER_NOT_QUALIFIED
    if trainer is not None and not trainer.is_active:
        _refuse("trainer", _("%(trainer)s is no longer employed.") % {"trainer": trainer.full_name}, code)
    qualification = course.trainer_qualification
    if qualification is None:
        return
    if trainer is None:
        _refuse("trainer", _("The course %(course)s must be taught by an employee holding %(qualification)s.") % {
            "course": course.code, "qualification": qualification.display_name(_language())}, code)
    if not status_of(trainer, qualification, at).allowed:
        _refuse("trainer", _("%(trainer)s does not hold %(qualification)s, which the trainer of %(course)s needs, "
                             "at the start of the session.") % {
            "trainer": trainer.full_name, "qualification": f"{qualification.code} {qualification.display_name(_language())}",
            "course": course.code}, code)


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def _revision_in_effect(course: Course, at: dt.datetime) -> DocumentRevision | None:
    return (DocumentRevision.objects.filter(document_id=course.document_id, effective_from__lte=at)
            .order_by("-effective_from").first())


def _session_payload(session: TrainingSession) -> dict[str, Any]:
    return {
        "session_id": session.pk, "course_id": session.course_id, "course_code": session.course.code,
        "starts_at": session.starts_at, "ends_at": session.ends_at, "place": session.place,
        "line_id": session.line_id, "trainer_id": session.trainer_id, "external_trainer": session.external_trainer,
        "capacity": session.capacity, "document_revision_id": session.document_revision_id, "status": session.status,
    }


@transaction.atomic
def session_schedule(
    *,
    course: Course,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    place: str = "",
    line: ProductionLine | None = None,
    trainer: Employee | None = None,
    external_trainer: str = "",
    document_revision: DocumentRevision | None = None,
    by=None,
    reason: str = "",
) -> TrainingSession:
    """Plan a delivery of `course`. A course with a trainer qualification is taught by an employee who
    holds it when the session starts; a course on a document trains on the revision in effect then,
    unless another revision is named."""
    reason = require_reason(TrainingSession, reason)
    _authorize_line(by, line)
    _refuse_inactive_course(course)
    code = TrainingErrorCode.SESSION_DATES_INVALID
    _require_moment("starts_at", starts_at, code)
    _require_moment("ends_at", ends_at, code)
    if ends_at <= starts_at:
        _refuse("ends_at", _("A session must end after it starts."), code)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        _refuse_plain("capacity", _("The capacity must be at least one."))
    external_trainer = (external_trainer or "").strip()
    if trainer is not None and external_trainer:
        _refuse_plain("external_trainer", _("Name either an employee or an external trainer, not both."))
    _refuse_unqualified_trainer(course, trainer, starts_at)
    if course.document_id is not None:
        if document_revision is None:
            document_revision = _revision_in_effect(course, starts_at)
            if document_revision is None:
                _refuse("document_revision", _("The document of this course has no revision in effect at the start "
                                               "of the session."), TrainingErrorCode.DOCUMENT_INACTIVE)
        elif document_revision.document_id != course.document_id:
            _refuse_plain("document_revision", _("The revision is not one of the document this course trains on."))
    session = TrainingSession(
        course=course, starts_at=starts_at, ends_at=ends_at, capacity=capacity, place=(place or "").strip(), line=line,
        trainer=trainer, external_trainer=external_trainer, document_revision=document_revision,
    )
    full_clean(session)
    with context.acting(reason=reason):
        session.save()
        events.emit("training.session.scheduled", f"training/session/{session.pk}", _session_payload(session))
    return session


@transaction.atomic
def session_cancel(*, session: TrainingSession, by=None, reason: str) -> TrainingSession:
    reason = require_reason(TrainingSession, reason)
    session = _lock_planned(session)
    _authorize_line(by, session.line)
    session.status = SessionStatus.CANCELLED
    with context.acting(reason=reason):
        session.save()
        events.emit("training.session.cancelled", f"training/session/{session.pk}",
                    {**_session_payload(session), "cancel_reason": reason})
    return session


@transaction.atomic
def session_enrol(*, session: TrainingSession, employees: Iterable[Employee], by=None, reason: str) -> list[Attendance]:
    """Enrol people in a planned session, each linked to their open assignment for the course, if any."""
    reason = require_reason(Attendance, reason)
    session = _lock_planned(session)
    people = list({employee.pk: employee for employee in employees}.values())
    if not people:
        _refuse_plain("employees", _("Choose at least one person to enrol."))
    enrolled = set(session.attendances.values_list("employee_id", flat=True))
    for employee in people:
        _authorize(by, employee)
        if employee.pk in enrolled:
            _refuse_plain("employees", _("%(employee)s is already enrolled in the session.") % {"employee": employee.full_name})
        if employee.pk == session.trainer_id:
            _refuse_plain("employees", _("%(employee)s is the trainer of the session.") % {"employee": employee.full_name})
        if not employee.is_active:
            _refuse_plain("employees", _("%(employee)s is no longer employed.") % {"employee": employee.full_name})
    free = session.capacity - len(enrolled)
    if len(people) > free:
        _refuse("employees", _("The session has %(free)s free places of %(capacity)s; %(wanted)s people were chosen.") % {
            "free": max(free, 0), "capacity": session.capacity, "wanted": len(people)}, TrainingErrorCode.SESSION_FULL)
    attendances = []
    with context.acting(reason=reason):
        for employee in people:
            attendance = Attendance(session=session, employee=employee, assignment=_open_assignment(employee, session.course))
            full_clean(attendance)
            attendance.save()
            events.emit("training.attendance.enrolled", f"training/attendance/{attendance.pk}",
                        {**_person(employee), "attendance_id": attendance.pk, "session_id": session.pk,
                         "course_id": session.course_id, "assignment_id": attendance.assignment_id})
            attendances.append(attendance)
    return attendances


def _lock_attendance(attendance: Attendance, by) -> tuple[TrainingSession, Attendance]:
    session = _lock_planned(attendance.session)
    attendance = Attendance.objects.select_related("employee").get(pk=attendance.pk)
    _authorize(by, attendance.employee)
    return session, attendance


@transaction.atomic
def attendance_record(
    *,
    attendance: Attendance,
    attended: bool,
    practical_signed_off: bool = False,
    skill_level: int | None = None,
    by=None,
    reason: str,
) -> Attendance:
    """Whether the trainee attended, the trainer's practical sign-off and the skill level observed."""
    reason = require_reason(Attendance, reason)
    session, attendance = _lock_attendance(attendance, by)
    if not isinstance(attended, bool):
        _refuse_plain("attended", _("Say whether the trainee attended."))
    if not attended and (practical_signed_off or skill_level is not None):
        _refuse_plain("practical_signed_off", _("Someone who did not attend can be neither signed off nor rated."))
    attendance.attended = attended
    attendance.practical_signed_off = bool(practical_signed_off)
    attendance.skill_level = skill_level
    full_clean(attendance)
    with context.acting(reason=reason):
        attendance.save()
        events.emit("training.attendance.recorded", f"training/attendance/{attendance.pk}",
                    {**_person(attendance.employee), "attendance_id": attendance.pk, "session_id": session.pk,
                     "attended": attended, "practical_signed_off": attendance.practical_signed_off,
                     "skill_level": skill_level})
    return attendance


@transaction.atomic
def assessment_record(
    *,
    attendance: Attendance,
    kind: str,
    score: Decimal | int | float | str,
    assessed_at: dt.datetime | None = None,
    assessor: Employee | None = None,
    by=None,
    reason: str,
) -> Assessment:
    """A score on the course's assessment; passed when it reaches the course's pass mark, both copied onto
    the assessment so a later change of the course does not rewrite past results."""
    reason = require_reason(Assessment, reason)
    session, attendance = _lock_attendance(attendance, by)
    course = session.course
    code = TrainingErrorCode.SCORE_OUT_OF_RANGE
    if course.max_score is None or course.pass_mark is None:
        _refuse("score", _("The course %(course)s has no scored assessment.") % {"course": course.code}, code)
    if kind not in AssessmentKind.values:
        _refuse_plain("kind", _("Unknown kind of assessment."))
    try:
        value = Decimal(str(score))
    except (InvalidOperation, ValueError):
        _refuse("score", _("Enter the score as a number."), code)
    if not value.is_finite() or not Decimal(0) <= value <= course.max_score:
        _refuse("score", _("The score must be between 0 and %(max)s.") % {"max": course.max_score}, code)
    assessed_at = timezone.now() if assessed_at is None else assessed_at
    if not isinstance(assessed_at, dt.datetime) or timezone.is_naive(assessed_at):
        _refuse_plain("assessed_at", _("Enter a date and time with its time zone."))
    if attendance.attended is False:
        _refuse_plain("attendance", _("%(employee)s did not attend and cannot be assessed.") % {
            "employee": attendance.employee.full_name})
    if assessor is not None and assessor.pk == attendance.employee_id:
        _refuse_plain("assessor", _("A trainee cannot assess themselves."))
    assessment = Assessment(
        attendance=attendance, kind=kind, score=value, max_score=course.max_score, pass_mark=course.pass_mark,
        passed=value >= course.pass_mark, assessed_at=assessed_at, assessor=assessor,
    )
    full_clean(assessment)
    with context.acting(reason=reason):
        assessment.save()
        events.emit("training.assessment.recorded", f"training/assessment/{assessment.pk}",
                    {**_person(attendance.employee), "assessment_id": assessment.pk, "attendance_id": attendance.pk,
                     "session_id": session.pk, "kind": kind, "score": value, "max_score": course.max_score,
                     "pass_mark": course.pass_mark, "passed": assessment.passed})
    return assessment


# ---- completion ---------------------------------------------------------------------------------------


def _signing_meaning(session: TrainingSession, signer: User | None, password: str | None) -> str:
    """Who signs the completion, and with which meaning. An internal trainer signs "performed": they
    delivered the training and attest its results. With an external or no trainer, nobody in the plant
    performed it; a training manager signs "verified", attesting the results they recorded."""
    if signer is None or not password:
        _refuse("password", _("The completion must be signed: enter the signer's password."),
                TrainingErrorCode.SIGNATURE_INCOMPLETE)
    trainer = session.trainer
    if trainer is not None:
        if trainer.user_id is None:
            _refuse("trainer", _("The trainer %(trainer)s has no login to sign with.") % {"trainer": trainer.full_name},
                    TrainingErrorCode.SIGNATURE_INCOMPLETE)
        if signer.pk != trainer.user_id:
            raise PermissionDenied(TrainingErrorCode.OUT_OF_SCOPE, _(
                "Only the trainer of the session, %(trainer)s, can sign its completion.") % {"trainer": trainer.full_name})
        return SignatureMeaning.PERFORMED
    if not has_perm(signer, Perm.TRAINING_MANAGE):
        raise PermissionDenied(TrainingErrorCode.OUT_OF_SCOPE,
                               _("A session without an internal trainer is signed by a training manager."))
    return SignatureMeaning.VERIFIED


def _passed(attendance: Attendance, latest: dict[str, Assessment], course: Course,
            needs_signoff: bool, min_skill_level: int | None) -> bool:
    """Attended, passed the latest assessment of each kind taken (when the course is scored), signed off
    when a conferred qualification needs it, and at the skill level a conferred qualification asks for."""
    if not attendance.attended:
        return False
    if course.pass_mark is not None and not all(a.passed for a in latest.values()):
        return False
    if needs_signoff and not attendance.practical_signed_off:
        return False
    return min_skill_level is None or (attendance.skill_level or 0) >= min_skill_level


@transaction.atomic
def session_complete(
    *,
    session: TrainingSession,
    by=None,
    reason: str,
    signer: User | None = None,
    password: str | None = None,
) -> list[TrainingRecord]:
    """Close the session: a training record for every trainee, signed by the trainer; for each passed
    record, the open assignment completed, every qualification the course confers granted (valid from
    now, for the qualification's validity) and, when the course asks for one, an effectiveness check
    for the trainee's manager. All of it or, on any refusal (a wrong password included), nothing."""
    reason = require_reason(TrainingRecord, reason)
    session = _lock_planned(session)
    course = session.course
    trainer = session.trainer
    attendances = list(
        Attendance.objects.filter(session=session).select_related("employee__site", "employee__manager", "assignment")
        .order_by("employee__employee_number")
    )
    acting_as_trainer = by is not None and trainer is not None and trainer.user_id == by.pk
    for attendance in attendances:
        if not acting_as_trainer:
            _authorize(by, attendance.employee)
    now = timezone.now()
    code = TrainingErrorCode.LOOP_INCOMPLETE
    if now < session.starts_at:
        _refuse("session", _("A session can be completed only once it has started."), code)
    if not attendances:
        _refuse("session", _("Nobody is enrolled in the session."), code)
    unrecorded = [a.employee.full_name for a in attendances if a.attended is None]
    if unrecorded:
        _refuse("attended", _("Record whether these people attended: %(names)s.") % {"names": ", ".join(unrecorded)}, code)
    assessments: dict[Any, list[Assessment]] = {a.pk: [] for a in attendances}
    for assessment in Assessment.objects.filter(attendance__in=attendances).order_by("-assessed_at", "-created_at"):
        assessments[assessment.attendance_id].append(assessment)
    if course.pass_mark is not None:
        unassessed = [a.employee.full_name for a in attendances if a.attended and not assessments[a.pk]]
        if unassessed:
            _refuse("score", _("Record the assessment of these people: %(names)s.") % {"names": ", ".join(unassessed)}, code)
    meaning = _signing_meaning(session, signer, password)
    # Re-checked at completion: a suspension or revocation recorded since scheduling may cover the session.
    _refuse_unqualified_trainer(course, trainer, session.starts_at)
    conferred = list(course.confers.filter(is_active=True).order_by("code"))
    needs_signoff = any(q.requires_practical_signoff for q in conferred)
    min_skill_level = max((q.min_skill_level for q in conferred if q.min_skill_level is not None), default=None)
    revision = session.document_revision
    records = []
    with context.acting(reason=reason):
        for attendance in attendances:
            employee = attendance.employee
            latest: dict[str, Assessment] = {}
            for assessment in assessments[attendance.pk]:
                latest.setdefault(assessment.kind, assessment)
            newest = assessments[attendance.pk][0] if assessments[attendance.pk] else None
            passed = _passed(attendance, latest, course, needs_signoff, min_skill_level)
            record = TrainingRecord(
                employee=employee, course=course, completed_at=now, passed=passed,
                score=newest.score if newest is not None else None, trainer=trainer, session=session,
                line=session.line, document_id=revision.document_id if revision else None,
                document_revision=revision.revision if revision else None,
                document_revision_label=revision.label if revision else "",
            )
            full_clean(record)
            record.save()
            attendance.record = record
            attendance.save()
            signature = esignature_sign(signer=signer, password=password, record=record, meaning=meaning, reason=reason)
            grants = []
            if passed:
                _assignment_complete(attendance, course, now)
                evidence = {"training_record_ids": [str(record.pk)],
                            "assessment_ids": [str(a.pk) for a in reversed(assessments[attendance.pk])]}
                grants = [
                    qualification_grant(employee=employee, qualification=q, valid_from=now,
                                        source=GrantSource.TRAINING_RECORD, evidence=evidence, reason=reason)
                    for q in conferred
                ]
                _effectiveness_schedule(record, employee, course, now)
            events.emit("training.record.completed", f"training/record/{record.pk}", {
                **_person(employee), "record_id": record.pk, "course_id": course.pk, "course_code": course.code,
                "session_id": session.pk, "completed_at": now, "passed": passed, "score": record.score,
                "trainer_id": record.trainer_id, "line_id": record.line_id, "document_id": record.document_id,
                "document_revision": record.document_revision, "signature_id": signature.pk,
                "grant_ids": [g.pk for g in grants], "qualification_codes": [g.qualification.code for g in grants],
            })
            records.append(record)
        session.status = SessionStatus.COMPLETED
        session.save()
        events.emit("training.session.completed", f"training/session/{session.pk}",
                    {**_session_payload(session), "record_ids": [r.pk for r in records],
                     "passed": sum(r.passed for r in records)})
    return records


def _assignment_complete(attendance: Attendance, course: Course, at: dt.datetime) -> None:
    """A passed record fulfils the open assignment it was taken for (linked at enrolment, or opened
    since); a failed one leaves it open, as the person still has to be trained."""
    assignment = attendance.assignment
    if assignment is None or assignment.status != AssignmentStatus.OPEN:
        assignment = _open_assignment(attendance.employee, course)
    if assignment is None:
        return
    assignment.status = AssignmentStatus.COMPLETED
    assignment.closed_at = at
    assignment.save()
    if attendance.assignment_id != assignment.pk:
        attendance.assignment = assignment
        attendance.save()
    events.emit("training.assignment.completed", f"training/assignment/{assignment.pk}",
                {**_assignment_payload(assignment), "record_id": attendance.record_id})


def _effectiveness_schedule(record: TrainingRecord, employee: Employee, course: Course, at: dt.datetime) -> None:
    """Only passed training is evaluated for effectiveness: a failed trainee is retrained instead."""
    if course.effectiveness_check_days is None:
        return
    due_on = at.astimezone(_zone(employee)).date() + dt.timedelta(days=course.effectiveness_check_days)
    check = EffectivenessCheck(record=record, due_on=due_on, evaluator=employee.manager)
    full_clean(check)
    check.save()
    events.emit("training.effectiveness.scheduled", f"training/effectiveness/{check.pk}",
                {**_person(employee), "check_id": check.pk, "record_id": record.pk, "due_on": due_on,
                 "evaluator_id": check.evaluator_id})


# ---- signatures and evaluation ------------------------------------------------------------------------


@transaction.atomic
def record_sign_trainee(*, record: TrainingRecord, signer: User, password: str, reason: str = "") -> ESignature:
    """The trainee signs their own training record once. Meaning "reviewed": the trainee attests that
    they have read the record (course, date, trainer, document revision, result) and that it is true.
    "Performed" is the trainer's meaning for delivering the training; giving the trainee the same one
    would blur who attested what, which Part 11 §11.50 asks the signature to make plain."""
    record = TrainingRecord.objects.select_for_update(of=("self",)).select_related("employee").get(pk=record.pk)
    employee = record.employee
    if employee.user_id is None or signer.pk != employee.user_id:
        raise PermissionDenied(TrainingErrorCode.OUT_OF_SCOPE, _(
            "Only %(employee)s can sign their own training record.") % {"employee": employee.full_name})
    if ESignature.objects.filter(object_type=object_type(TrainingRecord), object_id=str(record.pk), signer=signer,
                                 meaning=SignatureMeaning.REVIEWED).exists():
        raise Conflict(CoreErrorCode.CONFLICT, _("You have already signed this training record."))
    signature = esignature_sign(signer=signer, password=password or "", record=record,
                                meaning=SignatureMeaning.REVIEWED, reason=(reason or "").strip())
    events.emit("training.record.signed", f"training/record/{record.pk}",
                {**_person(employee), "record_id": record.pk, "signature_id": signature.pk,
                 "meaning": SignatureMeaning.REVIEWED, "role": "trainee"})
    return signature


@transaction.atomic
def effectiveness_evaluate(
    *, check: EffectivenessCheck, effective: bool, comment: str, by: User, password: str
) -> EffectivenessCheck:
    """The evaluator (or a training manager over the trainee) judges whether the training worked on the
    job, signing "reviewed"; training found not effective is assigned again."""
    check = EffectivenessCheck.objects.select_for_update().get(pk=check.pk)
    record = TrainingRecord.objects.select_related("employee__site", "course").get(pk=check.record_id)
    employee = record.employee
    code = TrainingErrorCode.EFFECTIVENESS_INVALID
    if by is None or not password:
        _refuse("password", _("The evaluation must be signed: enter your password."), TrainingErrorCode.SIGNATURE_INCOMPLETE)
    is_evaluator = check.evaluator_id is not None and Employee.objects.filter(pk=check.evaluator_id, user_id=by.pk).exists()
    if not (is_evaluator or has_perm(by, Perm.TRAINING_MANAGE, employee)):
        raise PermissionDenied(TrainingErrorCode.OUT_OF_SCOPE,
                               _("Only the evaluator or a training manager can evaluate this training."))
    if check.status != EffectivenessStatus.PENDING:
        _refuse("check", _("This training has already been evaluated."), code)
    if not isinstance(effective, bool):
        _refuse("effective", _("Say whether the training was effective."), code)
    comment = (comment or "").strip()
    if not comment:
        _refuse("comment", _("Explain the evaluation."), code)
    now = timezone.now()
    check.status = EffectivenessStatus.EFFECTIVE if effective else EffectivenessStatus.NOT_EFFECTIVE
    check.evaluated_at = now
    check.comment = comment
    full_clean(check)
    with context.acting(reason=comment):
        check.save()
        signature = esignature_sign(signer=by, password=password, record=check, meaning=SignatureMeaning.REVIEWED,
                                    reason=comment)
        retraining = None
        if not effective:
            retraining = _assignment_add(
                employee=employee, course=record.course, reason=AssignmentReason.AD_HOC,
                due_on=now.astimezone(_zone(employee)).date() + dt.timedelta(days=RETRAINING_DUE_DAYS),
                qualification=None, document_revision=None, source_key=f"effectiveness:{check.pk}", note=comment,
            )
        events.emit("training.effectiveness.evaluated", f"training/effectiveness/{check.pk}", {
            **_person(employee), "check_id": check.pk, "record_id": record.pk, "effective": effective,
            "comment": comment, "signature_id": signature.pk,
            "retraining_assignment_id": retraining.pk if retraining else None,
        })
    return check
