"""Writes for automation rules: create, edit, activate (e-signed where the rule suspends qualifications),
deactivate, and the plant's default rules.

A rule's triggers, condition and actions are checked as a whole before anything is saved; a fault is
reported with where it is (`$.all[1].eq`) and what is wrong, in the reader's language. `by` None is the
system (the seed); a user must hold `integration.manage`. Editing a rule voids its approval: a rule that
suspends qualifications then stops until it is approved again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import SignatureMeaning, User
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm, Role
from qualiflow.accounts.services import esignature_sign
from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.core.validation import full_clean
from qualiflow.integration import events
from qualiflow.training.models import AssignmentReason, Course, Qualification

from .domain import actions as spec
from .domain.condition import Condition, ConditionError, parse
from .errors import AutomationErrorCode
from .models import AutomationRule

FIELDS = ("name", "description", "triggers", "condition", "actions")

_EXPECTED = {
    "list": _("a list of values"),
    "text": _("a text"),
    "number_or_text": _("a number or a text"),
    "scalar": _("a text, a number, true, false or null"),
    "template": _("a text, or an object of texts by language such as {\"en\": …, \"zh-hans\": …}"),
    "recipients": _("a list of recipients"),
    "recipient": _("\"person\", \"manager\", {\"user\": username} or {\"role\": role, \"scope\": \"event\" or \"anywhere\"}"),
    "boolean": _("true or false"),
}

_MESSAGES = {
    "not_object": _("At %(where)s: expected a JSON object such as {\"eq\": [\"data.kind\", \"deviation\"]}."),
    "one_operator": _("At %(where)s: a condition has exactly one operator, this object has %(count)s keys."),
    "unknown_operator": _("At %(where)s: unknown operator “%(operator)s”; use one of: %(known)s."),
    "operands": _("At %(where)s: “%(operator)s” takes a list of %(count)s operands, a path and a value."),
    "not_list": _("At %(where)s: expected a list."),
    "bad_path": _("At %(where)s: %(path)s is not a part of the event; use type, subject, source, id, time or "
                  "data.<field>."),
    "bad_value": _("At %(where)s: expected %(expected)s."),
    "too_deep": _("At %(where)s: nested too deeply (at most %(limit)s levels)."),
    "too_large": _("At %(where)s: too large (at most %(limit)s)."),
    "empty": _("At %(where)s: the list is empty; give at least one."),
    "too_many": _("At %(where)s: at most %(limit)s items."),
    "unknown_type": _("At %(where)s: unknown action type “%(type)s”; use one of: %(known)s."),
    "missing_key": _("At %(where)s: a “%(type)s” action needs “%(key)s”."),
    "unknown_key": _("At %(where)s: “%(key)s” is not a parameter of a “%(type)s” action."),
    "bad_url": _("At %(where)s: “%(url)s” is not an http or https address."),
    "bad_template": _("At %(where)s: %(text)s is not a placeholder of the event; write {data.<field>}, and {{ or }} "
                      "for a brace."),
    "bad_trigger": _("At %(where)s: “%(pattern)s” is not an event type pattern such as "
                     "training.qualification.expiring or quality.event.*."),
    "own_events": _("At %(where)s: rules cannot trigger on the automation's own events (%(pattern)s)."),
    "no_course": _("At %(where)s: no course %(code)s is in use."),
    "no_qualification": _("At %(where)s: there is no qualification %(code)s."),
    "no_user": _("At %(where)s: there is no active user %(username)s."),
    "no_role": _("At %(where)s: unknown role “%(role)s”; use one of: %(known)s."),
    "no_reason": _("At %(where)s: unknown assignment reason “%(reason)s”; use one of: %(known)s."),
}

_PARTS = {
    "triggers": (_("The trigger events are not valid: %(problem)s"), AutomationErrorCode.TRIGGERS_INVALID),
    "condition": (_("The condition is not valid: %(problem)s"), AutomationErrorCode.CONDITION_INVALID),
    "actions": (_("The actions are not valid: %(problem)s"), AutomationErrorCode.ACTIONS_INVALID),
}


def describe(exc: ConditionError) -> str:
    """The fault as a sentence in the active language."""
    params = dict(exc.params)
    expected = params.get("expected")
    if expected is not None:
        params["expected"] = _EXPECTED.get(expected) or gettext("one of: %(values)s") % {"values": expected}
    return str(_MESSAGES[exc.code]) % {"where": exc.where, **params}


class DefinitionInvalid(ValidationFailed):
    """A rule's triggers, condition or actions do not parse: the request itself is wrong (400)."""

    status = 400


