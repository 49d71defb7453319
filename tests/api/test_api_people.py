"""Employees through the API: scoped reads, audited writes with reasons, events, refusals that write nothing."""

import datetime as dt
import json

import pytest
from api_helpers import assert_error

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.people.models import Employee, PositionAssignment


def _written() -> tuple[int, int, int, int]:
    return Employee.objects.count(), PositionAssignment.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count()


def _new_employee(plant, **overrides):
    return {
        "employee_number": "E-9001",
        "family_name": "李",
        "given_name": "娜",
        "latin_name": "Li Na",
        "employment_type": "contractor",
        "hire_date": "2024-05-06",
        "site_id": str(plant.site_a.pk),
        "department_id": str(plant.assembly.pk),
        "line_id": str(plant.line_a.pk),
        "email": "li.na@example.com",
        "external_refs": {"sap-hr": "00012345"},
        "reason": "new hire per HR-2024-17",
        **overrides,
    }


@pytest.fixture
def integration_user(make_user):
    return make_user(Role.INTEGRATION, username="sap-hr-sync", is_integration=True)


def test_create_by_integration_client_is_audited_as_integration(api, plant, integration_user):
    client = api(integration_user, **{"X-Request-ID": "req-create-1"})
    response = client.post("/employees", _new_employee(plant))
    assert response.status_code == 201, response.content
    body = response.json()
    employee = Employee.objects.get(employee_number="E-9001")
    assert body["id"] == str(employee.pk)
    assert body["full_name"] == "李娜" and body["employment_type"] == "contractor" and body["status"] == "active"
    assert body["line_id"] == str(plant.line_a.pk) and body["external_refs"] == {"sap-hr": "00012345"}

    entry = AuditEntry.objects.get(object_type="people.employee", object_id=str(employee.pk))
    assert (entry.action, entry.actor_kind, entry.actor_id, entry.actor_name) == (
        "create", "integration", str(integration_user.pk), "sap-hr-sync"
    )
    assert entry.reason == "new hire per HR-2024-17"
    assert entry.request_id == "req-create-1"
    changes = json.loads(entry.changes)
    assert changes["employee_number"] == [None, "E-9001"]
    assert changes["employment_type"] == [None, "contractor"]
    assert changes["line_id"] == [None, str(plant.line_a.pk)]

    event = OutboxEvent.objects.get(subject=f"people/employee/{employee.pk}")
    assert event.type == "people.employee.created"
    assert event.actor == "integration:sap-hr-sync"
    assert event.request_id == "req-create-1"
    assert event.data["employee_number"] == "E-9001"


def test_create_with_first_position_opens_the_history(api, plant, integration_user):
    response = api(integration_user).post("/employees", _new_employee(plant, position_id=str(plant.operator.pk)))
    assert response.status_code == 201, response.content
    assert response.json()["position_id"] == str(plant.operator.pk)
    employee = Employee.objects.get(employee_number="E-9001")
    history = api(integration_user).get(f"/employees/{employee.pk}/positions").json()
    assert history == [{
        "id": str(PositionAssignment.objects.get(employee=employee).pk), "position_id": str(plant.operator.pk),
        "position_code": "OP-ASM", "position_name": "组装操作工", "position_name_en": "Assembly operator",
        "start_date": "2024-05-06", "end_date": None,
    }]


def test_create_by_user_is_audited_as_user(api, plant, make_user):
    hr = make_user(Role.HR_ADMIN, username="hr.li")
    assert api(hr).post("/employees", _new_employee(plant)).status_code == 201
    entry = AuditEntry.objects.get(object_type="people.employee", action="create")
    assert (entry.actor_kind, entry.actor_name) == ("user", "hr.li")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_create_without_reason_is_refused_and_writes_nothing(api, plant, integration_user, reason):
    client = api(integration_user)
    before = _written()
    payload = _new_employee(plant)
    if reason is None:
        del payload["reason"]
    else:
        payload["reason"] = reason
    body = assert_error(client.post("/employees", payload), 422, "core.reason_required")
    assert "reason" in body["details"]["fields"]
    assert _written() == before


def test_update_and_deactivate_without_reason_are_refused(api, plant, integration_user, make_employee):
    employee = make_employee(family_name="王")
    client = api(integration_user)
    before = _written()
    assert_error(client.patch(f"/employees/{employee.pk}", {"family_name": "黄"}), 422, "core.reason_required")
    assert_error(client.post(f"/employees/{employee.pk}/deactivate", {"termination_date": "2025-01-31"}), 422,
                 "core.reason_required")
    assert_error(client.post(f"/employees/{employee.pk}/position",
                             {"position_id": str(plant.supervisor.pk), "start_date": "2025-01-01", "reason": " "}),
                 422, "core.reason_required")
    assert _written() == before
    employee.refresh_from_db()
    assert (employee.family_name, employee.status) == ("王", "active")


