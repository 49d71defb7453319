"""Fixtures for the production tests: a product and its approved routing, with everything an operation
can ask for.

- `production_supervisor`: a user who manages the catalogue and signs (production.manage + accounts.esign);
  their password is `tests.conftest.PASSWORD`.
- `product`: "IS-20 一次性使用输液器" (class II, with a UDI-DI), active, no routing yet.
- `work_centers`: three active work centers WC-A1..WC-A3 on `plant.line_a`.
- `equipment_class`: "EQ-EO" (EO steriliser), active.
- `work_instruction`: the controlled document "WI-PK-001" with revision "A", effective since 2026-01-01 UTC.
- `operation_qualifications`: {10: Q-ASM, 20: Q-EO, 30: Q-PK}, the qualification each operation requires.
- `routing_approved`: version 1 of `product`, approved by `production_supervisor` and in effect since its
  approval (so `routing_in_effect(product)` is it), with operations
    10 drip chamber assembly at WC-A1, 1.50 min, requires Q-ASM, pass/fail point "LEAK";
    20 EO sterilisation at WC-A2, 0.25 min, equipment class EQ-EO, requires Q-EO;
    30 packaging at WC-A3, 0.75 min, work instruction WI-PK-001, requires Q-PK, point "SEAL" 10-25 N.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from qualiflow.accounts.roles import Role
from qualiflow.core.context import acting
from qualiflow.documents import services as document_services
from qualiflow.documents.models import Document
from qualiflow.equipment.models import EquipmentClass
from qualiflow.org import services as org_services
from qualiflow.org.models import WorkCenter
from qualiflow.production.models import Product, Routing
from qualiflow.production.services import catalogue
from qualiflow.training import services as training_services
from qualiflow.training.models import Qualification
from qualiflow.training.services.catalogue import RequirementItem
from tests.conftest import PASSWORD


@pytest.fixture
def production_supervisor(make_user):
    return make_user(Role.PRODUCTION_SUPERVISOR)


@pytest.fixture
def product(db) -> Product:
    return catalogue.product_create(
        data={"code": "IS-20", "name": "一次性使用输液器", "name_en": "Single-use infusion set", "model": "IS-20-L",
              "device_class": "II", "udi_di": "06901234567892"},
        reason="catalogue set-up",
    )


@pytest.fixture
def work_centers(plant) -> list[WorkCenter]:
    return [
        org_services.org_unit_create(model=WorkCenter, data={"code": code, "name": name, "name_en": name_en,
                                                              "line": plant.line_a})
        for code, name, name_en in (("WC-A1", "滴斗组装", "Drip chamber assembly"),
                                    ("WC-A2", "灭菌间", "Sterilisation room"),
                                    ("WC-A3", "包装工位", "Packaging station"))
    ]


@pytest.fixture
def equipment_class(db) -> EquipmentClass:
    with acting(reason="test"):
        return EquipmentClass.objects.create(code="EQ-EO", name="环氧乙烷灭菌柜", name_en="EO steriliser")


@pytest.fixture
def work_instruction(db) -> Document:
    document = document_services.document_create(
        data={"code": "WI-PK-001", "title": "包装作业指导书", "title_en": "Packaging work instruction", "kind": "wi"},
        reason="document set-up",
    )
    document_services.revision_create(
        document=document, label="A", effective_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), reason="first issue"
    )
    return document


@pytest.fixture
def operation_qualifications(db) -> dict[int, Qualification]:
    return {
        sequence: training_services.qualification_create(data={"code": code, "name": name}, reason="catalogue set-up")
        for sequence, code, name in ((10, "Q-ASM", "滴斗组装资质"), (20, "Q-EO", "环氧乙烷灭菌操作资质"),
                                     (30, "Q-PK", "包装资质"))
    }


@pytest.fixture
def routing_approved(product, work_centers, equipment_class, work_instruction, operation_qualifications,
                     production_supervisor) -> Routing:
    routing = catalogue.routing_create(product=product, notes="首版工艺", reason="new product")
    operations = (
        {"sequence": 10, "name": "滴斗组装", "name_en": "Drip chamber assembly", "work_center": work_centers[0],
         "standard_minutes": Decimal("1.50"),
         "inspection_points": [{"code": "LEAK", "characteristic": "Leak test", "unit": "", "lower": None,
                                "upper": None}]},
        {"sequence": 20, "name": "环氧乙烷灭菌", "name_en": "EO sterilisation", "work_center": work_centers[1],
         "standard_minutes": Decimal("0.25"), "equipment_class": equipment_class},
        {"sequence": 30, "name": "包装", "name_en": "Packaging", "work_center": work_centers[2],
         "standard_minutes": Decimal("0.75"), "work_instruction": work_instruction,
         "inspection_points": [{"code": "SEAL", "characteristic": "Seal strength", "unit": "N", "lower": 10,
                                "upper": 25}]},
    )
    for data in operations:
        catalogue.operation_create(
            routing=routing, data=data, requirements=[RequirementItem(operation_qualifications[data["sequence"]])],
            reason="routing set-up",
        )
    return catalogue.routing_approve(routing=routing, signer=production_supervisor, password=PASSWORD,
                                     reason="Process validated")
