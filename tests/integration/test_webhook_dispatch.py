"""Webhook delivery against a real HTTP receiver: signatures, retries, order per subject, dead letters,
redelivery, filters and the exactly-once fan-out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from integration_helpers import Receiver, drain, emit_many, pending_count

from qualiflow.core.errors import ValidationFailed
from qualiflow.integration import dispatch, services, signing
from qualiflow.integration.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, Webhook

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.QUALIFLOW_DELIVERY_BACKOFF_SECONDS = 0
    settings.QUALIFLOW_NATS_URL = ""


def _hook(receiver: Receiver, **data) -> Webhook:
    return services.webhook_create(data={"name": "MES", "url": receiver.url, "event_types": ["*"], **data})


def test_every_event_arrives_signed_in_order_per_subject_despite_failures():
    with Receiver(respond=lambda n, event: 503 if n <= 3 else 200) as receiver:
        webhook = _hook(receiver, event_types=["training.*"])
        emitted = emit_many([("training.qualification.granted", f"training/grant/{i % 4}") for i in range(40)])
        drain()

        assert pending_count() == 0
        accepted = receiver.accepted()
        assert sorted(e["id"] for e in accepted) == sorted(str(e.id) for e in emitted)
        assert len(receiver.calls) == 43  # three refusals, each retried once
        for call in receiver.calls:
            assert call.headers["Content-Type"] == "application/cloudevents+json; charset=utf-8"
            assert signing.verify(webhook.secret, call.body, call.headers["X-Qualiflow-Signature"])
            assert not signing.verify("another secret", call.body, call.headers["X-Qualiflow-Signature"])
        for subject in {e.subject for e in emitted}:
            numbers = [e["data"]["n"] for e in accepted if e["subject"] == subject]
            assert numbers == sorted(numbers)
            assert len(numbers) == 10
        assert accepted[0] | {"data": None} == emitted[accepted[0]["data"]["n"]].as_cloudevent() | {"data": None}

    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 40
    assert DeliveryAttempt.objects.count() == 43
    assert DeliveryAttempt.objects.filter(succeeded=False, status_code=503).count() == 3
    retried = Delivery.objects.filter(attempts=2)
    assert retried.count() == 3
    assert all(d.last_status_code == 200 and d.last_error == "" for d in retried)


def test_a_failing_event_holds_back_its_subject_only(settings):
    settings.QUALIFLOW_DELIVERY_BACKOFF_SECONDS = 3600
    def respond(n, event):
        return 500 if event["subject"] == "quality/event/1" and event["data"]["n"] == 0 else 200

    with Receiver(respond=respond) as receiver:
        _hook(receiver, event_types=["quality.*"])
        emit_many([("quality.quality_event.opened", "quality/event/1")] * 3
                  + [("quality.quality_event.opened", "quality/event/2")] * 3)
        drain()
        seen = [(call.event["subject"], call.event["data"]["n"], call.status) for call in receiver.calls]

    assert sorted(seen) == [("quality/event/1", 0, 500), ("quality/event/2", 3, 200),
                            ("quality/event/2", 4, 200), ("quality/event/2", 5, 200)]
    head = Delivery.objects.get(subject="quality/event/1", attempts=1)
    assert head.status == DeliveryStatus.PENDING
    assert head.next_attempt_at > timezone.now() + dt.timedelta(minutes=59)
    assert head.last_error == "HTTP 500: ok"
    assert Delivery.objects.filter(subject="quality/event/1", attempts=0, status=DeliveryStatus.PENDING).count() == 2


def test_back_off_doubles_up_to_six_hours(settings):
    settings.QUALIFLOW_DELIVERY_BACKOFF_SECONDS = 10
    assert [dispatch.backoff_seconds(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert dispatch.backoff_seconds(40) == 6 * 3600


def test_dead_letter_after_max_attempts_then_manual_redelivery(admin_user):
    answer = {"status": 500}
    with Receiver(respond=lambda n, event: answer["status"]) as receiver:
        _hook(receiver, max_attempts=3, event_types=["equipment.*"])
        emit_many([("equipment.equipment.created", "equipment/equipment/1")])
        drain()
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DEAD, 3, 500)
        assert list(delivery.attempt_set.values_list("status_code", "succeeded")) == [(500, False)] * 3
        assert dispatch.run_once() == 0
        assert len(receiver.calls) == 3

        answer["status"] = 204
        services.delivery_redeliver(delivery=delivery, by=admin_user)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
        assert delivery.redelivered_by == "system:qualiflow"
        drain()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 204)
    assert delivery.delivered_at is not None
    assert delivery.attempt_set.count() == 4
    assert len(receiver.calls) == 4
    with pytest.raises(ValidationFailed):
        services.delivery_redeliver(delivery=Delivery.objects.create(
            target="nats", event=delivery.event, subject="x", next_attempt_at=timezone.now()))


def test_unreachable_receiver_keeps_everything_pending_and_backs_off(settings):
    settings.QUALIFLOW_DELIVERY_BACKOFF_SECONDS = 60
    with Receiver() as receiver:
        url = receiver.url
    services.webhook_create(data={"name": "gone", "url": url, "event_types": ["people.*"]})
    emit_many([("people.employee.hired", f"people/employee/{i}") for i in range(5)])
    handled = dispatch.run_once()
    attempts = list(DeliveryAttempt.objects.all())
    # Six events fanned out (the webhook's own creation is one, not for it); once the receiver is found
    # down, subjects not yet tried wait for the next round instead of each failing.
    assert handled == 6 + len(attempts)
    assert 1 <= len(attempts) <= 5
    assert all(a.status_code is None and "ConnectionRefusedError" in a.error for a in attempts)
    assert pending_count() == 5
    assert Delivery.objects.filter(claim="", claimed_until=None).count() == 5
    later = timezone.now() + dt.timedelta(seconds=55)
    assert Delivery.objects.filter(attempts=1, next_attempt_at__gt=later).count() == len(attempts)
    assert Delivery.objects.filter(attempts=0, next_attempt_at__lt=later).count() == 5 - len(attempts)


def test_filters_and_webhooks_created_later_get_only_new_events():
    with Receiver() as receiver:
        emit_many([("training.qualification.granted", "training/grant/0")])
        _hook(receiver, event_types="training.qualification.*\nquality.capa.closed")
        emit_many([("training.qualification.granted", "training/grant/1"),
                   ("training.qualification.revoked", "training/grant/1"),
                   ("training.course.created", "training/course/1"),
                   ("quality.capa.closed", "quality/capa/1")])
        drain()
        got = sorted((e["type"], e["subject"]) for e in receiver.accepted())

    assert got == [("quality.capa.closed", "quality/capa/1"), ("training.qualification.granted", "training/grant/1"),
                   ("training.qualification.revoked", "training/grant/1")]


def test_fan_out_is_once_per_webhook_and_event_even_when_repeated():
    with Receiver() as receiver:
        first, second = _hook(receiver, event_types=["people.*"]), _hook(receiver, name="second", event_types=["people.*"])
        emit_many([("people.employee.hired", "people/employee/1")] * 3)
        assert dispatch.fan_out() == 5  # and the two webhooks' creation
        OutboxEvent.objects.update(fanned_out=False)  # as if a second worker took the same events
        assert dispatch.fan_out() == 5
    assert Delivery.objects.filter(webhook=first).count() == 3
    assert Delivery.objects.filter(webhook=second).count() == 3


def test_deactivated_webhook_gets_nothing_until_active_again():
    with Receiver() as receiver:
        webhook = _hook(receiver)
        emit_many([("people.employee.hired", "people/employee/1")])
        dispatch.fan_out()
        services.webhook_deactivate(webhook=webhook)
        drain()
        assert receiver.calls == []
        services.webhook_update(webhook=webhook, data={"is_active": True})
        drain()
        # Its deactivation was emitted while it was inactive, so only the reactivation reaches it.
        got = sorted((e["type"], e["data"].get("is_active") or False) for e in receiver.accepted())
        assert got == [("integration.webhook.created", True), ("integration.webhook.updated", True),
                       ("people.employee.hired", False)]


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "javascript:alert(1)", "file:///etc/passwd", "example.com"])
def test_non_http_url_is_refused_and_nothing_saved(url):
    with pytest.raises(ValidationFailed) as refused:
        services.webhook_create(data={"name": "bad", "url": url, "event_types": ["*"]})
    assert refused.value.details["fields"]["url"] == ["Enter an http:// or https:// address."]
    assert Webhook.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_bad_patterns_are_refused():
    with pytest.raises(ValidationFailed) as refused:
        services.webhook_create(data={"name": "bad", "url": "http://127.0.0.1:9/", "event_types": ["Training/*"]})
    assert refused.value.code == "integration.webhook_invalid"
    assert Webhook.objects.count() == 0