def test_duplicate_employee_number_is_refused_and_writes_nothing(api, plant, integration_user, make_employee):
    make_employee(employee_number="E-9001")
    client = api(integration_user)
    before = _written()
    body = assert_error(client.post("/employees", _new_employee(plant)), 422,
                        "people.employee_number_taken")
    assert list(body["details"]["fields"]) == ["employee_number"]
    assert "E-9001" in body["message"]
    assert _written() == before


def test_patch_changes_only_the_fields_sent(api, plant, integration_user, make_employee):
    employee = make_employee(family_name="王", given_name="芳", phone="123")
    client = api(integration_user)
    last_seq = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    response = client.patch(
        f"/employees/{employee.pk}", {"family_name": "黄", "line_id": str(plant.line_b.pk), "reason": "married; moved to L-B"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["family_name"] == "黄" and response.json()["phone"] == "123"
    entries = list(AuditEntry.objects.filter(seq__gt=last_seq))
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.object_id, entry.actor_kind, entry.reason) == (
        "update", str(employee.pk), "integration", "married; moved to L-B"
    )
    assert json.loads(entry.changes) == {"family_name": ["王", "黄"], "line_id": [str(plant.line_a.pk), str(plant.line_b.pk)]}
    event = OutboxEvent.objects.get(type="people.employee.updated")
    assert event.data["fields"] == ["family_name", "line"]


def test_deactivate_terminates_and_closes_the_position(api, plant, integration_user, make_employee):
    employee = make_employee(position=plant.operator)
    response = api(integration_user).post(
        f"/employees/{employee.pk}/deactivate", {"termination_date": "2025-06-30", "reason": "resigned"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "terminated" and response.json()["termination_date"] == "2025-06-30"
    entry = AuditEntry.objects.filter(object_type="people.employee", object_id=str(employee.pk)).order_by("-seq").first()
    assert json.loads(entry.changes) == {"status": ["active", "terminated"], "termination_date": [None, "2025-06-30"]}
    assert (entry.reason, entry.actor_kind) == ("resigned", "integration")
    assert PositionAssignment.objects.get(employee=employee).end_date == dt.date(2025, 6, 30)
    assert OutboxEvent.objects.filter(type="people.employee.deactivated", subject=f"people/employee/{employee.pk}").count() == 1

    again = api(integration_user).post(f"/employees/{employee.pk}/deactivate", {"termination_date": "2025-07-01", "reason": "x"})
    assert_error(again, 422, "people.not_active")


def test_change_position_keeps_history(api, plant, integration_user, make_employee):
    employee = make_employee(position=plant.operator)
    client = api(integration_user)
    response = client.post(
        f"/employees/{employee.pk}/position",
        {"position_id": str(plant.supervisor.pk), "start_date": "2025-03-01", "reason": "promotion"},
    )
    assert response.status_code == 201, response.content
    history = client.get(f"/employees/{employee.pk}/positions").json()
    assert [(h["position_code"], h["start_date"], h["end_date"]) for h in history] == [
        ("SUP-ASM", "2025-03-01", None), ("OP-ASM", "2022-03-01", "2025-03-01"),
    ]
    assert client.get(f"/employees/{employee.pk}").json()["position_id"] == str(plant.supervisor.pk)
    refused = client.post(
        f"/employees/{employee.pk}/position",
        {"position_id": str(plant.operator.pk), "start_date": "2025-02-01", "reason": "backdated"},
    )
    assert_error(refused, 422, "people.position_date_invalid")


def test_unknown_references_are_field_errors(api, plant, integration_user):
    missing = "00000000-0000-0000-0000-000000000000"
    client = api(integration_user)
    before = _written()
    body = assert_error(
        client.post("/employees", _new_employee(plant, line_id=missing, manager_id=missing, username="ghost")),
        422, "core.validation",
    )
    assert sorted(body["details"]["fields"]) == ["line_id", "manager_id", "username"]
    assert _written() == before


def test_line_supervisor_cannot_read_or_change_another_lines_employee(api, plant, make_user, make_employee):
    own = make_employee(line=plant.line_a, family_name="甲")
    other = make_employee(line=plant.line_b, family_name="乙")
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    client = api(supervisor)

    listed = client.get("/employees").json()
    assert [item["id"] for item in listed["items"]] == [str(own.pk)]
    assert client.get(f"/employees/{own.pk}").status_code == 200

    before = _written()
    assert_error(client.get(f"/employees/{other.pk}"), 404, "core.not_found")
    assert_error(client.get(f"/employees/{other.pk}/positions"), 404, "core.not_found")
    assert_error(client.patch(f"/employees/{other.pk}", {"family_name": "丙", "reason": "x"}), 404, "core.not_found")
    assert_error(client.post(f"/employees/{other.pk}/deactivate", {"termination_date": "2025-01-01", "reason": "x"}),
                 404, "core.not_found")
    # Nor move their own people onto the other line, nor hire onto it.
    assert_error(client.patch(f"/employees/{own.pk}", {"line_id": str(plant.line_b.pk), "reason": "x"}), 403,
                 "people.out_of_scope")
    assert_error(client.post("/employees", _new_employee(plant, line_id=str(plant.line_b.pk))), 403,
                 "people.out_of_scope")
    assert _written() == before
    other.refresh_from_db()
    own.refresh_from_db()
    assert (other.family_name, own.line_id) == ("乙", plant.line_a.pk)


@pytest.mark.parametrize("role", [Role.TRAINING_COORDINATOR, Role.AUDITOR, Role.QA])
def test_read_only_roles_cannot_write_employees(api, plant, make_user, make_employee, role):
    employee = make_employee()
    client = api(make_user(role))
    assert client.get(f"/employees/{employee.pk}").status_code == 200
    before = _written()
    assert_error(client.post("/employees", _new_employee(plant)), 403, "core.permission_denied")
    assert_error(client.patch(f"/employees/{employee.pk}", {"phone": "1", "reason": "x"}), 403, "core.permission_denied")
    assert _written() == before


def test_birth_date_only_for_roles_that_see_sensitive_data(api, plant, make_user, make_employee):
    employee = make_employee(birth_date=dt.date(1990, 1, 2))
    hr = api(make_user(Role.HR_ADMIN)).get(f"/employees/{employee.pk}").json()
    qa = api(make_user(Role.QA)).get(f"/employees/{employee.pk}").json()
    assert (hr["birth_date"], qa["birth_date"]) == ("1990-01-02", None)


def test_list_filters_search_ordering_and_pagination(api, plant, admin_user, make_employee):
    a = make_employee(employee_number="E-003", family_name="张", line=plant.line_a)
    b = make_employee(employee_number="E-001", family_name="赵", line=plant.line_b, employment_type="temporary")
    c = make_employee(employee_number="E-002", family_name="钱", line=plant.line_b2,
                      external_refs={"sap-hr": "00000042"})
    client = api(admin_user)

    def numbers(**params):
        body = client.get("/employees", **params).json()
        return body["count"], [item["employee_number"] for item in body["items"]]

    assert numbers() == (3, ["E-001", "E-002", "E-003"])
    assert numbers(ordering="-employee_number", limit=2) == (3, ["E-003", "E-002"])
    assert numbers(ordering="-employee_number", limit=2, offset=2) == (3, ["E-001"])
    assert numbers(site_id=str(plant.site_a.pk)) == (2, ["E-001", "E-003"])
    assert numbers(line_id=str(plant.line_b.pk)) == (1, ["E-001"])
    assert numbers(employment_type="temporary") == (1, ["E-001"])
    assert numbers(search="张") == (1, ["E-003"])
    assert numbers(external_ref="sap-hr:00000042") == (1, ["E-002"])
    assert numbers(external_ref="sap-hr:nope") == (0, [])
    assert {a.pk, b.pk, c.pk} == set(Employee.objects.values_list("pk", flat=True))

    body = assert_error(client.get("/employees", ordering="salary", limit=0, external_ref="no-colon"), 422, "core.validation")
    assert sorted(body["details"]["fields"]) == ["external_ref", "limit", "ordering"]


def test_service_field_errors_use_the_api_field_names(api, plant, admin_user, make_employee):
    employee = make_employee(line=plant.line_a)
    client = api(admin_user)
    body = assert_error(client.patch(f"/employees/{employee.pk}", {"line_id": str(plant.line_b2.pk), "reason": "x"}),
                        422, "people.org_mismatch")
    assert list(body["details"]["fields"]) == ["line_id"]
    body = assert_error(client.patch(f"/employees/{employee.pk}", {"site_id": None, "reason": "x"}), 422, "core.validation")
    assert list(body["details"]["fields"]) == ["site_id"]
