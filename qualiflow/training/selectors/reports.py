"""Reads behind the views people ask for: the training matrix, a person's status and passport, the
traceability query and the coordinator's calendar of sessions.

Everything is scoped to where the reader holds `training.view`. Status is computed, never stored: the
matrix loads the facts of a page of people with `facts_for` (a fixed number of queries for any number of
people) and runs the pure status function per cell, so 1 and 10,000 people take the same queries.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.permissions import Scope, has_perm, scope_for
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.selectors import SignatureView
from qualiflow.accounts.services import content_hash
from qualiflow.audit.tracking import object_type
from qualiflow.core.errors import CoreErrorCode, NotFound, PermissionDenied, ValidationFailed
from qualiflow.documents.models import Document
from qualiflow.org.models import Position, Site
from qualiflow.people.models import Employee, PositionAssignment
from qualiflow.people.selectors import scope_q

from ..domain import status as domain
from ..errors import TrainingErrorCode
from ..models import (
    AssignmentStatus,
    Certificate,
    Qualification,
    Requirement,
    TargetKind,
    TrainingAssignment,
    TrainingRecord,
    TrainingSession,
)
from . import domain_qualifications, facts_for, revisions_for

# A cell for a qualification the person's position does not require and that they do not hold.
NOT_REQUIRED = "not_required"
# Cell states in the order the legend shows them.
CELL_STATES: tuple[str, ...] = (*(s.value for s in domain.State), NOT_REQUIRED)
STATE_LABELS: dict[str, Any] = {
    domain.State.QUALIFIED: _("Qualified"),
    domain.State.EXPIRING: _("Expiring"),
    domain.State.EXPIRED: _("Expired"),
    domain.State.SUSPENDED: _("Suspended"),
    domain.State.REVOKED: _("Revoked"),
    domain.State.RETRAINING_REQUIRED: _("Retraining required"),
    domain.State.MISSING: _("Missing"),
    NOT_REQUIRED: _("Not required"),
}
STATE_DESCRIPTIONS: dict[str, Any] = {
    domain.State.QUALIFIED: _("Holds a valid grant."),
    domain.State.EXPIRING: _("Still valid, but within the renewal lead time."),
    domain.State.EXPIRED: _("Every grant has run out."),
    domain.State.SUSPENDED: _("A suspension is in force."),
    domain.State.REVOKED: _("Withdrawn; only a new grant qualifies again."),
    domain.State.RETRAINING_REQUIRED: _("A newer revision of a linked document is in effect past its grace period."),
    domain.State.MISSING: _("Required but never granted."),
    NOT_REQUIRED: _("Not required by the position and not held."),
}
TRACE_PAGE_MAX = 500


def _moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _day(value: dt.datetime | None, zone: dt.tzinfo) -> str:
    return value.astimezone(zone).date().isoformat() if value else ""


def finding_text(finding: domain.Finding, *, zone: dt.tzinfo, documents: dict[str, str] | None = None) -> str:
    """One reason of a status in the reader's language, dates as days in `zone`."""
    documents = documents or {}
    param = finding.param
    code = finding.code
    if code == domain.Reason.NO_GRANT:
        return str(_("Never granted."))
    if code == domain.Reason.EXPIRED:
        return str(_("Expired on %(day)s.") % {"day": _day(_moment(param("at")), zone)})
    if code == domain.Reason.EXPIRES_SOON:
        return str(_("Valid until %(day)s; renewal is due.") % {"day": _day(_moment(param("at")), zone)})
    if code == domain.Reason.VALID:
        until = _moment(param("until"))
        return str(_("Valid until %(day)s.") % {"day": _day(until, zone)} if until else _("Valid; does not expire."))
    if code == domain.Reason.SUSPENDED:
        return str(_("Suspended since %(day)s: %(reason)s") % {
            "day": _day(_moment(param("since")), zone), "reason": param("reason") or ""})
    if code == domain.Reason.REVOKED:
        return str(_("Revoked on %(day)s: %(reason)s") % {
            "day": _day(_moment(param("at")), zone), "reason": param("reason") or ""})
    if code in (domain.Reason.NEWER_REVISION, domain.Reason.NEWER_REVISION_IN_GRACE):
        values = {
            "document": documents.get(param("document") or "", param("document") or ""),
            "revision": param("revision") or "", "day": _day(_moment(param("due")), zone),
        }
        if code == domain.Reason.NEWER_REVISION:
            return str(_("Revision %(revision)s of %(document)s is in effect; retraining was due by %(day)s.") % values)
        return str(_("Revision %(revision)s of %(document)s is in effect; retrain by %(day)s.") % values)
    if code == domain.Reason.REQUIREMENT_IN_GRACE:
        return str(_("Required from %(day)s (grace period after assignment).") % {
            "day": _day(_moment(param("until")), zone)})
    return str(_("No qualification is attached to the capability %(capability)s.") % {
        "capability": param("capability") or ""})


