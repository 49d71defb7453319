"""Catalogue API: qualifications, courses, curricula and per-target requirements with CRUD; every write
needs a reason and is audited; refusals are our error shape, in the caller's language, and write nothing."""

from __future__ import annotations

import json

import pytest

from qualiflow.accounts import services as account_services
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.documents import services as document_services
from qualiflow.integration.models import OutboxEvent
from qualiflow.training import services
from qualiflow.training.models import Course, Curriculum, Qualification, Requirement


def _written() -> tuple[int, ...]:
    return (Qualification.objects.count(), Course.objects.count(), Curriculum.objects.count(),
            Requirement.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count())


class Api:
    """JSON calls to /api/v1/training with a bearer token of `user`."""

    def __init__(self, client, user):
        _token, self.token = account_services.api_token_issue(user=user, name="test")
        self.client = client

    def __call__(self, method: str, path: str, body=None, **params):
        kwargs = {"headers": {"Authorization": f"Bearer {self.token}"}}
        if body is not None:
            kwargs.update(data=json.dumps(body, default=str), content_type="application/json")
        if params:
            kwargs["query_params"] = params
        return getattr(self.client, method)(f"/api/v1/training{path}", **kwargs)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    return body


@pytest.fixture
def api(client, coordinator):
    return Api(client, coordinator)


@pytest.fixture
def course(eo_operator):
    return services.course_create(
        data={"code": "C-EO", "name": "环氧乙烷灭菌培训", "duration_hours": 8, "max_score": 100, "pass_mark": 80},
        confers=[eo_operator], reason="set-up",
    )


