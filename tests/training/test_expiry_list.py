"""The expiring / expired list: filters, scope, XLSX export, API and the reconcile endpoint."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from qualiflow.accounts import services as account_services
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.training import services
from qualiflow.training.models import GrantSource, TrainingAssignment
from qualiflow.training.selectors.expiry import ExpiryFilters, ExpiryState, expiry_list


@pytest.fixture
def grants(plant, make_employee, eo_operator):
    """On line A: one expiring in 10 days, one expired 5 days ago, one valid for 200 days; on line B: one
    expiring in 20 days."""
    now = timezone.now()
    made = {}
    for name, line, days_left in (("soon", plant.line_a, 10), ("gone", plant.line_a, -5), ("fine", plant.line_a, 200),
                                  ("other", plant.line_b, 20)):
        employee = make_employee(line=line, position=plant.operator, employee_number=f"N-{name}")
        services.qualification_grant(
            employee=employee, qualification=eo_operator, valid_from=now - dt.timedelta(days=365 - days_left),
            source=GrantSource.MANUAL, reason="held",
        )
        made[name] = employee
    return made


def _numbers(rows) -> list[str]:
    return [r.grant.employee.employee_number for r in rows]


def test_filters(admin_user, grants, plant, eo_operator):
    now = timezone.now()
    everything = expiry_list(user=admin_user, filters=ExpiryFilters(), at=now)
    assert _numbers(everything) == ["N-gone", "N-soon", "N-other"]
    assert [r.state for r in everything] == [ExpiryState.EXPIRED, ExpiryState.EXPIRING, ExpiryState.EXPIRING]
    assert _numbers(expiry_list(user=admin_user, filters=ExpiryFilters(state=ExpiryState.EXPIRED), at=now)) == ["N-gone"]
    assert _numbers(expiry_list(user=admin_user, filters=ExpiryFilters(line_id=plant.line_b.pk), at=now)) == ["N-other"]
    assert _numbers(expiry_list(user=admin_user, filters=ExpiryFilters(state=ExpiryState.EXPIRING, window_days=15),
                                at=now)) == ["N-soon"]
    # A window past the lead time lists what is still plainly valid too.
    assert "N-fine" in _numbers(expiry_list(user=admin_user, filters=ExpiryFilters(window_days=250), at=now))
    assert _numbers(expiry_list(user=admin_user, filters=ExpiryFilters(site_id=plant.site_b.pk), at=now)) == []
    assert len(expiry_list(user=admin_user, filters=ExpiryFilters(qualification_id=eo_operator.pk), at=now)) == 3


def test_page_filters_with_htmx_and_exports(client, admin_user, grants, plant):
    client.force_login(admin_user)
    page = client.get(reverse("training:expiring"))
    assert page.status_code == 200 and "N-soon" in page.content.decode()
    fragment = client.get(reverse("training:expiring"), {"line": plant.line_b.pk, "window": "nonsense"},
                          headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "N-other" in body and "N-soon" not in body and "<html" not in body
    export = client.get(reverse("training:expiring_export"), {"state": "expired"})
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["N-gone"]


def test_operator_is_denied(client, make_user, grants):
    client.force_login(make_user(Role.OPERATOR))
    assert client.get(reverse("training:expiring")).status_code == 403
    assert client.get(reverse("training:expiring_export")).status_code == 403


def test_supervisor_sees_only_their_line(client, make_user, grants, plant):
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_b.pk)
    client.force_login(supervisor)
    body = client.get(reverse("training:expiring")).content.decode()
    assert "N-other" in body and "N-soon" not in body and "N-gone" not in body


def _api(client, user):
    _token, secret = account_services.api_token_issue(user=user, name="test")
    return {"Authorization": f"Bearer {secret}"}


def test_api_list_and_scope(client, make_user, admin_user, grants, plant):
    response = client.get("/api/v1/training/expiring", {"state": "expiring"}, headers=_api(client, admin_user))
    assert response.status_code == 200
    assert [i["employee_number"] for i in response.json()["items"]] == ["N-soon", "N-other"]
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    items = client.get("/api/v1/training/expiring", headers=_api(client, supervisor)).json()["items"]
    assert [i["employee_number"] for i in items] == ["N-gone", "N-soon"]
    bad = client.get("/api/v1/training/expiring", {"window_days": 0}, headers=_api(client, admin_user))
    assert bad.status_code == 422 and "window_days" in bad.json()["details"]["fields"]
    operator = client.get("/api/v1/training/expiring", headers=_api(client, make_user(Role.OPERATOR)))
    assert operator.status_code == 403


@pytest.fixture
def operators_need_eo(plant, eo_operator):
    services.course_create(data={"code": "C-EO", "name": "灭菌培训", "duration_hours": 4}, confers=[eo_operator],
                           reason="set-up")
    services.requirement_set(qualification=eo_operator, target_kind="position", target_id=plant.operator.pk,
                             reason="operators sterilise")


def test_api_reconcile(client, make_user, coordinator, make_employee, plant, operators_need_eo):
    employee = make_employee(position=plant.operator, hire_date=timezone.localdate())
    url = "/api/v1/training/reconcile"
    denied = client.post(url, {}, content_type="application/json",
                         headers=_api(client, make_user(Role.PRODUCTION_SUPERVISOR)))
    assert denied.status_code == 403 and TrainingAssignment.objects.count() == 0
    unknown = client.post(url, {"employee_ids": ["00000000-0000-0000-0000-000000000000"]},
                          content_type="application/json", headers=_api(client, coordinator))
    assert unknown.status_code == 422 and TrainingAssignment.objects.count() == 0
    headers = _api(client, coordinator)
    first = client.post(url, {"employee_ids": [str(employee.pk)]}, content_type="application/json", headers=headers)
    assert first.status_code == 200
    assert first.json() == {"people": 1, "created": 1, "retired": 0, "unchanged": 0, "without_course": 0}
    again = client.post(url, {}, content_type="application/json", headers=headers).json()
    assert (again["created"], again["retired"], again["unchanged"]) == (0, 0, 1)


def test_api_reconcile_refuses_junk(client, coordinator):
    headers = _api(client, coordinator)
    for body in ({"employee_ids": 12345}, {"employee_ids": "x" * 5000}, {"employee_ids": [{"nested": ["x"]}]},
                 {"everyone": True}):
        response = client.post("/api/v1/training/reconcile", body, content_type="application/json", headers=headers)
        assert response.status_code == 422, body
    assert client.post("/api/v1/training/reconcile", "not json", content_type="application/json",
                       headers=headers).status_code in (400, 422)
    assert TrainingAssignment.objects.count() == 0
