"""The audit trail through the API: filtered entries and chain verification, for those allowed to see them."""

import pytest
from api_helpers import assert_error
from django.db import connection
from django.utils import timezone

from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry


def test_entries_filter_by_object_actor_action_and_time(api, plant, make_user, make_employee):
    employee = make_employee(employee_number="E-AUD")
    hr = make_user(Role.HR_ADMIN, username="hr.wang")
    client = api(hr)
    assert client.patch(f"/employees/{employee.pk}", {"phone": "138", "reason": "new phone"}).status_code == 200
    auditor = api(make_user(Role.AUDITOR))

    body = auditor.get("/audit/entries", object_type="people.employee", object_id=str(employee.pk)).json()
    assert body["count"] == 2
    newest, first = body["items"]
    assert (newest["action"], newest["actor_kind"], newest["actor_name"], newest["reason"]) == (
        "update", "user", "hr.wang", "new phone"
    )
    assert newest["changes"] == {"phone": ["", "138"]}
    assert newest["seq"] > first["seq"] and first["action"] == "create"
    assert newest["prev_hash"] and len(newest["hash"]) == 64

    assert [e["seq"] for e in auditor.get("/audit/entries", actor="hr.wang", action="update").json()["items"]] == [newest["seq"]]
    since = auditor.get("/audit/entries", **{"from": newest["recorded_at"], "object_type": "people.employee"}).json()
    assert [e["seq"] for e in since["items"]] == [newest["seq"]]
    until = auditor.get("/audit/entries", **{"to": first["recorded_at"]}).json()
    assert first["seq"] not in [e["seq"] for e in until["items"]]
    assert auditor.get("/audit/entries", limit=1).json()["items"][0]["seq"] == AuditEntry.objects.order_by("-seq").first().seq

    body = assert_error(auditor.get("/audit/entries", action="rename", **{"from": "yesterday"}), 422, "core.validation")
    assert sorted(body["details"]["fields"]) == ["action", "from"]


def test_verify_reports_an_intact_chain(api, plant, make_user):
    client = api(make_user(Role.AUDITOR))
    body = client.get("/audit/verify").json()
    assert body == {"intact": True, "checked": AuditEntry.objects.count(), "first_break": None}


def test_verify_names_the_first_inserted_entry(api, plant, make_user):
    client = api(make_user(Role.QA))
    tip = AuditEntry.objects.order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (seq, recorded_at, actor_kind, actor_id, actor_name, action, object_type, "
            "object_id, object_repr, changes, reason, request_id, prev_hash, hash) "
            "VALUES (%s, %s, 'user', '', 'mallory', 'update', 'people.employee', 'x', 'x', '{}', '', '', %s, %s)",
            [tip.seq + 1, timezone.now(), "f" * 64, "0" * 64],
        )
    body = client.get("/audit/verify").json()
    assert body["intact"] is False
    assert body["checked"] == tip.seq
    assert body["first_break"]["seq"] == tip.seq + 1 and body["first_break"]["problem"] == "inserted"


@pytest.mark.parametrize("role", [Role.PRODUCTION_SUPERVISOR, Role.TRAINING_COORDINATOR, Role.INTEGRATION])
def test_roles_without_audit_view_are_refused(api, make_user, role):
    client = api(make_user(role))
    assert_error(client.get("/audit/entries"), 403, "core.permission_denied")
    assert_error(client.get("/audit/verify"), 403, "core.permission_denied")
