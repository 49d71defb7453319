"""Training loop API under /api/v1/training: assignments, sessions (enrolment, attendance, assessments,
completion), training records, effectiveness checks and certificates.

Reads need `training.view` and show only people in the caller's scope; writes need `training.manage`
over the people concerned and a reason. Signing (completing a session, a trainee's signature, an
effectiveness evaluation) re-authenticates the signer with their password and is accepted only from the
signer's own browser session: an API token identifies a program, not the person whose signature it is.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.errors import AccountsErrorCode
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import InputSchema, PageParams, WriteSchema, error_responses, page_schema, paginate
from qualiflow.core.errors import CoreErrorCode, NotFound, PermissionDenied, ValidationFailed
from qualiflow.documents.models import DocumentRevision
from qualiflow.org import selectors as org_selectors
from qualiflow.org.models import ProductionLine

from ..models import (
    Assessment,
    AssessmentKind,
    AssignmentReason,
    AssignmentStatus,
    Attendance,
    Certificate,
    EffectivenessCheck,
    EffectivenessStatus,
    SessionStatus,
    TrainingRecord,
    TrainingSession,
)
from ..selectors import catalogue as catalogue_selectors
from ..selectors import loop as loop_selectors
from ..selectors.reports import employee_for_training, employees_in_scope, trace_signatures
from ..services import certificates as certificate_services
from ..services import loop as services

router = Router(tags=["training"])

_view = requires(Perm.TRAINING_VIEW)
_manage = requires(Perm.TRAINING_MANAGE)
# Signing endpoints: anyone allowed to sign records, identified either way (so a refusal speaks their
# language), then `_own_session` turns away API tokens; who may sign what is the services' decision.
_signer = requires(Perm.ESIGN)

AssignmentReasonValue = Literal[tuple(AssignmentReason.values)]
AssignmentStatusValue = Literal[tuple(AssignmentStatus.values)]
SessionStatusValue = Literal[tuple(SessionStatus.values)]
AssessmentKindValue = Literal[tuple(AssessmentKind.values)]
EffectivenessStatusValue = Literal[tuple(EffectivenessStatus.values)]


def _reason() -> Any:
    return Field(..., min_length=1, max_length=2000, description="Why the change is made (required; kept in the audit trail).")


def _password() -> Any:
    return Field(..., min_length=1, max_length=200, description="The signer's password, re-entered to sign.")


def _not_found(message) -> NotFound:
    return NotFound(CoreErrorCode.NOT_FOUND, message)


def _field(name: str, load, *args, **kwargs):
    """A record named by a request field; an unknown id is an error on that field, not a missing page."""
    try:
        return load(*args, **kwargs)
    except NotFound as exc:
        raise ValidationFailed(_("Please correct the errors below."), fields={name: [exc.message]}) from exc


# ---- schemas -----------------------------------------------------------------------------------------


class AssignmentOut(Schema):
    id: UUID
    employee_id: UUID
    employee_number: str = Field(..., alias="employee.employee_number")
    employee_name: str = Field(..., alias="employee.full_name")
    course_id: UUID
    course_code: str = Field(..., alias="course.code")
    qualification_id: UUID | None
    document_revision_id: UUID | None
    reason: str
    due_on: dt.date
    status: str
    source_key: str
    note: str
    closed_at: dt.datetime | None
    created_at: dt.datetime


class AssignmentIn(WriteSchema):
    employee_id: UUID
    course_id: UUID
    reason: AssignmentReasonValue = Field(..., description="Why the person must take the course.")
    due_on: dt.date
    qualification_id: UUID | None = Field(None, description="The qualification the training is for.")
    document_revision_id: UUID | None = None
    note: str = Field("", max_length=2000)


class AssignmentFilters(PageParams):
    employee_id: UUID | None = None
    course_id: UUID | None = None
    status: AssignmentStatusValue | None = None
    reason: AssignmentReasonValue | None = None


class ReasonIn(WriteSchema):
    reason: str = _reason()


class AssessmentOut(Schema):
    id: UUID
    kind: str
    score: Decimal
    max_score: Decimal
    pass_mark: Decimal
    passed: bool
    assessed_at: dt.datetime
    assessor_id: UUID | None


class AttendanceOut(Schema):
    id: UUID
    employee_id: UUID
    employee_number: str = Field(..., alias="employee.employee_number")
    employee_name: str = Field(..., alias="employee.full_name")
    assignment_id: UUID | None
    attended: bool | None
    practical_signed_off: bool
    skill_level: int | None
    record_id: UUID | None
    assessments: list[AssessmentOut]

    @staticmethod
    def resolve_assessments(obj) -> list:
        return list(obj.assessments.all())


class SessionOut(Schema):
    id: UUID
    course_id: UUID
    course_code: str = Field(..., alias="course.code")
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    line_id: UUID | None
    trainer_id: UUID | None
    external_trainer: str
    capacity: int
    enrolled: int
    document_revision_id: UUID | None
    status: str


class SessionDetailOut(SessionOut):
    attendances: list[AttendanceOut]

    @staticmethod
    def resolve_attendances(obj) -> list:
        return list(obj.attendances.all())


class SessionIn(WriteSchema):
    course_id: UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    place: str = Field("", max_length=200)
    line_id: UUID | None = None
    trainer_id: UUID | None = Field(None, description="The employee who teaches; must hold the course's trainer qualification.")
    external_trainer: str = Field("", max_length=200, description="Or the name of an external trainer.")
    document_revision_id: UUID | None = Field(
        None, description="Default for a course on a document: the revision in effect at the start."
    )
    reason: str = _reason()


class SessionFilters(PageParams):
    course_id: UUID | None = None
    line_id: UUID | None = None
    trainer_id: UUID | None = None
    status: SessionStatusValue | None = None
    starts_from: dt.datetime | None = Field(None, description="Sessions starting at or after this moment.")
    starts_before: dt.datetime | None = Field(None, description="Sessions starting before this moment.")


class EnrolIn(WriteSchema):
    employee_ids: list[UUID] = Field(..., min_length=1, max_length=500)
    reason: str = _reason()


class AttendanceIn(WriteSchema):
    attended: bool
    practical_signed_off: bool = False
    skill_level: int | None = Field(None, description="1 learning · 2 under supervision · 3 independent · 4 trains others.")
    reason: str = _reason()


class AssessmentIn(WriteSchema):
    kind: AssessmentKindValue = AssessmentKind.WRITTEN.value
    score: Decimal
    assessed_at: dt.datetime | None = Field(None, description="Default: now.")
    assessor_id: UUID | None = None
    reason: str = _reason()


class CompleteIn(WriteSchema):
    password: str = _password()
    reason: str = _reason()


class SignatureOut(Schema):
    id: UUID
    printed_name: str
    meaning: str
    signed_at: dt.datetime


class RecordOut(Schema):
    id: UUID
    employee_id: UUID
    employee_number: str = Field(..., alias="employee.employee_number")
    employee_name: str = Field(..., alias="employee.full_name")
    course_id: UUID
    course_code: str = Field(..., alias="course.code")
    completed_at: dt.datetime
    passed: bool
    score: Decimal | None
    trainer_id: UUID | None
    session_id: UUID | None
    line_id: UUID | None
    document_id: UUID | None
    document_revision: int | None
    document_revision_label: str
    signatures: list[SignatureOut]

    @staticmethod
    def resolve_signatures(obj) -> list:
        return getattr(obj, "signatures", [])


class RecordFilters(PageParams):
    employee_id: UUID | None = None
    course_id: UUID | None = None
    session_id: UUID | None = None
    passed: bool | None = None


class SignIn(WriteSchema):
    password: str = _password()
    reason: str = Field("", max_length=2000)


class EffectivenessOut(Schema):
    id: UUID
    record_id: UUID
    employee_id: UUID = Field(..., alias="record.employee_id")
    course_code: str = Field(..., alias="record.course.code")
    due_on: dt.date
    evaluator_id: UUID | None
    status: str
    evaluated_at: dt.datetime | None
    comment: str


class EffectivenessFilters(PageParams):
    status: EffectivenessStatusValue | None = None
    mine: bool = Field(False, description="Only the checks the caller is to evaluate.")


class EvaluateIn(WriteSchema):
    effective: bool
    comment: str = Field(..., min_length=1, max_length=4000, description="What was observed on the job.")
    password: str = _password()


class CertificateOut(Schema):
    id: UUID
    employee_id: UUID
    qualification_id: UUID
    qualification_code: str = Field(..., alias="qualification.code")
    number: str
    issuer: str
    issued_on: dt.date
    expires_on: dt.date | None
    has_scan: bool
    scan_sha256: str
    grant_id: UUID | None

    @staticmethod
    def resolve_has_scan(obj) -> bool:
        return bool(obj.scan)


class CertificateIn(InputSchema):
    employee_id: UUID
    qualification_id: UUID
    number: str = Field(..., min_length=1, max_length=100)
    issuer: str = Field(..., min_length=1, max_length=200)
    issued_on: dt.date
    expires_on: dt.date | None = None
    reason: str = _reason()


class CertificateFilters(PageParams):
    employee_id: UUID | None = None
    qualification_id: UUID | None = None


# ---- lookups (scoped like the selectors they build on) ---------------------------------------------------


def _session(user, session_id: UUID) -> TrainingSession:
    """The session with its trainees, and how many are enrolled (as the list shows it)."""
    session = loop_selectors.session_get(user=user, session_id=session_id)
    session.enrolled = len(session.attendances.all())
    return session


def _records(user) -> QuerySet[TrainingRecord]:
    return TrainingRecord.objects.filter(employee__in=employees_in_scope(user).values("pk")).select_related(
        "employee", "course")


def _with_signatures(records: list[TrainingRecord]) -> list[TrainingRecord]:
    signatures = trace_signatures(records)
    for record in records:
        record.signatures = signatures.get(str(record.pk), [])
    return records


def _own_session(request) -> None:
    """A signature is given by the person at their own signed-in session: a token authenticates a program
    (the bearer scheme wins over the cookie when both are sent), not the person whose signature it is."""
    if "HTTP_AUTHORIZATION" in request.META:
        raise PermissionDenied(AccountsErrorCode.SIGNATURE_NOT_ALLOWED, _(
            "Signatures are given in your own signed-in session, not with an API token."))


def _check_to_evaluate(user, check_id: UUID) -> EffectivenessCheck:
    """A check the caller evaluates (no `training.view` needed), else one they may see; evaluated checks
    included, so evaluating one twice is refused for what it is rather than as missing."""
    check = EffectivenessCheck.objects.filter(evaluator__user=user, pk=check_id).first()
    if check is None and has_perm(user, Perm.TRAINING_VIEW):
        check = _effectiveness_checks(user).filter(pk=check_id).first()
    if check is None:
        raise _not_found(_("Effectiveness check not found."))
    return check


def _effectiveness_checks(user) -> QuerySet[EffectivenessCheck]:
    return EffectivenessCheck.objects.filter(record__employee__in=employees_in_scope(user).values("pk")).select_related(
        "record__course")


# ---- assignments --------------------------------------------------------------------------------------


@router.get("/assignments", response={200: page_schema(AssignmentOut), **error_responses(403, 422)}, auth=_view,
            operation_id="training_assignment_list")
def assignment_list(request, filters: Query[AssignmentFilters]):
    """Training assignments of the people the caller may see, soonest due first."""
    assignments = loop_selectors.assignment_list(
        user=request.user, mine=False, status=filters.status or "", reason=filters.reason or "",
        course_id=filters.course_id,
    )
    if filters.employee_id is not None:
        assignments = assignments.filter(employee_id=filters.employee_id)
    return paginate(assignments, filters)


@router.post("/assignments", response={201: AssignmentOut, **error_responses(403, 404, 422)}, auth=_manage,
             operation_id="training_assignment_create")
def assignment_create(request, payload: AssignmentIn):
    """Assign a course to a person by a due date; emits `training.assignment.created`."""
    employee = _field("employee_id", employee_for_training, user=request.user, employee_id=payload.employee_id)
    course = _field("course_id", catalogue_selectors.course_get, course_id=payload.course_id)
    qualification = None if payload.qualification_id is None else _field(
        "qualification_id", catalogue_selectors.qualification_get, qualification_id=payload.qualification_id)
    revision = None if payload.document_revision_id is None else _field(
        "document_revision_id", _revision, payload.document_revision_id)
    assignment = services.assignment_create(
        employee=employee, course=course, reason=payload.reason, due_on=payload.due_on, qualification=qualification,
        document_revision=revision, note=payload.note, by=request.user,
    )
    return Status(201, loop_selectors.assignment_get(user=request.user, assignment_id=assignment.pk))


@router.post("/assignments/{assignment_id}/cancel", response={200: AssignmentOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="training_assignment_cancel")
def assignment_cancel(request, assignment_id: UUID, payload: ReasonIn):
    assignment = loop_selectors.assignment_get(user=request.user, assignment_id=assignment_id)
    services.assignment_cancel(assignment=assignment, by=request.user, reason=payload.reason)
    return loop_selectors.assignment_get(user=request.user, assignment_id=assignment_id)


def _revision(pk: UUID) -> DocumentRevision:
    revision = DocumentRevision.objects.filter(pk=pk).first()
    if revision is None:
        raise _not_found(_("Document revision not found."))
    return revision


# ---- sessions -----------------------------------------------------------------------------------------


@router.get("/sessions", response={200: page_schema(SessionOut), **error_responses(403, 422)}, auth=_view,
            operation_id="training_session_list")
def session_list(request, filters: Query[SessionFilters]):
    """Sessions for lines in the caller's scope (and for no particular line), newest first."""
    sessions = loop_selectors.session_list(user=request.user, status=filters.status or "", course_id=filters.course_id)
    for name in ("line_id", "trainer_id"):
        value = getattr(filters, name)
        if value is not None:
            sessions = sessions.filter(**{name: value})
    if filters.starts_from is not None:
        sessions = sessions.filter(starts_at__gte=filters.starts_from)
    if filters.starts_before is not None:
        sessions = sessions.filter(starts_at__lt=filters.starts_before)
    return paginate(sessions, filters)