def test_qualification_crud(api):
    created = api("post", "/qualifications", {"code": "Q-HEALTH", "name": "健康证", "kind": "health_certificate",
                                              "validity_days": 365, "renewal_lead_days": 30, "reason": "clean-room staff"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["code"], body["kind"], body["holders"], body["requirements"]) == (
        "Q-HEALTH", "health_certificate", {}, [])
    entry = AuditEntry.objects.get(object_type="training.qualification", object_id=body["id"])
    assert (entry.action, entry.reason) == ("create", "clean-room staff")

    sop = document_services.document_create(data={"code": "SOP-CR", "title": "洁净区规程"}, reason="set-up")
    patched = api("patch", f"/qualifications/{body['id']}", {"renewal_lead_days": 60, "document_ids": [str(sop.pk)],
                                                             "reason": "Hospital needs two months"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["renewal_lead_days"], patched.json()["document_ids"]) == (60, [str(sop.pk)])
    update = AuditEntry.objects.get(object_id=body["id"], action="update")
    assert json.loads(update.changes) == {"renewal_lead_days": [30, 60]}

    listed = api("get", "/qualifications", search="HEALTH").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]
    deactivated = api("post", f"/qualifications/{body['id']}/deactivate", {"reason": "No longer required"})
    assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    assert api("get", "/qualifications", is_active="false").json()["count"] == 1
    assert api("get", f"/qualifications/{body['id']}").json()["document_ids"] == [str(sop.pk)]


def test_missing_reason_is_refused_and_nothing_is_written(api, eo_operator, plant):
    before = _written()
    _error(api("post", "/qualifications", {"code": "Q-X", "name": "X"}), 422, "core.reason_required")
    _error(api("patch", f"/qualifications/{eo_operator.pk}", {"name": "X", "reason": ""}), 422, "core.reason_required")
    _error(api("put", f"/requirements/position/{plant.operator.pk}",
               {"requirements": [{"qualification_id": str(eo_operator.pk)}]}), 422, "core.reason_required")
    _error(api("post", "/courses", {"code": "C-X", "name": "X", "duration_hours": 1}), 422, "core.reason_required")
    _error(api("post", "/curricula", {"code": "CUR-X", "name": "X"}), 422, "core.reason_required")
    assert _written() == before


def test_bad_input_is_refused_with_field_errors(api, eo_operator):
    before = _written()
    body = _error(api("post", "/qualifications", {"code": "Q-X", "name": "X", "validity_days": 30,
                                                  "renewal_lead_days": 60, "reason": "x"}), 422, "core.validation")
    assert body["details"]["fields"] == {"__all__": ["The renewal lead time must be shorter than the validity."]}
    body = _error(api("post", "/courses", {"code": "C-X", "name": "X", "duration_hours": 1, "pass_mark": 5,
                                           "reason": "x"}), 422, "training.course_invalid")
    assert list(body["details"]["fields"]) == ["max_score"]
    body = _error(api("post", "/courses", {"code": "C-X", "name": "X", "duration_hours": 1,
                                           "confers": ["00000000-0000-0000-0000-000000000000"], "reason": "x"}),
                  422, "core.validation")
    assert list(body["details"]["fields"]) == ["confers"]
    body = _error(api("post", "/courses", {"code": "C-X", "name": "X", "duration_hours": 1,
                                           "trainer_qualification_id": "00000000-0000-0000-0000-000000000000",
                                           "reason": "x"}), 422, "core.validation")
    assert list(body["details"]["fields"]) == ["trainer_qualification_id"]
    _error(api("get", "/requirements/capability/Release-Lot"), 422, "core.validation")
    _error(api("get", "/requirements/position/not-a-uuid"), 422, "core.validation")
    _error(api("get", "/requirements/position/00000000-0000-0000-0000-000000000000"), 404, "core.not_found")
    _error(api("get", "/requirements/nonsense/x"), 422, "core.validation")
    assert _written() == before


def test_messages_follow_the_callers_language(client, make_user, eo_operator):
    api = Api(client, make_user(Role.TRAINING_COORDINATOR, language="zh-hans"))
    before = _written()
    body = _error(api("post", "/qualifications", {"code": "Q-EO-OP", "name": "重复", "reason": "重复"}),
                  422, "training.code_taken")
    assert body["details"]["fields"]["code"] == ["代码 Q-EO-OP 已被使用。"]
    body = _error(api("post", "/qualifications", {"code": "Q-X", "name": "X"}), 422, "core.reason_required")
    assert body["message"] == "更改此记录时必须填写原因。"
    assert _written() == before


def test_course_and_curriculum_crud(api, eo_operator):
    sop = document_services.document_create(data={"code": "SOP-EO", "title": "灭菌规程"}, reason="set-up")
    created = api("post", "/courses", {
        "code": "C-EO-RU", "name": "灭菌规程阅读", "kind": "read_and_understand", "duration_hours": "0.5",
        "document_id": str(sop.pk), "confers": [str(eo_operator.pk)], "effectiveness_check_days": 30,
        "reason": "SOP training"})
    assert created.status_code == 201, created.content
    course = created.json()
    assert (course["confers"], course["document_id"], course["duration_hours"]) == ([str(eo_operator.pk)], str(sop.pk), "0.50")
    patched = api("patch", f"/courses/{course['id']}", {"confers": [], "reason": "Only awareness"})
    assert patched.status_code == 200 and patched.json()["confers"] == []
    assert AuditEntry.objects.get(object_type="training.coursequalification", action="delete").reason == "Only awareness"
    no_document = api("patch", f"/courses/{course['id']}", {"document_id": None, "reason": "x"})
    assert list(_error(no_document, 422, "training.course_invalid")["details"]["fields"]) == ["document_id"]

    curriculum = api("post", "/curricula", {"code": "CUR-ONB", "name": "上岗培训", "course_ids": [course["id"]],
                                            "reason": "onboarding"})
    assert curriculum.status_code == 201 and curriculum.json()["course_ids"] == [course["id"]]
    renamed = api("patch", f"/curricula/{curriculum.json()['id']}", {"name_en": "Onboarding", "reason": "English"})
    assert renamed.json()["name_en"] == "Onboarding" and renamed.json()["course_ids"] == [course["id"]]
    assert api("get", "/curricula").json()["count"] == 1
    assert api("get", "/courses", kind="read_and_understand").json()["items"][0]["code"] == "C-EO-RU"


def test_put_requirements_of_a_position_replaces_them_audited(api, eo_operator, course, plant):
    cleanroom = services.qualification_create(data={"code": "Q-CR", "name": "洁净区资质"}, reason="set-up")
    url = f"/requirements/position/{plant.operator.pk}"
    put = api("put", url, {"requirements": [{"qualification_id": str(eo_operator.pk), "grace_days": 30}],
                           "reason": "EO loading"})
    assert put.status_code == 200, put.content
    assert put.json()["requirements"][0] | {"id": None} == {
        "id": None, "qualification_id": str(eo_operator.pk), "qualification_code": "Q-EO-OP", "mandatory": True,
        "grace_days": 30, "course_ids": [str(course.pk)]}
    replaced = api("put", url, {"requirements": [{"qualification_id": str(cleanroom.pk), "mandatory": False}],
                                "reason": "Line moved to clean room"})
    assert [r["qualification_code"] for r in replaced.json()["requirements"]] == ["Q-CR"]
    actions = sorted(AuditEntry.objects.filter(object_type="training.requirement", reason="Line moved to clean room")
                     .values_list("action", flat=True))
    assert actions == ["create", "delete"]
    assert api("get", url).json() == replaced.json()
    listed = api("get", "/requirements", qualification_id=str(cleanroom.pk)).json()
    assert listed["count"] == 1 and listed["items"][0]["target_id"] == str(plant.operator.pk)


def test_put_requirements_of_a_capability(api, eo_operator):
    put = api("put", "/requirements/capability/release_lot",
              {"requirements": [{"qualification_id": str(eo_operator.pk)}], "reason": "QA release gate"})
    assert put.status_code == 200 and put.json()["capability"] == "release_lot"
    assert list(Requirement.objects.values_list("capability", flat=True)) == ["release_lot"]
    cleared = api("put", "/requirements/capability/release_lot", {"requirements": [], "reason": "gate moved"})
    assert cleared.json()["requirements"] == [] and not Requirement.objects.exists()
    twice = api("put", "/requirements/capability/release_lot", {
        "requirements": [{"qualification_id": str(eo_operator.pk)}, {"qualification_id": str(eo_operator.pk)}],
        "reason": "x"})
    _error(twice, 422, "training.requirement_target_invalid")
    assert not Requirement.objects.exists()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AUDITOR])
