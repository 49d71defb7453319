"""One error shape everywhere, messages in the caller's language, and a valid OpenAPI document."""

import json

import pytest
from api_helpers import ApiClient, assert_error
from django.utils import translation
from openapi_spec_validator import validate

import qualiflow
from qualiflow.accounts.roles import Role
from qualiflow.people.models import Employee


def _in(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def test_schema_validation_errors_use_our_shape_with_field_messages(api, admin_user, plant):
    response = api(admin_user).post(
        "/employees",
        {"employee_number": "", "family_name": 7, "hire_date": "not a date", "site_id": "x", "employment_type": "boss",
         "department_id": str(plant.assembly.pk), "given_name": "芳", "reason": "hire"},
    )
    body = assert_error(response, 422, "core.validation")
    assert body["message"] == "Please correct the errors below."
    assert body["details"]["fields"] == {
        "employee_number": ["Ensure this value has at least 1 characters."],
        "family_name": ["Enter a text value."],
        "hire_date": ["Enter a valid date (YYYY-MM-DD)."],
        "site_id": ["Enter a valid identifier (UUID)."],
        "employment_type": ["Select one of: 'staff', 'contractor', 'temporary' or 'intern'."],
    }
    assert Employee.objects.count() == 0


def test_unknown_fields_are_refused(api, admin_user, plant):
    body = assert_error(api(admin_user).post("/org/companies", {"code": "X", "name": "X", "colour": "red"}), 422,
                        "core.validation")
    assert body["details"]["fields"] == {"colour": ["This field cannot be set here."]}


def test_model_validation_errors_use_our_shape(api, admin_user, plant):
    body = assert_error(
        api(admin_user).post("/org/sites", {"code": "SZ", "name": "重复", "company_id": str(plant.company.pk),
                                            "time_zone": "Mars/Olympus"}),
        422, "core.validation",
    )
    assert sorted(body["details"]["fields"]) == ["code", "time_zone"]


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"text"'])
def test_unreadable_bodies_are_4xx_in_our_shape(api, admin_user, content):
    client = api(admin_user)
    response = client.client.post("/api/v1/org/companies", content, content_type="application/json", headers=client.headers)
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"code", "message", "details"}
    assert response.json()["code"] in ("core.malformed_request", "core.validation")


def test_query_parameter_errors_use_our_shape(api, admin_user):
    body = assert_error(api(admin_user).get("/employees", limit="many", offset=-1), 422, "core.validation")
    assert body["details"]["fields"] == {
        "limit": ["Enter a whole number."], "offset": ["Ensure this value is greater than or equal to 0."],
    }


def test_path_parameter_errors_and_unknown_ids(api, admin_user, plant):
    client = api(admin_user)
    assert assert_error(client.get("/employees/123"), 422, "core.validation")["details"]["fields"] == {
        "employee_id": ["Enter a valid identifier (UUID)."]
    }
    assert_error(client.get("/org/sites/00000000-0000-0000-0000-000000000000"), 404, "core.not_found")


def test_unknown_paths_and_methods_answer_in_our_shape(api, admin_user):
    client = api(admin_user)
    assert_error(client.get("/no-such-thing"), 404, "core.not_found")
    assert_error(client.get("/"), 404, "core.not_found")
    response = client._call("put", "/employees", {})
    assert_error(response, 405, "core.method_not_allowed")
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}


def test_errors_come_in_the_users_language(api, make_user, plant):
    user = make_user(Role.HR_ADMIN, language="zh-hans")
    client = api(user)
    response = client.post("/employees", {"family_name": "王", "reason": "hire"})
    body = assert_error(response, 422, "core.validation")
    assert response["Content-Language"] == "zh-hans"
    assert body["message"] == _in("zh-hans", "Please correct the errors below.")
    assert body["details"]["fields"]["hire_date"] == [_in("zh-hans", "This field is required.")]
    # Django ships this one in Chinese, so the switch is visible even before our catalogue is filled.
    assert _in("zh-hans", "This field is required.") != "This field is required."

    not_found = client.get("/employees/00000000-0000-0000-0000-000000000000")
    assert not_found["Content-Language"] == "zh-hans"
    assert not_found.json()["message"] == _in("zh-hans", "Employee not found.")
    assert translation.get_language() == "en"  # the user's language does not outlive the request