# ---- shared pieces -------------------------------------------------------------------------------------


def report_zone(site_id: UUID | None = None) -> zoneinfo.ZoneInfo:
    """The time zone days are counted in: the chosen site's, else the one all active sites share, else UTC."""
    if site_id is not None:
        zone = Site.objects.filter(pk=site_id).values_list("time_zone", flat=True).first()
        if zone:
            return zoneinfo.ZoneInfo(zone)
    zones = set(Site.objects.filter(is_active=True).values_list("time_zone", flat=True))
    return zoneinfo.ZoneInfo(zones.pop()) if len(zones) == 1 else zoneinfo.ZoneInfo("UTC")


def moment_of(day: dt.date | None, zone: dt.tzinfo) -> dt.datetime:
    """Status "on" a day: now for today (or no day), the last instant of the day otherwise."""
    now = timezone.now()
    if day is None or day == now.astimezone(zone).date():
        return now
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone) - dt.timedelta(microseconds=1)


def _require_view(user) -> Scope:
    scope = scope_for(user, Perm.TRAINING_VIEW)
    if scope.nothing:
        raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to see training records."))
    return scope


def employees_in_scope(user) -> QuerySet[Employee]:
    """Employees whose training `user` may see: those in the scope of `training.view`, and their own record."""
    scope = _require_view(user)
    if scope.everywhere:
        return Employee.objects.all()
    return Employee.objects.filter(scope_q(scope) | Q(user_id=user.pk))


def employee_for_training(*, user, employee_id: UUID | str) -> Employee:
    """The employee, if `user` may see their training (with `training.view` over them, or as the person
    themselves: everyone may see their own qualifications and passport): NotFound when there is none,
    PermissionDenied otherwise."""
    employee = (
        Employee.objects.select_related("site", "department", "line", "position", "manager")
        .filter(pk=employee_id).first()
    )
    if employee is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Employee not found."))
    if has_perm(user, Perm.TRAINING_VIEW, employee) or (employee.user_id is not None and employee.user_id == user.pk):
        return employee
    if has_perm(user, Perm.TRAINING_VIEW):
        raise PermissionDenied(TrainingErrorCode.OUT_OF_SCOPE, _("This employee is outside the area you may see."))
    raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to do this."))


def _covering(day: dt.date) -> Q:
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gt=day))


@dataclass(frozen=True)
class PositionAt:
    position_id: UUID
    start_date: dt.date | None  # None: taken from the employee record, no assignment history


def positions_at(people: QuerySet[Employee] | Sequence[Employee], day: dt.date) -> dict[UUID, PositionAt]:
    """Each person's position on `day`, from the assignment history (one query, plus one for the positions on
    record when `people` is a queryset). People without any history fall back to the position on their record."""
    if isinstance(people, QuerySet):
        rows = PositionAssignment.objects.filter(employee__in=people.values("pk"))
        current = dict(people.values_list("pk", "position_id"))
    else:
        rows = PositionAssignment.objects.filter(employee_id__in=[p.pk for p in people])
        current = {p.pk: p.position_id for p in people}
    held: dict[UUID, PositionAt] = {}
    with_history: set[UUID] = set()
    for employee_id, position_id, start, end in rows.values_list("employee_id", "position_id", "start_date", "end_date"):
        with_history.add(employee_id)
        if start <= day and (end is None or day < end):
            held[employee_id] = PositionAt(position_id, start)
    for employee_id, position_id in current.items():
        if employee_id not in with_history and position_id is not None:
            held[employee_id] = PositionAt(position_id, None)
    return held


