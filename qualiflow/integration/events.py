"""`emit` puts a business fact into the transactional outbox; delivery happens elsewhere, after commit."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from qualiflow.core import context

from .models import OutboxEvent

_EVENT_TYPE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*\.[a-z][a-z_]*$")


def emit(type: str, subject: str, data: dict[str, Any]) -> OutboxEvent:
    """Write `<app>.<entity>.<past_verb>` for `subject` into the caller's transaction."""
    if not _EVENT_TYPE.match(type):
        raise ValueError(f"event type {type!r} is not <app>.<entity>.<past_verb>")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events.emit must run inside the transaction of the change it reports")
    ctx = context.current()
    return OutboxEvent.objects.create(
        type=type,
        source=settings.QUALIFLOW_EVENT_SOURCE,
        subject=subject,
        time=timezone.now(),
        data=_jsonable(data),
        actor=ctx.actor.label,
        request_id=ctx.request_id,
    )


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
