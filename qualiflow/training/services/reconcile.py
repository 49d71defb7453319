"""The reconciler: creates the training assignments people now need and retires those no longer needed.

Runs on hire, position change, requirement change and document revision (through `events.subscribe`, see
`training.apps`) and for the whole plant every day. Idempotent: a second run on the same facts writes
nothing. The facts of any number of people load in a fixed number of queries; the writes are bulk (audited
row by row by the model layer), with one event per assignment created or retired.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import scope_for
from qualiflow.accounts.roles import Perm
from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied
from qualiflow.documents.models import DocumentRevision
from qualiflow.integration import events
from qualiflow.people.models import Employee, EmployeeStatus, PositionAssignment
from qualiflow.people.selectors import scope_q

from ..domain import reconcile as rules
from ..domain import status as domain
from ..errors import TrainingErrorCode
from ..models import (
    AssignmentStatus,
    Course,
    CourseQualification,
    Requirement,
    TargetKind,
    TrainingAssignment,
)
from ..selectors import domain_qualifications, facts_for, revisions_for

RECONCILE_REASON = _("Training needs reconciled with the requirements.")


@dataclass(frozen=True)
class ReconcileSummary:
    people: int
    created: int
    retired: int
    unchanged: int
    without_course: int  # needs no course can meet: a catalogue gap to fix, reported, not an error

    def as_dict(self) -> dict[str, int]:
        return {"people": self.people, "created": self.created, "retired": self.retired,
                "unchanged": self.unchanged, "without_course": self.without_course}


@dataclass(frozen=True)
class _Person:
    pk: UUID
    number: str
    zone: zoneinfo.ZoneInfo
    hire_date: dt.date
    active: bool


def _midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)


def _population(employees: QuerySet[Employee] | Iterable[Employee | UUID | str] | None) -> QuerySet[Employee]:
    """Everyone active, plus whoever still has an open assignment the reconciler made (to retire it after
    they left); or exactly the people given."""
    if employees is None:
        managed = TrainingAssignment.objects.filter(
            status=AssignmentStatus.OPEN, source_key__startswith=rules.REQUIREMENT_KEY
        ).values("employee_id")
        return Employee.objects.filter(Q(status=EmployeeStatus.ACTIVE) | Q(pk__in=managed))
    if isinstance(employees, QuerySet):
        return employees
    return Employee.objects.filter(pk__in=[e.pk if isinstance(e, Employee) else e for e in employees])


def _positions(people: QuerySet[Employee], persons: dict[UUID, _Person], at: dt.datetime) -> dict[UUID, tuple[UUID, dt.date]]:
    """Each person's position on their local day at `at`, with its start date (one query)."""
    held: dict[UUID, tuple[UUID, dt.date]] = {}
    rows = PositionAssignment.objects.filter(employee__in=people.values("pk")).values_list(
        "employee_id", "position_id", "start_date", "end_date"
    )
    for employee_id, position_id, start, end in rows:
        person = persons.get(employee_id)
        if person is None or not person.active:
            continue
        day = at.astimezone(person.zone).date()
        if start <= day and (end is None or day < end):
            held[employee_id] = (position_id, start)
    return held


def _revision_ids(plans: Iterable[rules.Plan]) -> dict[tuple[str, str], UUID]:
    """(document id, revision label) -> revision id, for the document revisions being trained on."""
    wanted = {(n.document_id, n.revision_label) for plan in plans for n in plan.create if n.document_id}
    if not wanted:
        return {}
    rows = DocumentRevision.objects.filter(document_id__in={d for d, _label in wanted}).values_list(
        "document_id", "label", "pk"
    )
    return {(str(d), label): pk for d, label, pk in rows if (str(d), label) in wanted}


def assignment_payload(assignment: TrainingAssignment, employee_number: str, course_code: str) -> dict[str, Any]:
    """The data of `training.assignment.created`, as the training loop emits it for assignments made by hand."""
    return {
        "employee_id": assignment.employee_id, "employee_number": employee_number, "assignment_id": assignment.pk,
        "course_id": assignment.course_id, "course_code": course_code, "qualification_id": assignment.qualification_id,
        "reason": assignment.reason, "due_on": assignment.due_on, "status": assignment.status,
        "source_key": assignment.source_key, "document_revision_id": assignment.document_revision_id,
    }


