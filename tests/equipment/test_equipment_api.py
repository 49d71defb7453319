"""The equipment API: create and list assets, plans and records, ask availability at a moment, and the
error shape of refusals."""

from __future__ import annotations

import json

import pytest
from equipment_helpers import DAY

from qualiflow.accounts import services as account_services
from qualiflow.audit.models import AuditEntry
from qualiflow.equipment.models import EquipmentRecord


class Api:
    """JSON calls to /api/v1 with the user's bearer token (none: anonymous)."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1{path}", query_params=params, headers=self.headers)

    def post(self, path: str, body: dict):
        return self.client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json",
                                headers=self.headers)

    def patch(self, path: str, body: dict):
        return self.client.patch(f"/api/v1{path}", json.dumps(body), content_type="application/json",
                                 headers=self.headers)


@pytest.fixture
def api(client):
    def make(user=None) -> Api:
        token = account_services.api_token_issue(user=user, name="test")[1] if user is not None else None
        return Api(client, token)

    return make


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    return body


def test_create_asset_plan_and_records_then_ask_availability(api, maintenance_user, plant, metrology, technician, now):
    client = api(maintenance_user)
    created = client.post("/equipment/classes", {"code": "BAL", "name": "电子天平", "reason": "new class"})
    assert created.status_code == 201
    class_id = created.json()["id"]
    asset = client.post("/equipment", {
        "asset_number": "EQ-0200", "name": "天平2", "equipment_class_id": class_id, "site_id": str(plant.site_a.pk),
        "line_id": str(plant.line_a.pk), "reason": "purchased"})
    assert asset.status_code == 201, asset.content
    body = asset.json()
    assert body["availability"]["available"] is True and body["availability"]["calibration_due"] is None
    asset_id = body["id"]
    plan = client.post(f"/equipment/{asset_id}/plans", {
        "kind": "calibration", "title": "量程校准", "interval_days": 365, "qualification_id": str(metrology.pk),
        "first_due": (now + 10 * DAY).isoformat(), "reason": "plan"})
    assert plan.status_code == 201, plan.content
    plan_id = plan.json()["id"]
    record = client.post(f"/equipment/{asset_id}/records", {
        "plan_id": plan_id, "performed_by_id": str(technician.pk), "started_at": (now - 2 * DAY).isoformat(),
        "completed_at": (now - DAY).isoformat(), "result": "pass", "certificate_number": "CAL-9", "reason": "cal"})
    assert record.status_code == 201, record.content
    record_body = record.json()
    assert record_body["qualification_evidence"]["allowed"] is True and record_body["result"] == "pass"

    state = client.get(f"/equipment/{asset_id}/availability").json()
    assert state["available"] is True
    assert state["evidence"] == [f"calibration:{record_body['id']}", "certificate:CAL-9"]
    past = client.get(f"/equipment/{asset_id}/availability", at=(now + 400 * DAY).isoformat()).json()
    assert [r["code"] for r in past["reasons"]] == ["calibration_overdue"]
    assert "量程校准" in past["reasons"][0]["message"]

    listed = client.get("/equipment", search="EQ-02").json()
    assert listed["count"] == 1 and listed["items"][0]["available"] is True
    assert client.get("/equipment", blocked=True).json()["count"] == 0
    assert [p["id"] for p in client.get(f"/equipment/{asset_id}/plans").json()] == [plan_id]
    assert client.get(f"/equipment/{asset_id}/records").json()["count"] == 1
    assert client.get(f"/equipment/records/{record_body['id']}").json()["certificate_number"] == "CAL-9"
    assert client.get(f"/equipment/classes/{class_id}").json()["code"] == "BAL"
    assert client.get("/equipment/classes").json()["count"] == 1

    patched = client.patch(f"/equipment/{asset_id}", {"status": "out_of_service", "reason": "broken"}).json()
    assert [r["code"] for r in patched["availability"]["reasons"]] == ["out_of_service"]
    assert client.patch(f"/equipment/{asset_id}/plans/{plan_id}", {"interval_days": 180, "reason": "r"}).json()[
        "interval_days"] == 180
    assert client.patch(f"/equipment/classes/{class_id}", {"name_en": "Balance", "reason": "r"}).json()["name_en"] == "Balance"


def test_start_then_complete_a_failed_calibration(api, maintenance_user, steriliser, calibration_plan, technician, now):
    client = api(maintenance_user)
    started = client.post(f"/equipment/{steriliser.pk}/records/start", {
        "plan_id": str(calibration_plan.pk), "performed_by_id": str(technician.pk),
        "started_at": (now - DAY).isoformat(), "reason": "calibration"})
    assert started.status_code == 201, started.content
    record_id = started.json()["id"]
    done = client.post(f"/equipment/records/{record_id}/complete", {"result": "fail", "as_found": "+1.2 °C",
                                                                    "reason": "out of tolerance"})
    assert done.status_code == 200 and done.json()["result"] == "fail"
    state = client.get(f"/equipment/{steriliser.pk}/availability").json()
    assert [r["code"] for r in state["reasons"]] == ["calibration_failed"]
    _error(client.post(f"/equipment/records/{record_id}/complete", {"result": "pass", "reason": "again"}),
           422, "equipment.record_not_open")


def test_refusals_have_the_error_shape_and_write_nothing(api, maintenance_user, operator_user, steriliser,
                                                         calibration_plan, trainee, plant, steriliser_class, now):
    client = api(maintenance_user)
    before = (EquipmentRecord.objects.count(), AuditEntry.objects.count())
    body = _error(client.post(f"/equipment/{steriliser.pk}/records/start", {
        "plan_id": str(calibration_plan.pk), "performed_by_id": str(trainee.pk), "reason": "calibration"}),
        422, "equipment.technician_not_qualified")
    assert "Q-MET-T" in body["details"]["fields"]["performed_by_id"][0]
    assert (EquipmentRecord.objects.count(), AuditEntry.objects.count()) == before

    _error(client.post(f"/equipment/{steriliser.pk}/plans", {
        "kind": "maintenance", "title": "x", "interval_days": 0, "first_due": now.isoformat(), "reason": "r"}),
        422, "equipment.plan_invalid")
    _error(client.post("/equipment", {"asset_number": "EQ-0001", "name": "x", "equipment_class_id": str(steriliser_class.pk),
                                      "site_id": str(plant.site_a.pk), "reason": "r"}), 422, "equipment.code_taken")
    _error(client.post("/equipment/classes", {"code": "X", "name": "x"}), 422, "core.reason_required")
    missing = _error(client.post("/equipment", {"asset_number": "EQ-9", "name": "x", "equipment_class_id": str(plant.site_a.pk),
                                                "site_id": str(plant.site_a.pk), "reason": "r"}), 422, "core.validation")
    assert list(missing["details"]["fields"]) == ["equipment_class_id"]
    _error(client.get(f"/equipment/{plant.site_a.pk}"), 404, "core.not_found")
    _error(api(operator_user).get("/equipment"), 403, "core.permission_denied")
    _error(api().get("/equipment"), 401, "core.authentication_required")