def refuse(part: str, problem: str) -> NoReturn:
    message, code = _PARTS[part]
    raise DefinitionInvalid(message % {"problem": problem}, fields={part: [problem]}, code=code)


def parse_json(part: str, text: str) -> Any:
    """The JSON typed into a form field; a syntax error is named with its line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        refuse(part, gettext("This is not valid JSON: %(error)s at line %(line)s, column %(column)s.") % {
            "error": exc.msg, "line": exc.lineno, "column": exc.colno})


@dataclass(frozen=True)
class Definition:
    triggers: tuple[str, ...]
    condition: Condition
    actions: tuple[spec.Action, ...]


def _references(actions: tuple[spec.Action, ...]) -> None:
    """The courses, qualifications, users, roles and reasons the actions name exist."""
    for i, action in enumerate(actions):
        where = f"$[{i}]"
        params = action.params
        fault = None
        if action.type == "assign_training":
            if params.get("course") and not Course.objects.filter(code=params["course"], is_active=True).exists():
                fault = ConditionError(f"{where}.course", "no_course", code=params["course"])
            elif params["reason"] not in AssignmentReason.values:
                fault = ConditionError(f"{where}.reason", "no_reason", reason=params["reason"],
                                       known=", ".join(AssignmentReason.values))
        elif action.type == "suspend_qualification" and params["qualification"]:
            if not Qualification.objects.filter(code=params["qualification"]).exists():
                fault = ConditionError(f"{where}.qualification", "no_qualification", code=params["qualification"])
        elif action.type == "notify":
            for j, item in enumerate(params["to"]):
                if isinstance(item, dict) and "user" in item and not User.objects.filter(
                        username=item["user"], is_active=True).exists():
                    fault = ConditionError(f"{where}.to[{j}]", "no_user", username=item["user"])
                elif isinstance(item, dict) and "role" in item and item["role"] not in Role.values:
                    fault = ConditionError(f"{where}.to[{j}]", "no_role", role=item["role"], known=", ".join(Role.values))
                if fault:
                    break
        if fault is not None:
            refuse("actions", describe(fault))


def check(*, triggers: Any, condition: Any, actions: Any) -> Definition:
    """The rule's definition, or a `ValidationFailed` naming the first fault of each part."""
    try:
        parsed_triggers = spec.parse_triggers(triggers)
    except ConditionError as exc:
        refuse("triggers", describe(exc))
    try:
        parsed_condition = parse(condition)
    except ConditionError as exc:
        refuse("condition", describe(exc))
    try:
        parsed_actions = spec.parse_actions(actions)
    except ConditionError as exc:
        refuse("actions", describe(exc))
    _references(parsed_actions)
    return Definition(parsed_triggers, parsed_condition, parsed_actions)


def definition_of(rule: AutomationRule) -> Definition:
    return check(triggers=rule.triggers, condition=rule.condition, actions=rule.actions)


def needs_signature(rule: AutomationRule) -> bool:
    """Whether the rule's actions suspend qualifications (False for actions that do not parse)."""
    try:
        return spec.needs_signature(spec.parse_actions(rule.actions))
    except ConditionError:
        return False


# ---- writes -------------------------------------------------------------------------------------------


def _authorize(by: User | None) -> None:
    if by is not None and not has_perm(by, Perm.INTEGRATION_MANAGE):
        raise PermissionDenied(AutomationErrorCode.NOT_ALLOWED, _("You are not allowed to manage automation rules."))


def _payload(rule: AutomationRule) -> dict[str, Any]:
    return {"name": rule.name, "triggers": list(rule.triggers), "is_active": rule.is_active,
            "approval_id": rule.approval_id, "default_key": rule.default_key}


