"""Reads of the catalogue: qualifications, courses, curricula and the requirement graph
Position / Operation / EquipmentClass / capability → Qualification ← Course.

The catalogue is plant-wide; reading it needs `training.view` (checked by views and API). Only the holder
counts touch people, and those count only the employees the reader may see.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import CoreErrorCode, NotFound, ValidationFailed
from qualiflow.documents.models import Document
from qualiflow.org.models import Position
from qualiflow.people.selectors import employees_visible

from ..domain import status as domain
from ..models import (
    Course,
    Curriculum,
    Qualification,
    QualificationGrant,
    Requirement,
    TargetKind,
)
from . import domain_qualification, facts_for, revisions_for

QUALIFICATION_ORDERINGS = ("code", "-code", "name", "-name", "kind", "-kind", "validity_days", "-validity_days")
COURSE_ORDERINGS = ("code", "-code", "name", "-name", "kind", "-kind")


def _not_found(message) -> NotFound:
    return NotFound(CoreErrorCode.NOT_FOUND, message)


def _search(qs: QuerySet, term: str, *fields: str) -> QuerySet:
    term = term.strip()
    if not term:
        return qs
    q = Q()
    for name in fields:
        q |= Q(**{f"{name}__icontains": term})
    return qs.filter(q)


def qualification_list(
    *, search: str = "", kind: str = "", active: bool | None = True, ordering: str = "code"
) -> QuerySet[Qualification]:
    qs = Qualification.objects.annotate(
        requirement_count=Count("requirements", distinct=True),
        course_count=Count("conferring_courses", distinct=True),
    )
    qs = _search(qs, search, "code", "name", "name_en")
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by(ordering if ordering in QUALIFICATION_ORDERINGS else "code", "code")


def qualification_get(*, qualification_id: Any) -> Qualification:
    qualification = Qualification.objects.filter(pk=qualification_id).first()
    if qualification is None:
        raise _not_found(_("Qualification not found."))
    return qualification


def qualifications_get(ids: Iterable[Any], *, field_name: str = "qualification_ids") -> list[Qualification]:
    """The qualifications named by `ids`, in that order; an unknown id is a field error."""
    ids = list(dict.fromkeys(ids))
    found = Qualification.objects.in_bulk(ids)
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        message = _("No such qualification: %(ids)s.") % {"ids": ", ".join(missing)}
        raise ValidationFailed(message, fields={field_name: [message]})
    return [found[pk] for pk in ids]


@dataclass(frozen=True)
class RequirementRow:
    requirement: Requirement
    target_label: str
    position: Position | None = None


def target_rows(requirements: Iterable[Requirement]) -> list[RequirementRow]:
    """Requirements with a readable target: positions by code and name; operations and equipment classes,
    whose apps come later, by their id; capabilities by their code."""
    requirements = list(requirements)
    position_ids = [r.target_id for r in requirements if r.target_kind == TargetKind.POSITION]
    positions = Position.objects.in_bulk(position_ids) if position_ids else {}
    rows = []
    for requirement in requirements:
        position = positions.get(requirement.target_id) if requirement.target_kind == TargetKind.POSITION else None
        if position is not None:
            label = f"{position.code} {position.display_name(_language())}"
        elif requirement.target_kind == TargetKind.CAPABILITY:
            label = requirement.capability
        else:
            label = str(requirement.target_id)
        rows.append(RequirementRow(requirement, label, position))
    return rows


def _language() -> str:
    return get_language() or "en"


@dataclass(frozen=True)
class Holders:
    """How many people the reader may see stand where with the qualification now (only people who were
    ever granted it are counted; the others are simply missing it)."""

    by_state: dict[str, int]

    @property
    def allowed(self) -> int:
        return sum(self.by_state.get(state, 0) for state in domain.ALLOWED_STATES)


def holders_of(*, user, qualification: Qualification, at: dt.datetime | None = None) -> Holders:
    at = timezone.now() if at is None else at
    people = employees_visible(user, Perm.TRAINING_VIEW).filter(
        pk__in=QualificationGrant.objects.filter(qualification=qualification).values("employee_id")
    )
    target = domain_qualification(qualification)
    revisions = revisions_for([qualification.pk])
    facts = facts_for(people, qualification_ids=[qualification.pk])
    states = Counter(
        domain.qualification_status(person=person, qualification=target, revisions=revisions, at=at).state.value
        for person in facts.values()
    )
    return Holders(dict(states))


@dataclass(frozen=True)
class QualificationDetail:
    qualification: Qualification
    conferring_courses: list[Course]
    trainer_for_courses: list[Course]
    documents: list[Document]
    requirements: list[RequirementRow]
    holders: Holders


def qualification_detail(*, user, qualification: Qualification, at: dt.datetime | None = None) -> QualificationDetail:
    """How the qualification is earned (conferring courses with their assessment), what it rests on
    (documents), who requires it (positions, operations, equipment classes, capabilities) and its holders."""
    requirements = Requirement.objects.filter(qualification=qualification).order_by("target_kind", "capability")
    return QualificationDetail(
        qualification=qualification,
        conferring_courses=list(qualification.conferring_courses.select_related("document").order_by("code")),
        trainer_for_courses=list(qualification.trainer_for_courses.order_by("code")),
        documents=list(qualification.documents.order_by("code")),
        requirements=target_rows(requirements),
        holders=holders_of(user=user, qualification=qualification, at=at),
    )


def course_list(*, search: str = "", kind: str = "", active: bool | None = True, ordering: str = "code") -> QuerySet[Course]:
    qs = Course.objects.select_related("trainer_qualification", "document").prefetch_related(
        Prefetch("confers", queryset=Qualification.objects.order_by("code"))
    )
    qs = _search(qs, search, "code", "name", "name_en")
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by(ordering if ordering in COURSE_ORDERINGS else "code", "code")


def course_get(*, course_id: Any) -> Course:
    course = (
        Course.objects.select_related("trainer_qualification", "document")
        .prefetch_related(Prefetch("confers", queryset=Qualification.objects.order_by("code")))
        .filter(pk=course_id).first()
    )
    if course is None:
        raise _not_found(_("Course not found."))
    return course


def courses_get(ids: Iterable[Any], *, field_name: str = "course_ids") -> list[Course]:
    ids = list(dict.fromkeys(ids))
    found = Course.objects.in_bulk(ids)
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        message = _("No such course: %(ids)s.") % {"ids": ", ".join(missing)}
        raise ValidationFailed(message, fields={field_name: [message]})
    return [found[pk] for pk in ids]


def curriculum_list(*, search: str = "", active: bool | None = True) -> QuerySet[Curriculum]:
    qs = Curriculum.objects.prefetch_related(Prefetch("courses", queryset=Course.objects.order_by("code")))
    qs = _search(qs, search, "code", "name", "name_en")
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("code")


def curriculum_get(*, curriculum_id: Any) -> Curriculum:
    curriculum = (
        Curriculum.objects.prefetch_related(Prefetch("courses", queryset=Course.objects.order_by("code")))
        .filter(pk=curriculum_id).first()
    )
    if curriculum is None:
        raise _not_found(_("Curriculum not found."))
    return curriculum


def requirement_get(*, requirement_id: Any) -> Requirement:
    requirement = Requirement.objects.select_related("qualification").filter(pk=requirement_id).first()
    if requirement is None:
        raise _not_found(_("Requirement not found."))
    return requirement


def requirement_list(
    *, target_kind: str = "", target_id: UUID | None = None, capability: str = "", qualification_id: UUID | None = None
) -> QuerySet[Requirement]:
    qs = Requirement.objects.select_related("qualification")
    if target_kind:
        qs = qs.filter(target_kind=target_kind)
    if target_id is not None:
        qs = qs.filter(target_id=target_id)
    if capability:
        qs = qs.filter(capability=capability)
    if qualification_id is not None:
        qs = qs.filter(qualification_id=qualification_id)
    return qs.order_by("target_kind", "capability", "qualification__code")


@dataclass(frozen=True)
class TargetRequirements:
    """What one target (a position, an operation, an equipment class or a capability) requires, and for
    each qualification the courses that confer it."""

    target_kind: str
    target_id: UUID | None
    capability: str
    requirements: list[Requirement]
    courses_by_qualification: dict[UUID, list[Course]] = field(default_factory=dict)


def target_requirements(*, target_kind: str, target_id: UUID | None = None, capability: str = "") -> TargetRequirements:
    requirements = list(
        requirement_list(target_kind=target_kind, target_id=target_id, capability=capability)
        if target_kind != TargetKind.CAPABILITY or capability else Requirement.objects.none()
    )
    courses: dict[UUID, list[Course]] = {r.qualification_id: [] for r in requirements}
    conferring = Course.objects.filter(confers__in=list(courses)).prefetch_related("confers").order_by("code").distinct()
    for course in conferring:
        for qualification in course.confers.all():
            if qualification.pk in courses:
                courses[qualification.pk].append(course)
    return TargetRequirements(target_kind, target_id, capability, requirements, courses)


def position_get(*, position_id: Any) -> Position:
    position = Position.objects.select_related("department").filter(pk=position_id).first()
    if position is None:
        raise _not_found(_("Position not found."))
    return position


def position_overview() -> list[tuple[Position, int]]:
    """Active positions with the number of qualifications each requires."""
    required = Requirement.objects.filter(target_kind=TargetKind.POSITION)
    counts = dict(required.values("target_id").annotate(n=Count("pk")).values_list("target_id", "n"))
    positions = Position.objects.filter(is_active=True).select_related("department").order_by("code")
    return [(position, counts.get(position.pk, 0)) for position in positions]


def capability_overview() -> list[tuple[str, list[Requirement]]]:
    """Each named capability with the requirements attached to it, by capability code."""
    grouped: dict[str, list[Requirement]] = {}
    for requirement in requirement_list(target_kind=TargetKind.CAPABILITY):
        grouped.setdefault(requirement.capability, []).append(requirement)
    return sorted(grouped.items())
