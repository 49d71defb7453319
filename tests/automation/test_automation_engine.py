"""The engine end to end: events emitted in a transaction, `run_once`, and exactly what the rules did."""

from __future__ import annotations

import datetime as dt

import pytest
from automation_helpers import Receiver
from conftest_values import PASSWORD
from django.utils import timezone

from qualiflow.accounts.models import ESignature, Notification
from qualiflow.automation import engine, services
from qualiflow.automation.models import AutomationRule, EngineCursor, RuleFiring
from qualiflow.core.errors import QualiflowError
from qualiflow.integration.models import OutboxEvent
from qualiflow.training.models import (
    AssignmentReason,
    AssignmentStatus,
    QualificationSuspension,
    TrainingAssignment,
)


def _rule(name, triggers, actions, condition=None, by=None):
    rule = services.rule_create(data={"name": name, "triggers": triggers, "actions": actions,
                                      "condition": condition or {"all": []}}, by=by)
    return services.rule_activate(rule=rule, by=by)


def _expired(emit, operator, eo, days=0):
    return emit("training.qualification.expired", f"training/grant/{operator.pk}", {
        "employee_id": operator.pk, "employee_number": operator.employee_number, "qualification_id": eo.pk,
        "qualification_code": eo.code, "days": days})


def test_assign_training_once_per_person_and_event(emit, people, eo, eo_course):
    operator, _manager = people
    rule = _rule("Retrain on expiry", ["training.qualification.expired"],
                 [{"type": "assign_training", "course": "C-EO", "reason": "renewal", "due_days": 10}],
                 condition={"eq": ["data.qualification_code", "EO-OP"]})
    event = _expired(emit, operator, eo)
    assert engine.run_once() >= 1
    assignment = TrainingAssignment.objects.get(employee=operator)
    assert (assignment.course, assignment.reason, assignment.status) == (eo_course, AssignmentReason.RENEWAL, AssignmentStatus.OPEN)
    assert assignment.source_key == f"automation:{rule.pk}:{event.id}"
    firing = RuleFiring.objects.get(rule=rule, event=event)
    assert firing.outcome == "matched"
    assert [(r["type"], r["status"]) for r in firing.results] == [("assign_training", "done")]
    assert firing.results[0]["items"][0]["assignment_id"] == str(assignment.pk)
    # The assignment's own event was written by the rule and is not fed back to it.
    created = OutboxEvent.objects.get(type="training.assignment.created")
    assert created.request_id == f"automation:{rule.pk}"
    fired = OutboxEvent.objects.get(type="automation.rule.fired")
    assert fired.data["firing_id"] == firing.pk and fired.data["event_id"] == str(event.id)

    engine.run_once()
    engine.run_once()
    assert RuleFiring.objects.filter(rule=rule).count() == 1
    assert TrainingAssignment.objects.filter(employee=operator).count() == 1

    second = _expired(emit, operator, eo)
    engine.run_once()
    repeat = RuleFiring.objects.get(rule=rule, event=second)
    assert repeat.outcome == "matched" and repeat.results[0]["status"] == "nothing"
    assert TrainingAssignment.objects.filter(employee=operator).count() == 1


def test_condition_not_holding_is_recorded_as_skipped(emit, people, eo, eo_course):
    operator, _manager = people
    rule = _rule("Only GMP", ["training.qualification.*"], [{"type": "assign_training", "course": "C-EO"}],
                 condition={"eq": ["data.qualification_code", "GMP"]})
    event = _expired(emit, operator, eo)
    engine.run_once()
    firing = RuleFiring.objects.get(rule=rule, event=event)
    assert (firing.outcome, firing.detail, firing.results) == ("skipped", "The condition does not hold.", [])
    assert not TrainingAssignment.objects.exists()
    assert not OutboxEvent.objects.filter(type="automation.rule.fired").exists()


def test_events_before_activation_are_not_acted_on(emit, people, eo, eo_course):
    operator, _manager = people
    before = _expired(emit, operator, eo)
    _rule("Later", ["training.qualification.expired"], [{"type": "assign_training", "course": "C-EO"}])
    engine.run_once()
    assert not RuleFiring.objects.filter(event=before).exists()