def test_read_only_roles_are_denied_writes(client, make_user, eo_operator, course, plant, role):
    api = Api(client, make_user(role))
    before = _written()
    for method, path, body in (
        ("post", "/qualifications", {"code": "Q-X", "name": "X", "reason": "x"}),
        ("patch", f"/qualifications/{eo_operator.pk}", {"name": "X", "reason": "x"}),
        ("post", f"/qualifications/{eo_operator.pk}/deactivate", {"reason": "x"}),
        ("post", "/courses", {"code": "C-X", "name": "X", "duration_hours": 1, "reason": "x"}),
        ("patch", f"/courses/{course.pk}", {"name": "X", "reason": "x"}),
        ("post", "/curricula", {"code": "CUR-X", "name": "X", "reason": "x"}),
        ("put", f"/requirements/position/{plant.operator.pk}", {"requirements": [], "reason": "x"}),
    ):
        _error(api(method, path, body), 403, "core.permission_denied")
    assert _written() == before
    reading = api("get", f"/qualifications/{eo_operator.pk}")
    if role == Role.AUDITOR:
        assert reading.status_code == 200
        assert api("get", f"/requirements/position/{plant.operator.pk}").status_code == 200
    else:
        _error(reading, 403, "core.permission_denied")


def _junk_bodies(properties) -> list:
    return [
        {}, {"reason": "x"}, {name: None for name in properties}, {name: 12345 for name in properties},
        {name: "x" * 5000 for name in properties}, {name: {"nested": ["x"]} for name in properties},
        {**{name: "" for name in properties}, "reason": "x"}, {**{name: [] for name in properties}, "reason": "x"},
        {"requirements": [{"qualification_id": "nope", "grace_days": -1}], "reason": "x"},
    ]


CATALOGUE_PATHS = tuple(f"/api/v1/training/{area}" for area in ("qualifications", "courses", "curricula", "requirements"))


def test_junk_input_to_every_catalogue_write_never_fails_on_our_side(client, admin_user, eo_operator, course, plant):
    api = Api(client, admin_user)
    curriculum = api("post", "/curricula", {"code": "CUR-1", "name": "x", "reason": "x"}).json()
    document = client.get("/api/v1/openapi.json").json()
    ids = {"{qualification_id}": str(eo_operator.pk), "{course_id}": str(course.pk),
           "{curriculum_id}": curriculum["id"], "{target_kind}/{target}": f"position/{plant.operator.pk}"}
    checked = 0
    for path, methods in document["paths"].items():
        if not path.startswith(CATALOGUE_PATHS):
            continue
        url = path.removeprefix("/api/v1/training")
        for placeholder, value in ids.items():
            url = url.replace(placeholder, value)
        for method, operation in methods.items():
            if method not in ("post", "patch", "put"):
                continue
            # Every catalogue write takes JSON (the multipart certificate upload is not a catalogue path).
            (content_type, media), = operation["requestBody"]["content"].items()
            assert content_type == "application/json", (method, path)
            ref = media["schema"]["$ref"]
            properties = document["components"]["schemas"][ref.rsplit("/", 1)[1]].get("properties", {})
            for body in _junk_bodies(properties):
                response = api(method, url, body)
                assert response.status_code < 500, (method, path, body, response.content)
                if response.status_code >= 400:
                    assert set(response.json()) == {"code", "message", "details"}
                checked += 1
    assert checked == 9 * 8  # qualification create/update/deactivate, course and curriculum create/update, PUT
