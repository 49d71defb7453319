"""The dispatcher, one of the worker's loops: it turns new outbox events into deliveries and sends the
deliveries that are due, to webhooks (CloudEvents 1.0 structured mode, HMAC-signed) and to NATS JetStream.

Guarantees:
- Fan-out: each event becomes exactly one delivery per matching active webhook (from the webhook's
  creation on) and one for JetStream when it is configured; the unique (target, event) rule holds even if
  two workers fan out the same event.
- Order: for one target and one subject, a later event is never sent while an earlier one is pending.
  A claim takes, per (target, subject), the pending deliveries from the oldest on, and only if that oldest
  one is due and not held by another worker; the claims of all workers are taken one at a time (an advisory
  lock on PostgreSQL, the single writer on SQLite). One subject's deliveries are sent one after the other;
  different subjects are sent in parallel.
- At least once: a delivery is marked delivered only after a 2xx answer (or a JetStream ack). A claim is a
  lease: if the worker dies, the lease runs out and the delivery is sent again. A receiver may therefore
  see an event twice and recognises it by its CloudEvent `id`.
- Every attempt is stored; a failure backs off exponentially, and after the webhook's maximum attempts the
  delivery becomes a dead letter, which a person can redeliver.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

import qualiflow

from . import broker, http, signing
from .claims import Claimed, Outcome
from .models import NATS_TARGET, Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, Webhook

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 2000
CLAIM_BATCH = 2000
BACKOFF_MAX_SECONDS = 6 * 3600
_CLAIM_LOCK = 0x5146_4449_5350  # pg_advisory_xact_lock key of the claim step ("QFDISP")
_USER_AGENT = f"Qualiflow-Webhooks/{qualiflow.__version__}"


def lease_seconds() -> float:
    return float(getattr(settings, "QUALIFLOW_DELIVERY_LEASE_SECONDS", 60))


def timeout_seconds() -> float:
    return float(getattr(settings, "QUALIFLOW_DELIVERY_TIMEOUT_SECONDS", 10))


def backoff_seconds(attempts: int) -> float:
    """Wait after the `attempts`-th failure: base, 2x base, 4x base, ... capped at six hours."""
    base = float(getattr(settings, "QUALIFLOW_DELIVERY_BACKOFF_SECONDS", 10))
    return min(BACKOFF_MAX_SECONDS, base * 2 ** min(attempts - 1, 30))


def matches(patterns: Iterable[str], event_type: str) -> bool:
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)


# ---- fan-out ------------------------------------------------------------------------------------------


def fan_out(limit: int = FAN_OUT_BATCH) -> int:
    """Make the deliveries of up to `limit` events not fanned out yet; returns how many events."""
    with transaction.atomic():
        # skip_locked: several workers each take other events (SQLite ignores it: one writer at a time).
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(fanned_out=False).order_by("position").only("position", "type", "subject")[:limit]
        )
        if not events:
            return 0
        webhooks = list(Webhook.objects.filter(is_active=True).only("id", "event_types", "start_position"))
        to_nats = bool(settings.QUALIFLOW_NATS_URL)
        now = _db_value(Delivery, "next_attempt_at", timezone.now())
        keys = {webhook.pk: _db_value(Delivery, "webhook", webhook.pk) for webhook in webhooks}
        by_type: dict[str, list[Webhook]] = {}
        rows = []
        for event in events:
            if event.type not in by_type:
                by_type[event.type] = [w for w in webhooks if matches(w.event_types, event.type)]
            for webhook in by_type[event.type]:
                if event.position > webhook.start_position:
                    rows.append((webhook.target, keys[webhook.pk], event.position, event.subject, now))
            if to_nats:
                rows.append((NATS_TARGET, None, event.position, event.subject, now))
        _insert(Delivery, ["target", "webhook_id", "event_id", "subject", "next_attempt_at", "created_at", "status",
                           "attempts", "last_error", "redelivered_by", "claim"],
                [(*row, row[-1], DeliveryStatus.PENDING.value, 0, "", "", "") for row in rows], ignore_conflicts=True)
        OutboxEvent.objects.filter(position__in=[e.position for e in events]).update(fanned_out=True)
    return len(events)


def _db_value(model, field: str, value):
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def _insert(model, columns: list[str], rows: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """Plain multi-row INSERTs, a few hundred rows per statement: building a model instance per row costs
    more than the row itself here, and one statement per row costs a round trip each."""
    if not rows:
        return
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    one = f"({', '.join(['%s'] * len(columns))})"
    per_statement = max(1, min(500, (connection.features.max_query_params or 10_000) // len(columns)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(head + ", ".join([one] * len(chunk)) + tail, [value for row in chunk for value in row])


# ---- claims -------------------------------------------------------------------------------------------


# Due, not held, reachable and not behind an earlier delivery of the same target and subject that is
# waiting (backing off) or held: the earliest such delivery per (target, subject) is found once, grouped,
# and joined, instead of a correlated check per candidate row (which PostgreSQL runs row by row).
_CLAIMABLE_SQL = """
SELECT d.id, d.target, d.subject, d.event_id, d.attempts, d.webhook_id
FROM integration_delivery d
LEFT JOIN integration_webhook w ON w.id = d.webhook_id
LEFT JOIN (
    SELECT target, subject, MIN(event_id) AS first_waiting FROM integration_delivery
    WHERE status = %s AND (next_attempt_at > %s OR claimed_until > %s)
    GROUP BY target, subject
) b ON b.target = d.target AND b.subject = d.subject
WHERE d.status = %s AND d.next_attempt_at <= %s AND (d.claimed_until IS NULL OR d.claimed_until <= %s)
  AND (b.first_waiting IS NULL OR d.event_id < b.first_waiting)
  AND (w.is_active = %s OR d.target = %s)
