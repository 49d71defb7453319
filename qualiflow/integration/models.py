"""The outbox, and what the dispatcher makes of it: webhooks, one delivery per (target, event) and every
attempt made.

A delivery goes to a webhook or, when `webhook` is empty, to NATS JetStream; `target` names the one or the
other so the two share one queue, one unique rule and one per-subject order.
"""

import secrets
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from qualiflow.core.models import BaseModel


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead letter")


class OutboxEvent(models.Model):
    """A business fact in CloudEvents 1.0 shape, written in the same transaction as the change it reports."""

    position = models.BigAutoField(primary_key=True)  # delivery order
    id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    specversion = models.CharField(max_length=8, default="1.0")
    type = models.CharField(_("type"), max_length=120, db_index=True)
    source = models.CharField(_("source"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200, db_index=True)
    time = models.DateTimeField(_("time"))
    datacontenttype = models.CharField(max_length=60, default="application/json")
    data = models.JSONField(_("data"), default=dict)
    actor = models.CharField(_("actor"), max_length=200, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    # Set once the dispatcher has made this event's deliveries. A flag per event rather than a position
    # cursor: on PostgreSQL positions come from a sequence, so an event may commit after a later one and a
    # cursor would pass it by.
    fanned_out = models.BooleanField(_("fanned out"), default=False)

    class Meta:
        ordering = ["position"]
        indexes = [
            models.Index(fields=["status", "position"], name="outbox_pending_idx"),
            # Not partial: SQLite uses a partial index only for a literal condition, never a query parameter.
            models.Index(fields=["fanned_out", "position"], name="outbox_fanout_idx"),
        ]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")

    def __str__(self) -> str:
        return f"{self.type} {self.subject}"

    def as_cloudevent(self) -> dict:
        return {
            "specversion": self.specversion,
            "id": str(self.id),
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": self.datacontenttype,
            "data": self.data,
        }


def new_secret() -> str:
    return secrets.token_hex(32)


def _web_url(value: str) -> None:
    URLValidator(schemes=["http", "https"], message=_("Enter an http:// or https:// address."))(value)


class Webhook(BaseModel):
    """An HTTP endpoint that receives the events whose type matches one of its patterns, from its creation
    on: events emitted before it existed are not sent to it."""

    name = models.CharField(_("name"), max_length=120)
    url = models.CharField(_("URL"), max_length=500, validators=[_web_url])
    secret = models.CharField(_("signing secret"), max_length=128, default=new_secret)
    event_types = models.JSONField(
        _("event types"), default=list,
        help_text=_("Shell-style patterns, e.g. training.qualification.* ; * for every event."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    max_attempts = models.PositiveSmallIntegerField(
        _("maximum attempts"), default=10, validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("After this many failed attempts a delivery becomes a dead letter."),
    )
    # Events at or before this outbox position are older than the webhook and never sent to it.
    start_position = models.BigIntegerField(_("first event position"), default=0, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> str:
        return f"webhook:{self.pk}"


NATS_TARGET = "nats"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead letter")


class Delivery(models.Model):
    """One event to one target. Pending until the receiver acknowledged it (2xx, or a JetStream ack);
    dead after the webhook's maximum attempts; redelivery makes it pending again."""

    id = models.BigAutoField(primary_key=True)
    target = models.CharField(_("target"), max_length=60)  # "webhook:<id>" or "nats"
    webhook = models.ForeignKey(
        Webhook, on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries", verbose_name=_("webhook")
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("event"))
    subject = models.CharField(_("subject"), max_length=200)  # the event's: deliveries are ordered per subject
    status = models.CharField(_("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_error = models.TextField(_("last error"), blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    redelivered_at = models.DateTimeField(_("redelivered at"), null=True, blank=True)
    redelivered_by = models.CharField(_("redelivered by"), max_length=200, blank=True)
    # A worker sending this delivery holds it until then; a killed worker's claim simply runs out.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-event", "target"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["target", "event"], name="delivery_once_per_target")]
        indexes = [
            # The order check: is an earlier delivery of this target and subject still pending?
            models.Index(fields=["status", "target", "subject", "event"], name="delivery_queue_idx"),
            models.Index(fields=["status", "-event"], name="delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.event_id}"

    @property
    def target_label(self) -> str:
        return self.webhook.name if self.webhook_id else "NATS JetStream"


class DeliveryAttempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_set",
                                 verbose_name=_("delivery"))
    number = models.PositiveIntegerField(_("attempt"))
    at = models.DateTimeField(_("time"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    succeeded = models.BooleanField(_("succeeded"))

    class Meta:
        ordering = ["delivery", "at", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
