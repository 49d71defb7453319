"""Catalogue pages: qualifications, courses, curricula and requirements are created and changed with a
reason, audited, refused in the reader's language; read-only roles see but cannot change; the requirement
graph is served to ECharts."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.documents import services as document_services
from qualiflow.integration.models import OutboxEvent
from qualiflow.training import services
from qualiflow.training.models import Course, Curriculum, Qualification, Requirement


def _written() -> tuple[int, ...]:
    return (Qualification.objects.count(), Course.objects.count(), Curriculum.objects.count(),
            Requirement.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count())


QUALIFICATION_FORM = {
    "code": "Q-SE-LIC", "name": "特种设备作业人员证", "name_en": "Special equipment operator licence",
    "kind": "external_certificate", "validity_days": "1460", "renewal_lead_days": "90", "min_skill_level": "",
    "description": "", "external_refs": "",
}


@pytest.fixture
def course(eo_operator):
    return services.course_create(
        data={"code": "C-EO", "name": "环氧乙烷灭菌培训", "name_en": "EO sterilisation", "duration_hours": 8,
              "max_score": 100, "pass_mark": 80},
        confers=[eo_operator], reason="set-up",
    )


def test_create_qualification_needs_a_reason_and_is_audited(coordinator, login):
    client = login(coordinator)
    assert client.get(reverse("training:qualification_create")).status_code == 200
    before = _written()
    refused = client.post(reverse("training:qualification_create"), QUALIFICATION_FORM)
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"reason": ["This field is required."]}
    assert _written() == before

    created = client.post(reverse("training:qualification_create"), {**QUALIFICATION_FORM, "reason": "Boiler licence"})
    qualification = Qualification.objects.get(code="Q-SE-LIC")
    assert created.status_code == 302
    assert created["Location"] == reverse("training:qualification_detail", kwargs={"pk": qualification.pk})
    assert (qualification.kind, qualification.validity_days, qualification.renewal_lead_days) == (
        "external_certificate", 1460, 90)
    entry = AuditEntry.objects.get(object_type="training.qualification", object_id=str(qualification.pk))
    assert (entry.action, entry.reason, entry.actor_name) == ("create", "Boiler licence", coordinator.username)


def test_edit_qualification_with_documents_and_deactivate(eo_operator, coordinator, login):
    sop = document_services.document_create(data={"code": "SOP-EO-001", "title": "灭菌规程"}, reason="set-up")
    client = login(coordinator)
    url = reverse("training:qualification_edit", kwargs={"pk": eo_operator.pk})
    form = client.get(url).context["form"]
    data = {name: ("on" if value is True else "" if value in (None, False) else value)
            for name, value in form.initial.items() if name in form.fields}
    data.update({"external_refs": "", "renewal_lead_days": "45", "documents": [str(sop.pk)],
                 "reason": "Lead time per QA"})
    data.pop("requires_practical_signoff", None)
    saved = client.post(url, data)
    assert saved.status_code == 302, saved.context["form"].errors
    eo_operator.refresh_from_db()
    assert eo_operator.renewal_lead_days == 45 and eo_operator.is_active
    assert list(eo_operator.documents.values_list("code", flat=True)) == ["SOP-EO-001"]
    update = AuditEntry.objects.get(object_id=str(eo_operator.pk), action="update")
    assert json.loads(update.changes) == {"renewal_lead_days": [30, 45]} and update.reason == "Lead time per QA"
    assert AuditEntry.objects.get(object_type="training.qualificationdocument").reason == "Lead time per QA"

    deactivate = reverse("training:qualification_deactivate", kwargs={"pk": eo_operator.pk})
    assert client.post(deactivate, {"reason": ""}).context["form"].errors == {"reason": ["This field is required."]}
    eo_operator.refresh_from_db()
    assert eo_operator.is_active
    assert client.post(deactivate, {"reason": "Steriliser decommissioned"}).status_code == 302
    eo_operator.refresh_from_db()
    assert not eo_operator.is_active
    listed = client.get(reverse("training:qualification_list"), {"status": "inactive"})
    assert [q.code for q in listed.context["page"]] == ["Q-EO-OP"]


def test_validation_errors_come_in_the_readers_language(eo_operator, make_user, login):
    client = login(make_user(Role.TRAINING_COORDINATOR, language="zh-hans"))
    before = _written()
    refused = client.post(reverse("training:qualification_create"), {
        **QUALIFICATION_FORM, "validity_days": "30", "renewal_lead_days": "60", "reason": "新证书"})
    assert refused.status_code == 200
    assert refused.context["form"].non_field_errors() == ["续期提前期必须短于有效期。"]
    taken = client.post(reverse("training:qualification_create"), {**QUALIFICATION_FORM, "code": "Q-EO-OP", "reason": "新"})
    assert taken.context["form"].errors["code"] == ["代码 Q-EO-OP 已被使用。"]
    assert _written() == before
    assert '<html lang="zh-hans">' in client.get(reverse("training:qualification_list")).content.decode()


def test_qualification_list_filters_by_search_kind_and_status(eo_operator, coordinator, login):
    services.qualification_create(
        data={"code": "Q-HEALTH", "name": "健康证", "kind": "health_certificate", "validity_days": 365}, reason="set-up"
    )
    client = login(coordinator)
    codes = lambda **params: [q.code for q in client.get(reverse("training:qualification_list"), params).context["page"]]  # noqa: E731
    assert codes() == ["Q-EO-OP", "Q-HEALTH"]
    assert codes(kind="health_certificate") == ["Q-HEALTH"]
    assert codes(q="环氧") == ["Q-EO-OP"]
    fragment = client.get(reverse("training:qualification_list"), {"q": "EO"}, headers={"HX-Request": "true"})
    assert fragment.templates[0].name == "training/catalogue/_qualification_results.html"


def test_course_create_and_edit_with_confers(eo_operator, coordinator, login):
    cleanroom = services.qualification_create(data={"code": "Q-CR", "name": "洁净区资质"}, reason="set-up")
    client = login(coordinator)
    created = client.post(reverse("training:course_create"), {
        "code": "C-EO", "name": "环氧乙烷灭菌培训", "kind": "classroom", "duration_hours": "8", "max_score": "100",
        "pass_mark": "80", "effectiveness_check_days": "30", "confers": [str(eo_operator.pk)],
        "trainer_qualification": str(cleanroom.pk), "reason": "new course",
    })
    assert created.status_code == 302, created.context["form"].errors
    course = Course.objects.get(code="C-EO")
    assert list(course.confers.values_list("code", flat=True)) == ["Q-EO-OP"]
    assert (course.effectiveness_check_days, course.trainer_qualification) == (30, cleanroom)

    edit = reverse("training:course_edit", kwargs={"pk": course.pk})
    changed = client.post(edit, {
        "code": "C-EO", "name": "环氧乙烷灭菌培训", "kind": "classroom", "duration_hours": "8.00", "max_score": "100.00",
        "pass_mark": "80.00", "effectiveness_check_days": "30", "trainer_qualification": str(cleanroom.pk),
        "is_active": "on", "confers": [str(eo_operator.pk), str(cleanroom.pk)], "reason": "also clean-room conduct",
    })
    assert changed.status_code == 302, changed.context["form"].errors
    assert sorted(course.confers.values_list("code", flat=True)) == ["Q-CR", "Q-EO-OP"]
    assert AuditEntry.objects.filter(object_type="training.coursequalification", reason="also clean-room conduct").count() == 1
    assert not AuditEntry.objects.filter(object_type="training.course", action="update").exists()

    bad = client.post(edit, {
        "code": "C-EO", "name": "x", "kind": "classroom", "duration_hours": "8", "max_score": "", "pass_mark": "80",
        "is_active": "on", "reason": "oops",
    })
    assert bad.status_code == 200 and "max_score" in bad.context["form"].errors
    detail = client.get(reverse("training:course_detail", kwargs={"pk": course.pk}))
    assert detail.status_code == 200 and "80.00 / 100.00" in detail.content.decode()


def test_curriculum_create_and_edit(course, coordinator, login):
    client = login(coordinator)
    created = client.post(reverse("training:curriculum_create"), {
        "code": "CUR-ONB", "name": "新员工上岗培训", "is_active": "on", "courses": [str(course.pk)], "reason": "onboarding"})
    assert created.status_code == 302
    curriculum = Curriculum.objects.get(code="CUR-ONB")
    assert list(curriculum.courses.values_list("code", flat=True)) == ["C-EO"]
    edited = client.post(reverse("training:curriculum_edit", kwargs={"pk": curriculum.pk}), {
        "code": "CUR-ONB", "name": "新员工上岗培训", "name_en": "Onboarding", "is_active": "on", "courses": [],
        "reason": "course moved"})
    assert edited.status_code == 302
    assert not curriculum.courses.exists()
    page = client.get(reverse("training:curriculum_list"))
    assert [c.code for c in page.context["curricula"]] == ["CUR-ONB"]


def test_position_requirements_add_change_and_remove_are_audited(eo_operator, course, plant, coordinator, login):
    client = login(coordinator)
    url = reverse("training:position_requirements", kwargs={"pk": plant.operator.pk})
    before = _written()
    refused = client.post(url, {"qualification": str(eo_operator.pk), "mandatory": "on", "grace_days": "30"})
    assert refused.context["form"].errors == {"reason": ["This field is required."]}
    assert _written() == before

    added = client.post(url, {"qualification": str(eo_operator.pk), "mandatory": "on", "grace_days": "30",
                              "reason": "EO loading is part of the job"})
    assert added.status_code == 302 and added["Location"] == url
    requirement = Requirement.objects.get()
    assert (requirement.target_kind, requirement.target_id, requirement.mandatory, requirement.grace_days) == (
        "position", plant.operator.pk, True, 30)
    assert AuditEntry.objects.get(object_type="training.requirement", action="create").reason == "EO loading is part of the job"

    page = client.get(url)
    assert [row["requirement"] for row in page.context["rows"]] == [requirement]
    assert [c.code for c in page.context["rows"][0]["courses"]] == ["C-EO"]
    graph = page.context["graph"]
    assert {(link["source"], link["target"]) for link in graph["links"]} == {
        (f"position:{plant.operator.pk}", f"q:{eo_operator.pk}"), (f"c:{course.pk}", f"q:{eo_operator.pk}")}
    html = page.content.decode()
    assert "vendor/echarts.min.js" in html and 'id="requirement-graph-data"' in html

    changed = client.post(reverse("training:requirement_edit", kwargs={"pk": requirement.pk}),
                          {"grace_days": "0", "reason": "No grace after audit finding"})
    assert changed.status_code == 302 and changed["Location"] == url
    requirement.refresh_from_db()
    assert (requirement.mandatory, requirement.grace_days) == (False, 0)
    update = AuditEntry.objects.get(object_type="training.requirement", action="update")
    assert json.loads(update.changes) == {"mandatory": [True, False], "grace_days": [30, 0]}
    assert update.reason == "No grace after audit finding"

    removed = client.post(reverse("training:requirement_remove", kwargs={"pk": requirement.pk}), {"reason": "Job redesigned"})
    assert removed.status_code == 302 and not Requirement.objects.exists()
    assert AuditEntry.objects.get(object_type="training.requirement", action="delete").reason == "Job redesigned"


def test_capability_requirements_are_editable(eo_operator, coordinator, login):
    client = login(coordinator)
    url = reverse("training:capability_requirements")
    bad = client.post(url, {"capability": "Release Lot", "qualification": str(eo_operator.pk), "grace_days": "0",
                            "reason": "gate"})
    assert "capability" in bad.context["form"].errors and not Requirement.objects.exists()
    added = client.post(url, {"capability": "release_lot", "qualification": str(eo_operator.pk), "mandatory": "on",
                              "grace_days": "0", "reason": "QA release gate"})
    assert added.status_code == 302
    assert list(Requirement.objects.values_list("capability", "qualification__code")) == [("release_lot", "Q-EO-OP")]
    assert client.get(url).context["capabilities"][0][0] == "release_lot"


def test_qualification_detail_shows_how_it_is_earned_and_who_requires_it(eo_operator, course, plant, coordinator, login):
    services.requirement_set(qualification=eo_operator, target_kind="position", target_id=plant.operator.pk,
                             grace_days=14, reason="gate")
    services.requirement_set(qualification=eo_operator, target_kind="capability", capability="release_lot",
                             mandatory=False, reason="gate")
    page = login(coordinator).get(reverse("training:qualification_detail", kwargs={"pk": eo_operator.pk}))
    detail = page.context["detail"]
    assert [c.code for c in detail.conferring_courses] == ["C-EO"]
    assert sorted((row.requirement.target_kind, row.target_label) for row in detail.requirements) == [
        ("capability", "release_lot"), ("position", "OP-ASM Assembly operator")]
    nodes = {node["id"]: node for node in page.context["graph"]["nodes"]}
    assert nodes["capability:release_lot"]["url"] == reverse("training:capability_requirements")
    dashed = [link for link in page.context["graph"]["links"] if link.get("lineStyle", {}).get("type") == "dashed"]
    assert [link["source"] for link in dashed] == ["capability:release_lot"]
    html = page.content.decode()
    assert "80.00 / 100.00" in html and "OP-ASM" in html


MANAGE_PAGES = ("qualification_create", "course_create", "curriculum_create")


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AUDITOR])
def test_read_only_roles_cannot_change_the_catalogue(eo_operator, course, plant, make_user, login, role):
    client = login(make_user(role))
    requirement = services.requirement_set(qualification=eo_operator, target_kind="position",
                                           target_id=plant.operator.pk, reason="gate")
    before = _written()
    for name in MANAGE_PAGES:
        assert client.get(reverse(f"training:{name}")).status_code == 403
        assert client.post(reverse(f"training:{name}"), {"code": "X", "name": "X", "reason": "x"}).status_code == 403
    for name, pk in (("qualification_edit", eo_operator.pk), ("qualification_deactivate", eo_operator.pk),
                     ("course_edit", course.pk), ("requirement_edit", requirement.pk),
                     ("requirement_remove", requirement.pk)):
        assert client.post(reverse(f"training:{name}", kwargs={"pk": pk}), {"reason": "x"}).status_code == 403
    position_url = reverse("training:position_requirements", kwargs={"pk": plant.operator.pk})
    assert client.post(position_url, {"qualification": str(eo_operator.pk), "grace_days": "0",
                                      "reason": "x"}).status_code == 403
    assert _written() == before
    reading = client.get(position_url)
    if role == Role.AUDITOR:
        assert reading.status_code == 200 and reading.context["form"] is None
        assert client.get(reverse("training:qualification_detail", kwargs={"pk": eo_operator.pk})).context["can_manage"] is False
        assert client.get(reverse("training:course_list")).status_code == 200
    else:
        assert reading.status_code == 403
        assert client.get(reverse("training:qualification_list")).status_code == 403
