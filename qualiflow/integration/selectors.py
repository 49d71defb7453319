"""Reads for the integration pages and API: webhooks, deliveries with their attempts, the event log."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from qualiflow.core.errors import CoreErrorCode, NotFound

from .models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, Webhook


def webhook_list(*, active: bool | None = None) -> QuerySet[Webhook]:
    webhooks = Webhook.objects.order_by("name", "created_at")
    return webhooks if active is None else webhooks.filter(is_active=active)


def webhook_get(*, webhook_id) -> Webhook:
    try:
        return Webhook.objects.get(pk=webhook_id)
    except (Webhook.DoesNotExist, ValueError) as exc:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("There is no such webhook.")) from exc


def delivery_list(*, status: str = "", webhook: str = "", type: str = "") -> QuerySet[Delivery]:
    """Newest events first; `webhook` is a webhook id or "nats"; `type` an event type or its beginning."""
    deliveries = Delivery.objects.select_related("webhook", "event").order_by("-event_id", "target")
    if status:
        deliveries = deliveries.filter(status=status)
    if webhook:
        deliveries = deliveries.filter(target="nats" if webhook == "nats" else f"webhook:{webhook}")
    if type:
        deliveries = deliveries.filter(event__type__startswith=type)
    return deliveries.prefetch_related(Prefetch("attempt_set", queryset=DeliveryAttempt.objects.order_by("at", "id")))


def delivery_get(*, delivery_id) -> Delivery:
    try:
        return delivery_list().get(pk=delivery_id)
    except (Delivery.DoesNotExist, ValueError) as exc:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("There is no such delivery.")) from exc


def event_list(*, type: str = "", subject: str = "") -> QuerySet[OutboxEvent]:
    events = OutboxEvent.objects.order_by("-position")
    if type:
        events = events.filter(type__startswith=type)
    if subject:
        events = events.filter(subject=subject)
    return events.prefetch_related(
        Prefetch("deliveries", queryset=Delivery.objects.select_related("webhook").order_by("target"))
    )


def event_get(*, event_id) -> OutboxEvent:
    try:
        return event_list().get(id=event_id)
    except (OutboxEvent.DoesNotExist, ValueError) as exc:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("There is no such event.")) from exc


def delivery_counts() -> dict[str, int]:
    counts = dict(Delivery.objects.order_by().values_list("status").annotate(n=Count("id")))
    return {status: counts.get(status, 0) for status in DeliveryStatus.values}
