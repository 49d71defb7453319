"""Equipment reads: availability for many assets in a fixed number of queries, the scoped list with its
computed filters, and the last passing calibration."""

from __future__ import annotations

import pytest
from equipment_helpers import DAY

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.core.errors import NotFound
from qualiflow.equipment import selectors, services


def _asset(number, equipment_class, line, **extra):
    return services.equipment_create(
        data={"asset_number": number, "name": f"设备{number}", "equipment_class": equipment_class, "site": line.site,
              "line": line, **extra}, reason="asset register")


def _plan(asset, kind, first_due, interval=30):
    return services.equipment_plan_create(
        equipment=asset, data={"kind": kind, "title": kind, "interval_days": interval, "first_due": first_due},
        reason="plan")


@pytest.mark.parametrize("count", [1, 12])
def test_availability_for_any_number_of_assets_takes_three_queries(steriliser_class, plant, now, count,
                                                                  django_assert_num_queries):
    assets = [_asset(f"EQ-{i:03d}", steriliser_class, plant.line_a) for i in range(count)]
    for asset in assets:
        plan = _plan(asset, "calibration", now - DAY)
        services.equipment_record_create(equipment=asset, plan=plan, external_lab="Lab", certificate_number=f"C{asset.pk}",
                                         started_at=now - 3 * DAY, completed_at=now - 2 * DAY, result="pass",
                                         reason="calibrated")
        services.equipment_record_start(equipment=asset, kind="maintenance", external_lab="Vendor",
                                        started_at=now - DAY, reason="repair")
    with django_assert_num_queries(3):
        states = selectors.availability_for([a.pk for a in assets], now)
    assert set(states) == {a.pk for a in assets}
    assert all([f.code for f in s.reasons] == ["maintenance_open"] for s in states.values())
    with django_assert_num_queries(3):
        assert len(selectors.availability_for(selectors.equipment_visible(None), now)) == count


def test_availability_ignores_work_after_the_moment(steriliser, calibration_plan, technician, now):
    services.equipment_record_create(equipment=steriliser, plan=calibration_plan, performed_by=technician,
                                     started_at=now - 10 * DAY, completed_at=now - 9 * DAY, result="fail",
                                     reason="out of tolerance")
    assert not selectors.availability_of(steriliser, now).available
    assert selectors.availability_of(steriliser, now - 9 * DAY - DAY / 24).available
    assert selectors.availability_for([], now) == {}


def test_list_filters_by_place_class_status_blocked_and_due(steriliser_class, plant, now, make_user):
    other_class = services.equipment_class_create(data={"code": "BAL", "name": "天平"}, reason="class")
    ok = _asset("EQ-A", steriliser_class, plant.line_a)
    due = _asset("EQ-B", other_class, plant.line_b)
    _asset("EQ-C", steriliser_class, plant.line_b2, status="out_of_service")
    _plan(due, "calibration", now + 5 * DAY)
    _plan(ok, "calibration", now + 60 * DAY)

    def numbers(**filters):
        return [e.asset_number for e in selectors.equipment_list(user=None, at=now, **filters)]

    assert numbers() == ["EQ-A", "EQ-B", "EQ-C"]
    assert numbers(ordering="-asset_number") == ["EQ-C", "EQ-B", "EQ-A"]
    assert numbers(search="eq-b") == ["EQ-B"]
    assert numbers(site_id=plant.site_b.pk) == ["EQ-C"]
    assert numbers(line_id=plant.line_b.pk) == ["EQ-B"]
    assert numbers(class_id=other_class.pk) == ["EQ-B"]
    assert numbers(status="out_of_service") == ["EQ-C"]
    assert numbers(blocked=True) == ["EQ-C"]
    assert numbers(blocked=False) == ["EQ-A", "EQ-B"]
    assert numbers(due_within_days=7) == ["EQ-B"]
    assert numbers(due_within_days=90) == ["EQ-A", "EQ-B"]

    site_b_user = make_user(Role.MAINTENANCE, scope_kind=ScopeKind.SITE, scope_id=plant.site_b.pk)
    assert [e.asset_number for e in selectors.equipment_list(user=site_b_user)] == ["EQ-C"]
    with pytest.raises(NotFound):
        selectors.equipment_get(user=site_b_user, equipment_id=ok.pk)
    department_user = make_user(Role.AUDITOR, scope_kind=ScopeKind.DEPARTMENT, scope_id=plant.assembly.pk)
    assert [e.asset_number for e in selectors.equipment_list(user=department_user)] == ["EQ-A", "EQ-B"]
    assert list(selectors.equipment_list(user=make_user(Role.OPERATOR))) == []


def test_last_passing_calibration(steriliser, calibration_plan, technician, now):
    def calibrate(days_ago, result, plan=calibration_plan):
        return services.equipment_record_create(
            equipment=steriliser, plan=plan, kind="calibration", performed_by=technician if plan else None,
            external_lab="" if plan else "Lab", certificate_number="" if plan else "L-1",
            started_at=now - (days_ago + 1) * DAY, completed_at=now - days_ago * DAY, result=result, reason="cal")

    older = calibrate(50, "pass")
    calibrate(40, "fail")
    unplanned = calibrate(30, "pass", plan=None)
    assert selectors.last_passing_calibration(steriliser, now) == unplanned
    assert selectors.last_passing_calibration(steriliser, now, plan_id=calibration_plan.pk) == older
    assert selectors.last_passing_calibration(steriliser, now, plan_id=None) == unplanned
    assert selectors.last_passing_calibration(steriliser, now - 50 * DAY) is None
    assert [r.result for r in selectors.records_for(steriliser)] == ["pass", "fail", "pass"]
