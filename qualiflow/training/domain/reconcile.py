"""Who must be trained on what, by when: the reconciler's rule.

Given one person's situation — the mandatory requirements of their position, their computed qualification
statuses, their open training assignments — and the courses that confer each qualification, `reconcile`
says which assignments to create and which of its own earlier ones to retire. It is a function of the
situation only, so running it twice on the same facts plans nothing the second time: the assignments it
made carry a deterministic source key (`req:<qualification id>`) and an open assignment for a qualification,
whoever made it, covers that qualification.

Pure: frozen dataclasses in and out; no Django, no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .status import Finding, Qualification, QualificationStatus, Reason, State

# A new hire stays "onboarding" at least this long, so a requirement without a grace period still
# onboards them rather than calling their first training ad hoc (the usual probation period).
ONBOARDING_PERIOD = timedelta(days=90)
REQUIREMENT_KEY = "req:"  # assignments the reconciler made: req:<qualification id>
RENEWAL_KEY = "renewal:"  # renewals the expiry job made: renewal:<grant id>


class AssignmentReason(StrEnum):
    """The values of `TrainingAssignment.reason` the reconciler uses."""

    ONBOARDING = "onboarding"
    POSITION_CHANGE = "position_change"
    RENEWAL = "renewal"
    DOCUMENT_REVISION = "document_revision"
    AD_HOC = "ad_hoc"


class RetireBecause(StrEnum):
    NOT_REQUIRED = "not_required"
    QUALIFIED = "qualified"


@dataclass(frozen=True)
class AppliedRequirement:
    """A mandatory requirement of the person's position; `enforced_from` ends its grace period."""

    qualification: Qualification
    enforced_from: datetime | None = None


@dataclass(frozen=True)
class OpenAssignment:
    id: str
    course_id: str
    qualification_id: str | None
    source_key: str
    reason: str


@dataclass(frozen=True)
class CourseOption:
    """A course that confers the qualification; `document_id`: the document it trains on, if any."""

    id: str
    document_id: str | None = None


@dataclass(frozen=True)
class Situation:
    person_id: str
    hired_at: datetime
    position_started_at: datetime | None
    requirements: tuple[AppliedRequirement, ...]
    statuses: tuple[QualificationStatus, ...]  # at least one per required qualification
    open_assignments: tuple[OpenAssignment, ...] = ()


@dataclass(frozen=True)
class NewAssignment:
    person_id: str
    qualification_id: str
    course_id: str
    reason: AssignmentReason
    due: datetime  # to be completed before this moment (never before the moment of the run)
    source_key: str
    document_id: str | None = None  # for a document revision: the document and the revision label
    revision_label: str | None = None


@dataclass(frozen=True)
class Retirement:
    assignment_id: str
    person_id: str
    qualification_id: str
    because: RetireBecause


@dataclass(frozen=True)
class Plan:
    create: tuple[NewAssignment, ...] = ()
    retire: tuple[Retirement, ...] = ()
    unchanged: int = 0  # open assignments the reconciler made (or a renewal) that stay as they are
    without_course: tuple[str, ...] = ()  # qualifications that need training but no course confers


@dataclass(frozen=True)
class _Need:
    reason: AssignmentReason
    due: datetime
    document_id: str | None = None
    revision_label: str | None = None


def requirement_key(qualification_id: str) -> str:
    return f"{REQUIREMENT_KEY}{qualification_id}"


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _revision_need(findings: tuple[Finding, ...], at: datetime) -> _Need | None:
    """The earliest-due newer document revision in effect that the person has not trained on."""
    pending = [f for f in findings if f.code in (Reason.NEWER_REVISION, Reason.NEWER_REVISION_IN_GRACE)]
    if not pending:
        return None
    first = min(pending, key=lambda f: (f.param("due") or "", f.param("document") or ""))
    due = _moment(first.param("due")) or at
    return _Need(AssignmentReason.DOCUMENT_REVISION, max(due, at), first.param("document"), first.param("revision"))


