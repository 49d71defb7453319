"""API for automation rules and their firings, under /api/v1/automation.

Reading rules, firings and dry runs needs `integration.view`; writing rules `integration.manage`. A rule
whose triggers, condition or actions do not parse is refused with 400 and the fault's place and nature,
e.g. "The condition is not valid: At $.all[1]: unknown operator “equals”; use one of: ...".
"""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import PageParams, WriteSchema, error_responses, page_schema, paginate

from . import selectors, services
from .models import AutomationRule, FiringOutcome, RuleFiring

router = Router(tags=["automation"])

_view = requires(Perm.INTEGRATION_VIEW)
_manage = requires(Perm.INTEGRATION_MANAGE)

OutcomeValue = Literal[tuple(FiringOutcome.values)]


class ApprovalOut(Schema):
    signature_id: UUID
    signer: str
    printed_name: str
    signed_at: dt.datetime
    meaning: str


class RuleOut(Schema):
    id: UUID
    name: str
    description: str
    triggers: list[str]
    condition: Any
    actions: list[Any]
    is_active: bool
    active_since: dt.datetime | None
    needs_signature: bool = Field(..., description="It suspends qualifications: activation is e-signed.")
    approval: ApprovalOut | None
    created_by: str | None
    default_key: str = Field(..., description="The plant default it was installed as, or empty.")
    created_at: dt.datetime
    updated_at: dt.datetime


class RuleIn(WriteSchema):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    triggers: Any = Field(..., description='Event type patterns, e.g. ["quality.event.*"].')
    condition: Any = Field(default_factory=lambda: {"all": []}, description='e.g. {"eq": ["data.kind", "deviation"]}.')
    actions: Any = Field(..., description="A list of actions, each with its type and parameters.")


class RulePatch(WriteSchema):
    """Only the fields sent are changed; any change voids the rule's approval."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    triggers: Any = None
    condition: Any = None
    actions: Any = None


class ActivateIn(WriteSchema):
    password: str | None = Field(None, description="Your password: the e-signature a rule that suspends qualifications needs.")
    reason: str = Field("", max_length=2000)


class TestIn(WriteSchema):
    event_id: UUID


class StepOut(Schema):
    type: str
    lines: list[str]
    problem: str
    nothing: str


class TestOut(Schema):
    triggered: bool
    matched: bool
    problem: str
    steps: list[StepOut]


class FiringOut(Schema):
    id: int
    rule_id: UUID
    rule_name: str
    event_id: UUID
    event_type: str
    event_subject: str
    fired_at: dt.datetime
    outcome: str
    detail: str
    results: list[Any]
    pending: bool


class RuleFilters(PageParams):
    search: str = ""
    is_active: bool | None = None


class FiringFilters(PageParams):
    rule_id: UUID | None = None
    event_id: UUID | None = None
    outcome: OutcomeValue | None = None
    event_type: str = Field("", description="Events whose type starts with this, e.g. `training.`.")


def _rule(rule: AutomationRule) -> dict[str, Any]:
    approval = rule.approval
    needs = services.needs_signature(rule)
    return {
        **{name: getattr(rule, name) for name in ("id", "name", "description", "triggers", "condition", "actions",
                                                  "is_active", "active_since", "default_key", "created_at", "updated_at")},
        "needs_signature": needs,
        "approval": None if approval is None else {
            "signature_id": approval.pk, "signer": approval.signer.username, "printed_name": approval.printed_name,
            "signed_at": approval.signed_at, "meaning": approval.meaning},
        "created_by": rule.created_by.username if rule.created_by_id else None,
    }


def _firing(firing: RuleFiring) -> dict[str, Any]:
    return {"id": firing.pk, "rule_id": firing.rule_id, "rule_name": firing.rule.name, "event_id": firing.event.id,
            "event_type": firing.event.type, "event_subject": firing.event.subject, "fired_at": firing.fired_at,
            "outcome": firing.outcome, "detail": firing.detail, "results": firing.results, "pending": firing.pending}


def _fresh(rule: AutomationRule) -> dict[str, Any]:
    return _rule(selectors.rule_get(rule_id=rule.pk))


@router.get("/rules", response={200: page_schema(RuleOut), **error_responses(403, 422)}, auth=_view,
            operation_id="automation_rule_list")
def automation_rule_list(request, filters: Query[RuleFilters]):
    page = paginate(selectors.rule_list(search=filters.search, active=filters.is_active), filters)
    page["items"] = [_rule(r) for r in page["items"]]
    return page


@router.post("/rules", response={201: RuleOut, **error_responses(400, 403, 422)}, auth=_manage,
             operation_id="automation_rule_create")
def automation_rule_create(request, payload: RuleIn):
    """A new rule, inactive until activated."""
    rule = services.rule_create(data=payload.model_dump(), by=request.user)
    return Status(201, _fresh(rule))


@router.get("/rules/{rule_id}", response={200: RuleOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="automation_rule_get")
def automation_rule_get(request, rule_id: UUID):
    return _rule(selectors.rule_get(rule_id=rule_id))


@router.patch("/rules/{rule_id}", response={200: RuleOut, **error_responses(400, 403, 404, 422)}, auth=_manage,
              operation_id="automation_rule_update")
def automation_rule_update(request, rule_id: UUID, payload: RulePatch):
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    rule = services.rule_update(rule=selectors.rule_get(rule_id=rule_id), data=data, by=request.user)
    return _fresh(rule)


@router.post("/rules/{rule_id}/activate", response={200: RuleOut, **error_responses(403, 404, 422)}, auth=_manage,
             operation_id="automation_rule_activate")
def automation_rule_activate(request, rule_id: UUID, payload: ActivateIn):
    """Act on events from now on; a rule that suspends qualifications needs the caller's e-signature
    (password) and `training.manage`."""
    rule = services.rule_activate(rule=selectors.rule_get(rule_id=rule_id), by=request.user,
                                  password=payload.password, reason=payload.reason)
    return _fresh(rule)


@router.post("/rules/{rule_id}/deactivate", response={200: RuleOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="automation_rule_deactivate")
def automation_rule_deactivate(request, rule_id: UUID):
    return _fresh(services.rule_deactivate(rule=selectors.rule_get(rule_id=rule_id), by=request.user))


@router.post("/rules/{rule_id}/test", response={200: TestOut, **error_responses(403, 404, 422)}, auth=_view,
             operation_id="automation_rule_test")
def automation_rule_test(request, rule_id: UUID, payload: TestIn):
    """Dry run: would the rule fire on the stored event, and what would each action do. Writes nothing."""
    result = selectors.rule_test(rule=selectors.rule_get(rule_id=rule_id),
                                 event=selectors.event_get(event_id=payload.event_id))
    return {"triggered": result.triggered, "matched": result.matched, "problem": result.problem,
            "steps": [{"type": s.type, "lines": s.lines, "problem": s.problem, "nothing": s.nothing} for s in result.steps]}


@router.get("/firings", response={200: page_schema(FiringOut), **error_responses(403, 422)}, auth=_view,
            operation_id="automation_firing_list")
def automation_firing_list(request, filters: Query[FiringFilters]):
    """What rules did, newest first; `event_id` traces one event to everything it triggered."""
    firings = selectors.firing_list(rule_id=filters.rule_id, event_id=filters.event_id, outcome=filters.outcome or "",
                                    event_type=filters.event_type)
    page = paginate(firings, filters)
    page["items"] = [_firing(f) for f in page["items"]]
    return page