@dataclass(frozen=True)
class RequiredBy:
    qualification_id: UUID
    mandatory: bool
    grace_days: int


def position_requirements(position_ids: Iterable[UUID]) -> dict[UUID, list[RequiredBy]]:
    """The active qualifications each position requires (one query)."""
    required: dict[UUID, list[RequiredBy]] = defaultdict(list)
    rows = Requirement.objects.filter(
        target_kind=TargetKind.POSITION, target_id__in=list(set(position_ids)), qualification__is_active=True
    ).values_list("target_id", "qualification_id", "mandatory", "grace_days")
    for position_id, qualification_id, mandatory, grace_days in rows:
        required[position_id].append(RequiredBy(qualification_id, mandatory, grace_days))
    return required


class StatusCalculator:
    """Computes statuses at one moment, with the qualifications' controlled documents and their revisions
    loaded once (three queries), so a cell costs no query."""

    def __init__(self, qualifications: Iterable[Qualification], at: dt.datetime) -> None:
        self.at = at
        self.ids = [q.pk for q in qualifications]
        self.domain = domain_qualifications(self.ids)
        self.revisions = revisions_for(self.ids) if self.ids else []
        # Document codes, for the reasons that name a document.
        self.documents = {
            str(pk): code for pk, code in Document.objects.filter(
                pk__in={r.document_id for r in self.revisions}
            ).values_list("pk", "code")
        } if self.revisions else {}

    def statuses(self, facts: domain.PersonFacts) -> tuple[domain.QualificationStatus, ...]:
        """The person's status for every qualification, in the order given."""
        return domain.qualification_statuses(
            person=facts, qualifications=[self.domain[pk] for pk in self.ids], revisions=self.revisions, at=self.at
        )


def _enforced_from(position: PositionAt | None, requirement: RequiredBy, zone: dt.tzinfo) -> dt.datetime | None:
    """End of the grace period after the person took the position (None: enforced at once)."""
    if position is None or position.start_date is None or not requirement.grace_days:
        return None
    start = dt.datetime.combine(position.start_date, dt.time.min, tzinfo=zone)
    return (start + dt.timedelta(days=requirement.grace_days)).astimezone(dt.UTC)


@dataclass(frozen=True)
class ReasonText:
    """One reason of a status: its stable code, the message in the reader's language and its values."""

    code: str
    message: str
    params: tuple[tuple[str, str], ...] = ()


def _reason(finding: domain.Finding, zone: dt.tzinfo, documents: dict[str, str]) -> ReasonText:
    return ReasonText(finding.code.value, finding_text(finding, zone=zone, documents=documents), finding.params)


@dataclass(frozen=True)
class Cell:
    """Where one person stands with one qualification."""

    qualification_id: UUID
    state: str  # a domain State value, or NOT_REQUIRED
    required: bool  # a mandatory requirement of the person's position
    requested: bool  # required by the position, mandatory or not
    valid_until: dt.datetime | None
    reasons: tuple[ReasonText, ...]
    evidence: tuple[str, ...]
    in_grace_until: dt.datetime | None = None

    @property
    def label(self):
        return STATE_LABELS[self.state]