@router.post("/sessions", response={201: SessionDetailOut, **error_responses(403, 404, 422)}, auth=_manage,
             operation_id="training_session_schedule")
def session_schedule(request, payload: SessionIn):
    """Plan a session; emits `training.session.scheduled`."""
    course = _field("course_id", catalogue_selectors.course_get, course_id=payload.course_id)
    line = None if payload.line_id is None else _field(
        "line_id", org_selectors.org_unit_get, model=ProductionLine, unit_id=payload.line_id)
    trainer = None if payload.trainer_id is None else _field(
        "trainer_id", employee_for_training, user=request.user, employee_id=payload.trainer_id)
    revision = None if payload.document_revision_id is None else _field(
        "document_revision_id", _revision, payload.document_revision_id)
    session = services.session_schedule(
        course=course, starts_at=payload.starts_at, ends_at=payload.ends_at, capacity=payload.capacity,
        place=payload.place, line=line, trainer=trainer, external_trainer=payload.external_trainer,
        document_revision=revision, by=request.user, reason=payload.reason,
    )
    return Status(201, _session(request.user, session.pk))


@router.get("/sessions/{session_id}", response={200: SessionDetailOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="training_session_get")
def session_get(request, session_id: UUID):
    """The session with its trainees, their attendance and assessments."""
    return _session(request.user, session_id)


@router.post("/sessions/{session_id}/cancel", response={200: SessionDetailOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="training_session_cancel")
def session_cancel(request, session_id: UUID, payload: ReasonIn):
    session = loop_selectors.session_get(user=request.user, session_id=session_id)
    services.session_cancel(session=session, by=request.user, reason=payload.reason)
    return _session(request.user, session_id)


@router.post("/sessions/{session_id}/enrol", response={200: SessionDetailOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="training_session_enrol")
def session_enrol(request, session_id: UUID, payload: EnrolIn):
    """Enrol people; each attendance is linked to the person's open assignment for the course."""
    session = loop_selectors.session_get(user=request.user, session_id=session_id)
    employees = [
        _field("employee_ids", employee_for_training, user=request.user, employee_id=pk) for pk in payload.employee_ids
    ]
    services.session_enrol(session=session, employees=employees, by=request.user, reason=payload.reason)
    return _session(request.user, session_id)


@router.patch("/sessions/{session_id}/attendances/{attendance_id}",
              response={200: AttendanceOut, **error_responses(403, 404, 422)}, auth=_manage,
              operation_id="training_attendance_record")
def attendance_record(request, session_id: UUID, attendance_id: UUID, payload: AttendanceIn):
    """Whether the trainee attended, the practical sign-off and the skill level observed."""
    attendance = loop_selectors.attendance_get(
        session=loop_selectors.session_get(user=request.user, session_id=session_id), attendance_id=attendance_id)
    services.attendance_record(
        attendance=attendance, attended=payload.attended, practical_signed_off=payload.practical_signed_off,
        skill_level=payload.skill_level, by=request.user, reason=payload.reason,
    )
    return _attendance_out(attendance_id)


@router.post("/sessions/{session_id}/attendances/{attendance_id}/assessments",
             response={201: AssessmentOut, **error_responses(403, 404, 422)}, auth=_manage,
             operation_id="training_assessment_record")
def assessment_record(request, session_id: UUID, attendance_id: UUID, payload: AssessmentIn):
    """A score on the course's assessment (0 to the course's maximum); passed at the pass mark."""
    attendance = loop_selectors.attendance_get(
        session=loop_selectors.session_get(user=request.user, session_id=session_id), attendance_id=attendance_id)
    assessor = None if payload.assessor_id is None else _field(
        "assessor_id", employee_for_training, user=request.user, employee_id=payload.assessor_id)
    assessment = services.assessment_record(
        attendance=attendance, kind=payload.kind, score=payload.score, assessed_at=payload.assessed_at,
        assessor=assessor, by=request.user, reason=payload.reason,
    )
    return Status(201, assessment)


def _attendance_out(attendance_id: UUID) -> Attendance:
    return Attendance.objects.select_related("employee").prefetch_related(
        Prefetch("assessments", queryset=Assessment.objects.order_by("assessed_at"))).get(pk=attendance_id)


@router.post("/sessions/{session_id}/complete", response={200: list[RecordOut], **error_responses(403, 404, 422)},
             auth=_signer, operation_id="training_session_complete")
def session_complete(request, session_id: UUID, payload: CompleteIn):
    """Close the session, signed by its trainer (meaning "performed") with their password: a training record
    per trainee; for each passed record the course's qualifications are granted
    (`training.record.completed`, `training.qualification.granted`)."""
    _own_session(request)
    session = loop_selectors.session_get(user=request.user, session_id=session_id)
    records = services.session_complete(
        session=session, by=request.user, reason=payload.reason, signer=request.user, password=payload.password
    )
    return _with_signatures(list(TrainingRecord.objects.filter(pk__in=[r.pk for r in records])
                                 .select_related("employee", "course").order_by("employee__employee_number")))


# ---- records ------------------------------------------------------------------------------------------


@router.get("/records", response={200: page_schema(RecordOut), **error_responses(403, 422)}, auth=_view,
            operation_id="training_record_list")
def record_list(request, filters: Query[RecordFilters]):
    """Training records of the people the caller may see, newest first, with their e-signatures."""
    records = _records(request.user)
    for name in ("employee_id", "course_id", "session_id", "passed"):
        value = getattr(filters, name)
        if value is not None:
            records = records.filter(**{name: value})
    page = paginate(records.order_by("-completed_at", "pk"), filters)
    page["items"] = _with_signatures(page["items"])
    return page


@router.get("/records/{record_id}", response={200: RecordOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="training_record_get")
def record_get(request, record_id: UUID):
    record = _records(request.user).filter(pk=record_id).first()
    if record is None:
        raise _not_found(_("Training record not found."))
    return _with_signatures([record])[0]


@router.post("/records/{record_id}/sign", response={200: RecordOut, **error_responses(403, 404, 409, 422)},
             auth=_signer, operation_id="training_record_sign")
def record_sign(request, record_id: UUID, payload: SignIn):
    """The trainee signs their own record (meaning "reviewed") with their password."""
    _own_session(request)
    record = loop_selectors.my_record_get(user=request.user, record_id=record_id)
    services.record_sign_trainee(record=record, signer=request.user, password=payload.password, reason=payload.reason)
    return _with_signatures([TrainingRecord.objects.select_related("employee", "course").get(pk=record_id)])[0]


# ---- effectiveness checks -----------------------------------------------------------------------------


@router.get("/effectiveness-checks", response={200: page_schema(EffectivenessOut), **error_responses(403, 422)},
            auth=_view, operation_id="training_effectiveness_list")
def effectiveness_list(request, filters: Query[EffectivenessFilters]):
    """Effectiveness checks of trainings of people the caller may see, soonest due first."""
    checks = _effectiveness_checks(request.user)
    if filters.status is not None:
        checks = checks.filter(status=filters.status)
    if filters.mine:
        checks = checks.filter(evaluator__user=request.user)
    return paginate(checks.order_by("due_on", "pk"), filters)


@router.post("/effectiveness-checks/{check_id}/evaluate",
             response={200: EffectivenessOut, **error_responses(403, 404, 422)}, auth=_signer,
             operation_id="training_effectiveness_evaluate")
def effectiveness_evaluate(request, check_id: UUID, payload: EvaluateIn):
    """The evaluator judges the training on the job, signing "reviewed"; not effective assigns it again."""
    _own_session(request)
    check = _check_to_evaluate(request.user, check_id)
    services.effectiveness_evaluate(
        check=check, effective=payload.effective, comment=payload.comment, by=request.user, password=payload.password
    )
    return EffectivenessCheck.objects.select_related("record__course").get(pk=check_id)


# ---- certificates -------------------------------------------------------------------------------------


@router.get("/certificates", response={200: page_schema(CertificateOut), **error_responses(403, 422)}, auth=_view,
            operation_id="training_certificate_list")
def certificate_list(request, filters: Query[CertificateFilters]):
    certificates = Certificate.objects.filter(
        employee__in=employees_in_scope(request.user).values("pk")).select_related("qualification")
    for name in ("employee_id", "qualification_id"):
        value = getattr(filters, name)
        if value is not None:
            certificates = certificates.filter(**{name: value})
    return paginate(certificates.order_by("employee_id", "-issued_on", "pk"), filters)


@router.post("/certificates", response={201: CertificateOut, **error_responses(403, 404, 422)}, auth=_manage,
             operation_id="training_certificate_record")
def certificate_record(request, payload: Form[CertificateIn], scan: File[UploadedFile] = None):
    """Record a certificate (multipart form; `scan`: a PDF, PNG or JPEG file) and grant its qualification
    from the issue date until the expiry date."""
    employee = _field("employee_id", employee_for_training, user=request.user, employee_id=payload.employee_id)
    qualification = _field("qualification_id", catalogue_selectors.qualification_get,
                           qualification_id=payload.qualification_id)
    certificate = certificate_services.certificate_record(
        employee=employee, qualification=qualification, number=payload.number, issuer=payload.issuer,
        issued_on=payload.issued_on, expires_on=payload.expires_on, scan=scan, by=request.user, reason=payload.reason,
    )
    return Status(201, Certificate.objects.select_related("qualification").get(pk=certificate.pk))
