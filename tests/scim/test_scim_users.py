"""SCIM Users over HTTP: what each request writes (login, employee, audit trail, events) and refuses."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone
from scim_helpers import ENTERPRISE, ERROR, PATCH, Scim, integration_token, user_body

from qualiflow.accounts.models import User
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.people.models import Employee, EmployeeStatus


@pytest.fixture
def scim(client, plant):
    _idp, secret = integration_token()
    return Scim(client, secret)


def _site_today() -> dt.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo("Asia/Shanghai"))


def _written() -> tuple[int, int, int, int]:
    return User.objects.count(), Employee.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count()


def test_create_provisions_a_login_and_an_employee(scim, plant):
    response = scim.send("post", "Users", user_body(externalId="okta-00u1"))

    assert response.status_code == 201
    assert response["Content-Type"] == "application/scim+json"
    body = response.json()
    user = User.objects.get(username="wang.fang")
    employee = user.employee
    assert body["id"] == str(user.pk)
    assert response["Location"] == f"http://testserver/scim/v2/Users/{user.pk}"
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["location"] == response["Location"]
    assert body["meta"]["version"] == response["ETag"]
    assert body["displayName"] == "王芳"
    assert body[ENTERPRISE] == {"employeeNumber": "S0001", "department": "SZ-ASM"}
    assert (user.is_active, user.first_name, user.last_name, user.email, user.has_usable_password()) == (
        True, "芳", "王", "wang.fang@example.com", False)
    assert (employee.employee_number, employee.family_name, employee.given_name, employee.email) == (
        "S0001", "王", "芳", "wang.fang@example.com")
    assert (employee.department, employee.site, employee.status) == (plant.assembly, plant.site_a, EmployeeStatus.ACTIVE)
    assert employee.external_refs == {"scim": "okta-00u1"}
    assert employee.hire_date == _site_today()
    entry = AuditEntry.objects.get(object_type="people.employee", object_id=str(employee.pk), action="create")
    assert (entry.actor_kind, entry.actor_name, entry.reason) == ("integration", "idp", "Provisioned through SCIM by idp")
    events = list(OutboxEvent.objects.filter(actor="integration:idp").values_list("type", flat=True))
    assert events == ["accounts.user.created", "people.employee.created", "scim.user.provisioned"]


def test_duplicate_user_name_is_a_uniqueness_conflict_and_writes_nothing(scim):
    assert scim.send("post", "Users", user_body()).status_code == 201
    before = _written()

    response = scim.send("post", "Users", user_body("WANG.FANG", number="S0002"))

    assert response.status_code == 409
    assert response.json() == {"schemas": [ERROR], "status": "409", "scimType": "uniqueness",
                               "detail": "The userName WANG.FANG is already taken."}
    assert _written() == before


def test_duplicate_employee_number_is_a_uniqueness_conflict(scim):
    scim.send("post", "Users", user_body())
    before = _written()

    response = scim.send("post", "Users", user_body("li.lei"))

    assert (response.status_code, response.json()["scimType"]) == (409, "uniqueness")
    assert _written() == before


def test_unknown_attribute_is_refused_by_name_and_writes_nothing(scim):
    before = _written()

    response = scim.send("post", "Users", user_body(title="Line lead"))

    assert response.status_code == 400
    assert response.json() == {"schemas": [ERROR], "status": "400", "scimType": "invalidSyntax",
                               "detail": "Unknown attribute: title."}
    response = scim.send("post", "Users", user_body(**{ENTERPRISE: {"employeeNumber": "S9", "department": "SZ-ASM",
                                                                    "costCenter": "4711"}}))
    assert response.json()["detail"] == f"Unknown attribute: {ENTERPRISE}:costCenter."
    assert _written() == before


def test_unknown_department_is_an_invalid_value(scim):
    response = scim.send("post", "Users", user_body(department="NOPE"))

    assert (response.status_code, response.json()["scimType"]) == (400, "invalidValue")
    assert response.json()["detail"] == "No active department has the code or name NOPE."
    assert not Employee.objects.exists()


def test_department_found_by_name(scim, plant):
    scim.send("post", "Users", user_body(department="Injection moulding"))

    assert Employee.objects.get().department == plant.moulding


def test_hr_entered_employee_is_adopted_by_number(scim, make_employee):
    employee = make_employee(employee_number="E7", family_name="李", given_name="雷")

    response = scim.send("post", "Users", user_body("li.lei", number="E7"))

    assert response.status_code == 201
    employee.refresh_from_db()
    assert employee.user.username == "li.lei"
    assert (employee.family_name, employee.given_name, employee.hire_date) == ("王", "芳", dt.date(2022, 3, 1))
    assert Employee.objects.count() == 1


@pytest.mark.parametrize("header, status", [(None, 401), ("Bearer qf_nope_nope", 401), ("Basic abc", 401)])
def test_missing_or_invalid_token_is_unauthorized(client, plant, header, status):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = client.post("/scim/v2/Users", data=user_body(), content_type="application/scim+json", **extra)

    assert response.status_code == status
    assert response["WWW-Authenticate"] == 'Bearer realm="scim"'
    assert response.json()["schemas"] == [ERROR]
    assert response.json()["status"] == "401"
    assert not Employee.objects.exists()


def test_token_without_provisioning_permission_is_forbidden(client, plant):
    _hr_client, secret = integration_token(username="hr-sync", role=Role.HR_ADMIN)

    response = Scim(client, secret).send("post", "Users", user_body())

    assert response.status_code == 403
    assert response.json()["status"] == "403"
    assert not Employee.objects.exists()


def _create(scim, user_name, number, **extra) -> str:
    response = scim.send("post", "Users", user_body(user_name, number=number, **extra))
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [resource["userName"] for resource in response.json()["Resources"]]


def test_list_filters_and_pages(scim):
    boss = _create(scim, "zhang.wei", "S0001", name={"familyName": "张", "givenName": "伟"})
    _create(scim, "li.na", "S0002", name={"familyName": "李", "givenName": "娜"},
            **{ENTERPRISE: {"employeeNumber": "S0002", "department": "SZ-IM", "manager": {"value": boss}}})
    _create(scim, "bjensen", "T0003", name={"familyName": "Jensen", "givenName": "Barbara"}, active=False)

    assert _ids(scim.get("Users", filter='userName eq "LI.NA"')) == ["li.na"]
    assert _ids(scim.get("Users", filter='userName ne "li.na"')) == ["zhang.wei", "bjensen"]
    assert _ids(scim.get("Users", filter='userName co "an"')) == ["zhang.wei"]
    assert _ids(scim.get("Users", filter='userName sw "b" or userName ew "na"')) == ["li.na", "bjensen"]
    assert _ids(scim.get("Users", filter='name.familyName eq "Jensen" and active eq false')) == ["bjensen"]
    assert _ids(scim.get("Users", filter='not (active eq true)')) == ["bjensen"]
    assert _ids(scim.get("Users", filter='emails[type eq "work"].value eq "li.na@example.com"')) == ["li.na"]
    assert _ids(scim.get("Users", filter='emails[type eq "home"]')) == []
    assert _ids(scim.get("Users", filter=f'{ENTERPRISE}:employeeNumber sw "T"')) == ["bjensen"]
    assert _ids(scim.get("Users", filter=f'{ENTERPRISE}:department eq "SZ-IM"')) == ["li.na"]
    assert _ids(scim.get("Users", filter=f'{ENTERPRISE}:manager.value eq "{boss}"')) == ["li.na"]
    assert _ids(scim.get("Users", filter=f'{ENTERPRISE}:manager pr')) == ["li.na"]
    assert _ids(scim.get("Users", filter='meta.created gt "2000-01-01T00:00:00Z"')) == ["zhang.wei", "li.na", "bjensen"]
    assert _ids(scim.get("Users", sortBy="userName", sortOrder="descending")) == ["zhang.wei", "li.na", "bjensen"]
    page = scim.get("Users", startIndex=2, count=1).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (3, 2, 1)
    assert [r["userName"] for r in page["Resources"]] == ["li.na"]
    only = scim.get("Users", filter='userName eq "li.na"', attributes="userName").json()["Resources"][0]
    assert only == {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": only["id"], "userName": "li.na"}
    searched = scim.send("post", "Users/.search", {"filter": 'userName sw "zh"', "excludedAttributes": ["emails"]})
    assert _ids(searched) == ["zhang.wei"]
    assert "emails" not in searched.json()["Resources"][0]


@pytest.mark.parametrize("expression", ['userName eq', 'userName xx "a"', 'title eq "x"', 'active co "t"'])
def test_bad_filter_is_invalid_filter(scim, expression):
    response = scim.get("Users", filter=expression)

    assert response.status_code == 400
    assert (response.json()["status"], response.json()["scimType"]) == ("400", "invalidFilter")


def test_get_by_id_and_unknown_id(scim):
    user_id = _create(scim, "wang.fang", "S0001")

    assert scim.get(f"Users/{user_id}").json()["userName"] == "wang.fang"
    missing = scim.get("Users/00000000-0000-0000-0000-000000000000")
    assert (missing.status_code, missing.json()["status"]) == (404, "404")


def test_patch_deactivates_and_changes_the_work_email(scim):
    user_id = _create(scim, "wang.fang", "S0001")
    OutboxEvent.objects.all().delete()

    response = scim.send("patch", f"Users/{user_id}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "active", "value": False},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "fang.wang@example.com"},
        {"op": "add", "path": "phoneNumbers", "value": [{"value": "+86 512 6666 0000", "type": "work"}]},
    ]})

    assert response.status_code == 200, response.json()
    user = User.objects.get(pk=user_id)
    assert (user.is_active, user.email) == (False, "fang.wang@example.com")
    assert (user.employee.email, user.employee.phone) == ("fang.wang@example.com", "+86 512 6666 0000")
    assert response.json()["active"] is False
    assert list(OutboxEvent.objects.values_list("type", flat=True)) == ["people.employee.updated", "scim.user.updated"]
    assert AuditEntry.objects.filter(object_type="accounts.user", object_id=user_id, action="update",
                                     reason="Provisioned through SCIM by idp").exists()


def test_patch_without_path_and_removing(scim):
    user_id = _create(scim, "wang.fang", "S0001", externalId="x-1")

    response = scim.send("patch", f"Users/{user_id}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"name.givenName": "芬"}},
        {"op": "remove", "path": "externalId"},
        {"op": "remove", "path": "emails"},
    ]})

    assert response.status_code == 200, response.json()
    employee = Employee.objects.get(user_id=user_id)
    assert (employee.given_name, employee.external_refs, employee.email) == ("芬", {}, "")


@pytest.mark.parametrize("operation, scim_type", [
    ({"op": "replace", "path": "title", "value": "x"}, "invalidPath"),
    ({"op": "remove", "path": "userName"}, "mutability"),
    ({"op": "replace", "path": 'emails[type eq "home"].value', "value": "a@b.cn"}, "noTarget"),
])
def test_patch_refusals(scim, operation, scim_type):
    user_id = _create(scim, "wang.fang", "S0001")
    before = _written()

    response = scim.send("patch", f"Users/{user_id}", {"schemas": [PATCH], "Operations": [operation]})

    assert (response.status_code, response.json()["scimType"]) == (400, scim_type)
    assert _written() == before


def test_put_replaces_and_moves_department(scim, plant):
    user_id = _create(scim, "wang.fang", "S0001")
    body = user_body("wang.fang2", number="S0001", department="SZ-IM", emails=[])

    response = scim.send("put", f"Users/{user_id}", body)

    assert response.status_code == 200, response.json()
    employee = Employee.objects.get(user_id=user_id)
    assert (employee.user.username, employee.department, employee.email) == ("wang.fang2", plant.moulding, "")


def test_stale_if_match_is_refused(scim):
    user_id = _create(scim, "wang.fang", "S0001")

    response = scim.send("put", f"Users/{user_id}", user_body(), HTTP_IF_MATCH='W/"stale"')

    assert response.status_code == 412


def test_delete_deprovisions_and_keeps_the_records(scim):
    user_id = _create(scim, "wang.fang", "S0001")
    OutboxEvent.objects.all().delete()

    response = scim.delete(f"Users/{user_id}")

    assert response.status_code == 204
    user = User.objects.get(pk=user_id)
    assert user.is_active is False
    assert (user.employee.status, user.employee.termination_date) == (EmployeeStatus.TERMINATED, _site_today())
    assert list(OutboxEvent.objects.values_list("type", flat=True)) == [
        "people.employee.deactivated", "scim.user.deprovisioned"]
    assert scim.get(f"Users/{user_id}").status_code == 404
    assert _ids(scim.get("Users")) == []
