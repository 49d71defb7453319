"""Catalogue services beyond creation: edits write only what changed, with the reason; links (documents,
conferred qualifications, curriculum courses, requirements) are replaced row by row, audited and announced;
refusals write nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.documents import services as document_services
from qualiflow.integration.models import OutboxEvent
from qualiflow.training import services
from qualiflow.training.models import (
    CourseQualification,
    CurriculumCourse,
    QualificationDocument,
    Requirement,
)
from qualiflow.training.selectors import catalogue as selectors
from qualiflow.training.selectors import requirements_for
from qualiflow.training.services import catalogue


def _written() -> tuple[int, int]:
    return AuditEntry.objects.count(), OutboxEvent.objects.count()


@pytest.fixture
def cleanroom(db):
    return services.qualification_create(
        data={"code": "Q-CR", "name": "洁净区行为资质", "name_en": "Clean-room conduct", "validity_days": 730},
        reason="set-up",
    )


@pytest.fixture
def course(eo_operator):
    return services.course_create(
        data={"code": "C-EO", "name": "环氧乙烷灭菌培训", "duration_hours": 8, "max_score": 100, "pass_mark": 80},
        confers=[eo_operator], reason="set-up",
    )


def test_qualification_update_audits_only_the_changed_fields(eo_operator, coordinator):
    before = _written()
    catalogue.qualification_update(qualification=eo_operator, data={"validity_days": 365}, by=coordinator, reason="same")
    assert _written() == before
    catalogue.qualification_update(
        qualification=eo_operator, data={"validity_days": 730, "renewal_lead_days": 60}, by=coordinator,
        reason="Annual review of the EO validation",
    )
    entry = AuditEntry.objects.get(object_id=str(eo_operator.pk), action="update")
    assert json.loads(entry.changes) == {"validity_days": [365, 730], "renewal_lead_days": [30, 60]}
    assert entry.reason == "Annual review of the EO validation"
    event = OutboxEvent.objects.get(type="training.qualification.updated")
    assert event.data["fields"] == ["renewal_lead_days", "validity_days"]


@pytest.mark.parametrize(("data", "field"), [
    ({"renewal_lead_days": 400}, "__all__"),
    ({"code": "Q-CR"}, "code"),
    ({"min_skill_level": 7}, "min_skill_level"),
])
def test_qualification_update_refusals_write_nothing(eo_operator, cleanroom, coordinator, data, field):
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        catalogue.qualification_update(qualification=eo_operator, data=data, by=coordinator, reason="edit")
    assert field in refused.value.fields
    assert _written() == before
    eo_operator.refresh_from_db()
    assert (eo_operator.code, eo_operator.renewal_lead_days, eo_operator.min_skill_level) == ("Q-EO-OP", 30, None)


def test_deactivation_stops_requirements_gating_and_is_idempotent(eo_operator, coordinator, plant):
    services.requirement_set(qualification=eo_operator, target_kind="position", target_id=plant.operator.pk, reason="gate")
    assert len(requirements_for(position_id=plant.operator.pk)) == 1
    catalogue.qualification_deactivate(qualification=eo_operator, by=coordinator, reason="process retired")
    assert requirements_for(position_id=plant.operator.pk) == []
    before = _written()
    catalogue.qualification_deactivate(qualification=eo_operator, by=coordinator, reason="again")
    assert _written() == before
    assert OutboxEvent.objects.filter(type="training.qualification.deactivated").count() == 1


def test_documents_set_adds_and_removes_rows(eo_operator, coordinator):
    sop = document_services.document_create(data={"code": "SOP-1", "title": "灭菌规程"}, reason="set-up")
    wi = document_services.document_create(data={"code": "WI-1", "title": "装载作业指导书"}, reason="set-up")
    catalogue.qualification_documents_set(qualification=eo_operator, documents=[sop, wi], by=coordinator, reason="rests on")
    catalogue.qualification_documents_set(qualification=eo_operator, documents=[wi], by=coordinator, reason="SOP merged")
    assert list(QualificationDocument.objects.values_list("document__code", flat=True)) == ["WI-1"]
    removal = AuditEntry.objects.get(object_type="training.qualificationdocument", action="delete")
    assert removal.reason == "SOP merged"
    event = OutboxEvent.objects.filter(type="training.qualification.documents_changed").last()
    assert (event.data["added"], event.data["removed"], event.data["documents"]) == ([], ["SOP-1"], ["WI-1"])


def test_course_update_and_confers(course, eo_operator, cleanroom, coordinator):
    catalogue.course_update(
        course=course, data={"pass_mark": 90, "effectiveness_check_days": 30}, confers=[eo_operator, cleanroom],
        by=coordinator, reason="Harder test after deviation DEV-12",
    )
    course.refresh_from_db()
    assert (course.pass_mark, course.effectiveness_check_days) == (90, 30)
    assert sorted(CourseQualification.objects.filter(course=course).values_list("qualification__code", flat=True)) == [
        "Q-CR", "Q-EO-OP"]
    with pytest.raises(ValidationFailed) as refused:
        catalogue.course_update(course=course, data={"pass_mark": 120}, by=coordinator, reason="typo")
    assert refused.value.fields == {"__all__": ["A pass mark needs a maximum score above zero and must not exceed it."]}
    with pytest.raises(ValidationFailed) as unread:
        catalogue.course_update(course=course, data={"kind": "read_and_understand"}, by=coordinator, reason="R&U")
    assert list(unread.value.fields) == ["document"]


def test_confers_refuses_an_inactive_qualification(course, cleanroom, coordinator):
    catalogue.qualification_deactivate(qualification=cleanroom, reason="retired")
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        catalogue.course_confers_set(course=course, qualifications=[cleanroom], by=coordinator, reason="add")
    assert refused.value.code == "training.qualification_inactive"
    assert _written() == before


def test_curriculum_create_and_update(course, coordinator):
    other = services.course_create(data={"code": "C-GMP", "name": "GMP基础", "duration_hours": 2}, reason="set-up")
    curriculum = catalogue.curriculum_create(
        data={"code": "CUR-ONB", "name": "新员工上岗培训"}, courses=[course], by=coordinator, reason="onboarding"
    )
    catalogue.curriculum_update(curriculum=curriculum, data={"name_en": "Onboarding"}, courses=[other],
                                by=coordinator, reason="GMP first")
    assert list(CurriculumCourse.objects.filter(curriculum=curriculum).values_list("course__code", flat=True)) == ["C-GMP"]
    event = OutboxEvent.objects.get(type="training.curriculum.updated")
    assert (event.data["fields"], event.data["added"], event.data["removed"]) == (["name_en"], ["C-GMP"], ["C-EO"])


def test_requirement_remove_is_audited_with_its_reason(eo_operator, plant, coordinator):
    requirement = services.requirement_set(
        qualification=eo_operator, target_kind="position", target_id=plant.operator.pk, reason="gate"
    )
    catalogue.requirement_remove(requirement=requirement, by=coordinator, reason="EO moved to contractor")
    assert not Requirement.objects.exists()
    entry = AuditEntry.objects.get(object_type="training.requirement", action="delete")
    assert (entry.object_id, entry.reason) == (str(requirement.pk), "EO moved to contractor")
    event = OutboxEvent.objects.get(type="training.requirement.removed")
    assert event.subject == f"training/requirement/{requirement.pk}"
    assert event.data["qualification_code"] == "Q-EO-OP"


def test_requirements_replace_adds_changes_and_removes(eo_operator, cleanroom, plant, coordinator):
    services.requirement_set(qualification=eo_operator, target_kind="capability", capability="release_lot", reason="gate")
    catalogue.requirements_replace(
        target_kind="capability", capability="release_lot",
        items=[catalogue.RequirementItem(cleanroom, mandatory=False, grace_days=30)], by=coordinator, reason="new gate",
    )
    rows = list(Requirement.objects.values_list("qualification__code", "capability", "mandatory", "grace_days"))
    assert rows == [("Q-CR", "release_lot", False, 30)]
    assert AuditEntry.objects.filter(object_type="training.requirement", reason="new gate").count() == 2
    before = _written()
    catalogue.requirements_replace(
        target_kind="capability", capability="release_lot",
        items=[catalogue.RequirementItem(cleanroom, mandatory=False, grace_days=30)], by=coordinator, reason="same",
    )
    assert _written() == before
    with pytest.raises(ValidationFailed):
        catalogue.requirements_replace(
            target_kind="capability", capability="release_lot",
            items=[catalogue.RequirementItem(eo_operator), catalogue.RequirementItem(eo_operator)], reason="twice",
        )
    assert _written() == before


def test_catalogue_writes_need_training_manage(eo_operator, make_user):
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR)
    before = _written()
    for call in (
        lambda: catalogue.qualification_update(qualification=eo_operator, data={"name": "x"}, by=supervisor, reason="x"),
        lambda: catalogue.qualification_deactivate(qualification=eo_operator, by=supervisor, reason="x"),
        lambda: catalogue.curriculum_create(data={"code": "X", "name": "X"}, by=supervisor, reason="x"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert _written() == before


def test_holders_count_visible_people_by_status(eo_operator, make_employee, make_user, plant):
    at = datetime(2026, 6, 1, tzinfo=UTC)
    holder = make_employee()
    expiring = make_employee()
    other_site = make_employee(line=plant.line_b2)
    for employee, start in ((holder, datetime(2026, 3, 1, tzinfo=UTC)), (expiring, datetime(2025, 6, 20, tzinfo=UTC)),
                            (other_site, datetime(2026, 3, 1, tzinfo=UTC))):
        services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=start, source="manual",
                                     reason="test")
    site_a_viewer = make_user(Role.TRAINING_COORDINATOR, scope_kind="site", scope_id=plant.site_a.pk)
    assert selectors.holders_of(user=site_a_viewer, qualification=eo_operator, at=at).by_state == {
        "qualified": 1, "expiring": 1}
    everyone = selectors.holders_of(user=make_user(Role.AUDITOR), qualification=eo_operator, at=at)
    assert (everyone.by_state, everyone.allowed) == ({"qualified": 2, "expiring": 1}, 3)
