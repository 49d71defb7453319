"""Authentication and access: bearer tokens, the browser session, deny by default, token management."""

import datetime as dt
import json

import pytest
from api_helpers import ApiClient, assert_error
from django.utils import timezone

from qualiflow.accounts import services as account_services
from qualiflow.accounts.models import ApiToken
from qualiflow.accounts.roles import ROLE_PERMISSIONS, Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.people.models import Employee


def test_valid_token_authenticates_and_acts_as_its_user(client, make_user):
    user = make_user(Role.HR_ADMIN, username="hr.api")
    _token, secret = account_services.api_token_issue(user=user, name="sync")
    response = ApiClient(client, secret).get("/me")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "hr.api"
    assert ApiToken.objects.get(name="sync").last_used_at is not None


def test_unauthenticated_request_gets_401_in_error_shape(api):
    response = api().get("/employees")
    assert_error(response, 401, "core.authentication_required")
    assert response.json()["details"] == {}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer qf_nope_nope", "Bearer not-a-token", "Bearer "])
def test_wrong_token_is_refused(client, make_user, header):
    make_user(Role.SYSTEM_ADMIN)
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert_error(response, 401, "accounts.token_invalid")


def test_token_with_right_prefix_but_wrong_secret_is_refused(client, admin_user):
    token, secret = account_services.api_token_issue(user=admin_user, name="sync")
    forged = f"qf_{token.prefix}_{'x' * 43}"
    assert forged != secret
    assert_error(ApiClient(client, forged).get("/me"), 401, "accounts.token_invalid")


def test_revoked_token_is_refused(client, admin_user):
    token, secret = account_services.api_token_issue(user=admin_user, name="sync")
    account_services.api_token_revoke(token=token)
    assert_error(ApiClient(client, secret).get("/me"), 401, "accounts.token_invalid")


def test_expired_token_is_refused(client, admin_user):
    token, secret = account_services.api_token_issue(
        user=admin_user, name="sync", expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_error(ApiClient(client, secret).get("/me"), 401, "accounts.token_invalid")


def test_token_of_inactive_user_is_refused(client, make_user):
    user = make_user(Role.SYSTEM_ADMIN)
    _token, secret = account_services.api_token_issue(user=user, name="sync")
    user.is_active = False
    user.save()
    assert_error(ApiClient(client, secret).get("/me"), 401, "accounts.token_invalid")


def test_session_authenticates_reads(login, admin_user, plant):
    response = login(admin_user).get("/api/v1/org/sites")
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_session_write_needs_the_csrf_token(admin_user, plant):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    body = json.dumps({"code": "QF2", "name": "第二公司"})
    refused = browser.post("/api/v1/org/companies", body, content_type="application/json")
    assert_error(refused, 403, "core.permission_denied")
    assert not plant.company.__class__.objects.filter(code="QF2").exists()

    csrf = "x" * 32  # any 32-character secret works when the cookie and the header agree
    browser.cookies["csrftoken"] = csrf
    accepted = browser.post("/api/v1/org/companies", body, content_type="application/json", headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["code"] == "QF2"


def test_me_lists_roles_with_scopes_and_permissions(api, make_user, plant):
    user = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk, username="sup")
    body = api(user).get("/me").json()
    assert body["user"] == {
        "id": str(user.pk), "username": "sup", "printed_name": "sup", "email": "", "language": "en",
        "is_integration": False,
    }
    assert body["roles"] == [{
        "role": "production_supervisor", "role_label": "Production supervisor", "scope_kind": "line",
        "scope_id": str(plant.line_a.pk),
    }]
    assert body["permissions"] == sorted(ROLE_PERMISSIONS[Role.PRODUCTION_SUPERVISOR])
    assert {"people.view", "people.manage"} <= set(body["permissions"])


def _operations(api_client):
    schema = api_client.client.get("/api/v1/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method in methods:
            yield method, path.removeprefix("/api/v1")


def test_user_without_role_is_refused_everywhere_but_me(api, make_user, make_employee):
    employee = make_employee()
    client = api(make_user(None))
    employees_before, entries_before = Employee.objects.count(), AuditEntry.objects.count()
    seen = 0
    for method, path in _operations(client):
        url = path.replace("{employee_id}", str(employee.pk)).replace("{unit_id}", str(employee.site_id)).replace(
            "{token_id}", "00000000-0000-0000-0000-000000000000"
        )
        response = client._call(method, url, {} if method in ("post", "patch") else None)
        if path == "/me":
            assert response.status_code == 200
        else:
            assert_error(response, 403, "core.permission_denied")
        seen += 1
    assert seen >= 40
    assert (Employee.objects.count(), AuditEntry.objects.count()) == (employees_before, entries_before)


def test_unauthenticated_is_refused_everywhere(api):
    client = api()
    for method, path in _operations(client):
        response = client._call(method, path.replace("{", "").replace("}", ""), {} if method in ("post", "patch") else None)
        assert_error(response, 401, "core.authentication_required")


def test_admin_issues_lists_and_revokes_tokens(api, admin_user, make_user):
    client_user = make_user(Role.INTEGRATION, username="sap-hr", is_integration=True)
    admin = api(admin_user)
    issued = admin.post("/tokens", {"username": "sap-hr", "name": "SAP HR sync"})
    assert issued.status_code == 201, issued.content
    body = issued.json()
    assert body["token"].startswith("qf_") and body["username"] == "sap-hr" and body["name"] == "SAP HR sync"
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.user == client_user and body["token"] not in stored.token_hash

    listed = admin.get("/tokens", username="sap-hr").json()
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == body["id"] and "token" not in listed["items"][0]

    assert ApiClient(admin.client, body["token"]).get("/me").json()["user"]["username"] == "sap-hr"
    revoked = admin.delete(f"/tokens/{body['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert_error(ApiClient(admin.client, body["token"]).get("/me"), 401, "accounts.token_invalid")
    entry = AuditEntry.objects.filter(object_type="accounts.apitoken", object_id=body["id"], action="update").get()
    assert entry.actor_name == "admin"
    assert list(json.loads(entry.changes)) == ["revoked_at"]


def test_token_issue_refuses_unknown_user_and_past_expiry(api, admin_user):
    admin = api(admin_user)
    count = ApiToken.objects.count()
    body = assert_error(admin.post("/tokens", {"username": "nobody", "name": "x"}), 422, "core.validation")
    assert list(body["details"]["fields"]) == ["username"]
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    body = assert_error(admin.post("/tokens", {"username": "admin", "name": "x", "expires_at": past}), 422, "core.validation")
    assert list(body["details"]["fields"]) == ["expires_at"]
    assert ApiToken.objects.count() == count


@pytest.mark.parametrize("role", [Role.HR_ADMIN, Role.INTEGRATION, Role.AUDITOR])
def test_only_system_admins_manage_tokens(api, make_user, admin_user, role):
    token, _secret = account_services.api_token_issue(user=admin_user, name="keep")
    client = api(make_user(role))
    assert_error(client.get("/tokens"), 403, "core.permission_denied")
    assert_error(client.post("/tokens", {"username": "admin", "name": "x"}), 403, "core.permission_denied")
    assert_error(client.delete(f"/tokens/{token.pk}"), 403, "core.permission_denied")
    token.refresh_from_db()
    assert token.revoked_at is None
