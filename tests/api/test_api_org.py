"""Organisation units through the API: the same operations for every kind, audited, permission-checked."""

import json

import pytest
from api_helpers import assert_error

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.org.models import Company, Department, Position, ProductionLine, Site, WorkCenter


def _payloads(plant):
    return {
        "companies": (Company, {"code": "QF-HK", "name": "香港公司", "name_en": "Hong Kong"}),
        "sites": (Site, {"code": "WX", "name": "无锡工厂", "company_id": str(plant.company.pk), "time_zone": "Asia/Shanghai"}),
        "departments": (Department, {"code": "SZ-QC", "name": "质检实验室", "site_id": str(plant.site_a.pk)}),
        "lines": (ProductionLine, {"code": "L-C", "name": "输液器组装线C", "site_id": str(plant.site_a.pk),
                                   "department_id": str(plant.assembly.pk), "clean_room_class": "ISO 8"}),
        "work-centers": (WorkCenter, {"code": "WC-A1", "name": "A线滴斗组装", "line_id": str(plant.line_a.pk)}),
        "positions": (Position, {"code": "QC-INSP", "name": "质检员", "department_id": str(plant.assembly.pk),
                                 "external_refs": {"sap-hr": "50001234"}}),
    }


@pytest.mark.parametrize("kind", ["companies", "sites", "departments", "lines", "work-centers", "positions"])
def test_crud_for_every_kind(api, plant, make_user, kind):
    model, payload = _payloads(plant)[kind]
    client = api(make_user(Role.HR_ADMIN, username="hr"))

    created = client.post(f"/org/{kind}", {**payload, "reason": "new structure"})
    assert created.status_code == 201, created.content
    body = created.json()
    unit = model.objects.get(pk=body["id"])
    assert {k: body[k] for k in payload} == payload
    assert body["is_active"] is True and unit.code == payload["code"]
    entry = AuditEntry.objects.get(object_type=f"org.{model._meta.model_name}", object_id=str(unit.pk))
    assert (entry.action, entry.actor_name, entry.reason) == ("create", "hr", "new structure")
    assert OutboxEvent.objects.filter(type=f"org.{model._meta.model_name}.created", subject__endswith=str(unit.pk)).count() == 1

    assert client.get(f"/org/{kind}/{unit.pk}").json() == body
    listed = client.get(f"/org/{kind}", search=payload["code"]).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == str(unit.pk)

    patched = client.patch(f"/org/{kind}/{unit.pk}", {"name_en": "Renamed", "reason": "naming rule"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["name_en"] == "Renamed" and patched.json()["code"] == payload["code"]
    update = AuditEntry.objects.filter(object_id=str(unit.pk), action="update").get()
    assert json.loads(update.changes) == {"name_en": [payload.get("name_en", ""), "Renamed"]}
    assert update.reason == "naming rule"

    deactivated = client.post(f"/org/{kind}/{unit.pk}/deactivate", {"reason": "closed"})
    assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    assert client.get(f"/org/{kind}", is_active="false", search=payload["code"]).json()["count"] == 1
    assert client.get(f"/org/{kind}", is_active="true", search=payload["code"]).json()["count"] == 0


def test_list_filters_by_parent_and_orders(api, plant, admin_user):
    client = api(admin_user)
    body = client.get("/org/lines", site_id=str(plant.site_a.pk), ordering="-code").json()
    assert [item["code"] for item in body["items"]] == ["L-B", "L-A"]
    body = client.get("/org/departments", limit=1, offset=1).json()
    assert body["count"] == 3 and [item["code"] for item in body["items"]] == ["SZ-ASM"]


def test_consistency_rules_are_field_errors(api, plant, admin_user):
    client = api(admin_user)
    before = ProductionLine.objects.count()
    body = assert_error(
        client.post("/org/lines", {"code": "L-X", "name": "X", "site_id": str(plant.site_b.pk),
                                   "department_id": str(plant.assembly.pk)}),
        422, "org.site_mismatch",
    )
    assert list(body["details"]["fields"]) == ["department_id"]
    body = assert_error(
        client.post("/org/lines", {"code": "L-X", "name": "X", "site_id": "00000000-0000-0000-0000-000000000000",
                                   "department_id": str(plant.assembly.pk)}),
        422, "core.validation",
    )
    assert body["details"]["fields"] == {"site_id": ["No such record."]}
    assert ProductionLine.objects.count() == before


@pytest.mark.parametrize("role", [Role.PRODUCTION_SUPERVISOR, Role.QA, Role.AUDITOR])
def test_viewers_cannot_change_the_organisation(api, plant, make_user, role):
    client = api(make_user(role))
    assert client.get("/org/sites").status_code == 200
    entries = AuditEntry.objects.count()
    assert_error(client.post("/org/companies", {"code": "X", "name": "X"}), 403, "core.permission_denied")
    assert_error(client.patch(f"/org/sites/{plant.site_a.pk}", {"name": "X"}), 403, "core.permission_denied")
    assert_error(client.post(f"/org/sites/{plant.site_a.pk}/deactivate", {}), 403, "core.permission_denied")
    assert AuditEntry.objects.count() == entries
    plant.site_a.refresh_from_db()
    assert (plant.site_a.name, plant.site_a.is_active) == ("苏州工厂", True)


def test_operator_cannot_even_read_the_organisation(api, plant, make_user):
    client = api(make_user(Role.OPERATOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk))
    assert_error(client.get("/org/sites"), 403, "core.permission_denied")
    assert_error(client.get(f"/org/sites/{plant.site_a.pk}"), 403, "core.permission_denied")
