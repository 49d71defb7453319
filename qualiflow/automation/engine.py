"""The rule engine: every outbox event, in position order, meets the active rules whose triggers match it.

`run_once()` (a worker loop) does two things:

1. Under the lock of the cursor row, it reads the next batch of events and, per rule triggered, records a
   firing — skipped when the condition does not hold, else each action carried out in a savepoint of its
   own (a refused action is recorded as failed, the others stand) — and moves the cursor, all in one
   transaction: a crash repeats the batch, and the unique (rule, event) firing makes the repeat change
   nothing. Several workers take turns on the lock.
2. HTTP calls (IM robots, webhooks) are made afterwards, outside any transaction, by whoever claims the
   firing's lease; their outcome is written onto the firing. A worker dying mid-call leaves the lease to
   expire and the call is made again: at least once, like every delivery.

On PostgreSQL a transaction that emitted earlier may commit after a later one: the positions skipped over
are remembered as gaps on the cursor and processed when they appear (for GAP_WAIT; a rolled-back
transaction leaves a gap that never fills).

A rule never fires on `automation.*` events (its own firings), nor on events its own actions caused.
A rule acts on events from when it was activated; a rule that suspends qualifications acts only while it
carries its approval signature, which is the authority recorded on each suspension it makes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.services import notification_send
from qualiflow.core import context
from qualiflow.core.errors import QualiflowError
from qualiflow.integration import events
from qualiflow.integration.models import OutboxEvent
from qualiflow.training.services import qualification_suspend
from qualiflow.training.services.loop import assignment_create

from . import planning
from .domain import actions as spec
from .domain.condition import ConditionError, evaluate, parse
from .models import AutomationRule, EngineCursor, FiringOutcome, RuleFiring
from .services import describe

logger = logging.getLogger(__name__)

CURSOR = "rules"
BATCH = 200
LEASE = dt.timedelta(minutes=5)
GAP_WAIT = dt.timedelta(hours=24)
MAX_GAPS = 10_000


def run_once() -> int:
    """Process the next batch of events, then make the pending HTTP calls; returns how many of each."""
    with translation.override(settings.LANGUAGE_CODE):
        return _process_batch() + _call_pending()


# ---- events -------------------------------------------------------------------------------------------


def _locked_cursor() -> EngineCursor:
    cursor = EngineCursor.objects.select_for_update().filter(name=CURSOR).first()
    if cursor is None:
        try:
            with transaction.atomic():
                EngineCursor.objects.create(name=CURSOR)
        except IntegrityError:
            pass  # created meanwhile by another worker
        cursor = EngineCursor.objects.select_for_update().get(name=CURSOR)
    return cursor


def _events(cursor: EngineCursor, now: dt.datetime) -> list[OutboxEvent]:
    """The filled gaps and the next batch; the cursor is updated (not saved) to match."""
    gaps = {int(position): seen for position, seen in cursor.gaps.items()}
    filled = list(OutboxEvent.objects.filter(position__in=list(gaps))) if gaps else []
    fresh = list(OutboxEvent.objects.filter(position__gt=cursor.scanned).order_by("position")[:BATCH])
    expected = cursor.scanned + 1
    for event in fresh:
        gaps.update({p: now.isoformat() for p in range(expected, min(event.position, expected + MAX_GAPS))})
        expected = event.position + 1
    for event in filled:
        gaps.pop(event.position, None)
    horizon = (now - GAP_WAIT).isoformat()
    cursor.gaps = {str(p): seen for p, seen in sorted(gaps.items())[-MAX_GAPS:] if seen > horizon}
    if fresh:
        cursor.scanned = fresh[-1].position
    return sorted([*filled, *fresh], key=lambda e: e.position)


def _process_batch() -> int:
    with transaction.atomic():
        cursor = _locked_cursor()
        batch = _events(cursor, timezone.now())
        if batch:
            rules = list(AutomationRule.objects.filter(is_active=True).order_by("name"))
            done = set(RuleFiring.objects.filter(event__in=batch).values_list("rule_id", "event_id"))
            for event in batch:
                for rule in rules:
                    if _concerns(rule, event) and (rule.pk, event.position) not in done:
                        fire(rule, event)
        cursor.save()
    return len(batch)


def caused_by(rule: AutomationRule) -> str:
    """The request id of everything a rule's actions write: its events are not fed back to it."""
    return f"automation:{rule.pk}"


def _concerns(rule: AutomationRule, event: OutboxEvent) -> bool:
    return (spec.triggered(rule.triggers, event.type) and rule.active_since is not None
            and event.time >= rule.active_since and event.request_id != caused_by(rule))


def fire(rule: AutomationRule, event: OutboxEvent) -> RuleFiring:
    """Meet `rule` with `event` now and record it (the caller holds the transaction)."""
    outcome, detail, results = FiringOutcome.MATCHED, "", []
    try:
        condition = parse(rule.condition)
        actions = spec.parse_actions(rule.actions)
    except ConditionError as exc:
        outcome, detail = FiringOutcome.FAILED, describe(exc)
    else:
        approval = planning.approval_of(rule)
        if spec.needs_signature(actions) and approval is None:
            outcome, detail = FiringOutcome.SKIPPED, _("The rule suspends qualifications and is not approved.")
        elif not evaluate(condition, event.as_cloudevent()):
            outcome, detail = FiringOutcome.SKIPPED, _("The condition does not hold.")
        else:
            actor = context.Actor(kind="system", id=str(rule.pk), name=f"automation:{rule.name}"[:150])
            with context.acting(actor=actor, request_id=caused_by(rule)):
                results = [_perform(step, rule, event, approval) for step in planning.plan(rule, actions, event)]
            if any(r["status"] == "failed" for r in results):
                outcome = FiringOutcome.FAILED
    firing = RuleFiring.objects.create(
        rule=rule, event=event, fired_at=timezone.now(), outcome=outcome, detail=detail[:500], results=results,
        pending=any(r["status"] == "pending" for r in results),
    )
    if outcome != FiringOutcome.SKIPPED:
        with context.acting(request_id=caused_by(rule)):
            events.emit("automation.rule.fired", f"automation/rule/{rule.pk}", {
                "rule_id": rule.pk, "rule_name": rule.name, "firing_id": firing.pk, "event_id": event.id,
                "event_type": event.type, "outcome": outcome,
            })
    return firing


