"""Writes for the catalogue beyond creation (which lives in `services`): editing and retiring
qualifications and courses, what a course confers, the documents a qualification rests on, curricula, and
removing or replacing requirements.

Like every training write: a reason is required, `by` must hold `training.manage` (None is the system),
the model layer audits each row and each change emits its event in the same transaction. An edit that
changes nothing writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from qualiflow.core import context
from qualiflow.core.validation import assign, full_clean, require_reason
from qualiflow.documents.models import Document
from qualiflow.integration import events

from ..errors import TrainingErrorCode
from ..models import (
    Course,
    CourseKind,
    CourseQualification,
    Curriculum,
    CurriculumCourse,
    Qualification,
    QualificationDocument,
    Requirement,
    TargetKind,
)
from . import (
    COURSE_FIELDS,
    QUALIFICATION_FIELDS,
    _authorize,
    _qualification_payload,
    _refuse,
    _refuse_inactive,
    refuse_locked_target,
    requirement_set,
)

CURRICULUM_FIELDS = ("code", "name", "name_en", "is_active", "external_refs")


def _apply(instance, data: dict[str, Any], allowed: Iterable[str]) -> list[str]:
    """Set `data` on `instance`; the names of the fields whose value actually changed."""
    allowed = tuple(allowed)
    before = {name: getattr(instance, name) for name in data if name in allowed}
    assign(instance, data, allowed)
    return sorted(name for name, old in before.items() if getattr(instance, name) != old)


def _refuse_code_taken(model, instance) -> None:
    if model.objects.filter(code=instance.code).exclude(pk=instance.pk).exists():
        _refuse("code", _("The code %(code)s is already used.") % {"code": instance.code}, TrainingErrorCode.CODE_TAKEN)


@transaction.atomic
def qualification_update(
    *, qualification: Qualification, data: dict[str, Any], documents: Iterable[Document] | None = None, by=None,
    reason: str = "",
) -> Qualification:
    """Change the catalogue entry and, when `documents` is given, the documents it rests on. Grants
    already made keep the validity they were given."""
    reason = require_reason(Qualification, reason)
    _authorize(by)
    qualification = Qualification.objects.select_for_update().get(pk=qualification.pk)
    changed = _apply(qualification, data, QUALIFICATION_FIELDS)
    if changed:
        if "code" in changed:
            _refuse_code_taken(Qualification, qualification)
        full_clean(qualification)
        with context.acting(reason=reason):
            qualification.save()
            events.emit(
                "training.qualification.updated", f"training/qualification/{qualification.pk}",
                {**_qualification_payload(qualification), "fields": changed},
            )
    if documents is not None:
        qualification_documents_set(qualification=qualification, documents=documents, by=by, reason=reason)
    return qualification


@transaction.atomic
def qualification_deactivate(*, qualification: Qualification, by=None, reason: str = "") -> Qualification:
    """Take a qualification out of use: it is no longer granted, conferred or required (its requirements
    stop gating), while past grants stay on record."""
    reason = require_reason(Qualification, reason)
    _authorize(by)
    qualification = Qualification.objects.select_for_update().get(pk=qualification.pk)
    if not qualification.is_active:
        return qualification
    qualification.is_active = False
    with context.acting(reason=reason):
        qualification.save()
        events.emit(
            "training.qualification.deactivated", f"training/qualification/{qualification.pk}",
            _qualification_payload(qualification),
        )
    return qualification


@transaction.atomic
def qualification_documents_set(
    *, qualification: Qualification, documents: Iterable[Document], by=None, reason: str = ""
) -> list[Document]:
    """The controlled documents `qualification` rests on are exactly `documents` from now on."""
    reason = require_reason(QualificationDocument, reason)
    _authorize(by)
    qualification = Qualification.objects.select_for_update().get(pk=qualification.pk)
    # Fresh rows: whether a document is still in use is decided on what the database holds now.
    wanted = Document.objects.in_bulk([d.pk for d in documents])
    links = {link.document_id: link for link in QualificationDocument.objects.filter(qualification=qualification)}
    added = [wanted[pk] for pk in wanted if pk not in links]
    removed = [link for pk, link in links.items() if pk not in wanted]
    for document in added:
        if not document.is_active:
            _refuse("documents", _("The document %(code)s is no longer in use.") % {"code": document.code},
                    TrainingErrorCode.DOCUMENT_INACTIVE)
    if added or removed:
        with context.acting(reason=reason):
            QualificationDocument.objects.bulk_create(
                [QualificationDocument(qualification=qualification, document=d) for d in added]
            )
            QualificationDocument.objects.filter(pk__in=[link.pk for link in removed]).delete()
            events.emit(
                "training.qualification.documents_changed", f"training/qualification/{qualification.pk}",
                {"qualification_code": qualification.code,
                 "added": sorted(d.code for d in added),
                 "removed": sorted(link.document.code for link in removed),
                 "documents": sorted(d.code for d in wanted.values())},
            )
    return sorted(wanted.values(), key=lambda d: d.code)


def _refuse_bad_course(course: Course) -> None:
    if (course.pass_mark is None) != (course.max_score is None):
        missing = "max_score" if course.max_score is None else "pass_mark"
        _refuse(missing, _("Give both the pass mark and the maximum score, or neither."), TrainingErrorCode.COURSE_INVALID)
    if course.kind == CourseKind.READ_AND_UNDERSTAND and course.document is None:
        _refuse("document", _("A read-and-understand course names the document read."), TrainingErrorCode.COURSE_INVALID)


@transaction.atomic
def course_update(
    *, course: Course, data: dict[str, Any], confers: Iterable[Qualification] | None = None, by=None,
    reason: str = "",
) -> Course:
    """Change the course and, when `confers` is given, what passing it confers. Training already
    recorded keeps the values it was recorded with."""
    reason = require_reason(Course, reason)
    _authorize(by)
    course = Course.objects.select_for_update().get(pk=course.pk)
    changed = _apply(course, data, COURSE_FIELDS)
    if changed:
        if "code" in changed:
            _refuse_code_taken(Course, course)
        _refuse_bad_course(course)
        if "trainer_qualification" in changed and course.trainer_qualification is not None:
            _refuse_inactive(course.trainer_qualification, "trainer_qualification")
        full_clean(course)
        with context.acting(reason=reason):
            course.save()
            events.emit(
                "training.course.updated", f"training/course/{course.pk}",
                {"code": course.code, "name": course.name, "kind": course.kind, "fields": changed},
            )
    if confers is not None:
        course_confers_set(course=course, qualifications=confers, by=by, reason=reason)
    return course


@transaction.atomic
def course_confers_set(
    *, course: Course, qualifications: Iterable[Qualification], by=None, reason: str = ""
) -> list[Qualification]:
    """Passing `course` confers exactly `qualifications` from now on; grants already made stay."""
    reason = require_reason(CourseQualification, reason)
    _authorize(by)
    course = Course.objects.select_for_update().get(pk=course.pk)
    wanted = Qualification.objects.in_bulk([q.pk for q in qualifications])
    links = {link.qualification_id: link for link in CourseQualification.objects.filter(course=course)}
    added = [wanted[pk] for pk in wanted if pk not in links]
    removed = [link for pk, link in links.items() if pk not in wanted]
    for qualification in added:
        _refuse_inactive(qualification, "confers")
    if added or removed:
        with context.acting(reason=reason):
            CourseQualification.objects.bulk_create([CourseQualification(course=course, qualification=q) for q in added])
            CourseQualification.objects.filter(pk__in=[link.pk for link in removed]).delete()
            events.emit(
                "training.course.confers_changed", f"training/course/{course.pk}",
                {"code": course.code,
                 "added": sorted(q.code for q in added),
                 "removed": sorted(link.qualification.code for link in removed),
                 "confers": sorted(q.code for q in wanted.values())},
            )
    return sorted(wanted.values(), key=lambda q: q.code)


def _curriculum_courses_set(curriculum: Curriculum, courses: Sequence[Course]) -> tuple[list[str], list[str]]:
    wanted = Course.objects.in_bulk([c.pk for c in courses])
    links = {link.course_id: link for link in CurriculumCourse.objects.filter(curriculum=curriculum)}
    added = [wanted[pk] for pk in wanted if pk not in links]
    removed = [link for pk, link in links.items() if pk not in wanted]
    for course in added:
        if not course.is_active:
            _refuse("courses", _("The course %(code)s is no longer in use.") % {"code": course.code},
                    TrainingErrorCode.COURSE_INACTIVE)
    CurriculumCourse.objects.bulk_create([CurriculumCourse(curriculum=curriculum, course=c) for c in added])
    CurriculumCourse.objects.filter(pk__in=[link.pk for link in removed]).delete()
    return sorted(c.code for c in added), sorted(link.course.code for link in removed)


@transaction.atomic
def curriculum_create(
    *, data: dict[str, Any], courses: Iterable[Course] = (), by=None, reason: str = ""
) -> Curriculum:
    reason = require_reason(Curriculum, reason)
    _authorize(by)
    curriculum = Curriculum()
    assign(curriculum, data, CURRICULUM_FIELDS)
    _refuse_code_taken(Curriculum, curriculum)
    full_clean(curriculum)
    with context.acting(reason=reason):
        curriculum.save()
        added, _removed = _curriculum_courses_set(curriculum, list(courses))
        events.emit(
            "training.curriculum.created", f"training/curriculum/{curriculum.pk}",
            {"code": curriculum.code, "name": curriculum.name, "courses": added},
        )
    return curriculum


@transaction.atomic
def curriculum_update(
    *, curriculum: Curriculum, data: dict[str, Any], courses: Iterable[Course] | None = None, by=None,
    reason: str = "",
) -> Curriculum:
    """Change the curriculum's fields and, when `courses` is given, make them its courses."""
    reason = require_reason(Curriculum, reason)
    _authorize(by)
    curriculum = Curriculum.objects.select_for_update().get(pk=curriculum.pk)
    changed = _apply(curriculum, data, CURRICULUM_FIELDS)
    if "code" in changed:
        _refuse_code_taken(Curriculum, curriculum)
    full_clean(curriculum)
    with context.acting(reason=reason):
        if changed:
            curriculum.save()
        added, removed = ([], []) if courses is None else _curriculum_courses_set(curriculum, list(courses))
        if changed or added or removed:
            events.emit(
                "training.curriculum.updated", f"training/curriculum/{curriculum.pk}",
                {"code": curriculum.code, "fields": changed, "added": added, "removed": removed},
            )
    return curriculum