def _clean(rule: AutomationRule) -> None:
    rule.name = (rule.name or "").strip()
    rule.description = (rule.description or "").strip()
    check(triggers=rule.triggers, condition=rule.condition, actions=rule.actions)
    if rule.name and AutomationRule.objects.filter(name=rule.name).exclude(pk=rule.pk).exists():
        message = _("A rule named %(name)s already exists.") % {"name": rule.name}
        raise ValidationFailed(message, fields={"name": [message]}, code=AutomationErrorCode.NAME_TAKEN)
    full_clean(rule, exclude=["created_by", "approval"])


@transaction.atomic
def rule_create(*, data: dict[str, Any], by: User | None = None, default_key: str = "") -> AutomationRule:
    """A new rule, inactive until activated."""
    _authorize(by)
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationFailed(_("Unknown fields."), fields={n: [_("This field cannot be set here.")] for n in unknown})
    rule = AutomationRule(created_by=by, default_key=default_key, **{"condition": {"all": []}, **data})
    _clean(rule)
    with context.acting(reason=str(_("Automation rule created."))):
        rule.save()
        events.emit("automation.rule.created", f"automation/rule/{rule.pk}", _payload(rule))
    return rule


@transaction.atomic
def rule_update(*, rule: AutomationRule, data: dict[str, Any], by: User | None = None) -> AutomationRule:
    """Change the fields in `data`; unchanged values write nothing. A change voids the rule's approval,
    and a rule that needs one is deactivated with it."""
    _authorize(by)
    rule = AutomationRule.objects.select_for_update().get(pk=rule.pk)
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationFailed(_("Unknown fields."), fields={n: [_("This field cannot be set here.")] for n in unknown})
    changed = sorted(name for name, value in data.items() if getattr(rule, name) != value)
    if not changed:
        return rule
    for name in changed:
        setattr(rule, name, data[name])
    _clean(rule)
    voided = rule.approval_id
    rule.approval = None
    stopped = rule.is_active and needs_signature(rule)
    if stopped:
        rule.is_active = False
    with context.acting(reason=str(_("Automation rule edited."))):
        rule.save()
        events.emit("automation.rule.updated", f"automation/rule/{rule.pk}",
                    {**_payload(rule), "fields": changed, "voided_approval_id": voided})
        if stopped:
            events.emit("automation.rule.deactivated", f"automation/rule/{rule.pk}",
                        {**_payload(rule), "because": "approval_voided"})
    return rule


@transaction.atomic
def rule_activate(
    *, rule: AutomationRule, by: User | None = None, password: str | None = None, reason: str = "",
) -> AutomationRule:
    """Let the rule act on events from now on. A rule that suspends qualifications is approved first by
    `by`'s e-signature ("approved"): they need `training.manage` and their password; without it nothing
    is written."""
    _authorize(by)
    rule = AutomationRule.objects.select_for_update().get(pk=rule.pk)
    definition_of(rule)
    if rule.is_active:
        return rule
    if needs_signature(rule):
        if by is None or not password:
            message = _("This rule suspends qualifications: activating it needs your e-signature (password).")
            raise ValidationFailed(message, fields={"password": [message]}, code=AutomationErrorCode.SIGNATURE_REQUIRED)
        if not has_perm(by, Perm.TRAINING_MANAGE):
            raise PermissionDenied(AutomationErrorCode.NOT_ALLOWED, _(
                "Only someone who may manage training can approve a rule that suspends qualifications."))
        reason = (reason or "").strip() or str(_("Automation rule approved for activation."))
        with context.acting(reason=reason):
            rule.approval = esignature_sign(
                signer=by, password=password, record=rule, meaning=SignatureMeaning.APPROVED, reason=reason)
    rule.is_active = True
    rule.active_since = timezone.now()
    with context.acting(reason=str(_("Automation rule activated."))):
        rule.save()
        events.emit("automation.rule.activated", f"automation/rule/{rule.pk}", _payload(rule))
    return rule


@transaction.atomic
def rule_deactivate(*, rule: AutomationRule, by: User | None = None) -> AutomationRule:
    _authorize(by)
    rule = AutomationRule.objects.select_for_update().get(pk=rule.pk)
    if not rule.is_active:
        return rule
    rule.is_active = False
    with context.acting(reason=str(_("Automation rule deactivated."))):
        rule.save()
        events.emit("automation.rule.deactivated", f"automation/rule/{rule.pk}", _payload(rule))
    return rule