# ---- actions ------------------------------------------------------------------------------------------


def _suspension_reason(rule: AutomationRule, event: OutboxEvent, approval: ESignature | None) -> str:
    values = {"rule": rule.name, "type": event.type, "event": event.id}
    if approval is None:
        return _("Suspended by automation rule “%(rule)s” on event %(type)s %(event)s.") % values
    return _("Suspended by automation rule “%(rule)s” on event %(type)s %(event)s, approved by %(signer)s "
             "(signature %(signature)s).") % {**values, "signer": approval.printed_name, "signature": approval.pk}


def _do(step: planning.Step, item: dict[str, Any], rule: AutomationRule, event: OutboxEvent,
        approval: ESignature | None) -> dict[str, Any]:
    if step.type == "assign_training":
        assignment = assignment_create(
            employee=item["employee"], course=item["course"], qualification=item["qualification"],
            reason=item["reason"], due_on=item["due_on"], source_key=item["source_key"],
            note=_("Automation rule “%(rule)s”") % {"rule": rule.name},
        )
        return {"assignment_id": str(assignment.pk), "employee_id": str(item["employee"].pk),
                "course": item["course"].code}
    if step.type == "notify":
        user = item["recipient"]
        sent = notification_send(recipient=user, kind=planning.NOTIFICATION_KIND, subject=item["subject"],
                                 body=item["body"], dedupe_key=item["dedupe_key"], email=item["email"])
        if sent is None:
            return {"user": user.username, "status": "nothing", "message": _("Already notified.")}
        return {"user": user.username, "notification_id": str(sent.pk)}
    suspension = qualification_suspend(
        employee=item["employee"], qualification=item["qualification"], start=item["start"], end=item["end"],
        reason=_suspension_reason(rule, event, approval),
    )
    return {"suspension_id": str(suspension.pk), "employee_id": str(item["employee"].pk),
            "qualification": item["qualification"].code,
            "approval_id": str(approval.pk) if approval is not None else None}


def _perform(step: planning.Step, rule: AutomationRule, event: OutboxEvent, approval: ESignature | None) -> dict:
    result: dict[str, Any] = {"type": step.type, "lines": step.lines}
    if step.problem:
        return {**result, "status": "failed", "message": step.problem}
    if not step.work:
        return {**result, "status": "nothing", "message": step.nothing}
    if step.type in ("im_webhook", "call_webhook"):
        return {**result, "status": "pending", "calls": step.work}
    items = []
    for item in step.work:
        try:
            with transaction.atomic():
                items.append({"status": "done", **_do(step, item, rule, event, approval)})
        except QualiflowError as exc:
            items.append({"status": "failed", "message": str(exc.message)})
    statuses = {i["status"] for i in items}
    status = "failed" if "failed" in statuses else "done" if "done" in statuses else "nothing"
    return {**result, "status": status, "items": items}


# ---- HTTP calls ---------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post_json(url: str, body: Any, timeout: float) -> dict[str, Any]:
    """POST `body` as JSON; {"status": "done"|"failed", "http_status", "message"}. A robot's answer with
    a non-zero errcode / code (WeCom, DingTalk, Feishu) is a failure too."""
    request = urllib.request.Request(
        url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "Qualiflow-Automation"},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status, text = response.status, response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return {"status": "failed", "http_status": exc.code, "message": _("The receiver answered HTTP %(status)s.") % {
            "status": exc.code}}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return {"status": "failed", "http_status": None, "message": _("The receiver could not be reached: %(error)s") % {
            "error": str(reason)[:200]}}
    try:
        answer = json.loads(text) if text else {}
    except ValueError:
        answer = {}
    code = answer.get("errcode", answer.get("code", 0)) if isinstance(answer, dict) else 0
    if code not in (0, None):
        message = answer.get("errmsg") or answer.get("msg") or ""
        return {"status": "failed", "http_status": status, "message": _("The robot refused the message: %(code)s %(message)s") % {
            "code": code, "message": str(message)[:200]}}
    return {"status": "done", "http_status": status, "message": ""}


def _call_pending() -> int:
    now = timezone.now()
    claimable = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    handled = 0
    for pk in list(RuleFiring.objects.filter(claimable, pending=True).order_by("id").values_list("pk", flat=True)[:BATCH]):
        # The conditional update is the claim: of several workers, one gets the row.
        if not RuleFiring.objects.filter(claimable, pk=pk, pending=True).update(lease_until=now + LEASE):
            continue
        firing = RuleFiring.objects.get(pk=pk)
        results = []
        for result in firing.results:
            if result["status"] == "pending":
                calls = [{"url": c["url"], **post_json(c["url"], c["body"], c["timeout"])} for c in result["calls"]]
                failed = [c for c in calls if c["status"] == "failed"]
                result = {**result, "status": "failed" if failed else "done", "calls": calls,
                          "message": failed[0]["message"] if failed else ""}
            results.append(result)
        outcome = FiringOutcome.FAILED if any(r["status"] == "failed" for r in results) else firing.outcome
        RuleFiring.objects.filter(pk=pk).update(results=results, outcome=outcome, pending=False, lease_until=None)
        handled += 1
    return handled