def _cell(
    status: domain.QualificationStatus, requirement: RequiredBy | None, position: PositionAt | None,
    calculator: StatusCalculator, zone: dt.tzinfo,
) -> Cell:
    qualification_id = UUID(status.qualification_id)
    state = status.state.value
    if requirement is None and status.state == domain.State.MISSING:
        state = NOT_REQUIRED
    reasons = [_reason(f, zone, calculator.documents) for f in status.findings]
    in_grace_until = None
    if requirement is not None and not status.allowed:
        enforced_from = _enforced_from(position, requirement, zone)
        if enforced_from is not None and calculator.at < enforced_from:
            in_grace_until = enforced_from
            grace = domain.Finding(
                domain.Reason.REQUIREMENT_IN_GRACE, status.qualification_id, (("until", enforced_from.isoformat()),)
            )
            reasons.append(_reason(grace, zone, calculator.documents))
    if state == NOT_REQUIRED:
        reasons = [ReasonText(NOT_REQUIRED, str(STATE_DESCRIPTIONS[NOT_REQUIRED]))]
    return Cell(
        qualification_id=qualification_id, state=state,
        required=requirement is not None and requirement.mandatory, requested=requirement is not None,
        valid_until=status.valid_until, reasons=tuple(reasons), evidence=status.evidence,
        in_grace_until=in_grace_until,
    )


# ---- training matrix -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixFilters:
    day: dt.date | None = None  # None: today
    site_id: UUID | None = None
    department_id: UUID | None = None
    line_id: UUID | None = None
    position_id: UUID | None = None
    qualification_ids: tuple[UUID, ...] = ()  # empty: the qualifications the people's positions require


@dataclass(frozen=True)
class MatrixRow:
    employee: Employee
    position: Position | None
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Matrix:
    at: dt.datetime
    day: dt.date
    zone: zoneinfo.ZoneInfo
    columns: tuple[Qualification, ...]
    rows: tuple[MatrixRow, ...]
    total: int  # people in scope, over every page


def matrix_people(*, user, filters: MatrixFilters, day: dt.date) -> QuerySet[Employee]:
    """The people of the matrix: in the reader's scope, employed on `day`, matching the filters."""
    people = employees_in_scope(user).filter(hire_date__lte=day).filter(
        Q(termination_date__isnull=True) | Q(termination_date__gte=day)
    )
    for name in ("site_id", "department_id", "line_id"):
        value = getattr(filters, name)
        if value is not None:
            people = people.filter(**{name: value})
    if filters.position_id is not None:
        history = PositionAssignment.objects.filter(employee_id=OuterRef("pk"))
        people = people.filter(
            Exists(history.filter(_covering(day), position_id=filters.position_id))
            | (~Exists(history) & Q(position_id=filters.position_id))
        )
    return people.order_by("employee_number")


def training_matrix(*, user, filters: MatrixFilters, limit: int | None = None, offset: int = 0) -> Matrix:
    """People by qualifications at the end of `filters.day` (now, for today), a page of rows at a time."""
    zone = report_zone(filters.site_id)
    at = moment_of(filters.day, zone)
    day = at.astimezone(zone).date()
    everyone = matrix_people(user=user, filters=filters, day=day)
    if limit is None:
        page: Sequence[Employee] = list(everyone.select_related("site", "department", "line"))
        people_arg: Any = everyone
        total = len(page)
    else:
        total = everyone.count()
        page = list(everyone.select_related("site", "department", "line")[offset:offset + limit])
        people_arg = page
    # Columns come from every person in scope, so they stay the same from page to page.
    positions_all = positions_at(everyone, day)
    required = position_requirements(p.position_id for p in positions_all.values())
    if filters.qualification_ids:
        column_ids = set(filters.qualification_ids)
    else:
        column_ids = {r.qualification_id for reqs in required.values() for r in reqs}
    columns = tuple(Qualification.objects.filter(pk__in=column_ids).order_by("code"))
    calculator = StatusCalculator(columns, at)
    facts = facts_for(people_arg, qualification_ids=[q.pk for q in columns]) if page and columns else {}
    positions = Position.objects.in_bulk({positions_all[p.pk].position_id for p in page if p.pk in positions_all})
    rows = []
    for employee in page:
        position = positions_all.get(employee.pk)
        by_qualification = {r.qualification_id: r for r in required.get(position.position_id, ())} if position else {}
        person = facts.get(employee.pk, domain.PersonFacts(str(employee.pk)))
        cells = tuple(
            _cell(status, by_qualification.get(q.pk), position, calculator, zone)
            for q, status in zip(columns, calculator.statuses(person), strict=True)
        )
        rows.append(MatrixRow(employee, positions.get(position.position_id) if position else None, cells))
    return Matrix(at=at, day=day, zone=zone, columns=columns, rows=tuple(rows), total=total)