def _need(
    status: QualificationStatus, requirement: AppliedRequirement | None, situation: Situation, at: datetime
) -> _Need | None:
    """What training the status calls for, if any. Suspended and revoked qualifications are left to the
    people who took that action (a CAPA assigns the retraining it wants)."""
    if status.state in (State.SUSPENDED, State.REVOKED):
        return None
    if status.state in (State.QUALIFIED, State.EXPIRING, State.RETRAINING_REQUIRED):
        revision = _revision_need(status.findings, at)
        if revision is not None:
            return revision
    if status.state == State.EXPIRING:
        return _Need(AssignmentReason.RENEWAL, max(status.valid_until or at, at))
    if status.state == State.EXPIRED:
        return _Need(AssignmentReason.RENEWAL, at)
    if status.state != State.MISSING or requirement is None:
        return None
    due = max(requirement.enforced_from or at, at)
    hired = situation.hired_at
    started = situation.position_started_at
    if started is not None and started > hired:
        return _Need(AssignmentReason.POSITION_CHANGE, due)
    window = max(ONBOARDING_PERIOD, (requirement.enforced_from - hired) if requirement.enforced_from else timedelta(0))
    if at < hired + window:
        return _Need(AssignmentReason.ONBOARDING, due)
    return _Need(AssignmentReason.AD_HOC, due)


def _course(options: tuple[CourseOption, ...], need: _Need) -> CourseOption | None:
    """The first conferring course, preferring one that trains on the revised document."""
    if need.document_id is not None:
        for option in options:
            if option.document_id == need.document_id:
                return option
    return options[0] if options else None


def assignment_qualification(assignment: OpenAssignment) -> str | None:
    """The qualification an assignment is for (the reconciler's own say so in their key)."""
    if assignment.source_key.startswith(REQUIREMENT_KEY):
        return assignment.source_key.removeprefix(REQUIREMENT_KEY)
    return assignment.qualification_id


def _renewed(status: QualificationStatus | None, situation: Situation, at: datetime) -> bool:
    """Qualified with nothing left to train on (a suspension or revocation does not settle an assignment)."""
    return status is not None and status.state == State.QUALIFIED and _need(status, None, situation, at) is None


def reconcile(
    situation: Situation, *, courses: Mapping[str, tuple[CourseOption, ...]], at: datetime
) -> Plan:
    """The assignments to create and to retire for one person at `at`.

    Creates one assignment per required qualification that needs training (onboarding, position change,
    renewal, document revision, or ad hoc when a requirement was added to a long-held position) and that no
    open assignment covers. Retires the reconciler's own open assignments whose qualification is no longer
    required or no longer needs training, and the expiry job's renewals once the qualification is renewed.
    """
    statuses = {s.qualification_id: s for s in situation.statuses}
    required = {r.qualification.id: r for r in situation.requirements}
    covered = {a.qualification_id for a in situation.open_assignments if a.qualification_id}
    covered |= {q for a in situation.open_assignments if (q := assignment_qualification(a))}

    create: list[NewAssignment] = []
    without_course: list[str] = []
    for qid in sorted(required):
        if qid in covered or qid not in statuses:
            continue
        need = _need(statuses[qid], required[qid], situation, at)
        if need is None:
            continue
        course = _course(courses.get(qid, ()), need)
        if course is None:
            without_course.append(qid)
            continue
        create.append(NewAssignment(
            situation.person_id, qid, course.id, need.reason, need.due, requirement_key(qid),
            need.document_id, need.revision_label,
        ))

    retire: list[Retirement] = []
    unchanged = 0
    for assignment in sorted(situation.open_assignments, key=lambda a: a.id):
        qid = assignment_qualification(assignment)
        if qid is None:
            continue
        status = statuses.get(qid)
        if assignment.source_key.startswith(REQUIREMENT_KEY):
            if qid not in required:
                retire.append(Retirement(assignment.id, situation.person_id, qid, RetireBecause.NOT_REQUIRED))
            elif _renewed(status, situation, at):
                retire.append(Retirement(assignment.id, situation.person_id, qid, RetireBecause.QUALIFIED))
            else:
                unchanged += 1
        elif assignment.source_key.startswith(RENEWAL_KEY):
            if _renewed(status, situation, at):
                retire.append(Retirement(assignment.id, situation.person_id, qid, RetireBecause.QUALIFIED))
            else:
                unchanged += 1
    return Plan(tuple(create), tuple(retire), unchanged, tuple(without_course))
