"""Catalogue API: products, routing versions and the operations of drafts; every write needs a reason and
is audited; approval is a signature given only in the signer's own session; refusals are our error shape
and write nothing."""

from __future__ import annotations

import pytest

from qualiflow.accounts import services as account_services
from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.production.models import Operation, Product, Routing
from qualiflow.training.models import Requirement
from tests.api.api_helpers import ApiClient, assert_error
from tests.conftest import PASSWORD


def _written() -> tuple[int, ...]:
    return (AuditEntry.objects.count(), OutboxEvent.objects.count(), ESignature.objects.count(),
            Product.objects.count(), Routing.objects.count(), Operation.objects.count(), Requirement.objects.count())


def _token_client(client, user) -> ApiClient:
    _token, token = account_services.api_token_issue(user=user, name="test")
    return ApiClient(client, token)


@pytest.fixture
def api(client, production_supervisor) -> ApiClient:
    return _token_client(client, production_supervisor)


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


def test_product_create_list_get_and_patch(api, production_supervisor):
    created = _ok(api.post("/production/products", {
        "code": "EX-1", "name": "延长管", "name_en": "Extension line", "device_class": "II", "udi_di": "06901234560001",
        "reason": "New product"}), 201)
    assert {k: created[k] for k in ("code", "device_class", "udi_di", "is_active", "routings", "routing_in_effect_id")} == {
        "code": "EX-1", "device_class": "II", "udi_di": "06901234560001", "is_active": True, "routings": [],
        "routing_in_effect_id": None}
    entry = AuditEntry.objects.get(object_type="production.product", object_id=created["id"])
    assert (entry.reason, entry.actor_name) == ("New product", production_supervisor.username)

    listed = _ok(api.get("/production/products", search="extension"))
    assert listed["count"] == 1 and listed["items"][0]["version_in_effect"] is None
    assert _ok(api.get(f"/production/products/{created['id']}"))["name_en"] == "Extension line"
    patched = _ok(api.patch(f"/production/products/{created['id']}", {"model": "EX-150", "reason": "Model named"}))
    assert patched["model"] == "EX-150"

    before = _written()
    assert_error(api.post("/production/products", {"code": "EX-1", "name": "x", "device_class": "I", "reason": "dup"}),
                 422, "production.code_taken")
    assert_error(api.post("/production/products", {"code": "EX-2", "name": "x", "device_class": "IV", "reason": "x"}),
                 422, "core.validation")
    assert_error(api.post("/production/products", {"code": "EX-2", "name": "x", "device_class": "I"}),
                 422, "core.reason_required")
    assert _written() == before


