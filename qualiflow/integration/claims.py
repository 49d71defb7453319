"""What a dispatcher round holds: the deliveries it claimed, and the outcome of each attempt it made."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Claimed:
    id: int
    target: str
    subject: str
    event_id: int  # the event's outbox position
    attempts: int
    webhook_id: uuid.UUID | None


@dataclass(frozen=True)
class Outcome:
    delivery: Claimed
    at: dt.datetime
    ok: bool
    status_code: int | None
    error: str
    duration_ms: int