# ---- one person's status -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualificationLine:
    qualification: Qualification
    cell: Cell


@dataclass(frozen=True)
class EmployeeStatus:
    employee: Employee
    at: dt.datetime
    zone: zoneinfo.ZoneInfo
    position: Position | None
    allowed: bool  # every mandatory requirement met (or in its grace period)
    lines: tuple[QualificationLine, ...]


def _employee_status(employee: Employee, at: dt.datetime, *, include_held: bool) -> EmployeeStatus:
    zone = zoneinfo.ZoneInfo(employee.site.time_zone)
    day = at.astimezone(zone).date()
    position = positions_at([employee], day).get(employee.pk)
    required = {r.qualification_id: r for r in position_requirements([position.position_id] if position else [])
                .get(position.position_id if position else None, [])}
    ids = set(required)
    person = facts_for([employee.pk])[employee.pk]
    if include_held:
        ids |= {UUID(f.qualification_id) for f in (*person.grants, *person.suspensions, *person.revocations)}
    qualifications = list(Qualification.objects.filter(pk__in=ids).order_by("code"))
    calculator = StatusCalculator(qualifications, at)
    lines = tuple(
        QualificationLine(q, _cell(status, required.get(q.pk), position, calculator, zone))
        for q, status in zip(qualifications, calculator.statuses(person), strict=True)
    )
    allowed = all(
        line.cell.state in domain.ALLOWED_STATES or not line.cell.required or line.cell.in_grace_until is not None
        for line in lines
    )
    return EmployeeStatus(
        employee=employee, at=at, zone=zone,
        position=Position.objects.filter(pk=position.position_id).first() if position else None,
        allowed=allowed, lines=lines,
    )


def employee_status(*, user, employee_id: UUID | str, at: dt.datetime | None = None) -> EmployeeStatus:
    """Every qualification the employee's position requires at `at` (default now), with state, reasons and
    evidence."""
    employee = employee_for_training(user=user, employee_id=employee_id)
    return _employee_status(employee, timezone.now() if at is None else at, include_held=False)


@dataclass(frozen=True)
class EmployeeTraining:
    status: EmployeeStatus
    records: list[TrainingRecord]
    assignments: list[TrainingAssignment]


def _records_with_documents(records: QuerySet[TrainingRecord]) -> QuerySet[TrainingRecord]:
    return records.select_related("course", "trainer", "session", "line", "session__line").annotate(
        document_code=Subquery(Document.objects.filter(pk=OuterRef("document_id")).values("code")[:1])
    )


def employee_training(*, user, employee_id: UUID | str) -> EmployeeTraining:
    """A person's training tab: required qualifications now, their training records and open assignments."""
    employee = employee_for_training(user=user, employee_id=employee_id)
    status = _employee_status(employee, timezone.now(), include_held=False)
    records = list(_records_with_documents(employee.training_records.order_by("-completed_at")))
    assignments = list(
        employee.training_assignments.filter(status=AssignmentStatus.OPEN)
        .select_related("course", "qualification", "document_revision__document").order_by("due_on")
    )
    return EmployeeTraining(status, records, assignments)


# ---- training passport ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassportRecord:
    record: TrainingRecord
    signatures: tuple[SignatureView, ...]  # `matches` is False once the record changed after signing


@dataclass(frozen=True)
class Passport:
    employee: Employee
    zone: zoneinfo.ZoneInfo
    positions: list[PositionAssignment]
    status: EmployeeStatus
    records: list[PassportRecord]
    certificates: list[Certificate]
    generated_at: dt.datetime
    content_hash: str  # SHA-256 of what the passport shows, generation time excluded


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)


