"""Reads for automation: rules, firings (by rule, by event, by outcome), the events they met, and the dry
run of a rule against a stored event, which works out what the rule would do and writes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from qualiflow.core.errors import CoreErrorCode, NotFound
from qualiflow.integration.models import OutboxEvent

from . import planning
from .domain import actions as spec
from .domain.condition import ConditionError, evaluate, parse
from .models import AutomationRule, RuleFiring
from .services import describe


def rule_list(*, search: str = "", active: bool | None = None) -> QuerySet[AutomationRule]:
    rules = AutomationRule.objects.select_related("created_by", "approval__signer").order_by("name")
    if search:
        rules = rules.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if active is not None:
        rules = rules.filter(is_active=active)
    return rules


def rule_get(*, rule_id) -> AutomationRule:
    rule = rule_list().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("No such automation rule."))
    return rule


def event_get(*, event_id) -> OutboxEvent:
    try:
        key = uuid.UUID(str(event_id))
    except ValueError as exc:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("No such event.")) from exc
    event = OutboxEvent.objects.filter(id=key).first()
    if event is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("No such event."))
    return event


def events_for(rule: AutomationRule, *, limit: int = 20) -> list[OutboxEvent]:
    """The latest events the rule's triggers match (for choosing one to test against)."""
    found: list[OutboxEvent] = []
    for event in OutboxEvent.objects.exclude(type__startswith="automation.").order_by("-position").iterator(chunk_size=500):
        if spec.triggered(rule.triggers, event.type):
            found.append(event)
            if len(found) >= limit:
                break
    return found


def firing_list(
    *, rule_id=None, event_id=None, outcome: str = "", event_type: str = "",
) -> QuerySet[RuleFiring]:
    firings = RuleFiring.objects.select_related("rule", "event").order_by("-id")
    if rule_id:
        firings = firings.filter(rule_id=rule_id)
    if event_id:
        firings = firings.filter(event__id=event_id)
    if outcome:
        firings = firings.filter(outcome=outcome)
    if event_type:
        firings = firings.filter(event__type__startswith=event_type)
    return firings


def firing_get(*, firing_id) -> RuleFiring:
    firing = firing_list().filter(pk=firing_id).first()
    if firing is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("No such firing."))
    return firing


@dataclass
class TestResult:
    triggered: bool  # the event's type is one the rule listens to
    matched: bool  # ...and the condition holds
    problem: str = ""  # the stored rule does not parse
    steps: list[planning.Step] = field(default_factory=list)


def rule_test(*, rule: AutomationRule, event: OutboxEvent) -> TestResult:
    """Would `rule` fire on `event`, and what would each action do? Reads only."""
    triggered = spec.triggered(rule.triggers, event.type)
    try:
        condition = parse(rule.condition)
        actions = spec.parse_actions(rule.actions)
    except ConditionError as exc:
        return TestResult(triggered, False, problem=describe(exc))
    matched = evaluate(condition, event.as_cloudevent())
    steps = planning.plan(rule, actions, event) if matched else []
    return TestResult(triggered, matched, steps=steps)
