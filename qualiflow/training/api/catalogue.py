"""Catalogue API under /api/v1/training: qualifications, courses, curricula and the requirements of each
target (position, operation, equipment class, capability). Reads need `training.view`, writes
`training.manage` and a reason, which the audit trail keeps."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import (
    PageParams,
    WriteSchema,
    api_field_names,
    error_responses,
    page_schema,
    paginate,
    patch_field,
)
from qualiflow.core.errors import CoreErrorCode, NotFound, ValidationFailed
from qualiflow.documents.models import Document

from .. import services
from ..models import CAPABILITY_CODE, CourseKind, QualificationKind, TargetKind
from ..selectors import catalogue as selectors
from ..services import catalogue as catalogue_services

router = Router(tags=["training"])

_view = requires(Perm.TRAINING_VIEW)
_manage = requires(Perm.TRAINING_MANAGE)

QualificationKindValue = Literal[tuple(QualificationKind.values)]
CourseKindValue = Literal[tuple(CourseKind.values)]
TargetKindValue = Literal[tuple(TargetKind.values)]
QualificationOrdering = Literal[selectors.QUALIFICATION_ORDERINGS]
CourseOrdering = Literal[selectors.COURSE_ORDERINGS]
# Model field -> the API field a caller sends it as.
_COURSE_API_NAMES = {"trainer_qualification": "trainer_qualification_id", "document": "document_id"}


def _reason() -> Any:
    return Field(..., min_length=1, max_length=2000, description="Why the change is made (required; kept in the audit trail).")


# ---- schemas -----------------------------------------------------------------------------------------


class QualificationOut(Schema):
    id: UUID
    code: str
    name: str
    name_en: str
    kind: str
    validity_days: int | None
    renewal_lead_days: int
    requires_practical_signoff: bool
    min_skill_level: int | None
    is_active: bool
    description: str
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime


class RequirementOut(Schema):
    id: UUID
    qualification_id: UUID
    qualification_code: str = Field(..., alias="qualification.code")
    target_kind: str
    target_id: UUID | None
    capability: str
    mandatory: bool
    grace_days: int


class QualificationDetailOut(QualificationOut):
    document_ids: list[UUID] = Field(..., description="Controlled documents the qualification rests on.")
    conferring_course_ids: list[UUID] = Field(..., description="Courses whose passing grants it.")
    trainer_for_course_ids: list[UUID] = Field(..., description="Courses its holders may teach.")
    requirements: list[RequirementOut] = Field(..., description="Targets that require it.")
    holders: dict[str, int] = Field(
        ..., description="People the caller may see who were ever granted it, by status now."
    )


class QualificationIn(WriteSchema):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    kind: QualificationKindValue = QualificationKind.INTERNAL.value
    validity_days: int | None = Field(None, ge=1, description="Empty: does not expire.")
    renewal_lead_days: int = Field(0, ge=0)
    requires_practical_signoff: bool = False
    min_skill_level: int | None = Field(None, ge=1, le=4)
    description: str = ""
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class QualificationPatch(WriteSchema):
    """Only the fields sent are changed; `document_ids`, when sent, replaces the documents."""

    code: str = patch_field(min_length=1, max_length=40)
    name: str = patch_field(min_length=1, max_length=200)
    name_en: str = patch_field(max_length=200)
    kind: QualificationKindValue = patch_field()
    validity_days: int | None = Field(None, ge=1)
    renewal_lead_days: int = patch_field(ge=0)
    requires_practical_signoff: bool = patch_field()
    min_skill_level: int | None = Field(None, ge=1, le=4)
    is_active: bool = patch_field()
    description: str = patch_field()
    external_refs: dict[str, str] = patch_field()
    document_ids: list[UUID] | None = None
    reason: str = _reason()


class ReasonIn(WriteSchema):
    reason: str = _reason()


class QualificationFilters(PageParams):
    search: str = Field("", description="Part of the code or either name.")
    kind: QualificationKindValue | None = None
    is_active: bool | None = Field(True, description="Only active (true, default) or inactive (false).")
    ordering: QualificationOrdering = "code"


class CourseOut(Schema):
    id: UUID
    code: str
    name: str
    name_en: str
    kind: str
    duration_hours: Decimal
    max_score: Decimal | None
    pass_mark: Decimal | None
    e_learning_url: str
    document_id: UUID | None
    effectiveness_check_days: int | None
    trainer_qualification_id: UUID | None
    confers: list[UUID] = Field(..., description="Qualifications passing the course grants.")
    is_active: bool
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_confers(obj) -> list[UUID]:
        return [q.pk for q in obj.confers.all()]


class CourseIn(WriteSchema):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    kind: CourseKindValue = CourseKind.CLASSROOM.value
    duration_hours: Decimal = Field(..., gt=0, max_digits=6, decimal_places=2)
    max_score: Decimal | None = Field(None, ge=0, max_digits=7, decimal_places=2)
    pass_mark: Decimal | None = Field(None, ge=0, max_digits=7, decimal_places=2)
    e_learning_url: str = Field("", max_length=500)
    document_id: UUID | None = Field(None, description="The controlled document trained on.")
    effectiveness_check_days: int | None = Field(None, ge=0)
    trainer_qualification_id: UUID | None = None
    confers: list[UUID] = Field(default_factory=list, description="Qualification ids.")
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class CoursePatch(WriteSchema):
    """Only the fields sent are changed; `confers`, when sent, replaces what the course confers."""

    code: str = patch_field(min_length=1, max_length=40)
    name: str = patch_field(min_length=1, max_length=200)
    name_en: str = patch_field(max_length=200)
    kind: CourseKindValue = patch_field()
    duration_hours: Decimal = patch_field(gt=0, max_digits=6, decimal_places=2)
    max_score: Decimal | None = Field(None, ge=0, max_digits=7, decimal_places=2)
    pass_mark: Decimal | None = Field(None, ge=0, max_digits=7, decimal_places=2)
    e_learning_url: str = patch_field(max_length=500)
    document_id: UUID | None = None
    effectiveness_check_days: int | None = Field(None, ge=0)
    trainer_qualification_id: UUID | None = None
    confers: list[UUID] | None = None
    is_active: bool = patch_field()
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


class CourseFilters(PageParams):
    search: str = Field("", description="Part of the code or either name.")
    kind: CourseKindValue | None = None
    is_active: bool | None = Field(True, description="Only active (true, default) or inactive (false).")
    ordering: CourseOrdering = "code"


class CurriculumOut(Schema):
    id: UUID
    code: str
    name: str
    name_en: str
    is_active: bool
    course_ids: list[UUID]
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_course_ids(obj) -> list[UUID]:
        return [c.pk for c in obj.courses.all()]


class CurriculumIn(WriteSchema):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    course_ids: list[UUID] = Field(default_factory=list)
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class CurriculumPatch(WriteSchema):
    code: str = patch_field(min_length=1, max_length=40)
    name: str = patch_field(min_length=1, max_length=200)
    name_en: str = patch_field(max_length=200)
    is_active: bool = patch_field()
    course_ids: list[UUID] | None = None
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


class CurriculumFilters(PageParams):
    search: str = ""
    is_active: bool | None = True


class RequirementFilters(PageParams):
    target_kind: TargetKindValue | None = None
    target_id: UUID | None = None
    capability: str = ""
    qualification_id: UUID | None = None


class TargetRequirementOut(Schema):
    id: UUID
    qualification_id: UUID
    qualification_code: str
    mandatory: bool
    grace_days: int
    course_ids: list[UUID] = Field(..., description="Courses that confer the qualification.")


class TargetRequirementsOut(Schema):
    target_kind: str
    target_id: UUID | None
    capability: str
    requirements: list[TargetRequirementOut]


class RequirementItemIn(WriteSchema):
    qualification_id: UUID
    mandatory: bool = True
    grace_days: int = Field(0, ge=0, le=3650)


class TargetRequirementsIn(WriteSchema):
    requirements: list[RequirementItemIn] = Field(
        ..., description="Exactly what the target requires from now on; qualifications left out are no longer required."
    )
    reason: str = _reason()


# ---- helpers -----------------------------------------------------------------------------------------


def _one(getter, field: str, value: UUID | None):
    """The record a reference names, or a field error."""
    if value is None:
        return None
    try:
        return getter(value)
    except NotFound as exc:
        raise ValidationFailed(_("Please correct the errors below."), fields={field: [_("No such record.")]}) from exc


def _document(value: UUID) -> Document:
    document = Document.objects.filter(pk=value).first()
    if document is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Document not found."))
    return document


def _documents(ids: list[UUID]) -> list[Document]:
    found = Document.objects.in_bulk(ids)
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        message = _("No such document: %(ids)s.") % {"ids": ", ".join(missing)}
        raise ValidationFailed(message, fields={"document_ids": [message]})
    return [found[pk] for pk in dict.fromkeys(ids)]


def _qualification_detail(request, qualification) -> dict[str, Any]:
    detail = selectors.qualification_detail(user=request.user, qualification=qualification)
    return {
        **{name: getattr(qualification, name) for name in QualificationOut.model_fields},
        "document_ids": [d.pk for d in detail.documents],
        "conferring_course_ids": [c.pk for c in detail.conferring_courses],
        "trainer_for_course_ids": [c.pk for c in detail.trainer_for_courses],
        "requirements": [row.requirement for row in detail.requirements],
        "holders": detail.holders.by_state,
    }


def _course_data(values: dict[str, Any]) -> dict[str, Any]:
    """API course fields -> service data: ids become the records they name."""
    data = dict(values)
    if "document_id" in data:
        data["document"] = _one(_document, "document_id", data.pop("document_id"))
    if "trainer_qualification_id" in data:
        data["trainer_qualification"] = _one(
            lambda pk: selectors.qualification_get(qualification_id=pk), "trainer_qualification_id",
            data.pop("trainer_qualification_id"),
        )
    return data


def _target(target_kind: str, target: str) -> tuple[UUID | None, str]:
    """The path's target as (target_id, capability)."""
    if target_kind == TargetKind.CAPABILITY:
        if not CAPABILITY_CODE.regex.match(target):
            raise ValidationFailed(CAPABILITY_CODE.message, fields={"target": [CAPABILITY_CODE.message]})
        return None, target
    try:
        target_id = UUID(target)
    except ValueError as exc:
        message = _("Enter a valid identifier (UUID).")
        raise ValidationFailed(message, fields={"target": [message]}) from exc
    if target_kind == TargetKind.POSITION:
        selectors.position_get(position_id=target_id)
    return target_id, ""