def passport_hash(content: dict[str, Any]) -> str:
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _passport_content(passport_parts: dict[str, Any]) -> dict[str, Any]:
    employee: Employee = passport_parts["employee"]
    return {
        "employee": [employee.pk, employee.employee_number, employee.family_name, employee.given_name,
                     employee.latin_name, employee.site_id, employee.department_id, employee.line_id],
        "positions": [[a.position_id, a.start_date, a.end_date] for a in passport_parts["positions"]],
        "qualifications": [
            [line.qualification.pk, line.cell.state, line.cell.valid_until, list(line.cell.evidence)]
            for line in passport_parts["status"].lines
        ],
        "records": [
            [r.record.pk, r.record.course_id, r.record.completed_at, r.record.passed, r.record.score,
             r.record.trainer_id, r.record.document_id, r.record.document_revision, r.record.session_id,
             [[s.signature.pk, s.signature.content_hash, s.matches] for s in r.signatures]]
            for r in passport_parts["records"]
        ],
        "certificates": [[c.pk, c.number, c.issuer, c.issued_on, c.expires_on, c.scan_sha256]
                         for c in passport_parts["certificates"]],
    }


def training_passport(*, user, employee_id: UUID | str) -> Passport:
    """Everything about a person's competence, for the PDF: positions held, every qualification with its
    status now, every training record with its signatures, certificates."""
    employee = employee_for_training(user=user, employee_id=employee_id)
    status = _employee_status(employee, timezone.now(), include_held=True)
    positions = list(employee.position_assignments.select_related("position").order_by("-start_date"))
    records = list(_records_with_documents(employee.training_records.order_by("-completed_at")))
    signatures = trace_signatures(records)
    passport_records = []
    for record in records:
        signed = signatures.get(str(record.pk), [])
        current = content_hash(record) if signed else ""
        passport_records.append(PassportRecord(record, tuple(SignatureView(s, s.content_hash == current) for s in signed)))
    certificates = list(employee.certificates.select_related("qualification").order_by("-issued_on"))
    parts = {"employee": employee, "positions": positions, "status": status, "records": passport_records,
             "certificates": certificates}
    return Passport(
        employee=employee, zone=status.zone, positions=positions, status=status, records=passport_records,
        certificates=certificates, generated_at=timezone.now(), content_hash=passport_hash(_passport_content(parts)),
    )


# ---- traceability --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceFilters:
    employee_id: UUID | None = None
    employee: str = ""  # part of the number or name
    course_id: UUID | None = None
    qualification_id: UUID | None = None  # records of courses that confer it
    trainer_id: UUID | None = None
    trainer: str = ""  # part of the trainer's number or name
    line_id: UUID | None = None
    document_id: UUID | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    passed: bool | None = None


def _person_q(prefix: str, term: str) -> Q:
    term = term.strip()
    return (Q(**{f"{prefix}employee_number__icontains": term}) | Q(**{f"{prefix}family_name__icontains": term})
            | Q(**{f"{prefix}given_name__icontains": term}) | Q(**{f"{prefix}latin_name__icontains": term}))


