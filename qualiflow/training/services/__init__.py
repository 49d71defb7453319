"""Writes for the qualification catalogue, courses, requirements and the facts status is computed from.

Every write needs a reason (the records are regulated), is audited by the model layer and emits its event
in the same transaction. `by` None is the system itself (seed, import, the completion of a training loop);
a user passed as `by` must hold `training.manage` over the employee concerned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, NoReturn
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import SignatureMeaning, User
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.services import esignature_sign
from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.core.validation import assign, full_clean, require_reason
from qualiflow.integration import events
from qualiflow.org.models import Position
from qualiflow.people.models import Employee

from ..errors import TrainingErrorCode
from ..models import (
    CAPABILITY_CODE,
    Course,
    CourseKind,
    CourseQualification,
    GrantSource,
    Qualification,
    QualificationGrant,
    QualificationRevocation,
    QualificationSuspension,
    Requirement,
    TargetKind,
    TrainingRecord,
)

QUALIFICATION_FIELDS = (
    "code", "name", "name_en", "kind", "validity_days", "renewal_lead_days", "requires_practical_signoff",
    "min_skill_level", "is_active", "description", "external_refs",
)
COURSE_FIELDS = (
    "code", "name", "name_en", "kind", "duration_hours", "max_score", "pass_mark", "e_learning_url", "document",
    "effectiveness_check_days", "trainer_qualification", "is_active", "external_refs",
)


def _authorize(by, employee: Employee | None = None) -> None:
    if by is None or has_perm(by, Perm.TRAINING_MANAGE, employee):
        return
    if employee is None:
        raise PermissionDenied(TrainingErrorCode.OUT_OF_SCOPE, _("You are not allowed to manage training."))
    raise PermissionDenied(
        TrainingErrorCode.OUT_OF_SCOPE, _("You are not allowed to manage the qualifications of this employee.")
    )


def _refuse(field: str, message, code: TrainingErrorCode) -> NoReturn:
    raise ValidationFailed(message, fields={field: [message]}, code=code)


def _refuse_taken_code(model: type[Qualification | Course], code: str) -> None:
    if code and model.objects.filter(code=code).exists():
        _refuse("code", _("The code %(code)s is already used.") % {"code": code}, TrainingErrorCode.CODE_TAKEN)


def _refuse_inactive(qualification: Qualification, field: str = "qualification") -> None:
    if not qualification.is_active:
        _refuse(
            field, _("The qualification %(code)s is no longer in use.") % {"code": qualification.code},
            TrainingErrorCode.QUALIFICATION_INACTIVE,
        )


def _require_moment(field: str, value: Any, code: TrainingErrorCode) -> None:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        _refuse(field, _("Enter a date and time with its time zone."), code)


def _qualification_payload(qualification: Qualification) -> dict[str, Any]:
    return {
        "code": qualification.code,
        "name": qualification.name,
        "kind": qualification.kind,
        "validity_days": qualification.validity_days,
        "renewal_lead_days": qualification.renewal_lead_days,
        "is_active": qualification.is_active,
    }


def _fact_payload(employee: Employee, qualification: Qualification) -> dict[str, Any]:
    return {
        "employee_id": employee.pk,
        "employee_number": employee.employee_number,
        "qualification_id": qualification.pk,
        "qualification_code": qualification.code,
    }


@transaction.atomic
def qualification_create(*, data: dict[str, Any], by=None, reason: str = "") -> Qualification:
    reason = require_reason(Qualification, reason)
    _authorize(by)
    qualification = Qualification()
    assign(qualification, data, QUALIFICATION_FIELDS)
    _refuse_taken_code(Qualification, qualification.code)
    full_clean(qualification)
    with context.acting(reason=reason):
        qualification.save()
        events.emit(
            "training.qualification.created", f"training/qualification/{qualification.pk}",
            _qualification_payload(qualification),
        )
    return qualification


@transaction.atomic
def course_create(
    *, data: dict[str, Any], confers: Iterable[Qualification] = (), by=None, reason: str = ""
) -> Course:
    """A course and the qualifications passing it confers."""
    reason = require_reason(Course, reason)
    _authorize(by)
    confers = list(dict.fromkeys(confers))
    course = Course()
    assign(course, data, COURSE_FIELDS)
    _refuse_taken_code(Course, course.code)
    if (course.pass_mark is None) != (course.max_score is None):
        missing = "max_score" if course.max_score is None else "pass_mark"
        _refuse(missing, _("Give both the pass mark and the maximum score, or neither."), TrainingErrorCode.COURSE_INVALID)
    if course.kind == CourseKind.READ_AND_UNDERSTAND and course.document is None:
        _refuse("document", _("A read-and-understand course names the document read."), TrainingErrorCode.COURSE_INVALID)
    for qualification in confers:
        _refuse_inactive(qualification, "confers")
    if course.trainer_qualification is not None:
        _refuse_inactive(course.trainer_qualification, "trainer_qualification")
    full_clean(course)
    with context.acting(reason=reason):
        course.save()
        CourseQualification.objects.bulk_create(
            [CourseQualification(course=course, qualification=q) for q in confers]
        )
        events.emit(
            "training.course.created", f"training/course/{course.pk}",
            {"code": course.code, "name": course.name, "kind": course.kind,
             "confers": sorted(q.code for q in confers)},
        )
    return course


# Some requirement targets belong to records of a higher layer with their own change control (a production
# operation is part of a routing that is approved with an e-signature). That layer registers a guard per
# target kind: given the target id, it returns why the target's requirements may not change now, or None.
RequirementTargetGuard = Callable[[UUID], str | None]
_requirement_target_guards: dict[str, RequirementTargetGuard] = {}


def requirement_target_guard_register(target_kind: str, guard: RequirementTargetGuard) -> None:
    _requirement_target_guards[target_kind] = guard


def refuse_locked_target(target_kind: str, target_id: UUID | None) -> None:
    guard = _requirement_target_guards.get(target_kind)
    message = guard(target_id) if guard is not None and target_id is not None else None
    if message:
        _refuse("target_id", message, TrainingErrorCode.REQUIREMENT_TARGET_LOCKED)


@transaction.atomic
def requirement_set(
    *,
    qualification: Qualification,
    target_kind: str,
    target_id: UUID | None = None,
    capability: str = "",
    mandatory: bool = True,
    grace_days: int = 0,
    by=None,
    reason: str = "",
) -> Requirement:
    """Make `qualification` required for a target, or change how; unchanged settings write nothing."""
    reason = require_reason(Requirement, reason)
    _authorize(by)
    capability = (capability or "").strip()
    if target_kind not in TargetKind.values:
        _refuse("target_kind", _("Unknown kind of requirement target."), TrainingErrorCode.REQUIREMENT_TARGET_INVALID)
    if target_kind == TargetKind.CAPABILITY:
        if target_id is not None or not capability:
            _refuse("capability", _("Name the capability, and no target record."),
                    TrainingErrorCode.REQUIREMENT_TARGET_INVALID)
        if not CAPABILITY_CODE.regex.match(capability):
            _refuse("capability", CAPABILITY_CODE.message, TrainingErrorCode.REQUIREMENT_TARGET_INVALID)
        existing = Requirement.objects.filter(qualification=qualification, target_kind=target_kind, capability=capability)
    else:
        if target_id is None or capability:
            _refuse("target_id", _("Choose the target record, and no capability."),
                    TrainingErrorCode.REQUIREMENT_TARGET_INVALID)
        if target_kind == TargetKind.POSITION and not Position.objects.filter(pk=target_id).exists():
            _refuse("target_id", _("This position does not exist."), TrainingErrorCode.REQUIREMENT_TARGET_INVALID)
        existing = Requirement.objects.filter(qualification=qualification, target_kind=target_kind, target_id=target_id)
    requirement = existing.select_for_update().first()
    created = requirement is None
    if created:
        _refuse_inactive(qualification)
        requirement = Requirement(
            qualification=qualification, target_kind=target_kind, target_id=target_id, capability=capability
        )
    elif (requirement.mandatory, requirement.grace_days) == (mandatory, grace_days):
        return requirement
    refuse_locked_target(target_kind, target_id)
    requirement.mandatory = mandatory
    requirement.grace_days = grace_days
    full_clean(requirement)
    with context.acting(reason=reason):
        requirement.save()
        events.emit(
            "training.requirement.created" if created else "training.requirement.updated",
            f"training/requirement/{requirement.pk}",
            {"qualification_id": qualification.pk, "qualification_code": qualification.code,
             "target_kind": target_kind, "target_id": target_id, "capability": capability,
             "mandatory": mandatory, "grace_days": grace_days},
        )
    return requirement


def _refuse_bad_evidence(employee: Employee, source: str, evidence: Any, certificate_number: str) -> None:
    code = TrainingErrorCode.GRANT_EVIDENCE_INVALID
    if not isinstance(evidence, dict):
        _refuse("evidence", _("Evidence must be a set of named values."), code)
    if source == GrantSource.CERTIFICATE and not certificate_number.strip():
        _refuse("certificate_number", _("A grant from a certificate needs the certificate number."), code)
    if source == GrantSource.TRAINING_RECORD:
        record_ids = evidence.get("training_record_ids")
        if not isinstance(record_ids, list) or not record_ids:
            _refuse("evidence", _("A grant from training needs the training records it rests on."), code)
        try:
            wanted = {UUID(str(r)) for r in record_ids}
        except ValueError:
            _refuse("evidence", _("A training record reference is not valid."), code)
        found = set(
            TrainingRecord.objects.filter(pk__in=wanted, employee=employee, passed=True).values_list("pk", flat=True)
        )
        if found != wanted:
            _refuse("evidence", _("Only passed training records of this employee can support the grant."), code)


@transaction.atomic
def qualification_grant(
    *,
    employee: Employee,
    qualification: Qualification,
    valid_from: datetime,
    valid_until: datetime | None = None,
    source: str,
    evidence: dict[str, Any] | None = None,
    certificate_number: str = "",
    issuer: str = "",
    by=None,
    reason: str = "",
) -> QualificationGrant:
    """Grant `qualification` from `valid_from`; without `valid_until` it lasts the qualification's validity."""
    reason = require_reason(QualificationGrant, reason)
    evidence = {} if evidence is None else evidence
    code = TrainingErrorCode.GRANT_DATES_INVALID
    _require_moment("valid_from", valid_from, code)
    if valid_until is None:
        if qualification.validity_days is not None:
            valid_until = valid_from + timedelta(days=qualification.validity_days)
    else:
        _require_moment("valid_until", valid_until, code)
        if valid_until <= valid_from:
            _refuse("valid_until", _("The valid-until date must be after the valid-from date."), code)
    if source not in GrantSource.values:
        _refuse("source", _("Unknown source of the grant."), TrainingErrorCode.GRANT_EVIDENCE_INVALID)
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    _authorize(by, employee)
    _refuse_inactive(qualification)
    _refuse_bad_evidence(employee, source, evidence, certificate_number)
    grant = QualificationGrant(
        employee=employee, qualification=qualification, valid_from=valid_from, valid_until=valid_until,
        source=source, evidence=evidence, certificate_number=certificate_number.strip(), issuer=issuer.strip(),
    )
    full_clean(grant)
    with context.acting(reason=reason):
        grant.save()
        events.emit(
            "training.qualification.granted", f"training/grant/{grant.pk}",
            {**_fact_payload(employee, qualification), "grant_id": grant.pk, "valid_from": valid_from,
             "valid_until": valid_until, "source": source, "certificate_number": grant.certificate_number},
        )
    return grant


