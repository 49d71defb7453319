"""A line ready for the shop-floor station, built through the services: two qualifications, a work
instruction, an EO steriliser with a passing calibration, an approved two-operation routing and a released
work order of 10 units. Shared by the gate, API and browser tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from qualiflow.core import context
from qualiflow.documents import services as document_services
from qualiflow.documents.models import Document, DocumentKind
from qualiflow.equipment.models import (
    Equipment,
    EquipmentClass,
    EquipmentPlan,
    EquipmentRecord,
    PlanKind,
    RecordResult,
)
from qualiflow.org import services as org_services
from qualiflow.org.models import WorkCenter
from qualiflow.people.models import Employee
from qualiflow.production.models import (
    DeviceClass,
    Operation,
    Product,
    Routing,
    RoutingStatus,
    WorkOrder,
)
from qualiflow.production.services import orders
from qualiflow.training import services as training_services
from qualiflow.training.models import Course, Qualification, TargetKind, TrainingRecord

REASON = "station test set-up"


@dataclass
class StationPlant:
    assembly: Qualification
    eo: Qualification
    wi: Document
    course: Course
    steriliser_class: EquipmentClass
    steriliser: Equipment
    calibration: EquipmentRecord
    product: Product
    routing: Routing
    assemble: Operation
    sterilise: Operation
    work_order: WorkOrder


def build(plant, *, now: dt.datetime | None = None, number: str = "WO-0001") -> StationPlant:
    now = now or timezone.now()
    assembly = training_services.qualification_create(
        data={"code": "Q-ASM", "name": "输液器组装资质", "name_en": "Infusion set assembly", "validity_days": 365,
              "renewal_lead_days": 30}, reason=REASON)
    eo = training_services.qualification_create(
        data={"code": "Q-EO", "name": "环氧乙烷灭菌操作资质", "name_en": "EO steriliser operator", "validity_days": 365,
              "renewal_lead_days": 30}, reason=REASON)
    wi = document_services.document_create(
        data={"code": "WI-ASM-01", "title": "输液器组装作业指导书", "title_en": "Infusion set assembly WI",
              "kind": DocumentKind.WORK_INSTRUCTION}, reason=REASON)
    document_services.revision_create(document=wi, label="A", effective_from=now - dt.timedelta(days=400), reason=REASON)
    course = training_services.course_create(
        data={"code": "C-WI-ASM", "name": "组装作业指导书培训", "name_en": "Assembly WI training", "kind": "read_and_understand", "duration_hours": 1,
              "document": wi}, reason=REASON)
    center = org_services.org_unit_create(model=WorkCenter, data={
        "code": "WC-ASM", "name": "组装工位", "name_en": "Assembly bench", "line": plant.line_a}, reason=REASON) \
        if not WorkCenter.objects.filter(code="WC-ASM").exists() else WorkCenter.objects.get(code="WC-ASM")
    with context.acting(reason=REASON):
        steriliser_class = EquipmentClass.objects.create(code="EQ-EO", name="环氧乙烷灭菌柜", name_en="EO steriliser")
        steriliser = Equipment.objects.create(
            asset_number="EO-01", name="灭菌柜1号", name_en="Steriliser 1", equipment_class=steriliser_class,
            site=plant.site_a, line=plant.line_a)
        plan = EquipmentPlan.objects.create(
            equipment=steriliser, kind=PlanKind.CALIBRATION, title="Temperature calibration", interval_days=180,
            tolerance="±0.5 °C", first_due=now - dt.timedelta(days=30))
        calibration = EquipmentRecord.objects.create(
            equipment=steriliser, plan=plan, kind=PlanKind.CALIBRATION, external_lab="SIMT",
            started_at=now - dt.timedelta(days=31), completed_at=now - dt.timedelta(days=31), result=RecordResult.PASS,
            as_found="+0.2 °C", as_left="+0.1 °C", certificate_number="CAL-2026-0042")
        product = Product.objects.create(code="P-IS-01", name="一次性输液器", name_en="Infusion set", model="IS-20",
                                         device_class=DeviceClass.II)
        # A draft while its operations and their requirements are set up; approved (backdated) below.
        routing = Routing.objects.create(product=product, version=1, status=RoutingStatus.DRAFT)
        assemble = Operation.objects.create(
            routing=routing, sequence=10, name="组装", name_en="Assembly", work_center=center, standard_minutes=2,
            work_instruction=wi,
            inspection_points=[{"code": "LEAK", "characteristic": "Leak test", "unit": "kPa", "lower": 0, "upper": 5}])
        sterilise = Operation.objects.create(
            routing=routing, sequence=20, name="灭菌", name_en="Sterilisation", work_center=center, standard_minutes=1,
            equipment_class=steriliser_class)
    training_services.requirement_set(qualification=assembly, target_kind=TargetKind.OPERATION, target_id=assemble.pk, reason=REASON)
    training_services.requirement_set(qualification=eo, target_kind=TargetKind.OPERATION, target_id=sterilise.pk, reason=REASON)
    with context.acting(reason=REASON):
        routing.status, routing.effective_from = RoutingStatus.APPROVED, now - dt.timedelta(days=60)
        routing.approved_at = routing.effective_from
        routing.save()
    work_order = orders.work_order_create(
        number=number, product=product, routing=routing, line=plant.line_a, quantity=10, lot_number="L2026-001",
        planned_start=now, planned_end=now + dt.timedelta(hours=8), reason=REASON)
    work_order = orders.work_order_release(work_order=work_order, reason=REASON)
    return StationPlant(assembly, eo, wi, course, steriliser_class, steriliser, calibration, product, routing, assemble,
                        sterilise, work_order)


def qualify(station: StationPlant, employee: Employee, *, now: dt.datetime | None = None, eo: bool = True,
            valid_until: dt.datetime | None = None) -> None:
    """Grant the qualifications and the work-instruction training an operator needs for both operations."""
    now = now or timezone.now()
    qualifications = [station.assembly, station.eo] if eo else [station.assembly]
    for qualification in qualifications:
        training_services.qualification_grant(
            employee=employee, qualification=qualification, valid_from=now - dt.timedelta(days=100),
            valid_until=valid_until, source="manual", certificate_number=f"CERT-{qualification.code}-{employee.employee_number}",
            reason=REASON)
    train_on_instruction(station, employee, revision=1, label="A", at=now - dt.timedelta(days=99))


def train_on_instruction(station: StationPlant, employee: Employee, *, revision: int, label: str, at: dt.datetime) -> TrainingRecord:
    with context.acting(reason=REASON):
        return TrainingRecord.objects.create(
            employee=employee, course=station.course, completed_at=at, passed=True, document_id=station.wi.pk,
            document_revision=revision, document_revision_label=label)
