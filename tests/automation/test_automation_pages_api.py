"""The automation API and pages: a bad condition refused with where and what, permissions, the dry run
writing nothing, activation with a signature, and an event traced to what it triggered."""

from __future__ import annotations

import json

import pytest
from conftest_values import PASSWORD

from qualiflow.accounts import services as account_services
from qualiflow.accounts.roles import Role
from qualiflow.automation import engine, services
from qualiflow.automation.models import AutomationRule, RuleFiring
from qualiflow.integration.models import OutboxEvent
from qualiflow.training.models import TrainingAssignment

RULE = {"name": "Retrain", "triggers": ["training.qualification.expired"],
        "condition": {"eq": ["data.qualification_code", "EO-OP"]},
        "actions": [{"type": "assign_training", "course": "C-EO"}]}


@pytest.fixture
def api(client):
    def call(user, method, path, body=None):
        token = account_services.api_token_issue(user=user, name="t")[1]
        return getattr(client, method)(f"/api/v1/automation{path}", json.dumps(body) if body is not None else None,
                                       content_type="application/json", headers={"Authorization": f"Bearer {token}"})

    return call


def test_api_refuses_a_condition_that_does_not_parse(api, manager_user, eo_course):
    response = api(manager_user, "post", "/rules", {**RULE, "condition": {"all": [{"equals": ["type", "x"]}]}})
    assert response.status_code == 400
    problem = ("At $.all[0]: unknown operator “equals”; use one of: all, any, not, eq, ne, gt, ge, lt, le, in, exists, "
               "contains, startswith.")
    assert response.json() == {"code": "automation.condition_invalid", "message": f"The condition is not valid: {problem}",
                               "details": {"fields": {"condition": [problem]}}}
    assert not AutomationRule.objects.exists()


def test_api_rule_lifecycle_and_firings(api, manager_user, emit, people, eo, eo_course):
    created = api(manager_user, "post", "/rules", RULE)
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert (created.json()["is_active"], created.json()["needs_signature"]) == (False, False)
    activated = api(manager_user, "post", f"/rules/{rule_id}/activate", {})
    assert activated.status_code == 200 and activated.json()["is_active"] is True
    operator, _manager = people
    event = emit("training.qualification.expired", "training/grant/x", {
        "employee_id": str(operator.pk), "employee_number": operator.employee_number, "qualification_code": "EO-OP"})
    tested = api(manager_user, "post", f"/rules/{rule_id}/test", {"event_id": str(event.id)})
    assert tested.status_code == 200
    assert tested.json()["matched"] is True and tested.json()["steps"][0]["type"] == "assign_training"
    assert not TrainingAssignment.objects.exists() and not RuleFiring.objects.exists()  # the dry run wrote nothing
    engine.run_once()
    firings = api(manager_user, "get", f"/firings?event_id={event.id}")
    assert firings.status_code == 200
    assert [(f["rule_id"], f["outcome"]) for f in firings.json()["items"]] == [(rule_id, "matched")]
    patched = api(manager_user, "patch", f"/rules/{rule_id}", {"description": "edited"})
    assert patched.status_code == 200 and patched.json()["description"] == "edited"
    deactivated = api(manager_user, "post", f"/rules/{rule_id}/deactivate", {})
    assert deactivated.json()["is_active"] is False


def test_api_permissions(api, make_user, eo_course):
    auditor, qa = make_user(Role.AUDITOR), make_user(Role.QA)
    assert api(auditor, "get", "/rules").status_code == 200
    assert api(auditor, "post", "/rules", RULE).status_code == 403
    assert api(qa, "get", "/rules").status_code == 403
    assert not AutomationRule.objects.exists()


def test_form_shows_the_specific_condition_error(client, manager_user, eo_course):
    client.force_login(manager_user)
    response = client.post("/automation/rules/new/", {
        "name": "Bad", "triggers": "training.qualification.expired", "condition": '{"eq": ["payload.x", 1]}',
        "actions": json.dumps(RULE["actions"])})
    assert response.status_code == 200
    assert response.context["form"].errors == {"condition": [
        "At $.eq[0]: payload.x is not a part of the event; use type, subject, source, id, time or data.<field>."]}
    broken = client.post("/automation/rules/new/", {"name": "Bad", "triggers": "x.y.z", "condition": "{",
                                                    "actions": "[]"})
    assert broken.context["form"].errors["condition"] == [
        "This is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2."]
    assert not AutomationRule.objects.exists()


def test_pages_create_sign_activate_and_trace(client, manager_user, emit, people, eo, grant, eo_course):
    client.force_login(manager_user)
    response = client.post("/automation/rules/new/", {
        "name": "Suspend", "triggers": "training.effectiveness.evaluated",
        "condition": '{"eq": ["data.effective", false]}',
        "actions": '[{"type": "suspend_qualification", "qualification": "EO-OP"}]'})
    rule = AutomationRule.objects.get()
    assert response.status_code == 302 and response.url == f"/automation/rules/{rule.pk}/"
    refused = client.post(f"/automation/rules/{rule.pk}/activate/", {"password": "nope"})
    assert refused.status_code == 200 and refused.context["form"].errors["password"] == ["The password is not correct."]
    rule.refresh_from_db()
    assert not rule.is_active
    signed = client.post(f"/automation/rules/{rule.pk}/activate/", {"password": PASSWORD, "reason": "QA agreed"})
    assert signed.status_code == 302
    rule.refresh_from_db()
    assert rule.is_active and rule.approval is not None
    operator, _manager = people
    event = emit("training.effectiveness.evaluated", "training/effectiveness/1",
                 {"employee_id": str(operator.pk), "effective": False})
    test_page = client.get(f"/automation/rules/{rule.pk}/test/", {"event": str(event.id)})
    assert test_page.status_code == 200 and test_page.context["result"].matched is True
    engine.run_once()
    traced = client.get(f"/automation/events/{event.id}/")
    assert [f.rule for f in traced.context["firings"]] == [rule]
    assert client.get("/automation/").status_code == 200
    assert client.get("/automation/firings/", {"outcome": "matched"}).context["page"].paginator.count == 1
    assert client.get(f"/automation/rules/{rule.pk}/").status_code == 200


@pytest.mark.parametrize(("role", "view", "manage"), [
    (Role.SYSTEM_ADMIN, 200, 200), (Role.HR_ADMIN, 200, 403), (Role.AUDITOR, 200, 403), (Role.QA, 403, 403),
    (Role.OPERATOR, 403, 403), (Role.INTEGRATION, 403, 403),
])
def test_page_permissions(client, make_user, role, view, manage):
    client.force_login(make_user(role))
    assert client.get("/automation/rules/").status_code == view
    assert client.get("/automation/firings/").status_code == view
    assert client.get("/automation/rules/new/").status_code == manage
    events_before = OutboxEvent.objects.count()
    client.post("/automation/rules/new/", {"name": "x", "triggers": "a.b.c", "actions": "[]"})
    assert OutboxEvent.objects.count() == events_before and not AutomationRule.objects.exists()


def test_defaults_command_installs_once(db):
    services.rules_install_defaults()
    assert sorted(AutomationRule.objects.values_list("default_key", flat=True)) == [
        "calibration_failed_qa", "gate_refusal_supervisor", "override_deviation_retrain", "qualification_expiring"]