def _signer_and_password(signer: User | None, password: str | None) -> None:
    if (signer is None) != (password is None):
        _refuse(
            "password" if password is None else "signer", _("A signature needs both the signer and their password."),
            TrainingErrorCode.SIGNATURE_INCOMPLETE,
        )


def _refuse_not_held(employee: Employee, qualification: Qualification, at: datetime, field: str) -> None:
    if not QualificationGrant.objects.filter(employee=employee, qualification=qualification, valid_from__lte=at).exists():
        _refuse(
            field,
            _("%(employee)s has not been granted %(qualification)s by then.") % {
                "employee": employee.full_name, "qualification": qualification.code},
            TrainingErrorCode.NOT_HELD,
        )


def _sign(record, signer: User | None, password: str | None, reason: str) -> str | None:
    """Approve the record with an e-signature; a wrong password raises and the whole action is undone."""
    if signer is None:
        return None
    signature = esignature_sign(
        signer=signer, password=password or "", record=record, meaning=SignatureMeaning.APPROVED, reason=reason
    )
    return str(signature.pk)


@transaction.atomic
def qualification_suspend(
    *,
    employee: Employee,
    qualification: Qualification,
    reason: str,
    start: datetime | None = None,
    end: datetime | None = None,
    by=None,
    signer: User | None = None,
    password: str | None = None,
) -> QualificationSuspension:
    """Stop the use of a held qualification from `start` until `end` (None: until lifted)."""
    reason = require_reason(QualificationSuspension, reason)
    _signer_and_password(signer, password)
    start = timezone.now() if start is None else start
    code = TrainingErrorCode.SUSPENSION_DATES_INVALID
    _require_moment("start", start, code)
    if end is not None:
        _require_moment("end", end, code)
        if end <= start:
            _refuse("end", _("A suspension must end after it starts."), code)
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    _authorize(by, employee)
    _refuse_not_held(employee, qualification, start, "start")
    suspension = QualificationSuspension(
        employee=employee, qualification=qualification, start=start, end=end, reason=reason
    )
    full_clean(suspension)
    with context.acting(reason=reason):
        suspension.save()
        signature_id = _sign(suspension, signer, password, reason)
        events.emit(
            "training.qualification.suspended", f"training/suspension/{suspension.pk}",
            {**_fact_payload(employee, qualification), "suspension_id": suspension.pk, "start": start, "end": end,
             "reason": reason, "signature_id": signature_id},
        )
    return suspension


@transaction.atomic
def qualification_revoke(
    *,
    employee: Employee,
    qualification: Qualification,
    reason: str,
    at: datetime | None = None,
    by=None,
    signer: User | None = None,
    password: str | None = None,
) -> QualificationRevocation:
    """Withdraw every grant made before `at`; only a new grant qualifies the person again."""
    reason = require_reason(QualificationRevocation, reason)
    _signer_and_password(signer, password)
    at = timezone.now() if at is None else at
    _require_moment("at", at, TrainingErrorCode.REVOCATION_DATE_INVALID)
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    _authorize(by, employee)
    _refuse_not_held(employee, qualification, at, "at")
    revocation = QualificationRevocation(employee=employee, qualification=qualification, at=at, reason=reason)
    full_clean(revocation)
    with context.acting(reason=reason):
        revocation.save()
        signature_id = _sign(revocation, signer, password, reason)
        events.emit(
            "training.qualification.revoked", f"training/revocation/{revocation.pk}",
            {**_fact_payload(employee, qualification), "revocation_id": revocation.pk, "at": at,
             "reason": reason, "signature_id": signature_id},
        )
    return revocation