def _target_out(target_kind: str, target_id: UUID | None, capability: str) -> dict[str, Any]:
    target = selectors.target_requirements(target_kind=target_kind, target_id=target_id, capability=capability)
    return {
        "target_kind": target_kind, "target_id": target_id, "capability": capability,
        "requirements": [
            {"id": r.pk, "qualification_id": r.qualification_id, "qualification_code": r.qualification.code,
             "mandatory": r.mandatory, "grace_days": r.grace_days,
             "course_ids": [c.pk for c in target.courses_by_qualification.get(r.qualification_id, [])]}
            for r in target.requirements
        ],
    }


# ---- qualifications ----------------------------------------------------------------------------------


@router.get("/qualifications", response={200: page_schema(QualificationOut), **error_responses(403, 422)},
            auth=_view, operation_id="training_qualification_list")
def qualification_list(request, filters: Query[QualificationFilters]):
    return paginate(
        selectors.qualification_list(search=filters.search, kind=filters.kind or "", active=filters.is_active,
                                     ordering=filters.ordering),
        filters,
    )


@router.post("/qualifications", response={201: QualificationDetailOut, **error_responses(403, 422)},
             auth=_manage, operation_id="training_qualification_create")
def qualification_create(request, payload: QualificationIn):
    qualification = services.qualification_create(
        data=payload.model_dump(exclude={"reason"}), by=request.user, reason=payload.reason
    )
    return Status(201, _qualification_detail(request, qualification))