def test_default_expiring_rule_tells_person_and_manager_once(emit, people, grant):
    operator, _manager = people
    services.rules_install_defaults()
    assert services.rules_install_defaults() == []
    assert AutomationRule.objects.filter(is_active=True).count() == 4
    emit("training.qualification.expiring", f"training/grant/{grant.pk}", {
        "employee_id": operator.pk, "employee_number": operator.employee_number, "qualification_id": grant.qualification_id,
        "qualification_code": "EO-OP", "grant_id": grant.pk, "valid_until": "2026-04-01T00:00:00Z"})
    engine.run_once()
    notes = Notification.objects.order_by("recipient__username")
    assert [(n.recipient.username, n.subject, n.dedupe_key) for n in notes] == [
        ("mgr.zhang", f"Qualification EO-OP of {operator.employee_number} expires soon", f"training.expiring:{grant.pk}"),
        ("op.wang", f"Qualification EO-OP of {operator.employee_number} expires soon", f"training.expiring:{grant.pk}"),
    ]
    assert notes[0].body == (f"Qualification EO-OP of employee {operator.employee_number} is valid until "
                             "2026-04-01T00:00:00Z. Please make sure the renewal training takes place in time.")


def test_default_calibration_rule_tells_qa_of_the_site(emit, plant, qa_a, qa_b):
    from qualiflow.equipment import services as equipment

    services.rules_install_defaults()
    kind = equipment.equipment_class_create(data={"code": "BAL", "name": "天平"}, reason="set-up")
    asset = equipment.equipment_create(data={"asset_number": "EQ-9", "name": "天平9", "equipment_class": kind,
                                             "site": plant.site_a, "line": plant.line_a}, reason="set-up")
    emit("equipment.calibration.failed", "equipment/record/1", {
        "equipment_id": asset.pk, "asset_number": "EQ-9", "record_id": "r1", "failed_at": "2026-03-01T08:00:00Z",
        "since": "2025-09-01T08:00:00Z", "since_record_id": "r0"})
    engine.run_once()
    assert [(n.recipient.username, n.subject) for n in Notification.objects.all()] == [
        ("qa.site_a", "Calibration failed: EQ-9")]


def test_default_refusal_rule_tells_the_supervisor_of_the_line(emit, people, supervisors):
    operator, _manager = people
    services.rules_install_defaults()
    emit("production.operation.refused", "production/workorder/x", {
        "refusal_id": "r", "work_order": "WO-404", "sequence": 20, "operator_id": operator.pk,
        "employee_number": operator.employee_number, "reasons": []})
    engine.run_once()
    assert [(n.recipient.username, n.subject) for n in Notification.objects.all()] == [
        ("sup.a", f"Track-in refused: {operator.employee_number} at WO-404 / 20")]


def test_suspend_rule_needs_an_approval_signature(emit, people, eo, grant, manager_user):
    operator, _manager = people
    rule = services.rule_create(by=manager_user, data={
        "name": "Suspend on failed effectiveness", "triggers": ["training.effectiveness.evaluated"],
        "condition": {"eq": ["data.effective", False]},
        "actions": [{"type": "suspend_qualification", "qualification": "EO-OP", "days": 30}]})
    events_before = OutboxEvent.objects.count()
    with pytest.raises(QualiflowError) as refused:
        services.rule_activate(rule=rule, by=manager_user)
    assert refused.value.code == "automation.signature_required"
    with pytest.raises(QualiflowError) as wrong:
        services.rule_activate(rule=rule, by=manager_user, password="wrong")
    assert wrong.value.code == "accounts.signature_password_invalid"
    rule.refresh_from_db()
    assert (rule.is_active, rule.approval_id, rule.active_since) == (False, None, None)
    assert not ESignature.objects.exists() and OutboxEvent.objects.count() == events_before

    rule = services.rule_activate(rule=rule, by=manager_user, password=PASSWORD, reason="QA agreed")
    signature = ESignature.objects.get()
    assert (rule.is_active, rule.approval_id, signature.meaning) == (True, signature.pk, "approved")

    event = emit("training.effectiveness.evaluated", "training/effectiveness/1",
                 {"employee_id": operator.pk, "employee_number": operator.employee_number, "effective": False})
    engine.run_once()
    suspension = QualificationSuspension.objects.get()
    assert (suspension.employee, suspension.qualification) == (operator, eo)
    assert suspension.end - suspension.start == dt.timedelta(days=30)
    assert suspension.reason == (f"Suspended by automation rule “{rule.name}” on event training.effectiveness.evaluated "
                                 f"{event.id}, approved by {signature.printed_name} (signature {signature.pk}).")
    assert RuleFiring.objects.get().results[0]["items"][0]["approval_id"] == str(signature.pk)

    rule = services.rule_update(rule=rule, data={"description": "edited"}, by=manager_user)
    assert (rule.is_active, rule.approval_id) == (False, None)