def _requirement_payload(requirement: Requirement) -> dict[str, Any]:
    return {
        "qualification_id": requirement.qualification_id, "qualification_code": requirement.qualification.code,
        "target_kind": requirement.target_kind, "target_id": requirement.target_id,
        "capability": requirement.capability, "mandatory": requirement.mandatory,
        "grace_days": requirement.grace_days,
    }


@transaction.atomic
def requirement_remove(*, requirement: Requirement, by=None, reason: str = "") -> None:
    """The target no longer requires the qualification; the reconciler retires what it no longer needs."""
    reason = require_reason(Requirement, reason)
    _authorize(by)
    requirement = Requirement.objects.select_for_update().select_related("qualification").get(pk=requirement.pk)
    refuse_locked_target(requirement.target_kind, requirement.target_id)
    subject = f"training/requirement/{requirement.pk}"
    payload = _requirement_payload(requirement)
    with context.acting(reason=reason):
        requirement.delete()
        events.emit("training.requirement.removed", subject, payload)


@dataclass(frozen=True)
class RequirementItem:
    qualification: Qualification
    mandatory: bool = True
    grace_days: int = 0


@transaction.atomic
def requirements_replace(
    *,
    target_kind: str,
    target_id: UUID | None = None,
    capability: str = "",
    items: Sequence[RequirementItem],
    by=None,
    reason: str = "",
) -> list[Requirement]:
    """The target requires exactly `items` from now on: new ones are added, changed ones updated and the
    rest removed, each audited with `reason`; entries left as they were write nothing."""
    reason = require_reason(Requirement, reason)
    _authorize(by)
    seen: set[UUID] = set()
    for item in items:
        if item.qualification.pk in seen:
            _refuse("requirements", _("%(code)s is listed twice.") % {"code": item.qualification.code},
                    TrainingErrorCode.REQUIREMENT_TARGET_INVALID)
        seen.add(item.qualification.pk)
    kept = [
        requirement_set(
            qualification=item.qualification, target_kind=target_kind, target_id=target_id, capability=capability,
            mandatory=item.mandatory, grace_days=item.grace_days, by=by, reason=reason,
        )
        for item in items
    ]
    current = Requirement.objects.filter(target_kind=target_kind)
    current = current.filter(capability=capability.strip()) if target_kind == TargetKind.CAPABILITY else current.filter(target_id=target_id)
    for requirement in current.exclude(pk__in=[r.pk for r in kept]):
        requirement_remove(requirement=requirement, by=by, reason=reason)
    return sorted(kept, key=lambda r: r.qualification.code)
