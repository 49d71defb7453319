"""Fixtures for the equipment tests: an EO steriliser with a calibration and a maintenance plan, the
metrology qualification its calibration needs, a qualified and an unqualified technician, and a
maintenance user."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation
from equipment_helpers import DAY

from qualiflow.accounts.roles import Role
from qualiflow.equipment import services
from qualiflow.training import services as training


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in English, whatever language an earlier request left active."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def metrology(db):
    return training.qualification_create(
        data={"code": "Q-MET-T", "name": "温度计量校准资质", "name_en": "Temperature calibration",
              "validity_days": 730, "renewal_lead_days": 30},
        reason="qualification catalogue set-up",
    )


@pytest.fixture
def steriliser_class(db):
    return services.equipment_class_create(
        data={"code": "EO-STER", "name": "环氧乙烷灭菌柜", "name_en": "EO steriliser"}, reason="class set-up"
    )


@pytest.fixture
def steriliser(plant, steriliser_class):
    return services.equipment_create(
        data={"asset_number": "EQ-0001", "name": "灭菌柜1号", "name_en": "Steriliser 1",
              "equipment_class": steriliser_class, "site": plant.site_a, "line": plant.line_a},
        reason="asset register set-up",
    )


@pytest.fixture
def calibration_plan(steriliser, metrology, now):
    return services.equipment_plan_create(
        equipment=steriliser,
        data={"kind": "calibration", "title": "温度探头校准", "interval_days": 180, "tolerance": "±0.5 °C",
              "tasks": "Compare the 9 probes with the reference thermometer.", "qualification": metrology,
              "first_due": now + 30 * DAY},
        reason="calibration plan set-up",
    )


@pytest.fixture
def maintenance_plan(steriliser, now):
    return services.equipment_plan_create(
        equipment=steriliser,
        data={"kind": "maintenance", "title": "门封检查", "interval_days": 30, "first_due": now + 10 * DAY},
        reason="maintenance plan set-up",
    )


@pytest.fixture
def technician(make_employee, metrology, now):
    employee = make_employee(family_name="李", given_name="工")
    training.qualification_grant(employee=employee, qualification=metrology, valid_from=now - 100 * DAY,
                                 source="manual", reason="metrology course passed")
    return employee


@pytest.fixture
def trainee(make_employee):
    return make_employee(family_name="赵", given_name="新")


@pytest.fixture
def maintenance_user(make_user):
    return make_user(Role.MAINTENANCE)


@pytest.fixture
def operator_user(make_user):
    return make_user(Role.OPERATOR)
