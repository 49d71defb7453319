"""`emit` puts a business fact into the transactional outbox; delivery happens elsewhere, after commit.

`subscribe` lets an app that may not be imported by the emitter react in process, once the change is
committed (e.g. training reconciles people when HR hires them): no Django signals, and nothing may depend
on a handler having run — a failing handler is logged, never raised.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from qualiflow.core import context

from .models import OutboxEvent

_EVENT_TYPE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*\.[a-z][a-z_]*$")
logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
_subscriptions: list[tuple[str, Handler]] = []


def subscribe(pattern: str, handler: Handler) -> None:
    """Call `handler(event)` after the commit of every emitted event whose type matches `pattern`
    (shell-style, e.g. `training.requirement.*`). Subscribing the same pair again changes nothing."""
    if (pattern, handler) not in _subscriptions:
        _subscriptions.append((pattern, handler))


def _deliver(handler: Handler, event: OutboxEvent) -> None:
    try:
        handler(event)
    except Exception:
        logger.exception("event handler %s failed on %s %s", getattr(handler, "__qualname__", handler), event.type,
                         event.subject)


def emit(type: str, subject: str, data: dict[str, Any]) -> OutboxEvent:
    """Write `<app>.<entity>.<past_verb>` for `subject` into the caller's transaction."""
    if not _EVENT_TYPE.match(type):
        raise ValueError(f"event type {type!r} is not <app>.<entity>.<past_verb>")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events.emit must run inside the transaction of the change it reports")
    ctx = context.current()
    event = OutboxEvent.objects.create(
        type=type,
        source=settings.QUALIFLOW_EVENT_SOURCE,
        subject=subject,
        time=timezone.now(),
        data=_jsonable(data),
        actor=ctx.actor.label,
        request_id=ctx.request_id,
    )
    for pattern, handler in _subscriptions:
        if fnmatch.fnmatchcase(type, pattern):
            transaction.on_commit(functools.partial(_deliver, handler, event))
    return event


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