# ---- the plant's defaults -----------------------------------------------------------------------------


def _bilingual(text) -> dict[str, str]:
    """A template in every language of the installation (the text is translated like any other)."""
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = str(text)
    return texts


def default_rules() -> list[dict[str, Any]]:
    """The rules a plant starts with. Quality events carry no retraining action of their own yet: the
    retraining default acts on what exists, a gate-override deviation (its source is the operation run)
    closed by QA, and retrains that run's operator on the courses conferring what the gate found missing."""
    return [
        {
            "key": "qualification_expiring",
            "name": _("Qualification expiring: tell the person and their manager"),
            "description": _("When a qualification reaches its renewal lead time, the person and their manager "
                             "are told. Shares the expiry reminder's key, so nobody is told twice."),
            "triggers": ["training.qualification.expiring"],
            "actions": [{
                "type": "notify", "to": ["person", "manager"],
                "subject": _bilingual(_("Qualification {data.qualification_code} of {data.employee_number} expires "
                                        "soon")),
                "body": _bilingual(_("Qualification {data.qualification_code} of employee {data.employee_number} is "
                                     "valid until {data.valid_until}. Please make sure the renewal training takes "
                                     "place in time.")),
                "dedupe": "training.expiring:{data.grant_id}",
            }],
        },
        {
            "key": "override_deviation_retrain",
            "name": _("Gate-override deviation closed: retrain the operator"),
            "description": _("When QA closes the deviation opened for a controlled override of the qualification "
                             "gate, the operator of that run is assigned the courses conferring what the gate "
                             "found missing (CAPA), due in 14 days."),
            "triggers": ["quality.event.closed"],
            "condition": {"all": [{"eq": ["data.kind", "deviation"]},
                                  {"eq": ["data.source_type", "production.operationrun"]}]},
            "actions": [{"type": "assign_training", "who": {"run_operator": "data.source_id"},
                         "course_for_run": "data.source_id", "reason": "capa", "due_days": 14}],
        },
        {
            "key": "calibration_failed_qa",
            "name": _("Calibration failed: tell QA"),
            "description": _("When a calibration fails, QA responsible for the asset's site or line is told, "
                             "so the operations run on it since the last passing calibration are assessed."),
            "triggers": ["equipment.calibration.failed"],
            "actions": [{
                "type": "notify", "to": [{"role": Role.QA.value, "scope": "event"}],
                "subject": _bilingual(_("Calibration failed: {data.asset_number}")),
                "body": _bilingual(_("The calibration of {data.asset_number} failed at {data.failed_at}. The "
                                     "operations run on it since the last passing calibration ({data.since}) need "
                                     "an impact assessment.")),
            }],
        },
        {
            "key": "gate_refusal_supervisor",
            "name": _("Gate refusal: tell the line supervisor"),
            "description": _("When the qualification gate refuses a track-in, the production supervisors of the "
                             "work order's line are told."),
            "triggers": ["production.operation.refused"],
            "actions": [{
                "type": "notify", "to": [{"role": Role.PRODUCTION_SUPERVISOR.value, "scope": "event"}],
                "subject": _bilingual(_("Track-in refused: {data.employee_number} at {data.work_order} / "
                                        "{data.sequence}")),
                "body": _bilingual(_("The qualification gate refused employee {data.employee_number} at operation "
                                     "{data.sequence} of work order {data.work_order}.")),
            }],
        },
    ]


@transaction.atomic
def rules_install_defaults(*, by: User | None = None) -> list[AutomationRule]:
    """Create the default rules not yet installed, active from now; returns those created. Installing
    again changes nothing, and a default an administrator edited or deactivated stays as they left it."""
    _authorize(by)
    installed = set(AutomationRule.objects.exclude(default_key="").values_list("default_key", flat=True))
    created = []
    for default in default_rules():
        if default["key"] in installed:
            continue
        data = {"name": str(default["name"]), "description": str(default["description"]),
                "triggers": default["triggers"], "condition": default.get("condition", {"all": []}),
                "actions": default["actions"]}
        rule = rule_create(data=data, by=by, default_key=default["key"])
        created.append(rule_activate(rule=rule, by=by))
    return created
