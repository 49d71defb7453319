"""Publishing to NATS JetStream (on when settings.QUALIFLOW_NATS_URL is set).

Each event goes to `<prefix>.<event type>` (prefix "qualiflow" by default) in a stream that takes
`<prefix>.>` ("QUALIFLOW" by default, created when missing), with header `Nats-Msg-Id` = the event id, so
JetStream drops a copy that a redelivery sends within its duplicate window. A delivery counts only once the
stream has acknowledged it. One connection is kept open in a background thread and reopened after a fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Sequence

import nats
from django.conf import settings
from django.utils import timezone
from nats.js.errors import NotFoundError

from .claims import Claimed, Outcome
from .models import OutboxEvent

CONNECT_TIMEOUT = 5.0


def stream_name() -> str:
    return getattr(settings, "QUALIFLOW_NATS_STREAM", "QUALIFLOW")


def subject_prefix() -> str:
    return getattr(settings, "QUALIFLOW_NATS_SUBJECT_PREFIX", "qualiflow")


def subject_for(event_type: str) -> str:
    return f"{subject_prefix()}.{event_type}"


async def _ignore(error: Exception) -> None:
    pass


class _Broker:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._client = None
        self._key: tuple[str, str, str] | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="qualiflow-nats", daemon=True).start()
            return self._loop

    def run(self, coroutine, timeout: float):
        return asyncio.run_coroutine_threadsafe(coroutine, self._running_loop()).result(timeout)

    async def jetstream(self):
        key = (settings.QUALIFLOW_NATS_URL, stream_name(), subject_prefix())
        if self._client is not None and (self._key != key or not self._client.is_connected):
            await self.close()
        if self._client is None:
            # One try per round (the deliveries back off instead), and faults are reported on them, not logged.
            client = await nats.connect(key[0], connect_timeout=CONNECT_TIMEOUT, allow_reconnect=False,
                                        max_reconnect_attempts=1, reconnect_time_wait=0, error_cb=_ignore)
            js = client.jetstream()
            try:
                await js.stream_info(key[1])
            except NotFoundError:
                await js.add_stream(name=key[1], subjects=[f"{key[2]}.>"])
            self._client, self._key = client, key
        return self._client.jetstream()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            # Already broken: dropping it is all that is left to do.
            with contextlib.suppress(Exception):
                await client.close()


_broker = _Broker()


async def _publish(chains: Sequence[Sequence[Claimed]], events: dict[int, OutboxEvent], bodies: dict[int, bytes],
                   deadline: float, timeout: float) -> list[Outcome]:
    outcomes: list[Outcome] = []
    try:
        js = await _broker.jetstream()
    except Exception as exc:
        # Nothing reached the server: each subject's first delivery carries the failure and backs off.
        await _broker.close()
        at = timezone.now()
        return [Outcome(chain[0], at, False, None, f"{type(exc).__name__}: {exc}", 0) for chain in chains]

    async def chain_task(chain: Sequence[Claimed]) -> None:
        for delivery in chain:
            if time.monotonic() >= deadline:
                return
            event = events[delivery.event_id]
            at, start = timezone.now(), time.perf_counter()
            try:
                await js.publish(subject_for(event.type), bodies[delivery.event_id], timeout=timeout,
                                 headers={"Nats-Msg-Id": str(event.id),
                                          "Content-Type": "application/cloudevents+json"})
            except Exception as exc:
                outcomes.append(Outcome(delivery, at, False, None, f"{type(exc).__name__}: {exc}".rstrip(": "),
                                        round((time.perf_counter() - start) * 1000)))
                return
            outcomes.append(Outcome(delivery, at, True, None, "", round((time.perf_counter() - start) * 1000)))

    await asyncio.gather(*(chain_task(chain) for chain in chains))
    if any(not o.ok for o in outcomes):
        await _broker.close()
    return outcomes


def publish_chains(chains: Sequence[Sequence[Claimed]], events: dict[int, OutboxEvent], bodies: dict[int, bytes],
                   deadline: float, timeout: float) -> list[Outcome]:
    """Publish each chain (one subject's deliveries, oldest first) in order, stopping a chain at its first
    failure; chains run concurrently."""
    budget = max(deadline - time.monotonic(), 0) + timeout + CONNECT_TIMEOUT
    return _broker.run(_publish(chains, events, bodies, deadline, timeout), budget)
