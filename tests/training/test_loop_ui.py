"""The training loop through its pages: plan a session, enrol, record attendance and scores, complete it
with the trainer's password (granting the course's qualifications), the trainee's own signature, the
manager's effectiveness evaluation and a certificate upload; refusals write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.training import services
from qualiflow.training.models import (
    Assessment,
    Attendance,
    Certificate,
    EffectivenessCheck,
    QualificationGrant,
    TrainingAssignment,
    TrainingRecord,
    TrainingSession,
)
from qualiflow.training.services import loop as loop_services
from tests.conftest import PASSWORD


def _written() -> tuple[int, ...]:
    return (TrainingSession.objects.count(), Attendance.objects.count(), Assessment.objects.count(),
            TrainingRecord.objects.count(), QualificationGrant.objects.count(), ESignature.objects.count(),
            Certificate.objects.count(), AuditEntry.objects.count())


@pytest.fixture
def course(eo_operator):
    return services.course_create(
        data={"code": "C-EO", "name": "环氧乙烷灭菌培训", "duration_hours": 8, "max_score": 100, "pass_mark": 80,
              "effectiveness_check_days": 30},
        confers=[eo_operator], reason="set-up",
    )


@pytest.fixture
def people(make_user, make_employee):
    """A trainer and a trainee with logins; the trainee's manager evaluates effectiveness."""
    manager_user = make_user(Role.PRODUCTION_SUPERVISOR, username="sup.zhao")
    manager = make_employee(employee_number="E-SUP", user=manager_user)
    trainer_user = make_user(Role.OPERATOR, username="trainer.liu")
    trainer = make_employee(employee_number="E-TRN", user=trainer_user)
    trainee_user = make_user(Role.OPERATOR, username="op.wang")
    trainee = make_employee(employee_number="E-OP1", user=trainee_user, manager=manager)
    return {"manager": manager_user, "trainer": trainer_user, "trainee": trainee_user,
            "trainer_employee": trainer, "trainee_employee": trainee}


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_the_whole_loop_through_the_pages(course, eo_operator, people, coordinator, login, client):
    trainee = people["trainee_employee"]
    loop_services.assignment_create(employee=trainee, course=course, reason="onboarding",
                                    due_on=timezone.localdate() + timedelta(days=14), qualification=eo_operator)
    ui = login(coordinator)
    now = timezone.now().replace(second=0, microsecond=0)
    planned = ui.post(reverse("training:session_create"), {
        "course": str(course.pk), "starts_at": _local(now - timedelta(hours=3)), "ends_at": _local(now - timedelta(hours=1)),
        "capacity": "10", "place": "培训室 2", "trainer": "E-TRN", "reason": "monthly EO training",
    })
    assert planned.status_code == 302, planned.context["form"].errors
    session = TrainingSession.objects.get()
    assert (session.trainer, session.place, session.capacity) == (people["trainer_employee"], "培训室 2", 10)
    assert planned["Location"] == reverse("training:session_detail", kwargs={"pk": session.pk})

    enrolled = ui.post(reverse("training:session_enrol", kwargs={"pk": session.pk}),
                       {"employees": "E-OP1", "reason": "onboarding"})
    assert enrolled.status_code == 302
    attendance = Attendance.objects.get()
    assert attendance.employee == trainee and attendance.assignment.reason == "onboarding"

    edit = reverse("training:attendance_edit", kwargs={"pk": session.pk, "attendance_pk": attendance.pk})
    assert ui.post(edit, {"action": "attendance", "attendance-attended": "yes", "attendance-skill_level": "3",
                          "attendance-reason": "roll call"}).status_code == 302
    out_of_range = ui.post(edit, {"action": "assessment", "assessment-kind": "written", "assessment-score": "120",
                                  "assessment-reason": "test"})
    assert out_of_range.status_code == 200
    assert out_of_range.context["assessment_form"].errors == {"score": ["The score must be between 0 and 100.00."]}
    assert ui.post(edit, {"action": "assessment", "assessment-kind": "written", "assessment-score": "85",
                          "assessment-reason": "written test"}).status_code == 302
    assert Assessment.objects.get().passed is True

    # The coordinator cannot sign for the trainer; the trainer's wrong password signs nothing.
    detail = reverse("training:session_detail", kwargs={"pk": session.pk})
    assert ui.get(detail).context["can_complete"] is False
    before = _written()
    trainer_ui = login(people["trainer"])
    assert trainer_ui.get(detail).context["can_complete"] is True
    wrong = trainer_ui.post(reverse("training:session_complete", kwargs={"pk": session.pk}),
                            {"password": "wrong", "reason": "session held"})
    assert wrong.status_code == 200
    assert wrong.context["complete_form"].errors["password"] == ["The password is not correct."]
    assert _written()[:7] == before[:7]

    done = trainer_ui.post(reverse("training:session_complete", kwargs={"pk": session.pk}),
                           {"password": PASSWORD, "reason": "session held"})
    assert done.status_code == 302
    record = TrainingRecord.objects.get()
    assert (record.employee, record.passed, record.score, record.trainer) == (
        trainee, True, 85, people["trainer_employee"])
    grant = QualificationGrant.objects.get(employee=trainee)
    assert grant.qualification == eo_operator and grant.evidence["training_record_ids"] == [str(record.pk)]
    assert TrainingAssignment.objects.get().status == "completed"
    check = EffectivenessCheck.objects.get()

    # The trainee signs their own record.
    trainee_ui = login(people["trainee"])
    mine = trainee_ui.get(reverse("training:my_records"))
    assert [(r.pk, signed) for r, signed in mine.context["records"]] == [(record.pk, False)]
    sign = reverse("training:record_sign", kwargs={"pk": record.pk})
    assert trainee_ui.post(sign, {"password": "nope"}).context["form"].errors["password"] == [
        "The password is not correct."]
    assert trainee_ui.post(sign, {"password": PASSWORD, "reason": "read and agreed"}).status_code == 302
    assert [signed for _r, signed in trainee_ui.get(reverse("training:my_records")).context["records"]] == [True]
    assert ESignature.objects.filter(object_id=str(record.pk), meaning="reviewed", signer=people["trainee"]).count() == 1
    assert trainee_ui.get(reverse("training:assignment_list")).context["page"][0].status == "completed"

    # The manager evaluates effectiveness.
    manager_ui = login(people["manager"])
    assert [c.pk for c in manager_ui.get(reverse("training:effectiveness_list")).context["checks"]] == [check.pk]
    evaluated = manager_ui.post(reverse("training:effectiveness_evaluate", kwargs={"pk": check.pk}), {
        "effective": "yes", "comment": "Loads the steriliser correctly", "password": PASSWORD})
    assert evaluated.status_code == 302
    check.refresh_from_db()
    assert (check.status, check.comment) == ("effective", "Loads the steriliser correctly")
    assert list(manager_ui.get(reverse("training:effectiveness_list")).context["checks"]) == []