def test_routing_with_operations_over_the_api(api, product, work_centers, equipment_class, work_instruction,
                                              operation_qualifications):
    routing = _ok(api.post(f"/production/products/{product.pk}/routings", {"notes": "首版", "reason": "New"}), 201)
    assert (routing["version"], routing["status"], routing["operations"]) == (1, "draft", [])

    operation = _ok(api.post(f"/production/routings/{routing['id']}/operations", {
        "sequence": 10, "name": "包装", "work_center_id": str(work_centers[2].pk), "standard_minutes": "0.75",
        "equipment_class_id": str(equipment_class.pk), "work_instruction_id": str(work_instruction.pk),
        "inspection_points": [{"code": "SEAL", "characteristic": "Seal strength", "unit": "N", "lower": 10, "upper": 25}],
        "requirements": [{"qualification_id": str(operation_qualifications[30].pk), "grace_days": 7}],
        "reason": "Packaging step"}), 201)
    assert operation["work_instruction_revision"]["label"] == "A"
    assert operation["requirements"] == [{"qualification_id": str(operation_qualifications[30].pk),
                                          "qualification_code": "Q-PK", "mandatory": True, "grace_days": 7}]
    assert operation["inspection_points"] == [
        {"code": "SEAL", "characteristic": "Seal strength", "unit": "N", "lower": 10.0, "upper": 25.0}]

    patched = _ok(api.patch(f"/production/operations/{operation['id']}", {
        "standard_minutes": "0.80", "equipment_class_id": None, "reason": "Re-timed, no steriliser"}))
    assert (patched["standard_minutes"], patched["equipment_class_id"]) == ("0.80", None)

    before = _written()
    bad = assert_error(api.post(f"/production/routings/{routing['id']}/operations", {
        "sequence": 10, "name": "x", "work_center_id": str(product.pk), "standard_minutes": 1, "reason": "x"}),
        422, "core.validation")
    assert bad["details"]["fields"] == {"work_center_id": ["No such record."]}
    taken = assert_error(api.post(f"/production/routings/{routing['id']}/operations", {
        "sequence": 10, "name": "x", "work_center_id": str(work_centers[0].pk), "standard_minutes": 1,
        "inspection_points": [{"code": "A", "characteristic": "x", "lower": 3, "upper": 1}], "reason": "x"}),
        422, "production.operation_invalid")
    assert taken["details"]["fields"] == {"inspection_points": ["Point 1: the lower limit is above the upper limit."]}
    assert _written() == before

    copy = _ok(api.post(f"/production/routings/{routing['id']}/copy", {"reason": "Alternative"}), 201)
    assert (copy["version"], len(copy["operations"]), copy["notes"]) == (2, 1, "首版")
    listed = _ok(api.get(f"/production/products/{product.pk}/routings"))
    assert [(r["version"], r["operation_count"]) for r in listed] == [(2, 1), (1, 1)]

    operation_url = f"/production/operations/{copy['operations'][0]['id']}"
    assert_error(api.delete(operation_url), 422, "core.reason_required")
    left = _ok(api._call("delete", operation_url, reason="Start over"))
    assert left["operations"] == []
    assert AuditEntry.objects.get(object_type="production.operation", action="delete").reason == "Start over"


def test_approval_only_in_the_signers_session(api, client, routing_approved, production_supervisor):
    copy = _ok(api.post(f"/production/routings/{routing_approved.pk}/copy", {"reason": "v2"}), 201)
    url = f"/production/routings/{copy['id']}/approve"
    before = _written()
    assert_error(api.post(url, {"password": PASSWORD, "reason": "Validated"}), 403, "accounts.signature_not_allowed")
    session = ApiClient(client)
    client.force_login(production_supervisor)
    assert_error(session.post(url, {"password": "wrong", "reason": "Validated"}), 403,
                 "accounts.signature_password_invalid")
    assert _written() == before

    approved = _ok(session.post(url, {"password": PASSWORD, "reason": "Validated"}))
    assert (approved["status"], approved["in_effect"]) == ("approved", True)
    assert [(s["meaning"], s["matches"]) for s in approved["signatures"]] == [("approved", True)]

    operation_id = approved["operations"][0]["id"]
    assert_error(api.patch(f"/production/operations/{operation_id}", {"name": "x", "reason": "x"}), 422,
                 "production.routing_not_draft")
    retired = _ok(api.post(f"/production/routings/{copy['id']}/retire", {"reason": "Supplier issue"}))
    assert (retired["status"], retired["in_effect"], retired["signatures"][0]["matches"]) == ("retired", False, False)
    assert _ok(api.get(f"/production/products/{routing_approved.product_id}"))["routing_in_effect_id"] == str(
        routing_approved.pk)


def test_reading_needs_production_view_and_writing_production_manage(client, product, make_user):
    operator = _token_client(client, make_user(Role.OPERATOR))
    assert_error(operator.get("/production/products"), 403, "core.permission_denied")
    auditor = _token_client(client, make_user(Role.AUDITOR))
    assert _ok(auditor.get("/production/products"))["count"] == 1
    before = _written()
    assert_error(auditor.post(f"/production/products/{product.pk}/routings", {"reason": "x"}), 403,
                 "core.permission_denied")
    assert_error(auditor.get("/production/routings/00000000-0000-0000-0000-000000000000"), 404, "core.not_found")
    assert _written() == before
