"""Reads for the training loop pages: assignments, sessions with their trainees, training records awaiting
the trainee's signature, effectiveness checks to evaluate and a person's certificates.

Scoped like the other training reads (`training.view` over the people concerned, see
`selectors.reports.employees_in_scope` / `sessions_visible`), except what is the reader's own: their
assignments, the records they must sign, the sessions they teach and the checks they must evaluate need
no `training.view`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import ESignature, SignatureMeaning
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.audit.tracking import object_type
from qualiflow.core.errors import CoreErrorCode, NotFound
from qualiflow.people.models import Employee

from ..models import (
    Assessment,
    AssignmentStatus,
    Attendance,
    Certificate,
    EffectivenessCheck,
    EffectivenessStatus,
    TrainingAssignment,
    TrainingRecord,
    TrainingSession,
)
from .reports import employees_in_scope, sessions_visible


def _not_found(message) -> NotFound:
    return NotFound(CoreErrorCode.NOT_FOUND, message)


def assignment_list(
    *, user, mine: bool = True, status: str = "", reason: str = "", course_id: UUID | None = None,
    overdue: bool = False, search: str = "", today: dt.date | None = None,
) -> QuerySet[TrainingAssignment]:
    """The reader's own assignments (`mine`), or those of everyone they may see; soonest due first."""
    if mine:
        qs = TrainingAssignment.objects.filter(employee__user=user) if user.is_authenticated else TrainingAssignment.objects.none()
    else:
        qs = TrainingAssignment.objects.filter(employee__in=employees_in_scope(user).values("pk"))
    if status:
        qs = qs.filter(status=status)
    if reason:
        qs = qs.filter(reason=reason)
    if course_id is not None:
        qs = qs.filter(course_id=course_id)
    if overdue:
        qs = qs.filter(status=AssignmentStatus.OPEN, due_on__lt=today or timezone.localdate())
    term = search.strip()
    if term:
        qs = qs.filter(Q(employee__employee_number__icontains=term) | Q(employee__family_name__icontains=term)
                       | Q(employee__given_name__icontains=term) | Q(course__code__icontains=term))
    return qs.select_related("employee", "course", "qualification").order_by("due_on", "employee__employee_number", "pk")


def assignment_get(*, user, assignment_id: Any) -> TrainingAssignment:
    assignment = assignment_list(user=user, mine=False).filter(pk=assignment_id).first()
    if assignment is None:
        raise _not_found(_("Training assignment not found."))
    return assignment


def _sessions_for(user) -> QuerySet[TrainingSession]:
    """Sessions the reader may see, and those they teach."""
    taught = Q(trainer__user=user)
    if has_perm(user, Perm.TRAINING_VIEW):
        return TrainingSession.objects.filter(Q(pk__in=sessions_visible(user).values("pk")) | taught)
    return TrainingSession.objects.filter(taught)


def session_list(
    *, user, status: str = "", course_id: UUID | None = None, upcoming: bool = False, at: dt.datetime | None = None,
) -> QuerySet[TrainingSession]:
    qs = _sessions_for(user).select_related("course", "line", "trainer").annotate(enrolled=Count("attendances"))
    if status:
        qs = qs.filter(status=status)
    if course_id is not None:
        qs = qs.filter(course_id=course_id)
    if upcoming:
        qs = qs.filter(ends_at__gte=at or timezone.now())
    return qs.order_by("starts_at" if upcoming else "-starts_at", "pk")


def session_get(*, user, session_id: Any) -> TrainingSession:
    """The session with its trainees (by number), their assessments and training records."""
    session = (
        _sessions_for(user).select_related("course", "line", "trainer__user", "document_revision__document")
        .prefetch_related(
            Prefetch("attendances", queryset=Attendance.objects.select_related("employee", "record")
                     .order_by("employee__employee_number")),
            Prefetch("attendances__assessments", queryset=Assessment.objects.order_by("assessed_at")),
        )
        .filter(pk=session_id).first()
    )
    if session is None:
        raise _not_found(_("Training session not found."))
    return session


def attendance_get(*, session: TrainingSession, attendance_id: Any) -> Attendance:
    attendance = Attendance.objects.filter(session=session, pk=attendance_id).select_related("session", "employee").first()
    if attendance is None:
        raise _not_found(_("This person is not enrolled in the session."))
    return attendance


def _signed_by_trainee(records: list[TrainingRecord]) -> set[str]:
    return set(
        ESignature.objects.filter(
            object_type=object_type(TrainingRecord), object_id__in=[str(r.pk) for r in records],
            meaning=SignatureMeaning.REVIEWED,
        ).values_list("object_id", flat=True)
    )


def my_records(*, user) -> list[tuple[TrainingRecord, bool]]:
    """The reader's own training records, newest first, each with whether they have signed it."""
    if not user.is_authenticated:
        return []
    records = list(
        TrainingRecord.objects.filter(employee__user=user).select_related("course", "trainer", "session")
        .order_by("-completed_at", "pk")
    )
    signed = _signed_by_trainee(records)
    return [(record, str(record.pk) in signed) for record in records]


def my_record_get(*, user, record_id: Any) -> TrainingRecord:
    record = TrainingRecord.objects.filter(employee__user=user, pk=record_id).select_related("course", "employee").first()
    if record is None:
        raise _not_found(_("Training record not found."))
    return record


def effectiveness_checks_to_evaluate(*, user) -> QuerySet[EffectivenessCheck]:
    """Pending checks the reader evaluates (as the trainee's manager), and, for a training manager, every
    pending check of the people they manage training for; soonest due first."""
    q = Q(evaluator__user=user)
    if has_perm(user, Perm.TRAINING_MANAGE):
        q |= Q(record__employee__in=employees_in_scope(user).values("pk"))
    return (
        EffectivenessCheck.objects.filter(q, status=EffectivenessStatus.PENDING)
        .select_related("record__employee", "record__course", "evaluator").order_by("due_on", "pk")
    )


def effectiveness_check_get(*, user, check_id: Any) -> EffectivenessCheck:
    check = effectiveness_checks_to_evaluate(user=user).filter(pk=check_id).first()
    if check is None:
        raise _not_found(_("Effectiveness check not found."))
    return check


def certificates_of(employee: Employee) -> QuerySet[Certificate]:
    return Certificate.objects.filter(employee=employee).select_related("qualification").order_by("-issued_on", "pk")
