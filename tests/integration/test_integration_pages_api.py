"""Pages and API: who may see and change webhooks and deliveries; a refusal writes nothing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from integration_helpers import emit_many

from qualiflow.accounts.roles import Role
from qualiflow.integration import services
from qualiflow.integration.models import NATS_TARGET, Delivery, DeliveryStatus, OutboxEvent, Webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook():
    return services.webhook_create(data={"name": "ERP", "url": "https://erp.example.com/hook", "event_types": ["*"]})


@pytest.fixture
def dead_delivery(webhook):
    [event] = emit_many([("people.employee.hired", "people/employee/1")])
    return Delivery.objects.create(target=webhook.target, webhook=webhook, event=event, subject=event.subject,
                                   status=DeliveryStatus.DEAD, attempts=10, next_attempt_at=timezone.now())


def test_pages_for_a_manager_show_the_secret(login, admin_user, webhook, dead_delivery):
    client = login(admin_user)
    for url in [reverse("integration:overview"), reverse("integration:webhook_list"), reverse("integration:delivery_list") + "?status=dead",
                reverse("integration:delivery_detail", kwargs={"pk": dead_delivery.pk}),
                reverse("integration:event_list") + "?type=people.",
                reverse("integration:event_detail", kwargs={"event_id": dead_delivery.event.id}),
                reverse("integration:webhook_create"), reverse("integration:webhook_edit", kwargs={"pk": webhook.pk})]:
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("integration:webhook_detail", kwargs={"pk": webhook.pk})).content.decode()
    assert webhook.secret in page


def test_a_reader_sees_no_secret_and_cannot_change_anything(login, make_user, webhook, dead_delivery):
    client = login(make_user(Role.AUDITOR))
    page = client.get(reverse("integration:webhook_detail", kwargs={"pk": webhook.pk}))
    assert page.status_code == 200
    assert webhook.secret not in page.content.decode()
    events_before = OutboxEvent.objects.count()
    assert client.post(reverse("integration:webhook_create"),
                       {"name": "x", "url": "https://x.example", "event_types": "*", "max_attempts": 3}).status_code == 403
    assert client.post(reverse("integration:webhook_deactivate", kwargs={"pk": webhook.pk})).status_code == 403
    assert client.post(reverse("integration:delivery_redeliver", kwargs={"pk": dead_delivery.pk})).status_code == 403
    assert Webhook.objects.count() == 1 and Webhook.objects.get().is_active
    assert Delivery.objects.get(pk=dead_delivery.pk).status == DeliveryStatus.DEAD
    assert OutboxEvent.objects.count() == events_before


def test_someone_without_integration_view_is_refused(login, make_user, webhook):
    client = login(make_user(Role.OPERATOR))
    for name in ("webhook_list", "delivery_list", "event_list"):
        assert client.get(reverse(f"integration:{name}")).status_code == 403


def test_create_edit_deactivate_and_redeliver_through_the_pages(login, admin_user, webhook, dead_delivery):
    client = login(admin_user)
    refused = client.post(reverse("integration:webhook_create"),
                          {"name": "bad", "url": "ftp://example.com", "event_types": "*", "max_attempts": 3})
    assert refused.status_code == 200
    assert "Enter an http:// or https:// address." in refused.content.decode()
    assert Webhook.objects.count() == 1

    response = client.post(reverse("integration:webhook_create"), {
        "name": "MES", "url": "http://127.0.0.1:9000/in", "event_types": "training.*\nproduction.*", "max_attempts": 5})
    created = Webhook.objects.get(name="MES")
    assert response.status_code == 302
    assert (created.event_types, created.max_attempts) == (["training.*", "production.*"], 5)

    old_secret = created.secret
    client.post(reverse("integration:webhook_edit", kwargs={"pk": created.pk}), {
        "name": "MES line A", "url": created.url, "event_types": "training.*", "max_attempts": 5, "is_active": "on",
        "rotate_secret": "on"})
    created.refresh_from_db()
    assert (created.name, created.event_types) == ("MES line A", ["training.*"])
    assert created.secret != old_secret

    client.post(reverse("integration:webhook_deactivate", kwargs={"pk": created.pk}))
    created.refresh_from_db()
    assert created.is_active is False

    client.post(reverse("integration:delivery_redeliver", kwargs={"pk": dead_delivery.pk}))
    dead_delivery.refresh_from_db()
    assert (dead_delivery.status, dead_delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert dead_delivery.redelivered_by == "user:admin"


def test_api_webhooks_deliveries_events(login, admin_user, make_user, webhook, dead_delivery):
    client = login(admin_user)
    listed = client.get("/api/v1/integration/webhooks").json()
    assert [(w["name"], w["secret"]) for w in listed] == [("ERP", webhook.secret)]
    created = client.post("/api/v1/integration/webhooks", json.dumps(
        {"name": "MES", "url": "https://mes.example.com/e", "event_types": ["production.*"]}),
        content_type="application/json")
    assert created.status_code == 201
    hook_id = created.json()["id"]
    refused = client.post("/api/v1/integration/webhooks", json.dumps(
        {"name": "bad", "url": "gopher://x", "event_types": ["*"]}), content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["details"]["fields"]["url"] == ["Enter an http:// or https:// address."]
    patched = client.patch(f"/api/v1/integration/webhooks/{hook_id}", json.dumps({"max_attempts": 3}),
                           content_type="application/json")
    assert patched.json()["max_attempts"] == 3
    assert client.post(f"/api/v1/integration/webhooks/{hook_id}/deactivate").json()["is_active"] is False

    page = client.get("/api/v1/integration/deliveries?status=dead").json()
    assert page["count"] == 1
    assert page["items"][0]["event_type"] == "people.employee.hired"
    redelivered = client.post(f"/api/v1/integration/deliveries/{dead_delivery.pk}/redeliver")
    assert redelivered.json()["status"] == "pending"
    again = client.post(f"/api/v1/integration/deliveries/{dead_delivery.pk}/redeliver")
    assert (again.status_code, again.json()["code"]) == (422, "integration.delivery_pending")

    events = client.get("/api/v1/integration/events?type=people.").json()
    assert events["count"] == 1
    event_id = events["items"][0]["id"]
    assert client.get(f"/api/v1/integration/events/{event_id}").json()["deliveries"][0]["target"] == webhook.target

    reader = login(make_user(Role.AUDITOR))
    assert reader.get("/api/v1/integration/webhooks").json()[0]["secret"] is None
    before = Webhook.objects.count()
    denied = reader.post("/api/v1/integration/webhooks", json.dumps(
        {"name": "x", "url": "https://x.example", "event_types": ["*"]}), content_type="application/json")
    assert (denied.status_code, denied.json()["code"]) == (403, "core.permission_denied")
    assert Webhook.objects.count() == before
    assert login(make_user(Role.OPERATOR)).get("/api/v1/integration/deliveries").status_code == 403


def test_nats_target_is_filterable(login, admin_user, webhook):
    [event] = emit_many([("people.employee.hired", "people/employee/2")])
    Delivery.objects.create(target=NATS_TARGET, event=event, subject=event.subject, next_attempt_at=timezone.now())
    page = login(admin_user).get("/api/v1/integration/deliveries?webhook=nats").json()
    assert [d["target"] for d in page["items"]] == ["nats"]