def test_im_robots_receive_their_message_formats(emit, people, eo):
    operator, _manager = people
    with Receiver() as robot:
        for platform in ("wecom", "dingtalk", "feishu"):
            _rule(f"IM {platform}", ["training.qualification.expired"], [{
                "type": "im_webhook", "platform": platform, "url": f"{robot.url}/{platform}",
                "text": "{data.employee_number}: {data.qualification_code} expired"}])
        _expired(emit, operator, eo)
        engine.run_once()
        text = f"{operator.employee_number}: EO-OP expired"
        assert sorted((path, body) for path, _h, body in robot.requests) == [
            ("/dingtalk", {"msgtype": "text", "text": {"content": text}}),
            ("/feishu", {"msg_type": "text", "content": {"text": text}}),
            ("/wecom", {"msgtype": "text", "text": {"content": text}}),
        ]
    firings = RuleFiring.objects.all()
    assert {(f.outcome, f.pending, f.results[0]["status"]) for f in firings} == {("matched", False, "done")}


def test_webhook_posts_the_cloudevent_and_a_failure_is_recorded(emit, people, eo):
    operator, _manager = people
    with Receiver(status=503, answer={}) as down:
        rule = _rule("Webhook", ["training.qualification.expired"], [{"type": "call_webhook", "url": f"{down.url}/hook",
                                                                       "timeout": 2}])
        event = _expired(emit, operator, eo)
        engine.run_once()
        assert down.bodies == [event.as_cloudevent()]
    firing = RuleFiring.objects.get(rule=rule)
    assert (firing.outcome, firing.pending, firing.results[0]["status"]) == ("failed", False, "failed")
    assert firing.results[0]["message"] == "The receiver answered HTTP 503."


def test_a_robot_refusal_is_a_failure(emit, people, eo):
    operator, _manager = people
    with Receiver(answer={"errcode": 310000, "errmsg": "keywords not in content"}) as robot:
        _rule("DingTalk", ["training.qualification.expired"], [{"type": "im_webhook", "platform": "dingtalk",
                                                                 "url": robot.url, "text": "hi"}])
        _expired(emit, operator, eo)
        engine.run_once()
    assert RuleFiring.objects.get().results[0]["message"] == "The robot refused the message: 310000 keywords not in content"


def test_gaps_are_processed_when_they_appear(emit, people, eo, eo_course):
    operator, _manager = people
    rule = _rule("Retrain", ["training.qualification.expired"], [{"type": "assign_training", "course": "C-EO"}])
    first = _expired(emit, operator, eo)
    late = _expired(emit, operator, eo)
    # As if `late` had been committed after the engine read past its position.
    EngineCursor.objects.update_or_create(name=engine.CURSOR, defaults={
        "scanned": late.position, "gaps": {str(first.position): timezone.now().isoformat()}})
    engine.run_once()
    assert list(RuleFiring.objects.filter(rule=rule).values_list("event_id", flat=True)) == [first.position]
    assert EngineCursor.objects.get().gaps == {}
