"""The station and work-order pages: scanning in, seeing why one is refused, tracking out, the override
with two signatures, and the pages an order's evidence is read on."""

from __future__ import annotations

import datetime as dt

import pytest
import station_plant
from django.urls import reverse
from django.utils import timezone

from qualiflow.accounts import services as account_services
from qualiflow.accounts.roles import Role
from qualiflow.production.models import GateRefusal, OperationRun, StepStatus

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def line(plant):
    return station_plant.build(plant)


@pytest.fixture
def operator(line, make_employee):
    person = make_employee(employee_number="OP-100", family_name="李", given_name="娜")
    station_plant.qualify(line, person)
    return person


@pytest.fixture
def expired(line, make_employee):
    person = make_employee(employee_number="OP-200", family_name="张", given_name="伟")
    station_plant.qualify(line, person, valid_until=timezone.now() - dt.timedelta(days=2))
    return person


@pytest.fixture
def station_client(client, make_user, plant):
    client.force_login(make_user(Role.OPERATOR, scope_kind="line", scope_id=plant.line_a.pk))
    return client


def test_a_qualified_operator_scans_in_and_tracks_out(line, operator, station_client):
    page = station_client.post(reverse("production:station") + "?station=ST-1",
                               {"badge": "OP-100", "work_order": "WO-0001/10", "station": "ST-1"})
    assert page.status_code == 200
    assert "tracked in at WO-0001 / 10" in page.content.decode()
    run = OperationRun.objects.get()
    assert run.station == "ST-1"
    assert page.context["open_runs"] == [run]

    url = reverse("production:station_track_out", kwargs={"pk": run.pk})
    refused = station_client.post(url, {"good_quantity": "11", "scrap_quantity": "0", "inspection_LEAK": "1"})
    assert refused.status_code == 200 and "Only 10 units reached this operation" in refused.content.decode()
    done = station_client.post(url + "?station=ST-1", {"good_quantity": "10", "scrap_quantity": "0", "inspection_LEAK": "1.2"})
    assert done.status_code == 302 and done.url == reverse("production:station") + "?badge=OP-100&station=ST-1"
    run.refresh_from_db()
    assert run.good_quantity == 10 and run.step.status == StepStatus.DONE


def test_an_operator_with_an_expired_qualification_is_refused_and_sees_why_in_their_language(
        line, expired, station_client, make_user):
    login = make_user(language="zh-hans")
    account_services.user_set_language(user=login, language="zh-hans")
    expired.user = login
    expired.save(update_fields=["user"])

    page = station_client.post(reverse("production:station"), {"badge": "OP-200", "work_order": "WO-0001", "sequence": "10"})

    text = page.content.decode()
    assert page.status_code == 200 and 'class="verdict refused"' in text
    assert page.context["reasons"] == [page.context["reasons"][0]] and "Q-ASM" in page.context["reasons"][0]
    assert "已过期" in page.context["reasons"][0] or "过期" in page.context["reasons"][0]
    assert GateRefusal.objects.count() == 1 and OperationRun.objects.count() == 0


def test_an_unknown_badge_is_a_form_error_and_nothing_is_recorded(line, station_client):
    page = station_client.post(reverse("production:station"), {"badge": "GHOST", "work_order": "WO-0001/10"})
    assert page.context["form"].errors == {"badge": ["No one has badge GHOST."]}
    assert GateRefusal.objects.count() == OperationRun.objects.count() == 0


def test_the_override_page_needs_both_signatures_and_then_flags_the_run(line, expired, client, make_user):
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR)
    make_user(Role.QA, username="qa1")
    client.force_login(supervisor)
    from qualiflow.production.services import station
    refusal = station.operation_track_in(badge="OP-200", work_order="WO-0001", sequence=10).refusal
    url = reverse("production:refusal_override", kwargs={"pk": refusal.pk})

    wrong = client.post(url, {"supervisor_password": PASSWORD, "qa_username": "qa1", "qa_password": "nope",
                              "reason": "renewal passed today"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    assert OperationRun.objects.count() == 0

    done = client.post(url, {"supervisor_password": PASSWORD, "qa_username": "qa1", "qa_password": PASSWORD,
                             "reason": "renewal passed today"})
    run = OperationRun.objects.get()
    assert done.status_code == 302 and done.url == reverse("production:run_detail", kwargs={"pk": run.pk})
    detail = client.get(done.url).content.decode()
    assert "Override" in detail and run.deviation.number in detail
    order = client.get(reverse("production:work_order_detail", kwargs={"pk": line.work_order.pk})).content.decode()
    assert 'class="flagged"' in order and run.deviation.number in order


def test_work_order_pages_for_a_supervisor(line, operator, client, make_user):
    client.force_login(make_user(Role.PRODUCTION_SUPERVISOR))
    from qualiflow.production.services import station
    station.operation_track_in(badge="OP-100", work_order="WO-0001", sequence=10)
    listing = client.get(reverse("production:work_order_list"), {"search": "WO-0001"})
    assert [o.number for o in listing.context["page"]] == ["WO-0001"]
    detail = client.get(reverse("production:work_order_detail", kwargs={"pk": line.work_order.pk}))
    assert detail.status_code == 200 and "OP-100" in detail.content.decode()
    run = OperationRun.objects.get()
    evidence = client.get(reverse("production:run_detail", kwargs={"pk": run.pk})).content.decode()
    assert "CERT-Q-ASM-OP-100" in evidence and "WI-ASM-01" in evidence


def test_an_operator_cannot_read_work_orders(line, station_client):
    assert station_client.get(reverse("production:work_order_list")).status_code == 403
    assert station_client.get(reverse("production:work_order_detail", kwargs={"pk": line.work_order.pk})).status_code == 403


def test_the_calibration_impact_of_another_lines_asset_is_not_shown(line, client, make_user, plant):
    from qualiflow.core import context
    from qualiflow.equipment.models import Equipment, EquipmentRecord, PlanKind, RecordResult

    now = timezone.now()
    with context.acting(reason="test"):
        asset = Equipment.objects.create(asset_number="EO-B1", name="灭菌柜B", equipment_class=line.steriliser_class,
                                         site=plant.site_a, line=plant.line_b)
        failed = EquipmentRecord.objects.create(
            equipment=asset, kind=PlanKind.CALIBRATION, external_lab="SIMT", started_at=now - dt.timedelta(hours=2),
            completed_at=now - dt.timedelta(hours=1), result=RecordResult.FAIL, certificate_number="CAL-B-1")
    url = reverse("production:calibration_impact", kwargs={"pk": failed.pk})
    client.force_login(make_user(Role.PRODUCTION_SUPERVISOR, scope_kind="line", scope_id=plant.line_a.pk))
    assert client.get(url).status_code == 404
    client.force_login(make_user(Role.QA))
    page = client.get(url)
    assert page.status_code == 200 and "EO-B1" in page.content.decode()
