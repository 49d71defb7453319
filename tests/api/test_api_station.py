"""The station and work orders over the API: the same gate as the tablet page, refusals as 409 with the
reasons in the caller's language and recorded, quantities checked."""

from __future__ import annotations

import datetime as dt

import pytest
import station_plant
from api_helpers import assert_error
from django.utils import timezone

from qualiflow.accounts.roles import Role
from qualiflow.production.models import GateRefusal, OperationRun, WorkOrder


@pytest.fixture
def line(plant):
    return station_plant.build(plant)


@pytest.fixture
def operator(line, make_employee):
    person = make_employee(employee_number="OP-100", family_name="李", given_name="娜")
    station_plant.qualify(line, person)
    return person


@pytest.fixture
def terminal(api, make_user):
    """An MES terminal: the integration client's token."""
    return api(make_user(Role.INTEGRATION))


def test_track_in_and_out_over_the_api(line, operator, terminal):
    response = terminal.post("/production/track-in", {"badge": "OP-100", "work_order": "WO-0001/10", "station": "MES-7"})
    assert response.status_code == 201, response.content
    run = response.json()
    assert run["employee_number"] == "OP-100" and run["sequence"] == 10 and run["decision"]["allowed"] is True
    assert run["decision"]["qualifications"][0]["code"] == "Q-ASM"

    response = terminal.post(f"/production/runs/{run['id']}/track-out",
                             {"good_quantity": 9, "scrap_quantity": 1, "inspection_results": {"LEAK": "2.5"}})
    assert response.status_code == 200, response.content
    out = response.json()
    assert (out["good_quantity"], out["scrap_quantity"]) == (9, 1)
    assert out["inspection_results"] == [{"code": "LEAK", "value": "2.5", "passed": True}]

    detail = terminal.get(f"/production/work-orders/{line.work_order.pk}").json()
    assert [(s["sequence"], s["status"], s["good_quantity"]) for s in detail["steps"]] == [(10, "done", 9), (20, "pending", 0)]
    assert [r["id"] for r in detail["runs"]] == [run["id"]]


def test_a_refused_track_in_is_a_409_with_reasons_in_the_callers_language_and_is_recorded(line, make_employee, api, make_user):
    person = make_employee(employee_number="OP-200")
    station_plant.qualify(line, person, valid_until=timezone.now() - dt.timedelta(days=1))
    terminal = api(make_user(Role.INTEGRATION), **{"Accept-Language": "zh-hans"})

    response = terminal.post("/production/track-in", {"badge": "OP-200", "work_order": "WO-0001", "sequence": 10})

    body = assert_error(response, 409, "production.gate_refused")
    refusal = GateRefusal.objects.get()
    assert body["details"]["refusal_id"] == str(refusal.pk)
    assert len(body["details"]["reasons"]) == 1 and "Q-ASM" in body["details"]["reasons"][0]
    assert OperationRun.objects.count() == 0


@pytest.mark.parametrize("body, status, code", [
    ({"badge": "NOBODY", "work_order": "WO-0001", "sequence": 10}, 404, "production.unknown_badge"),
    ({"badge": "OP-100", "work_order": "WO-404", "sequence": 10}, 404, "production.unknown_work_order"),
    ({"badge": "OP-100", "work_order": "WO-0001", "sequence": 15}, 404, "production.unknown_operation"),
    ({"badge": "OP-100", "work_order": "WO-0001", "sequence": 10, "extra": 1}, 422, "core.validation"),
])
def test_bad_scans_are_refused_and_nothing_is_recorded(line, operator, terminal, body, status, code):
    assert_error(terminal.post("/production/track-in", body), status, code)
    assert (OperationRun.objects.count(), GateRefusal.objects.count()) == (0, 0)


def test_an_operator_token_cannot_read_work_orders_but_can_track_in(line, operator, api, make_user):
    station_user = api(make_user(Role.OPERATOR))
    assert_error(station_user.get("/production/work-orders"), 403, "core.permission_denied")
    assert station_user.post("/production/track-in", {"badge": "OP-100", "work_order": "WO-0001/10"}).status_code == 201


def test_an_erp_creates_and_releases_a_work_order(line, terminal, plant):
    start = timezone.now() + dt.timedelta(days=1)
    response = terminal.post("/production/work-orders", {
        "number": "WO-0002", "product_id": str(line.product.pk), "line_id": str(plant.line_a.pk), "quantity": 3,
        "serial_numbers": ["SN1", "SN2", "SN3"], "planned_start": start.isoformat(),
        "planned_end": (start + dt.timedelta(hours=2)).isoformat(), "external_refs": {"sap": "4711"}, "reason": "ERP order",
    })
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["routing_id"] == str(line.routing.pk) and created["status"] == "created"
    released = terminal.post(f"/production/work-orders/{created['id']}/release", {"reason": "planned"}).json()
    assert released["status"] == "released" and [s["sequence"] for s in released["steps"]] == [10, 20]
    # Nobody on line A holds the qualifications: both operations are short of qualified people.
    assert [(w["sequence"], w["qualified"]) for w in released["release_warnings"]] == [(10, 0), (20, 0)]

    bad = terminal.post("/production/work-orders", {
        "number": "WO-0003", "product_id": str(line.product.pk), "line_id": str(plant.line_a.pk), "quantity": 3,
        "serial_numbers": ["SN1", "SN1", "SN3"], "planned_start": start.isoformat(),
        "planned_end": start.isoformat(), "reason": "ERP order",
    })
    body = assert_error(bad, 422, "production.work_order_invalid")
    assert list(body["details"]["fields"]) == ["serial_numbers"]
    assert not WorkOrder.objects.filter(number="WO-0003").exists()