def test_assignments_mine_and_everyones(course, people, coordinator, login):
    loop_services.assignment_create(employee=people["trainee_employee"], course=course, reason="ad_hoc",
                                    due_on=timezone.localdate() - timedelta(days=1))
    operator_ui = login(people["trainer"])
    assert list(operator_ui.get(reverse("training:assignment_list")).context["page"]) == []
    assert operator_ui.get(reverse("training:assignment_list"), {"scope": "all"}).status_code == 403
    ui = login(coordinator)
    listed = ui.get(reverse("training:assignment_list"), {"scope": "all", "overdue": "on"})
    assert [a.employee.employee_number for a in listed.context["page"]] == ["E-OP1"]
    created = ui.post(reverse("training:assignment_create"), {
        "employee": "E-TRN", "course": str(course.pk), "reason": "ad_hoc", "due_on": "2030-01-31", "note": "refresher"})
    assert created.status_code == 302
    assignment = TrainingAssignment.objects.get(employee=people["trainer_employee"])
    assert (assignment.due_on.isoformat(), assignment.note) == ("2030-01-31", "refresher")
    cancel = reverse("training:assignment_cancel", kwargs={"pk": assignment.pk})
    assert ui.post(cancel, {"reason": ""}).context["form"].errors == {"reason": ["This field is required."]}
    assert ui.post(cancel, {"reason": "Not needed"}).status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == "cancelled"


