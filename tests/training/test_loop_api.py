"""Training loop API: completing the loop through the API grants exactly the qualifications the course
confers and emits the events; signing needs the signer's own session and password; bad input is refused
in our error shape and writes nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from qualiflow.accounts import services as account_services
from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
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
from tests.conftest import PASSWORD
from tests.training.test_loop_services import World, build_world

HOUR = dt.timedelta(hours=1)


def _written() -> tuple[int, ...]:
    return (
        TrainingAssignment.objects.count(), TrainingSession.objects.count(), Attendance.objects.count(),
        Assessment.objects.count(), TrainingRecord.objects.count(), QualificationGrant.objects.count(),
        EffectivenessCheck.objects.count(), Certificate.objects.count(), ESignature.objects.count(),
        AuditEntry.objects.count(), OutboxEvent.objects.count(),
    )


class Api:
    """Calls to /api/v1/training as `user`: with a bearer token, or through their signed-in session."""

    def __init__(self, user, *, session: bool = False):
        self.client = Client()
        self.headers = {}
        if session:
            self.client.force_login(user)
        else:
            _token, secret = account_services.api_token_issue(user=user, name="test")
            self.headers = {"Authorization": f"Bearer {secret}"}

    def __call__(self, method: str, path: str, body=None, **params):
        kwargs = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=json.dumps(body, default=str), content_type="application/json")
        if params:
            kwargs["query_params"] = params
        return getattr(self.client, method)(f"/api/v1/training{path}", **kwargs)


def _ok(response, status: int = 200) -> dict | list:
    assert response.status_code == status, response.content
    return response.json()


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code, body
    return body


@pytest.fixture
def world(plant, make_employee, make_user, eo_operator) -> World:
    return build_world(make_employee, make_user, eo_operator)


@pytest.fixture
def api(coordinator):
    return Api(coordinator)


def _session_body(world: World, **overrides) -> dict:
    now = timezone.now()
    return {"course_id": world.course.pk, "starts_at": now - 3 * HOUR, "ends_at": now - HOUR, "capacity": 8,
            "place": "培训室 2", "trainer_id": world.trainer.pk, "reason": "quarterly EO training", **overrides}


def test_completing_the_loop_through_the_api_grants_exactly_the_conferred_qualifications(api, world, plant, coordinator):
    assignment = _ok(api("post", "/assignments", {"employee_id": world.trainee.pk, "course_id": world.course.pk,
                                                  "reason": "onboarding", "due_on": timezone.now().date()}), 201)
    session = _ok(api("post", "/sessions", _session_body(world, line_id=plant.line_a.pk)), 201)
    assert (session["status"], session["enrolled"], session["attendances"]) == ("planned", 0, [])
    enrolled = _ok(api("post", f"/sessions/{session['id']}/enrol",
                       {"employee_ids": [world.trainee.pk], "reason": "onboarding group"}))
    (attendance,) = enrolled["attendances"]
    assert attendance["assignment_id"] == assignment["id"] and enrolled["enrolled"] == 1
    base = f"/sessions/{session['id']}/attendances/{attendance['id']}"
    _ok(api("patch", base, {"attended": True, "practical_signed_off": True, "skill_level": 3, "reason": "sheet"}))
    assessment = _ok(api("post", f"{base}/assessments", {"kind": "written", "score": "88.5", "reason": "marked"}), 201)
    assert (assessment["passed"], assessment["max_score"], assessment["pass_mark"]) == (True, "100.00", "80.00")
    detail = _ok(api("get", f"/sessions/{session['id']}"))
    assert detail["attendances"][0]["assessments"][0]["id"] == assessment["id"]

    before = _written()
    complete = f"/sessions/{session['id']}/complete"
    _error(api("post", complete, {"password": PASSWORD, "reason": "held"}), 403, "accounts.signature_not_allowed")
    trainer = Api(world.trainer_user, session=True)
    _error(trainer("post", complete, {"password": "wrong", "reason": "held"}), 403, "accounts.signature_password_invalid")
    coordinator_session = Api(coordinator, session=True)
    _error(coordinator_session("post", complete, {"password": PASSWORD, "reason": "held"}), 403, "training.out_of_scope")
    assert _written() == before
    earlier_events = set(OutboxEvent.objects.values_list("pk", flat=True))

    (record,) = _ok(trainer("post", complete, {"password": PASSWORD, "reason": "session held"}))

    assert (record["employee_id"], record["passed"], record["score"], record["line_id"]) == (
        str(world.trainee.pk), True, "88.50", str(plant.line_a.pk))
    assert [s["meaning"] for s in record["signatures"]] == ["performed"]
    new_events = OutboxEvent.objects.exclude(pk__in=earlier_events)
    completed = [e for e in new_events if e.type == "training.record.completed"]
    granted = [e for e in new_events if e.type == "training.qualification.granted"]
    assert [e.data["record_id"] for e in completed] == [record["id"]]
    assert sorted(e.data["qualification_code"] for e in granted) == ["Q-CR", "Q-EO-OP"]
    assert all(e.data["employee_id"] == str(world.trainee.pk) and e.data["source"] == "training_record" for e in granted)
    assert not OutboxEvent.objects.filter(type="training.qualification.granted",
                                          data__qualification_code="Q-OTHER").exists()
    assert set(QualificationGrant.objects.filter(employee=world.trainee).values_list("qualification__code", flat=True)) \
        == {"Q-CR", "Q-EO-OP"}
    assert _ok(api("get", "/assignments", employee_id=world.trainee.pk, status="completed"))["count"] == 1
    assert _ok(api("get", f"/sessions/{session['id']}"))["status"] == "completed"

    trainee = Api(world.trainee_user, session=True)
    signed = _ok(trainee("post", f"/records/{record['id']}/sign", {"password": PASSWORD}))
    assert [s["meaning"] for s in signed["signatures"]] == ["performed", "reviewed"]
    _error(trainee("post", f"/records/{record['id']}/sign", {"password": PASSWORD}), 409, "core.conflict")
    listed = _ok(api("get", "/records", employee_id=world.trainee.pk))
    assert listed["count"] == 1 and len(listed["items"][0]["signatures"]) == 2

    manager = Api(world.manager_user, session=True)
    (check,) = _ok(manager("get", "/effectiveness-checks", mine="true"))["items"]
    assert (check["record_id"], check["status"]) == (record["id"], "pending")
    evaluated = _ok(manager("post", f"/effectiveness-checks/{check['id']}/evaluate",
                            {"effective": True, "comment": "Loads the steriliser without errors.", "password": PASSWORD}))
    assert evaluated["status"] == "effective"
    _error(manager("post", f"/effectiveness-checks/{check['id']}/evaluate",
                   {"effective": False, "comment": "Changed my mind.", "password": PASSWORD}), 422,
           "training.effectiveness_invalid")
    _error(manager("post", f"/records/{record['id']}/sign", {"password": PASSWORD}), 404, "core.not_found")
    assert OutboxEvent.objects.filter(type="training.effectiveness.evaluated").count() == 1


def test_bad_input_is_refused_and_nothing_is_written(api, world, make_employee):
    session = _ok(api("post", "/sessions", _session_body(world)), 201)
    enrolled = _ok(api("post", f"/sessions/{session['id']}/enrol", {"employee_ids": [world.trainee.pk], "reason": "x"}))
    base = f"/sessions/{session['id']}/attendances/{enrolled['attendances'][0]['id']}"
    unqualified = make_employee()
    before = _written()
    for score in ("101", "-0.5"):
        body = _error(api("post", f"{base}/assessments", {"score": score, "reason": "marked"}), 422,
                      "training.score_out_of_range")
        assert "score" in body["details"]["fields"]
    now = timezone.now()
    body = _error(api("post", "/sessions", _session_body(world, starts_at=now, ends_at=now - HOUR)), 422,
                  "training.session_dates_invalid")
    assert "ends_at" in body["details"]["fields"]
    body = _error(api("post", "/sessions", _session_body(world, trainer_id=unqualified.pk)), 422,
                  "training.trainer_not_qualified")
    assert "Q-EO-TRAINER" in body["message"]
    body = _error(api("post", "/sessions", _session_body(world, course_id="00000000-0000-0000-0000-000000000000")),
                  422, "core.validation")
    assert "course_id" in body["details"]["fields"]
    _error(api("post", "/sessions", _session_body(world, capacity="many")), 422, "core.validation")
    _error(api("post", "/sessions", {**_session_body(world), "reason": ""}), 422, "core.reason_required")
    _error(api("post", f"/sessions/{session['id']}/enrol", {"employee_ids": [], "reason": "x"}), 422, "core.validation")
    _error(api("get", "/sessions/not-a-uuid"), 422, "core.validation")
    _error(api("get", "/records/00000000-0000-0000-0000-000000000000"), 404, "core.not_found")
    assert _written() == before


def test_reads_need_training_view(make_user):
    operator = Api(make_user(Role.OPERATOR))
    for path in ("/assignments", "/sessions", "/records", "/effectiveness-checks", "/certificates"):
        _error(operator("get", path), 403, "core.permission_denied")


def test_certificate_upload_grants_and_refuses_a_disguised_file(api, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    path = "/api/v1/training/certificates"
    form = {"employee_id": str(world.trainee.pk), "qualification_id": str(world.other.pk), "number": "HC-2025-9",
            "issuer": "苏州市疾控中心", "issued_on": "2025-05-01", "expires_on": "2026-05-01", "reason": "health check"}
    before = _written()
    refused = api.client.post(path, {**form, "scan": SimpleUploadedFile("health.pdf", b"just text")},
                              headers=api.headers)
    _error(refused, 422, "training.certificate_file_type")
    assert _written() == before

    created = api.client.post(path, {**form, "scan": SimpleUploadedFile("health.png", b"\x89PNG\r\n\x1a\n1234")},
                              headers=api.headers)
    body = _ok(created, 201)
    assert (body["number"], body["has_scan"], body["qualification_code"]) == ("HC-2025-9", True, "Q-OTHER")
    grant = QualificationGrant.objects.get(pk=body["grant_id"])
    assert (grant.source, grant.certificate_number) == ("certificate", "HC-2025-9")
    _error(api.client.post(path, form, headers=api.headers), 422, "training.certificate_duplicate")
    for junk in ({}, {**form, "issued_on": "yesterday"}, {**form, "employee_id": "nobody"}, {**form, "reason": ""}):
        refusal = _error(api.client.post(path, junk, headers=api.headers), 422,
                         "core.validation" if junk.get("reason") else "core.reason_required")
        assert refusal["details"]["fields"]
    listed = _ok(api("get", "/certificates", employee_id=world.trainee.pk))
    assert [c["id"] for c in listed["items"]] == [body["id"]]
