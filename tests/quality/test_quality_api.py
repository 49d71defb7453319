"""Quality events over /api/v1/quality: open, read back, list with filters, update; refusals in the error
shape and writing nothing; junk input never answered with a 5xx."""

from __future__ import annotations

import json

import pytest
from quality_helpers import PASSWORD

from qualiflow.accounts import services as account_services
from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.quality import services
from qualiflow.quality.models import QualityEvent


def _written() -> tuple[int, ...]:
    return (QualityEvent.objects.count(), ESignature.objects.count(), AuditEntry.objects.count(),
            OutboxEvent.objects.count())


class Api:
    """JSON calls to /api/v1/quality with a bearer token of `user`."""

    def __init__(self, client, user):
        _token, self.token = account_services.api_token_issue(user=user, name="test")
        self.client = client

    def __call__(self, method: str, path: str, body=None, **params):
        kwargs = {"headers": {"Authorization": f"Bearer {self.token}"}}
        if body is not None:
            kwargs.update(data=json.dumps(body, default=str), content_type="application/json")
        if params:
            kwargs["query_params"] = params
        return getattr(self.client, method)(f"/api/v1/quality{path}", **kwargs)


def test_open_read_list_and_update_an_event(client, plant, qa):
    api = Api(client, qa)
    created = api("post", "/events", {
        "kind": "complaint", "title": "Leaking connector reported by hospital", "site_id": str(plant.site_b.pk),
        "description": "Lot 2026-0315, 3 units.", "at": "2026-04-01T09:00:00+08:00", "reason": "customer complaint",
    })
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["number"], body["kind"], body["status"], body["site_id"], body["opened_by"], body["opened_at"],
            body["signatures"]) == ("CMP-2026-0001", "complaint", "open", str(plant.site_b.pk), "qa.li",
                                    "2026-04-01T01:00:00Z", [])
    assert OutboxEvent.objects.get(type="quality.event.opened").data["number"] == "CMP-2026-0001"

    api("post", "/events", {"kind": "deviation", "title": "Other", "reason": "r"})
    listed = api("get", "/events", kind="complaint")
    assert listed.status_code == 200
    assert (listed.json()["count"], [e["id"] for e in listed.json()["items"]]) == (1, [body["id"]])
    assert api("get", "/events", search="leaking", site_id=str(plant.site_b.pk)).json()["count"] == 1
    page = api("get", "/events", ordering="number", limit=1, offset=1).json()
    assert (page["count"], [e["number"] for e in page["items"]]) == (2, ["DEV-2026-0001"])

    patched = api("patch", f"/events/{body['id']}", {"title": "Leaking Luer connector", "reason": "precise title"})
    assert patched.status_code == 200 and patched.json()["title"] == "Leaking Luer connector"
    assert OutboxEvent.objects.get(type="quality.event.updated").data["fields"] == ["title"]

    event = QualityEvent.objects.get(pk=body["id"])
    services.quality_event_close(event=event, signer=qa, password=PASSWORD, summary="Supplier lot quarantined.",
                                 reason="closed")
    fetched = api("get", f"/events/{body['id']}").json()
    assert fetched["status"] == "closed" and fetched["closure_summary"] == "Supplier lot quarantined."
    [signature] = fetched["signatures"]
    assert (signature["meaning"], signature["matches"]) == ("approved", True)
    closed = api("patch", f"/events/{body['id']}", {"title": "late", "reason": "x"})
    assert (closed.status_code, closed.json()["code"]) == (422, "quality.event_closed")


def test_refusals_come_in_the_error_shape_and_write_nothing(client, plant, qa, qa_site_b, make_user, deviation):
    api = Api(client, qa)
    scoped = Api(client, qa_site_b)
    operator = Api(client, make_user(Role.OPERATOR))
    auditor = Api(client, make_user(Role.AUDITOR))
    before = _written()
    cases = [
        (api("post", "/events", {"kind": "deviation", "title": "x"}), 422, "core.reason_required"),
        (api("post", "/events", {"kind": "recall", "title": "x", "reason": "x"}), 422, "core.validation"),
        (api("post", "/events", {"kind": "deviation", "title": "x", "site_id": "00000000-0000-0000-0000-000000000000",
                                 "reason": "x"}), 422, "core.validation"),
        (api("post", "/events", {"kind": "deviation", "title": "x", "at": "2026-03-01T08:00:00", "reason": "x"}),
         422, "quality.event_invalid"),
        (api("post", "/events", {"kind": "deviation", "title": "x", "source_id": "42", "reason": "x"}),
         422, "quality.event_invalid"),
        (api("get", "/events/00000000-0000-0000-0000-000000000000"), 404, "core.not_found"),
        (operator("get", "/events"), 403, "core.permission_denied"),
        (operator("post", "/events", {"kind": "deviation", "title": "x", "reason": "x"}), 403, "core.permission_denied"),
        (auditor("patch", f"/events/{deviation.pk}", {"title": "x", "reason": "x"}), 403, "core.permission_denied"),
        (scoped("get", f"/events/{deviation.pk}"), 404, "core.not_found"),
        (scoped("post", "/events", {"kind": "deviation", "title": "x", "site_id": str(plant.site_a.pk), "reason": "x"}),
         403, "quality.out_of_scope"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), response.content
        assert set(response.json()) == {"code", "message", "details"}
    assert api("post", "/events", {"kind": "deviation", "title": "x", "site_id": "00000000-0000-0000-0000-000000000000",
                                   "reason": "x"}).json()["details"]["fields"] == {"site_id": ["No such record."]}
    naive = api("post", "/events", {"kind": "deviation", "title": "x", "at": "2026-03-01T08:00:00", "reason": "x"})
    assert list(naive.json()["details"]["fields"]) == ["at"]
    assert auditor("get", f"/events/{deviation.pk}").status_code == 200
    assert scoped("get", "/events").json()["count"] == 0
    assert _written() == before


def test_there_is_no_close_operation(client, admin_user):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    operations = {op["operationId"]: (method, path) for path, methods in paths.items()
                  if path.startswith("/api/v1/quality") for method, op in methods.items()}
    assert operations == {
        "quality_event_list": ("get", "/api/v1/quality/events"),
        "quality_event_open": ("post", "/api/v1/quality/events"),
        "quality_event_get": ("get", "/api/v1/quality/events/{event_id}"),
        "quality_event_update": ("patch", "/api/v1/quality/events/{event_id}"),
    }


@pytest.mark.parametrize(("method", "path"), [("post", "/events"), ("patch", "/events/{id}")])
def test_junk_input_never_fails_on_our_side(client, admin_user, deviation, method, path):
    api = Api(client, admin_user)
    url = path.replace("{id}", str(deviation.pk))
    names = ["kind", "title", "description", "site_id", "source_type", "source_id", "at", "reason"]
    for body in ({}, {"reason": "x"}, dict.fromkeys(names), dict.fromkeys(names, 12345),
                 dict.fromkeys(names, "x" * 5000), {name: {"nested": ["x"]} for name in names},
                 {**dict.fromkeys(names, ""), "reason": "x"}):
        response = api(method, url, body)
        assert response.status_code < 500, (method, path, body, response.content)
        if response.status_code >= 400:
            assert set(response.json()) == {"code", "message", "details"}
