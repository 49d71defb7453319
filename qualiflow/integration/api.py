"""API for webhooks, their deliveries (with every attempt) and the event log.

The router is mounted for callers holding `integration.view` (checked before anything else); the writing
operations check `integration.manage` by name, since integration sits below accounts. The signing secret
is returned only to callers who manage webhooks."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.core.api import PageParams, WriteSchema, error_responses, page_schema, paginate
from qualiflow.core.errors import CoreErrorCode, PermissionDenied

from . import selectors, services

router = Router(tags=["integration"])
MANAGE = "integration.manage"


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to do this."))


class WebhookOut(Schema):
    id: uuid.UUID
    name: str
    url: str
    event_types: list[str]
    is_active: bool
    max_attempts: int
    created_at: dt.datetime
    secret: str | None = Field(None, description="Only for callers holding integration.manage.")


class WebhookIn(WriteSchema):
    name: str = Field(..., min_length=1, max_length=120)
    url: str = Field(..., max_length=500, description="http:// or https:// only.")
    event_types: list[str] = Field(["*"], description="Shell-style patterns, e.g. `training.qualification.*`.")
    max_attempts: int = Field(10, ge=1, le=50)


class WebhookPatch(WriteSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    url: str | None = Field(None, max_length=500)
    event_types: list[str] | None = None
    max_attempts: int | None = Field(None, ge=1, le=50)
    is_active: bool | None = None
    rotate_secret: bool = Field(False, description="Give the webhook a new signing secret.")


class AttemptOut(Schema):
    at: dt.datetime
    succeeded: bool
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    target: str = Field(..., description="`webhook:<id>` or `nats`.")
    webhook_id: uuid.UUID | None
    event_id: uuid.UUID
    event_type: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    last_status_code: int | None
    last_error: str
    attempt_log: list[AttemptOut] = Field(..., description="Every attempt of the current series, oldest first.")

    @staticmethod
    def resolve_event_id(obj) -> uuid.UUID:
        return obj.event.id

    @staticmethod
    def resolve_event_type(obj) -> str:
        return obj.event.type

    @staticmethod
    def resolve_attempt_log(obj) -> list:
        return list(obj.attempt_set.all())


class DeliveryFilters(PageParams):
    status: Literal["pending", "delivered", "dead"] | None = None
    webhook: str = Field("", description="A webhook id, or `nats`.")
    type: str = Field("", description="An event type or its beginning, e.g. `training.`.")


class EventDeliveryOut(Schema):
    id: int
    target: str
    status: str
    attempts: int


class EventOut(Schema):
    id: uuid.UUID
    position: int
    type: str
    source: str
    subject: str
    time: dt.datetime
    data: dict[str, Any]
    actor: str
    request_id: str
    deliveries: list[EventDeliveryOut]

    @staticmethod
    def resolve_deliveries(obj) -> list:
        return list(obj.deliveries.all())


class EventFilters(PageParams):
    type: str = Field("", description="An event type or its beginning.")
    subject: str = ""


def _webhook_out(request, webhook) -> dict[str, Any]:
    data = WebhookOut.from_orm(webhook).dict()
    data["secret"] = webhook.secret if request.user.has_perm(MANAGE) else None
    return data


@router.get("/webhooks", response={200: list[WebhookOut], **error_responses(403)}, operation_id="integration_webhook_list")
def webhook_list(request):
    """Every webhook, active or not."""
    return [_webhook_out(request, w) for w in selectors.webhook_list()]


@router.post("/webhooks", response={201: WebhookOut, **error_responses(403, 422)},
             operation_id="integration_webhook_create")
def webhook_create(request, payload: WebhookIn):
    """A new webhook; it receives the events emitted from now on, signed with the secret returned here."""
    _require(request, MANAGE)
    return Status(201, _webhook_out(request, services.webhook_create(data=payload.dict(), by=request.user)))


@router.get("/webhooks/{webhook_id}", response={200: WebhookOut, **error_responses(403, 404)},
            operation_id="integration_webhook_get")
def webhook_get(request, webhook_id: uuid.UUID):
    return _webhook_out(request, selectors.webhook_get(webhook_id=webhook_id))


@router.patch("/webhooks/{webhook_id}", response={200: WebhookOut, **error_responses(403, 404, 422)},
              operation_id="integration_webhook_update")
def webhook_update(request, webhook_id: uuid.UUID, payload: WebhookPatch):
    """Change the fields sent; `rotate_secret` gives it a new secret."""
    _require(request, MANAGE)
    webhook = selectors.webhook_get(webhook_id=webhook_id)
    data = payload.dict(exclude_unset=True, exclude={"rotate_secret"})
    return _webhook_out(request, services.webhook_update(webhook=webhook, data=data, by=request.user,
                                                         rotate_secret=payload.rotate_secret))


@router.post("/webhooks/{webhook_id}/deactivate", response={200: WebhookOut, **error_responses(403, 404)},
             operation_id="integration_webhook_deactivate")
def webhook_deactivate(request, webhook_id: uuid.UUID):
    """No more events are sent to it; its pending deliveries wait until it is active again."""
    _require(request, MANAGE)
    webhook = selectors.webhook_get(webhook_id=webhook_id)
    return _webhook_out(request, services.webhook_deactivate(webhook=webhook, by=request.user))


@router.get("/deliveries", response={200: page_schema(DeliveryOut), **error_responses(403, 422)},
            operation_id="integration_delivery_list")
def delivery_list(request, filters: Query[DeliveryFilters]):
    """Deliveries, newest events first, each with its attempts."""
    return paginate(selectors.delivery_list(status=filters.status or "", webhook=filters.webhook,
                                            type=filters.type), filters)


@router.post("/deliveries/{delivery_id}/redeliver", response={200: DeliveryOut, **error_responses(403, 404, 422)},
             operation_id="integration_delivery_redeliver")
def delivery_redeliver(request, delivery_id: int):
    """Send a dead or delivered delivery again, in its subject's order."""
    _require(request, MANAGE)
    delivery = services.delivery_redeliver(delivery=selectors.delivery_get(delivery_id=delivery_id), by=request.user)
    return selectors.delivery_get(delivery_id=delivery.pk)


@router.get("/events", response={200: page_schema(EventOut), **error_responses(403, 422)},
            operation_id="integration_event_list")
def event_list(request, filters: Query[EventFilters]):
    """The outbox, newest first, each event with where it was delivered."""
    return paginate(selectors.event_list(type=filters.type, subject=filters.subject), filters)


@router.get("/events/{event_id}", response={200: EventOut, **error_responses(403, 404)},
            operation_id="integration_event_get")
def event_get(request, event_id: uuid.UUID):
    return selectors.event_get(event_id=event_id)