def test_a_trainer_without_the_trainer_qualification_is_refused(eo_operator, people, coordinator, login):
    trainer_q = services.qualification_create(data={"code": "Q-TRAINER", "name": "内训师"}, reason="set-up")
    course = services.course_create(data={"code": "C-TQ", "name": "x", "duration_hours": 1,
                                          "trainer_qualification": trainer_q}, reason="set-up")
    before = _written()
    now = timezone.now()
    refused = login(coordinator).post(reverse("training:session_create"), {
        "course": str(course.pk), "starts_at": _local(now + timedelta(days=1)),
        "ends_at": _local(now + timedelta(days=1, hours=2)), "capacity": "5", "trainer": "E-TRN", "reason": "plan"})
    assert refused.status_code == 200
    assert list(refused.context["form"].errors) == ["trainer"]
    backwards = login(coordinator).post(reverse("training:session_create"), {
        "course": str(course.pk), "starts_at": _local(now + timedelta(days=1)), "ends_at": _local(now),
        "capacity": "5", "external_trainer": "TÜV", "reason": "plan"})
    assert list(backwards.context["form"].errors) == ["ends_at"]
    assert _written() == before


def test_certificate_upload_accepts_a_pdf_and_refuses_other_files(make_user, make_employee, coordinator, login):
    licence = services.qualification_create(
        data={"code": "Q-SE-LIC", "name": "特种设备作业人员证", "kind": "external_certificate"}, reason="set-up")
    employee = make_employee(employee_number="E-BLR")
    url = reverse("training:certificate_upload", kwargs={"employee_pk": employee.pk})
    ui = login(coordinator)
    form = {"qualification": str(licence.pk), "number": "TS-2026-0042", "issuer": "苏州市场监管局",
            "issued_on": "2026-01-10", "expires_on": "2030-01-10", "reason": "licence renewed"}
    before = _written()
    bad = ui.post(url, {**form, "scan": SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf")})
    assert bad.status_code == 200
    assert bad.context["form"].errors == {"scan": ["The scan must be a PDF, PNG or JPEG file."]}
    assert _written() == before
    good = ui.post(url, {**form, "scan": SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n%%EOF\n")})
    assert good.status_code == 302
    certificate = Certificate.objects.get()
    assert (certificate.number, certificate.grant.qualification, len(certificate.scan_sha256)) == (
        "TS-2026-0042", licence, 64)
    assert [c.number for c in ui.get(url).context["certificates"]] == ["TS-2026-0042"]


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AUDITOR])
def test_read_only_roles_cannot_run_the_loop(course, people, make_user, login, role):
    session = loop_services.session_schedule(
        course=course, starts_at=timezone.now() + timedelta(days=1), ends_at=timezone.now() + timedelta(days=1, hours=1),
        capacity=5, external_trainer="TÜV", reason="plan")
    client = login(make_user(role))
    before = _written()
    for name, kwargs in (("session_create", {}), ("assignment_create", {}), ("session_enrol", {"pk": session.pk}),
                         ("session_cancel", {"pk": session.pk}),
                         ("certificate_upload", {"employee_pk": people["trainee_employee"].pk})):
        assert client.post(reverse(f"training:{name}", kwargs=kwargs), {"reason": "x", "employees": "E-OP1"}).status_code == 403
    completed = client.post(reverse("training:session_complete", kwargs={"pk": session.pk}),
                            {"password": PASSWORD, "reason": "x"})
    assert completed.status_code == (200 if role == Role.AUDITOR else 404)
    assert _written() == before
    if role == Role.AUDITOR:
        assert client.get(reverse("training:session_detail", kwargs={"pk": session.pk})).context["can_manage"] is False