def test_english_user_gets_english_whatever_the_browser_says(api, make_user):
    client = api(make_user(Role.HR_ADMIN, language="en"), **{"Accept-Language": "zh-hans"})
    response = client.get("/employees", limit=0)
    assert response["Content-Language"] == "en"
    assert response.json()["message"] == "Please correct the errors below."


def test_anonymous_callers_get_their_browser_language(client):
    response = ApiClient(client, **{"Accept-Language": "zh-hans"}).get("/me")
    assert_error(response, 401, "core.authentication_required")
    assert response["Content-Language"] == "zh-hans"
    assert response.json()["message"] == _in(
        "zh-hans", "Authentication required: send an API token (Authorization: Bearer ...) or sign in."
    )


def test_openapi_document_is_valid_and_complete(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    validate(document)
    assert document["info"]["title"] == "Qualiflow API"
    assert document["info"]["version"] == qualiflow.__version__
    paths = set(document["paths"])
    expected = {"/api/v1/me", "/api/v1/tokens", "/api/v1/tokens/{token_id}", "/api/v1/employees",
                "/api/v1/employees/{employee_id}", "/api/v1/employees/{employee_id}/deactivate",
                "/api/v1/employees/{employee_id}/position", "/api/v1/employees/{employee_id}/positions",
                "/api/v1/audit/entries", "/api/v1/audit/verify",
                "/api/v1/documents", "/api/v1/documents/{document_id}", "/api/v1/documents/{document_id}/revisions",
                "/api/v1/training/qualifications", "/api/v1/training/qualifications/{qualification_id}",
                "/api/v1/training/qualifications/{qualification_id}/deactivate",
                "/api/v1/training/courses", "/api/v1/training/courses/{course_id}",
                "/api/v1/training/curricula", "/api/v1/training/curricula/{curriculum_id}",
                "/api/v1/training/requirements", "/api/v1/training/requirements/{target_kind}/{target}",
                "/api/v1/training/assignments", "/api/v1/training/assignments/{assignment_id}/cancel",
                "/api/v1/training/sessions", "/api/v1/training/sessions/{session_id}",
                "/api/v1/training/sessions/{session_id}/cancel", "/api/v1/training/sessions/{session_id}/enrol",
                "/api/v1/training/sessions/{session_id}/attendances/{attendance_id}",
                "/api/v1/training/sessions/{session_id}/attendances/{attendance_id}/assessments",
                "/api/v1/training/sessions/{session_id}/complete",
                "/api/v1/training/records", "/api/v1/training/records/{record_id}",
                "/api/v1/training/records/{record_id}/sign",
                "/api/v1/training/effectiveness-checks", "/api/v1/training/effectiveness-checks/{check_id}/evaluate",
                "/api/v1/training/certificates", "/api/v1/training/matrix",
                "/api/v1/training/employees/{employee_id}/status",
                "/api/v1/training/employees/{employee_id}/passport.pdf",
                "/api/v1/training/traceability", "/api/v1/training/expiring", "/api/v1/training/reconcile",
                # Equipment: classes, assets, their plans, records and availability.
                "/api/v1/equipment", "/api/v1/equipment/{equipment_id}", "/api/v1/equipment/{equipment_id}/availability",
                "/api/v1/equipment/{equipment_id}/plans", "/api/v1/equipment/{equipment_id}/plans/{plan_id}",
                "/api/v1/equipment/{equipment_id}/records", "/api/v1/equipment/{equipment_id}/records/start",
                "/api/v1/equipment/records/{record_id}", "/api/v1/equipment/records/{record_id}/complete",
                "/api/v1/equipment/classes", "/api/v1/equipment/classes/{class_id}",
                # Quality events (closing is signed in the browser only: no close operation).
                "/api/v1/quality/events", "/api/v1/quality/events/{event_id}",
                # Production: the catalogue, work orders, the station and device history records.
                "/api/v1/production/products", "/api/v1/production/products/{product_id}",
                "/api/v1/production/products/{product_id}/routings", "/api/v1/production/routings/{routing_id}",
                "/api/v1/production/routings/{routing_id}/copy", "/api/v1/production/routings/{routing_id}/approve",
                "/api/v1/production/routings/{routing_id}/retire", "/api/v1/production/routings/{routing_id}/operations",
                "/api/v1/production/operations/{operation_id}",
                "/api/v1/production/work-orders", "/api/v1/production/work-orders/{work_order_id}",
                "/api/v1/production/track-in", "/api/v1/production/runs/{run_id}",
                "/api/v1/production/runs/{run_id}/track-out", "/api/v1/production/refusals/{refusal_id}",
                "/api/v1/production/calibration-impact/{record_id}",
                "/api/v1/production/work-orders/{work_order_id}/dhr", "/api/v1/production/dhr-exports/{export_id}",
                "/api/v1/production/dhr-exports/{export_id}/pdf",
                # Integration: webhooks, their deliveries and the event log.
                "/api/v1/integration/webhooks", "/api/v1/integration/webhooks/{webhook_id}",
                "/api/v1/integration/webhooks/{webhook_id}/deactivate", "/api/v1/integration/deliveries",
                "/api/v1/integration/deliveries/{delivery_id}/redeliver", "/api/v1/integration/events",
                "/api/v1/integration/events/{event_id}",
                # Automation rules (written, activated, deactivated, tried on a stored event) and their firings.
                "/api/v1/automation/rules", "/api/v1/automation/rules/{rule_id}",
                "/api/v1/automation/rules/{rule_id}/activate", "/api/v1/automation/rules/{rule_id}/deactivate",
                "/api/v1/automation/rules/{rule_id}/test", "/api/v1/automation/firings",
                # Imports: batches (upload with dry run, errors, commit, rollback), source systems and mappings.
                "/api/v1/imports/batches", "/api/v1/imports/batches/{batch_id}",
                "/api/v1/imports/batches/{batch_id}/errors", "/api/v1/imports/batches/{batch_id}/commit",
                "/api/v1/imports/batches/{batch_id}/rollback", "/api/v1/imports/sources",
                "/api/v1/imports/sources/{code}", "/api/v1/imports/sources/{code}/columns",
                "/api/v1/imports/sources/{code}/columns/{kind}", "/api/v1/imports/sources/{code}/values",
                "/api/v1/imports/sources/{code}/values/{mapping_id}"}
    for action in ("release", "start", "complete", "close", "cancel"):
        expected.add(f"/api/v1/production/work-orders/{{work_order_id}}/{action}")
    for kind in ("companies", "sites", "departments", "lines", "work-centers", "positions"):
        expected |= {f"/api/v1/org/{kind}", f"/api/v1/org/{kind}/{{unit_id}}", f"/api/v1/org/{kind}/{{unit_id}}/deactivate"}
    assert paths == expected
    error_ref = "#/components/schemas/ErrorOut"
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {"code", "message", "details"}
    operation_ids = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            operation_ids.append(operation["operationId"])
            assert operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"] == error_ref, (method, path)
            if method in ("post", "patch"):
                assert "422" in operation["responses"], (method, path)
    assert len(operation_ids) == len(set(operation_ids))
    # 89 before production: 30 production, 17 equipment and 4 quality operations since; then 9 integration,
    # 8 automation and 14 import operations.
    assert len(operation_ids) == 171
    assert set(document["components"]["securitySchemes"]) == {"BearerTokenAuth", "SessionAuth"}


def test_docs_page_is_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
