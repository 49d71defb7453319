"""Delivery to the NATS JetStream server running on this machine, in a stream and subject prefix of this
test run's own, deleted afterwards."""

from __future__ import annotations

import asyncio
import json
import uuid

import nats
import pytest
from integration_helpers import drain, emit_many

from qualiflow.integration import services
from qualiflow.integration.models import NATS_TARGET, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db
URL = "nats://127.0.0.1:4222"


@pytest.fixture
def jetstream(settings):
    tag = uuid.uuid4().hex[:12]
    settings.QUALIFLOW_NATS_URL = URL
    settings.QUALIFLOW_NATS_STREAM = f"QFTEST_{tag}"
    settings.QUALIFLOW_NATS_SUBJECT_PREFIX = f"qftest{tag}"
    settings.QUALIFLOW_DELIVERY_BACKOFF_SECONDS = 0
    yield settings.QUALIFLOW_NATS_STREAM, settings.QUALIFLOW_NATS_SUBJECT_PREFIX

    async def cleanup():
        client = await nats.connect(URL)
        try:
            await client.jetstream().delete_stream(settings.QUALIFLOW_NATS_STREAM)
        finally:
            await client.close()

    asyncio.run(cleanup())


def _messages(stream: str) -> list[tuple[str, dict, dict]]:
    async def read():
        client = await nats.connect(URL)
        try:
            js = client.jetstream()
            info = await js.stream_info(stream)
            out = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                message = await js.get_msg(stream, seq)
                out.append((message.subject, dict(message.headers or {}), json.loads(message.data)))
            return out
        finally:
            await client.close()

    return asyncio.run(read())


def test_events_are_published_once_per_event_in_order_per_subject(jetstream, admin_user):
    stream, prefix = jetstream
    emitted = emit_many([("training.qualification.granted", f"training/grant/{i % 3}") for i in range(12)]
                        + [("production.operation.tracked_in", "production/run/1")])
    drain()

    assert Delivery.objects.filter(target=NATS_TARGET, status=DeliveryStatus.DELIVERED,
                                   event__in=emitted).count() == 13
    assert Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).count() == 0
    ids = {str(e.id) for e in emitted}
    everything = _messages(stream)
    messages = [m for m in everything if m[2]["id"] in ids]
    assert [m[2]["id"] for m in messages if m[2]["subject"] == "production/run/1"] == [str(emitted[-1].id)]
    assert sorted(m[2]["id"] for m in messages) == sorted(str(e.id) for e in emitted)
    for subject_, headers, body in messages:
        assert subject_ == f"{prefix}.{body['type']}"
        assert headers["Nats-Msg-Id"] == body["id"]
    for subject in ("training/grant/0", "training/grant/1", "training/grant/2"):
        numbers = [m[2]["data"]["n"] for m in messages if m[2]["subject"] == subject]
        assert numbers == sorted(numbers) and len(numbers) == 4

    # A redelivery within JetStream's duplicate window is acknowledged but not stored twice.
    delivery = Delivery.objects.get(target=NATS_TARGET, event=emitted[0])
    services.delivery_redeliver(delivery=delivery, by=admin_user)
    drain()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert len(_messages(stream)) == len(everything)


def test_unreachable_server_keeps_deliveries_pending_with_the_error(settings):
    settings.QUALIFLOW_NATS_URL = "nats://127.0.0.1:9"  # nothing listens there
    settings.QUALIFLOW_DELIVERY_BACKOFF_SECONDS = 60
    emit_many([("people.employee.hired", "people/employee/1"), ("people.employee.hired", "people/employee/1")])
    drain()
    first, second = Delivery.objects.filter(target=NATS_TARGET).order_by("event")
    assert (first.status, first.attempts) == (DeliveryStatus.PENDING, 1)
    assert first.attempt_set.get().error != ""
    assert (second.status, second.attempts) == (DeliveryStatus.PENDING, 0)
