"""Writes for webhooks and deliveries: create, change and deactivate a webhook, redeliver a delivery.

`by` None is the system; a user needs `integration.manage` (checked by permission name: integration sits
below accounts). Webhook changes are reported as events, so who changed a receiver and when is on record;
the secret never appears in them.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.core.validation import assign, full_clean

from . import events
from .errors import IntegrationErrorCode
from .models import Delivery, DeliveryStatus, OutboxEvent, Webhook, new_secret

MANAGE = "integration.manage"
WEBHOOK_FIELDS = ("name", "url", "event_types", "is_active", "max_attempts")
MAX_PATTERNS = 50
_PATTERN = re.compile(r"^[a-z0-9_.*?\[\]!-]{1,120}$")


def _authorize(by) -> None:
    if by is not None and not by.has_perm(MANAGE):
        raise PermissionDenied(IntegrationErrorCode.NOT_ALLOWED, _("You are not allowed to manage integrations."))


def _refuse(field: str, message) -> None:
    raise ValidationFailed(_("Please correct the errors below."), fields={field: [message]},
                           code=IntegrationErrorCode.WEBHOOK_INVALID)


def parse_patterns(value: Any) -> list[str]:
    """Event-type patterns from a list or from text (one per line, or separated by spaces or commas)."""
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value)
    if not isinstance(value, list | tuple) or not all(isinstance(p, str) for p in value):
        _refuse("event_types", _("Enter a list of event-type patterns."))
    patterns = list(dict.fromkeys(p.strip() for p in value if p.strip()))
    if not patterns:
        _refuse("event_types", _("Enter at least one event-type pattern, e.g. training.qualification.* or *."))
    if len(patterns) > MAX_PATTERNS:
        _refuse("event_types", _("Enter at most %(count)d patterns.") % {"count": MAX_PATTERNS})
    bad = [p for p in patterns if not _PATTERN.match(p)]
    if bad:
        _refuse("event_types", _("%(pattern)s is not an event-type pattern: use lower-case letters, digits, "
                                 "_ . and the wildcards * ? [ ].") % {"pattern": bad[0]})
    return patterns


def _payload(webhook: Webhook) -> dict[str, Any]:
    return {"name": webhook.name, "url": webhook.url, "event_types": webhook.event_types,
            "is_active": webhook.is_active, "max_attempts": webhook.max_attempts}


def _validate(webhook: Webhook) -> None:
    webhook.name = (webhook.name or "").strip()
    webhook.url = (webhook.url or "").strip()
    webhook.event_types = parse_patterns(webhook.event_types)
    full_clean(webhook)


@transaction.atomic
def webhook_create(*, data: dict[str, Any], by=None) -> Webhook:
    """A new webhook; it receives the events emitted from now on, not earlier ones."""
    _authorize(by)
    webhook = Webhook(event_types=["*"])
    assign(webhook, data, WEBHOOK_FIELDS)
    _validate(webhook)
    webhook.start_position = OutboxEvent.objects.aggregate(last=Max("position"))["last"] or 0
    webhook.save()
    events.emit("integration.webhook.created", f"integration/webhook/{webhook.pk}", _payload(webhook))
    return webhook


@transaction.atomic
def webhook_update(*, webhook: Webhook, data: dict[str, Any], by=None, rotate_secret: bool = False) -> Webhook:
    """Change the fields in `data` (and give it a new secret if asked); unchanged values write nothing."""
    _authorize(by)
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    before = _payload(webhook)
    assign(webhook, data, WEBHOOK_FIELDS)
    _validate(webhook)
    changed = sorted(name for name, value in _payload(webhook).items() if before[name] != value)
    if rotate_secret:
        webhook.secret = new_secret()
        changed.append("secret")
    if not changed:
        return webhook
    webhook.save()
    events.emit("integration.webhook.updated", f"integration/webhook/{webhook.pk}",
                {**_payload(webhook), "fields": changed})
    return webhook


def webhook_deactivate(*, webhook: Webhook, by=None) -> Webhook:
    """No more events are sent to it; its pending deliveries wait until it is active again."""
    return webhook_update(webhook=webhook, data={"is_active": False}, by=by)


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery, by=None) -> Delivery:
    """Send a dead or delivered delivery again, as a new series of attempts. It takes its place in its
    subject's order: later events of the same subject wait for it."""
    _authorize(by)
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == DeliveryStatus.PENDING:
        raise ValidationFailed(_("This delivery is still pending; it will be sent without being asked."),
                               code=IntegrationErrorCode.DELIVERY_PENDING)
    now = timezone.now()
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now
    delivery.claimed_until, delivery.claim = None, ""
    delivery.redelivered_at, delivery.redelivered_by = now, context.current().actor.label
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_until", "claim",
                                 "redelivered_at", "redelivered_by"])
    return delivery