def traceability(*, user, filters: TraceFilters) -> QuerySet[TrainingRecord]:
    """Who was trained when, how, by whom, for which line, on what: training records of people in scope,
    newest first."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        message = _("The start of the period must not be after its end.")
        raise ValidationFailed(message, fields={"date_from": [message]}, code=TrainingErrorCode.REPORT_FILTER_INVALID)
    records = TrainingRecord.objects.filter(employee__in=employees_in_scope(user).values("pk"))
    if filters.employee_id is not None:
        records = records.filter(employee_id=filters.employee_id)
    if filters.employee.strip():
        records = records.filter(_person_q("employee__", filters.employee))
    if filters.trainer_id is not None:
        records = records.filter(trainer_id=filters.trainer_id)
    if filters.trainer.strip():
        records = records.filter(_person_q("trainer__", filters.trainer))
    if filters.course_id is not None:
        records = records.filter(course_id=filters.course_id)
    if filters.qualification_id is not None:
        records = records.filter(course__confers=filters.qualification_id)
    if filters.line_id is not None:
        records = records.filter(Q(line_id=filters.line_id) | Q(line__isnull=True, session__line_id=filters.line_id))
    if filters.document_id is not None:
        records = records.filter(document_id=filters.document_id)
    zone = report_zone()
    if filters.date_from is not None:
        records = records.filter(completed_at__gte=dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=zone))
    if filters.date_to is not None:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        records = records.filter(completed_at__lt=end)
    if filters.passed is not None:
        records = records.filter(passed=filters.passed)
    return _records_with_documents(records.select_related("employee__site")).order_by("-completed_at", "pk")


def trace_signatures(records: Sequence[TrainingRecord]) -> dict[str, list[ESignature]]:
    """The e-signatures on these records, by record id (one query)."""
    found: dict[str, list[ESignature]] = defaultdict(list)
    for signature in ESignature.objects.filter(
        object_type=object_type(TrainingRecord), object_id__in=[str(r.pk) for r in records]
    ).order_by("signed_at"):
        found[signature.object_id].append(signature)
    return found


# ---- calendar of sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarFilters:
    site_id: UUID | None = None
    line_id: UUID | None = None
    course_id: UUID | None = None


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date
    in_month: bool
    sessions: tuple[TrainingSession, ...] = ()


@dataclass(frozen=True)
class SessionMonth:
    year: int
    month: int
    zone: zoneinfo.ZoneInfo
    sessions: list[TrainingSession]  # each with `enrolled`: how many are enrolled
    weeks: list[list[CalendarDay]] = field(default_factory=list)

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def previous(self) -> dt.date:
        return (self.first - dt.timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> dt.date:
        return (self.first + dt.timedelta(days=32)).replace(day=1)


def sessions_visible(user) -> QuerySet[TrainingSession]:
    """Sessions for a line in the reader's scope, and sessions for no particular line."""
    scope = _require_view(user)
    if scope.everywhere:
        return TrainingSession.objects.all()
    q = Q(line__isnull=True)
    if scope.site_ids:
        q |= Q(line__site_id__in=scope.site_ids)
    if scope.department_ids:
        q |= Q(line__department_id__in=scope.department_ids)
    if scope.line_ids:
        q |= Q(line_id__in=scope.line_ids)
    return TrainingSession.objects.filter(q)


def session_calendar(*, user, year: int, month: int, filters: CalendarFilters) -> SessionMonth:
    """The sessions starting in a month (days counted in the site's time zone), laid out in weeks."""
    if not (1 <= month <= 12 and dt.MINYEAR < year < dt.MAXYEAR):
        message = _("Choose a month between January and December of a valid year.")
        raise ValidationFailed(message, fields={"month": [message]}, code=TrainingErrorCode.REPORT_FILTER_INVALID)
    sessions = sessions_visible(user)
    if filters.site_id is not None:
        sessions = sessions.filter(Q(line__site_id=filters.site_id) | Q(line__isnull=True, trainer__site_id=filters.site_id))
    if filters.line_id is not None:
        sessions = sessions.filter(line_id=filters.line_id)
    if filters.course_id is not None:
        sessions = sessions.filter(course_id=filters.course_id)
    zone = report_zone(filters.site_id)
    first = dt.date(year, month, 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(following, dt.time.min, tzinfo=zone)
    found = list(
        sessions.filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("course", "line", "trainer", "document_revision__document")
        .annotate(enrolled=Count("attendances")).order_by("starts_at", "pk")
    )
    by_day: dict[dt.date, list[TrainingSession]] = defaultdict(list)
    for session in found:
        by_day[session.starts_at.astimezone(zone).date()].append(session)
    weeks = [
        [CalendarDay(day, day.month == month, tuple(by_day.get(day, ()))) for day in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    return SessionMonth(year=year, month=month, zone=zone, sessions=found, weeks=weeks)