ORDER BY d.event_id
LIMIT %s
"""


def _claim(token: str, limit: int) -> list[Claimed]:
    now = timezone.now()
    at = _db_value(Delivery, "next_attempt_at", now)
    pending = DeliveryStatus.PENDING.value
    # Without a NATS URL, no target matches the second alternative of the reachability check.
    nats = NATS_TARGET if settings.QUALIFLOW_NATS_URL else ""
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLAIM_LOCK])
            cursor.execute(_CLAIMABLE_SQL, [pending, at, at, pending, at, at, True, nats, limit])
            webhook_key = Webhook._meta.pk.to_python  # SQLite hands back the key as hex text
            rows = [Claimed(*row[:5], webhook_key(row[5]) if row[5] else None) for row in cursor.fetchall()]
        if rows:
            Delivery.objects.filter(id__in=[r.id for r in rows]).update(
                claimed_until=now + dt.timedelta(seconds=lease_seconds()), claim=token
            )
    return rows


# ---- sending ------------------------------------------------------------------------------------------


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            threads = int(getattr(settings, "QUALIFLOW_DELIVERY_THREADS", 8))
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="qualiflow-webhook")
        return _pool


def cloudevent_body(event: OutboxEvent) -> bytes:
    return json.dumps(event.as_cloudevent(), ensure_ascii=False, separators=(",", ":")).encode()


def webhook_headers(webhook: Webhook, body: bytes, event: OutboxEvent) -> dict[str, str]:
    return {
        "Content-Type": "application/cloudevents+json; charset=utf-8",
        signing.SIGNATURE_HEADER: signing.sign(webhook.secret, body),
        "User-Agent": _USER_AGENT,
        "X-Qualiflow-Event-Id": str(event.id),
    }


def _send_chain(chain: list[Claimed], webhook: Webhook, bodies: dict[int, bytes],
                events: dict[int, OutboxEvent], deadline: float, down: set[str]) -> list[Outcome]:
    """One subject's deliveries to one webhook, in order, stopping at the first failure: what follows
    stays pending (not attempted) so the order holds."""
    outcomes = []
    for delivery in chain:
        if time.monotonic() >= deadline or webhook.target in down:
            break
        body = bodies[delivery.event_id]
        headers = webhook_headers(webhook, body, events[delivery.event_id])
        at, start = timezone.now(), time.perf_counter()
        try:
            status, text = http.post(webhook.url, body, headers, timeout=timeout_seconds())
        except http.SendError as exc:
            # Unreachable: the webhook's other subjects wait for the next round instead of each timing out.
            down.add(webhook.target)
            outcomes.append(Outcome(delivery, at, False, None, str(exc), _ms(start)))
            break
        ok = 200 <= status < 300
        outcomes.append(Outcome(delivery, at, ok, status, "" if ok else f"HTTP {status}: {text}".strip(), _ms(start)))
        if not ok:
            break
    return outcomes


def _ms(start: float) -> int:
    return max(0, round((time.perf_counter() - start) * 1000))


def _chains(claimed: list[Claimed]) -> dict[tuple[str, str], list[Claimed]]:
    chains: dict[tuple[str, str], list[Claimed]] = defaultdict(list)
    for delivery in sorted(claimed, key=lambda d: d.event_id):
        chains[(delivery.target, delivery.subject)].append(delivery)
    return chains


def _send(claimed: list[Claimed], deadline: float) -> list[Outcome]:
    events = OutboxEvent.objects.in_bulk({d.event_id for d in claimed})
    bodies = {position: cloudevent_body(event) for position, event in events.items()}
    webhooks = Webhook.objects.in_bulk({d.webhook_id for d in claimed if d.webhook_id})
    chains = _chains(claimed)
    outcomes: list[Outcome] = []
    nats_chains = [chain for (target, _subject), chain in chains.items() if target == NATS_TARGET]
    down: set[str] = set()
    futures = [
        _executor().submit(_send_chain, chain, webhooks[chain[0].webhook_id], bodies, events, deadline, down)
        for (target, _subject), chain in chains.items() if target != NATS_TARGET
    ]
    if nats_chains:
        outcomes += broker.publish_chains(nats_chains, events, bodies, deadline, timeout_seconds())
    for future in futures:
        outcomes += future.result()
    return outcomes


# ---- results ------------------------------------------------------------------------------------------


def _record(token: str, claimed: list[Claimed], outcomes: list[Outcome]) -> None:
    """Store the attempts and the new state of every claimed delivery; release what was not attempted."""
    now = timezone.now()
    attempted = {o.delivery.id for o in outcomes}
    max_attempts = dict(Webhook.objects.filter(id__in={d.webhook_id for d in claimed if d.webhook_id})
                        .values_list("id", "max_attempts"))
    with transaction.atomic():
        _insert(DeliveryAttempt, ["delivery_id", "number", "at", "status_code", "error", "duration_ms", "succeeded"],
                [(o.delivery.id, o.delivery.attempts + 1, _db_value(DeliveryAttempt, "at", o.at), o.status_code,
                  o.error, o.duration_ms, o.ok) for o in outcomes])
        mine = Delivery.objects.filter(claim=token)
        by_code: dict[int | None, list[int]] = defaultdict(list)
        for o in outcomes:
            if o.ok:
                by_code[o.status_code].append(o.delivery.id)
        for code, ids in by_code.items():
            mine.filter(id__in=ids).update(
                status=DeliveryStatus.DELIVERED, attempts=F("attempts") + 1, delivered_at=now, last_status_code=code,
                last_error="", claimed_until=None, claim="",
            )
        failed = [o for o in outcomes if not o.ok]
        current = {d.id: d for d in mine.filter(id__in=[o.delivery.id for o in failed])}
        for o in failed:
            delivery = current.get(o.delivery.id)
            if delivery is None:
                continue  # the lease ran out and another worker took it over
            delivery.attempts += 1
            delivery.last_error, delivery.last_status_code = o.error, o.status_code
            delivery.claimed_until, delivery.claim = None, ""
            limit = max_attempts.get(delivery.webhook_id) or _nats_max_attempts()
            if delivery.attempts >= limit:
                delivery.status = DeliveryStatus.DEAD
            else:
                delivery.next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(delivery.attempts))
        Delivery.objects.bulk_update(
            list(current.values()),
            ["attempts", "last_error", "last_status_code", "claimed_until", "claim", "status", "next_attempt_at"],
        )
        mine.filter(id__in=[d.id for d in claimed if d.id not in attempted]).update(claimed_until=None, claim="")


def _nats_max_attempts() -> int:
    return int(getattr(settings, "QUALIFLOW_NATS_MAX_ATTEMPTS", 20))


def _with_database_retry(write: Callable[[], None], until: float) -> None:
    """Results are worth waiting for through a database restart: writing them before the lease runs out
    saves the receivers a second copy. After that, the lease makes the deliveries due again anyway."""
    pause = 0.5
    while True:
        try:
            write()
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() + pause >= until:
                raise
            logger.warning("database unavailable while recording deliveries; retrying", exc_info=True)
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 5)


def send_due(limit: int = CLAIM_BATCH) -> int:
    """Claim and send the deliveries that are due; returns how many were attempted."""
    token = uuid.uuid4().hex
    started = time.monotonic()
    claimed = _claim(token, limit)
    if not claimed:
        return 0
    lease = lease_seconds()
    # Nothing new is sent in the second half of the lease, so every send ends before another worker may
    # take the same delivery over.
    outcomes = _send(claimed, deadline=started + max(lease / 2 - timeout_seconds(), 1))
    _with_database_retry(lambda: _record(token, claimed, outcomes), until=started + lease)
    return len(outcomes)


def run_once() -> int:
    """One round of the worker loop: fan out new events, then send what is due. Returns the work done."""
    try:
        fanned = fan_out()
        return fanned + send_due()
    except (OperationalError, InterfaceError):
        # The database went away (e.g. a restart): nothing was lost, the next round starts afresh.
        logger.warning("event dispatch: database unavailable", exc_info=True)
        close_old_connections()
        connection.close()
        return 0