def _assigned_for(assignment: rules.OpenAssignment) -> UUID | None:
    """The qualification an open assignment is for; a hand-made key that names none gives None."""
    try:
        return UUID(rules.assignment_qualification(assignment) or "")
    except ValueError:
        return None


def _authorize(by, people: QuerySet[Employee], *, whole_plant: bool) -> None:
    """The whole plant needs `training.manage` everywhere; given people, over each of them."""
    if by is None:
        return
    scope = scope_for(by, Perm.TRAINING_MANAGE)
    if scope.nothing:
        raise PermissionDenied(TrainingErrorCode.OUT_OF_SCOPE, _("You are not allowed to manage training."))
    if not scope.everywhere and (whole_plant or people.exclude(scope_q(scope)).exists()):
        raise PermissionDenied(
            TrainingErrorCode.OUT_OF_SCOPE, _("You may reconcile the training of people in your area only.")
        )


@transaction.atomic
def assignments_reconcile(
    *, employees: QuerySet[Employee] | Iterable[Employee | UUID | str] | None = None, at: dt.datetime, by=None,
) -> ReconcileSummary:
    """Bring the open training assignments of `employees` (None: the whole plant) in line with the
    mandatory requirements of their positions at `at`. `by` must hold `training.manage` over them, and
    everywhere for the whole plant (None: the system)."""
    people = _population(employees)
    _authorize(by, people, whole_plant=employees is None)
    # Locked in a fixed order, so two runs over the same people (an event handler and the daily job)
    # queue rather than both creating the same assignment.
    rows = list(
        people.order_by("pk").select_for_update(of=("self",))
        .values_list("pk", "employee_number", "site__time_zone", "hire_date", "status")
    )
    persons = {
        pk: _Person(pk, number, zoneinfo.ZoneInfo(zone), hire, status != EmployeeStatus.TERMINATED)
        for pk, number, zone, hire, status in rows
    }
    if not persons:
        return ReconcileSummary(0, 0, 0, 0, 0)
    people = Employee.objects.filter(pk__in=people.values("pk"))
    positions = _positions(people, persons, at)

    required: dict[UUID, list[tuple[UUID, int]]] = defaultdict(list)
    for position_id, qualification_id, grace_days in Requirement.objects.filter(
        target_kind=TargetKind.POSITION, target_id__in={p for p, _start in positions.values()}, mandatory=True,
        qualification__is_active=True,
    ).values_list("target_id", "qualification_id", "grace_days"):
        required[position_id].append((qualification_id, grace_days))

    open_rows = list(TrainingAssignment.objects.filter(employee__in=people.values("pk"), status=AssignmentStatus.OPEN)
                     .values_list("pk", "employee_id", "course_id", "qualification_id", "source_key", "reason"))
    open_by_person: dict[UUID, list[rules.OpenAssignment]] = defaultdict(list)
    for pk, employee_id, course_id, qualification_id, source_key, reason in open_rows:
        open_by_person[employee_id].append(rules.OpenAssignment(
            str(pk), str(course_id), str(qualification_id) if qualification_id else None, source_key, reason
        ))

    qualification_ids = {q for reqs in required.values() for q, _grace in reqs}
    qualification_ids |= {
        q for assignments in open_by_person.values() for a in assignments
        if a.source_key.startswith((rules.REQUIREMENT_KEY, rules.RENEWAL_KEY)) and (q := _assigned_for(a))
    }
    qualifications = domain_qualifications(qualification_ids)
    revisions = revisions_for(qualification_ids) if qualification_ids else []
    facts = facts_for(people, qualification_ids=qualification_ids) if qualification_ids else {}
    courses: dict[str, list[rules.CourseOption]] = defaultdict(list)
    for qualification_id, course_id, document_id in CourseQualification.objects.filter(
        qualification_id__in=qualification_ids, course__is_active=True
    ).order_by("course__code").values_list("qualification_id", "course_id", "course__document_id"):
        courses[str(qualification_id)].append(rules.CourseOption(str(course_id), str(document_id) if document_id else None))
    course_options = {qid: tuple(options) for qid, options in courses.items()}

    plans: list[tuple[_Person, rules.Plan]] = []
    for pk, person in persons.items():
        held = positions.get(pk)
        applied = []
        if held is not None:
            position_id, start = held
            started_at = _midnight(start, person.zone)
            applied = [
                rules.AppliedRequirement(
                    qualifications[qid], started_at + dt.timedelta(days=grace) if grace else None
                )
                for qid, grace in required.get(position_id, ()) if qid in qualifications
            ]
        assignments = tuple(open_by_person.get(pk, ()))
        wanted = {r.qualification.id for r in applied} | {
            str(q) for a in assignments if (q := _assigned_for(a)) and q in qualifications
        }
        statuses = domain.qualification_statuses(
            person=facts.get(pk, domain.PersonFacts(str(pk))),
            qualifications=[qualifications[UUID(q)] for q in sorted(wanted)], revisions=revisions, at=at,
        )
        situation = rules.Situation(
            str(pk), _midnight(person.hire_date, person.zone),
            _midnight(held[1], person.zone) if held is not None else None,
            tuple(applied), statuses, assignments,
        )
        plans.append((person, rules.reconcile(situation, courses=course_options, at=at)))

    revision_ids = _revision_ids(plan for _, plan in plans)
    new = [
        TrainingAssignment(
            employee_id=person.pk, course_id=UUID(n.course_id), qualification_id=UUID(n.qualification_id),
            document_revision_id=revision_ids.get((n.document_id, n.revision_label)) if n.document_id else None,
            reason=n.reason.value, source_key=n.source_key, status=AssignmentStatus.OPEN,
            due_on=max((n.due - dt.timedelta(microseconds=1)).astimezone(person.zone).date(),
                       at.astimezone(person.zone).date()),
        )
        for person, plan in plans for n in plan.create
    ]
    retired = {UUID(r.assignment_id): (person, r) for person, plan in plans for r in plan.retire}
    with context.acting(reason=context.current().reason or str(RECONCILE_REASON)):
        TrainingAssignment.objects.bulk_create(new)
        if retired:
            TrainingAssignment.objects.filter(pk__in=list(retired)).update(status=AssignmentStatus.RETIRED, closed_at=at)
        codes = dict(Course.objects.filter(pk__in={a.course_id for a in new}).values_list("pk", "code")) if new else {}
        for assignment in new:
            events.emit("training.assignment.created", f"training/assignment/{assignment.pk}", assignment_payload(
                assignment, persons[assignment.employee_id].number, codes[assignment.course_id]))
        for pk, (person, retirement) in retired.items():
            events.emit("training.assignment.retired", f"training/assignment/{pk}", {
                "employee_id": person.pk, "employee_number": person.number,
                "qualification_id": retirement.qualification_id, "because": retirement.because.value,
            })
    return ReconcileSummary(
        people=len(persons), created=len(new), retired=len(retired),
        unchanged=sum(plan.unchanged for _, plan in plans),
        without_course=sum(len(plan.without_course) for _, plan in plans),
    )


def people_affected(event_type: str, subject: str, data: dict[str, Any]) -> QuerySet[Employee] | None:
    """Whom an event may change the training needs of; None: nobody (e.g. a capability requirement)."""
    if event_type.startswith("people.employee."):
        return Employee.objects.filter(pk=subject.rsplit("/", 1)[-1])
    if event_type.startswith("training.requirement."):
        if data.get("target_kind") != TargetKind.POSITION or not data.get("target_id"):
            return None
        return Employee.objects.filter(position_id=data["target_id"], status=EmployeeStatus.ACTIVE)
    if event_type.startswith("training.qualification."):
        positions = Requirement.objects.filter(
            target_kind=TargetKind.POSITION, qualification_id=subject.rsplit("/", 1)[-1],
        ).values("target_id")
        return Employee.objects.filter(position_id__in=positions, status=EmployeeStatus.ACTIVE)
    if event_type.startswith("documents.revision."):
        positions = Requirement.objects.filter(
            target_kind=TargetKind.POSITION, qualification__documents=data.get("document_id"),
        ).values("target_id")
        return Employee.objects.filter(position_id__in=positions, status=EmployeeStatus.ACTIVE)
    return None