@router.get("/qualifications/{qualification_id}", response={200: QualificationDetailOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="training_qualification_get")
def qualification_get(request, qualification_id: UUID):
    """The qualification, how it is earned, what it rests on, what requires it and how many hold it."""
    return _qualification_detail(request, selectors.qualification_get(qualification_id=qualification_id))


@router.patch("/qualifications/{qualification_id}",
              response={200: QualificationDetailOut, **error_responses(403, 404, 422)}, auth=_manage,
              operation_id="training_qualification_update")
def qualification_update(request, qualification_id: UUID, payload: QualificationPatch):
    qualification = selectors.qualification_get(qualification_id=qualification_id)
    values = payload.model_dump(exclude_unset=True, exclude={"reason"})
    document_ids = values.pop("document_ids", None)
    qualification = catalogue_services.qualification_update(
        qualification=qualification, data=values,
        documents=None if document_ids is None else _documents(document_ids), by=request.user,
        reason=payload.reason,
    )
    return _qualification_detail(request, qualification)


@router.post("/qualifications/{qualification_id}/deactivate",
             response={200: QualificationDetailOut, **error_responses(403, 404, 422)}, auth=_manage,
             operation_id="training_qualification_deactivate")
def qualification_deactivate(request, qualification_id: UUID, payload: ReasonIn):
    """Take it out of use: no longer granted, conferred or required; past grants stay on record."""
    qualification = catalogue_services.qualification_deactivate(
        qualification=selectors.qualification_get(qualification_id=qualification_id), by=request.user,
        reason=payload.reason,
    )
    return _qualification_detail(request, qualification)


# ---- courses -----------------------------------------------------------------------------------------


@router.get("/courses", response={200: page_schema(CourseOut), **error_responses(403, 422)}, auth=_view,
            operation_id="training_course_list")
def course_list(request, filters: Query[CourseFilters]):
    return paginate(
        selectors.course_list(search=filters.search, kind=filters.kind or "", active=filters.is_active,
                              ordering=filters.ordering),
        filters,
    )


@router.post("/courses", response={201: CourseOut, **error_responses(403, 422)}, auth=_manage,
             operation_id="training_course_create")
def course_create(request, payload: CourseIn):
    values = payload.model_dump(exclude={"reason"})
    confers = selectors.qualifications_get(values.pop("confers"), field_name="confers")
    with api_field_names(_COURSE_API_NAMES):
        course = services.course_create(
            data=_course_data(values), confers=confers, by=request.user, reason=payload.reason
        )
    return Status(201, selectors.course_get(course_id=course.pk))


@router.get("/courses/{course_id}", response={200: CourseOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="training_course_get")
def course_get(request, course_id: UUID):
    return selectors.course_get(course_id=course_id)


@router.patch("/courses/{course_id}", response={200: CourseOut, **error_responses(403, 404, 422)}, auth=_manage,
              operation_id="training_course_update")
def course_update(request, course_id: UUID, payload: CoursePatch):
    course = selectors.course_get(course_id=course_id)
    values = payload.model_dump(exclude_unset=True, exclude={"reason"})
    confers = values.pop("confers", None)
    with api_field_names(_COURSE_API_NAMES):
        catalogue_services.course_update(
            course=course, data=_course_data(values),
            confers=None if confers is None else selectors.qualifications_get(confers, field_name="confers"),
            by=request.user, reason=payload.reason,
        )
    return selectors.course_get(course_id=course.pk)


# ---- curricula ---------------------------------------------------------------------------------------


@router.get("/curricula", response={200: page_schema(CurriculumOut), **error_responses(403, 422)}, auth=_view,
            operation_id="training_curriculum_list")
def curriculum_list(request, filters: Query[CurriculumFilters]):
    return paginate(selectors.curriculum_list(search=filters.search, active=filters.is_active), filters)


@router.post("/curricula", response={201: CurriculumOut, **error_responses(403, 422)}, auth=_manage,
             operation_id="training_curriculum_create")
def curriculum_create(request, payload: CurriculumIn):
    values = payload.model_dump(exclude={"reason"})
    courses = selectors.courses_get(values.pop("course_ids"))
    curriculum = catalogue_services.curriculum_create(data=values, courses=courses, by=request.user, reason=payload.reason)
    return Status(201, selectors.curriculum_get(curriculum_id=curriculum.pk))


@router.get("/curricula/{curriculum_id}", response={200: CurriculumOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="training_curriculum_get")
def curriculum_get(request, curriculum_id: UUID):
    return selectors.curriculum_get(curriculum_id=curriculum_id)


@router.patch("/curricula/{curriculum_id}", response={200: CurriculumOut, **error_responses(403, 404, 422)},
              auth=_manage, operation_id="training_curriculum_update")
def curriculum_update(request, curriculum_id: UUID, payload: CurriculumPatch):
    curriculum = selectors.curriculum_get(curriculum_id=curriculum_id)
    values = payload.model_dump(exclude_unset=True, exclude={"reason"})
    course_ids = values.pop("course_ids", None)
    catalogue_services.curriculum_update(
        curriculum=curriculum, data=values, courses=None if course_ids is None else selectors.courses_get(course_ids),
        by=request.user, reason=payload.reason,
    )
    return selectors.curriculum_get(curriculum_id=curriculum.pk)


# ---- requirements ------------------------------------------------------------------------------------


@router.get("/requirements", response={200: page_schema(RequirementOut), **error_responses(403, 422)}, auth=_view,
            operation_id="training_requirement_list")
def requirement_list(request, filters: Query[RequirementFilters]):
    """Every requirement, filtered by target or qualification."""
    return paginate(
        selectors.requirement_list(target_kind=filters.target_kind or "", target_id=filters.target_id,
                                   capability=filters.capability, qualification_id=filters.qualification_id),
        filters,
    )


@router.get("/requirements/{target_kind}/{target}",
            response={200: TargetRequirementsOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="training_target_requirements_get")
def target_requirements_get(request, target_kind: TargetKindValue, target: str):
    """What one target requires. `target`: the position, operation or equipment class id, or the capability code."""
    target_id, capability = _target(target_kind, target)
    return _target_out(target_kind, target_id, capability)


@router.put("/requirements/{target_kind}/{target}",
            response={200: TargetRequirementsOut, **error_responses(403, 404, 422)}, auth=_manage,
            operation_id="training_target_requirements_set")
def target_requirements_set(request, target_kind: TargetKindValue, target: str, payload: TargetRequirementsIn):
    """Replace what one target requires: qualifications added, changed or left out are each audited."""
    target_id, capability = _target(target_kind, target)
    qualifications = selectors.qualifications_get([item.qualification_id for item in payload.requirements],
                                                  field_name="requirements")
    by_id = {q.pk: q for q in qualifications}
    catalogue_services.requirements_replace(
        target_kind=target_kind, target_id=target_id, capability=capability,
        items=[catalogue_services.RequirementItem(by_id[item.qualification_id], item.mandatory, item.grace_days)
               for item in payload.requirements],
        by=request.user, reason=payload.reason,
    )
    return _target_out(target_kind, target_id, capability)
