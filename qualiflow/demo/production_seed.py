"""Seed the demo plant's production, equipment and quality through their services, after the training
history: the equipment with a year of calibration and maintenance records, the products and approved
routings, and about two hundred work orders of the last twelve months run operation by operation at the
station, so every run carries the gate's real decision and evidence.

Operators are chosen the way a team leader would: someone on the line whom the training history
qualifies at that moment (judged with the same pure rules as the gate), on an asset that is available
then. Now and then somebody unqualified, or a blocked asset, is scanned first: the gate refuses and the
refusal is kept. The gate decides; when it refuses a chosen operator anyway, the next one is tried.

Today's orders give the station work: some released (one with a staffing warning), some in progress, two
or three of them past a refusal that a supervisor and QA overrode with their signatures (a deviation
each). Deterministic from the seed, apart from the moment of seeding.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.utils import timezone

from qualiflow.accounts.models import User
from qualiflow.documents.models import Document, DocumentRevision
from qualiflow.equipment import selectors as equipment_selectors
from qualiflow.equipment import services as equipment_services
from qualiflow.equipment.domain import status as equipment_domain
from qualiflow.equipment.models import Equipment, EquipmentPlan
from qualiflow.org.models import ProductionLine, WorkCenter
from qualiflow.people.models import Employee, EmployeeStatus
from qualiflow.production.domain import gate
from qualiflow.production.models import OperationRun, Product, Routing, WorkOrder
from qualiflow.production.services import catalogue as catalogue_services
from qualiflow.production.services import orders as order_services
from qualiflow.production.services import station
from qualiflow.quality import services as quality_services
from qualiflow.quality.models import QualityEventKind
from qualiflow.training import selectors as training_selectors
from qualiflow.training.domain import status as training_domain
from qualiflow.training.models import Qualification, QualificationGrant
from qualiflow.training.services.catalogue import RequirementItem

from . import plan
from . import production_plan as spec
from .production_plan import AssetSpec, OperationSpec, PlanSpec, ProductSpec

HISTORY_DAYS = 365
ZONE = {s.code: ZoneInfo(s.time_zone) for s in plan.SITES}
LINE_SITE = {line.code: next(d.site for d in plan.DEPARTMENTS if d.code == line.department) for line in plan.LINES}
LINE_OPERATORS = {u.line: u.members[0][0] for u in plan.UNITS if u.line}
LOT_TAGS = {"SZ-ASM-A": "A", "SZ-ASM-B": "B", "SZ-IM-1": "M1", "SZ-IM-2": "M2", "SZ-PK-1": "P1", "CZ-EO-1": "E",
            "CZ-PK-2": "P2"}
REFUSAL_SHARE = 0.03  # of operations where somebody unqualified scans in first
FAILED_INSPECTION_SHARE = 0.025
OPEN_COMPLETED_DAYS = 10  # orders finished this recently still wait for review (completed, not closed)


@dataclass
class _Op:
    spec: OperationSpec
    requirements: list[training_domain.Requirement]
    instruction: tuple[str, str, tuple[training_domain.DocumentRevision, ...]] | None  # id, code, revisions
    equipment_class: str | None  # id


@dataclass
class _Line:
    code: str
    model: ProductionLine
    product: Product
    routing: Routing
    product_spec: ProductSpec
    ops: list[_Op]
    people: list[Employee]
    assets: list[Equipment] = field(default_factory=list)


@dataclass
class Counts:
    orders: int = 0
    closed: int = 0
    runs: int = 0
    refusals: int = 0
    overrides: int = 0
    failed_inspections: int = 0
    equipment_records: int = 0


class _Seeder:
    def __init__(self, *, seed: int, reason: str, password: str, now: dt.datetime) -> None:
        self.password = password  # of the demo logins who sign: the routing approver, supervisor and QA
        self.rng = random.Random(f"production-{seed}")
        self.reason = reason
        self.now = now
        self.counts = Counts()
        self.qualifications = {q.code: q for q in Qualification.objects.all()}
        self.documents = {d.code: d for d in Document.objects.all()}
        self.users = {u.username: u for u in User.objects.filter(username__in=("supervisor.a", "qa"))}
        self.facts: dict[UUID, training_domain.PersonFacts] = {}
        self.domain_qualifications = training_selectors.domain_qualifications([q.pk for q in self.qualifications.values()])
        self.revisions = training_selectors.revisions_for([q.pk for q in self.qualifications.values()])
        self.assets: dict[str, Equipment] = {}
        self.asset_facts: dict[UUID, equipment_domain.Asset] = {}
        self.lot_counter: dict[tuple[str, dt.date], int] = {}
        self.number_counter: dict[int, int] = {}

    # ------------------------------------------------------------------ helpers

    def local(self, site: str, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(ZONE[site])

    def at_local(self, site: str, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE[site])

    def verdict_ok(self, person: Employee, op: _Op, at: dt.datetime) -> bool:
        """What the gate will say about the person (qualifications and work instruction), judged purely."""
        facts = self.facts.get(person.pk)
        if facts is None or person.hire_date > at.date():
            return False
        if not training_domain.evaluate(facts=facts, requirements=op.requirements, revisions=self.revisions, at=at).allowed:
            return False
        if op.instruction is not None:
            document_id, code, revisions = op.instruction
            trainings = tuple(t for t in facts.trainings if t.document_id == document_id)
            if not gate.work_instruction_status(gate.WorkInstruction(document_id, code, revisions, trainings), at).trained:
                return False
        return True

    def asset_available(self, asset: Equipment, at: dt.datetime) -> bool:
        return equipment_domain.availability(self.asset_facts[asset.pk], at).available

    # ------------------------------------------------------------------ equipment

    def seed_equipment(self, lines: dict[str, ProductionLine]) -> None:
        classes = {
            c.code: equipment_services.equipment_class_create(
                data={"code": c.code, "name": c.name, "name_en": c.name_en}, reason=self.reason)
            for c in spec.EQUIPMENT_CLASSES
        }
        self.classes = classes
        centers = {wc.code: wc for wc in WorkCenter.objects.all()}
        technicians = list(Employee.objects.filter(
            status=EmployeeStatus.ACTIVE, position__code__in=("MT-TECH", "MT-MET", "MT-MGR")).select_related("site"))
        self.facts.update(training_selectors.facts_for(technicians))
        for asset_spec in spec.ASSETS:
            line = lines[asset_spec.line]
            asset = equipment_services.equipment_create(data={
                "asset_number": asset_spec.asset_number, "name": asset_spec.name, "name_en": asset_spec.name_en,
                "equipment_class": classes[asset_spec.equipment_class], "site": line.site, "line": line,
                "work_center": centers[f"{asset_spec.line}-{asset_spec.station}"],
                "manufacturer": asset_spec.manufacturer, "model_number": asset_spec.model_number,
                "serial_number": asset_spec.serial_number,
            }, reason=self.reason)
            self.assets[asset_spec.asset_number] = asset
            site = LINE_SITE[asset_spec.line]
            local_technicians = [t for t in technicians if t.site.code == site]
            for plan_spec in asset_spec.plans:
                self._seed_plan(asset, asset_spec, plan_spec, site, local_technicians)
        self.asset_facts = equipment_selectors.assets_for(list(self.assets.values()), self.now)

    def _history(self, plan_spec: PlanSpec) -> tuple[list[tuple[dt.datetime, str]], dt.datetime]:
        """The plan's completed work, oldest first, as (moment, result), and its first due moment."""
        rng = self.rng
        interval = dt.timedelta(days=plan_spec.interval_days)
        window_start = self.now - dt.timedelta(days=HISTORY_DAYS + 30)
        done: list[tuple[dt.datetime, str]] = []
        if plan_spec.failed_days_ago is not None:
            failed = self.now - dt.timedelta(days=plan_spec.failed_days_ago)
            done = [(failed, "fail"), (failed + dt.timedelta(days=2), "pass")]
            last = failed - dt.timedelta(days=rng.randint(60, 100))
        else:
            last = self.now - interval + dt.timedelta(days=plan_spec.due_in_days or 0)
        passes = [last]
        while passes[0] > window_start:
            passes.insert(0, passes[0] - interval + dt.timedelta(days=rng.randint(4, min(25, plan_spec.interval_days // 3))))
        done = [(moment, "pass") for moment in passes] + done
        return done, passes[0]

    def _evening(self, site: str, moment: dt.datetime) -> dt.datetime:
        """Calibration and maintenance are done after the day shift, so production runs are not in the way."""
        day = self.local(site, moment).date()
        return self.at_local(site, day, 20, self.rng.choice((0, 15, 30)))

    def _seed_plan(self, asset: Equipment, asset_spec: AssetSpec, plan_spec: PlanSpec, site: str,
                   technicians: list[Employee]) -> None:
        done, first_due = self._history(plan_spec)
        qualification = self.qualifications[spec.PLAN_QUALIFICATION[plan_spec.kind]]
        equipment_plan = equipment_services.equipment_plan_create(equipment=asset, data={
            "kind": plan_spec.kind, "title": plan_spec.title, "interval_days": plan_spec.interval_days,
            "tasks": plan_spec.tasks, "tolerance": plan_spec.tolerance, "qualification": qualification,
            "first_due": self._evening(site, first_due),
        }, reason=self.reason)
        requirement = [training_domain.Requirement(self.domain_qualifications[qualification.pk])]
        hours = dt.timedelta(hours=3 if plan_spec.kind == "maintenance" else 2)
        for index, (moment, result) in enumerate(done):
            started = self._evening(site, moment)
            completed = started + hours
            if completed > self.now:
                started, completed = self.now - hours - dt.timedelta(hours=1), self.now - dt.timedelta(hours=1)
            qualified = [t for t in technicians if t.hire_date < started.date() and training_domain.evaluate(
                facts=self.facts[t.pk], requirements=requirement, revisions=self.revisions, at=started).allowed]
            performer = None if plan_spec.external_lab or not qualified else self.rng.choice(qualified)
            lab = "" if performer else (plan_spec.external_lab or spec.CALIBRATION_LAB if plan_spec.kind == "calibration"
                                        else f"{asset_spec.manufacturer}售后服务")
            number = ""
            if plan_spec.kind == "calibration":
                number = f"{'JL' if lab else 'HC-CAL-'}{started:%Y}{self.counts.equipment_records + 1:04d}"
            as_found, as_left, notes = self._findings(plan_spec, result, index == len(done) - 1)
            record = equipment_services.equipment_record_create(
                equipment=asset, plan=equipment_plan, started_at=started, completed_at=completed, result=result,
                performed_by=performer, external_lab=lab, certificate_number=number, as_found=as_found,
                as_left=as_left, notes=notes, reason=self.reason,
            )
            self.counts.equipment_records += 1
            if result == "fail":
                quality_services.quality_event_open(
                    kind=QualityEventKind.NONCONFORMANCE,
                    title=f"{asset.asset_number} {asset.name}校准不合格: {plan_spec.title}",
                    description=f"校准发现超差 ({as_found}); 已隔离并调整, 复校合格前禁用。对上次合格校准以来使用该设备的"
                                f"工单进行影响评估。",
                    site=asset.site, source_type="equipment.equipmentrecord", source_id=str(record.pk),
                    reason=self.reason, at=completed,
                )
        if plan_spec.open_maintenance:
            started = self.now - dt.timedelta(hours=3)
            maintenance = [training_domain.Requirement(self.domain_qualifications[qualification.pk])]
            maintainers = [t for t in technicians if training_domain.evaluate(
                facts=self.facts[t.pk], requirements=maintenance, revisions=self.revisions, at=started).allowed]
            performer = self.rng.choice(maintainers) if maintainers else None
            equipment_services.equipment_record_start(
                equipment=asset, plan=equipment_plan, started_at=started, performed_by=performer,
                external_lab="" if performer else f"{asset_spec.manufacturer}售后服务",
                notes="液压系统异响, 停机检查", reason=self.reason,
            )
            self.counts.equipment_records += 1

    def _findings(self, plan_spec: PlanSpec, result: str, last: bool) -> tuple[str, str, str]:
        if plan_spec.kind == "maintenance":
            return "", "", "按计划完成保养, 设备运行正常"
        if result == "fail":
            return "压力读数偏差 +0.12 kPa (允差 ±0.05 kPa)", "调整后 +0.01 kPa", "校准不合格, 设备已挂停用标识"
        error = self.rng.choice(("+0.01", "-0.02", "+0.02", "0.00", "-0.01"))
        return f"示值误差 {error}", f"示值误差 {error}", "校准合格"

    # ------------------------------------------------------------------ catalogue

    def seed_catalogue(self, lines: dict[str, ProductionLine]) -> dict[str, _Line]:
        centers = {wc.code: wc for wc in WorkCenter.objects.all()}
        signer = self.users["supervisor.a"]
        built = {}
        for product_spec in spec.PRODUCTS:
            product = catalogue_services.product_create(data={
                "code": product_spec.code, "name": product_spec.name, "name_en": product_spec.name_en,
                "model": product_spec.model, "device_class": product_spec.device_class, "udi_di": product_spec.udi_di,
            }, reason=self.reason)
            routing = catalogue_services.routing_create(product=product, notes="首版工艺路线", reason=self.reason)
            ops = []
            for op in product_spec.operations:
                catalogue_services.operation_create(routing=routing, data={
                    "sequence": op.sequence, "name": op.name, "name_en": op.name_en,
                    "work_center": centers[f"{product_spec.line}-{op.station}"],
                    "standard_minutes": Decimal(op.standard_minutes),
                    "equipment_class": self.classes[op.equipment_class] if op.equipment_class else None,
                    "work_instruction": self.documents[op.work_instruction] if op.work_instruction else None,
                    "inspection_points": [point.as_point() for point in op.inspections],
                }, requirements=[RequirementItem(self.qualifications[code]) for code in op.qualifications],
                    reason=self.reason)
                ops.append(self._op(op))
            routing = catalogue_services.routing_approve(
                routing=routing, signer=signer, password=self.password, reason=self.reason)
            line = lines[product_spec.line]
            people = list(Employee.objects.filter(
                line=line, status=EmployeeStatus.ACTIVE, position__code__in=(LINE_OPERATORS[product_spec.line], "TL"),
            ).order_by("employee_number"))
            built[product_spec.line] = _Line(product_spec.line, line, product, routing, product_spec, ops, people,
                                             [a for a in self.assets.values() if a.line_id == line.pk])
        self.facts.update(training_selectors.facts_for([p for line in built.values() for p in line.people]))
        return built

    def _op(self, op: OperationSpec) -> _Op:
        requirements = [training_domain.Requirement(self.domain_qualifications[self.qualifications[code].pk])
                        for code in op.qualifications]
        instruction = None
        if op.work_instruction:
            document = self.documents[op.work_instruction]
            revisions = tuple(
                training_domain.DocumentRevision(str(document.pk), number, label, effective, dt.timedelta(days=grace))
                for number, label, effective, grace in DocumentRevision.objects.filter(
                    document=document, training_required=True,
                ).values_list("revision", "label", "effective_from", "retraining_grace_days")
            )
            instruction = (str(document.pk), document.code, revisions)
        return _Op(op, requirements, instruction, op.equipment_class)

    # ------------------------------------------------------------------ work orders

    def _schedule(self, line: _Line, start: dt.datetime, quantity: int) -> list[dt.datetime] | None:
        """Track-in moments of each operation, or None when some operation has nobody qualified or no
        available asset at its moment."""
        site = LINE_SITE[line.code]
        moments, at = [], start
        for op in line.ops:
            if not any(self.verdict_ok(p, op, at) for p in line.people):
                return None
            if op.equipment_class and not self._assets_for(line, op, at):
                return None
            moments.append(at)
            minutes = min(420, max(40, float(op.spec.standard_minutes) * quantity))
            at = at + dt.timedelta(minutes=minutes + self.rng.randint(20, 90))
            if self.local(site, at).hour >= 19:
                day = self.local(site, at).date() + dt.timedelta(days=1)
                at = self.at_local(site, day, 8, self.rng.randint(0, 45))
        return moments

    def _assets_for(self, line: _Line, op: _Op, at: dt.datetime) -> list[Equipment]:
        wanted = self.classes[op.equipment_class].pk
        return [a for a in line.assets if a.equipment_class_id == wanted and self.asset_available(a, at)]

    def _number(self, start: dt.datetime) -> str:
        year = start.year
        self.number_counter[year] = self.number_counter.get(year, 0) + 1
        return f"WO-{year}-{self.number_counter[year]:04d}"

    def _lot(self, line: str, day: dt.date) -> str:
        key = (line, day)
        self.lot_counter[key] = self.lot_counter.get(key, 0) + 1
        return f"{LOT_TAGS[line]}{day:%y%m%d}{self.lot_counter[key]:02d}"

    def _quantity(self, product_spec: ProductSpec) -> int:
        low, high, step = product_spec.lot_sizes
        return self.rng.randrange(low, high + 1, step)

    def _create(self, line: _Line, start: dt.datetime, quantity: int, end: dt.datetime) -> WorkOrder:
        site = LINE_SITE[line.code]
        order = order_services.work_order_create(
            number=self._number(self.local(site, start)), product=line.product, routing=line.routing, line=line.model,
            quantity=quantity, planned_start=start, planned_end=end, lot_number=self._lot(line.code, self.local(site, start).date()),
            external_refs={"erp": f"MO{self.local(site, start):%y%m%d}{self.rng.randrange(1000, 9999)}"},
            reason="ERP 生产订单下达",
        )
        self.counts.orders += 1
        return order_services.work_order_release(work_order=order, reason="物料齐套, 下达生产",
                                                 at=min(start - dt.timedelta(hours=16), self.now))

    def plan_history(self, lines: dict[str, _Line]) -> list[tuple[dt.datetime, _Line, int, list[dt.datetime]]]:
        """Every historical order as (planned start, line, quantity, track-in moments), oldest first."""
        planned = []
        for line in lines.values():
            count = line.product_spec.orders
            site = LINE_SITE[line.code]
            span = HISTORY_DAYS - 3
            for index in range(count):
                days_ago = HISTORY_DAYS - int((index + self.rng.random() * 0.6) * span / count)
                quantity = self._quantity(line.product_spec)
                for attempt in range(6):
                    day = self.local(site, self.now).date() - dt.timedelta(days=max(2, days_ago - attempt))
                    while day.weekday() >= 5:
                        day -= dt.timedelta(days=1)
                    start = self.at_local(site, day, 8, self.rng.randint(0, 50))
                    moments = self._schedule(line, start, quantity)
                    if moments is not None:
                        planned.append((start, line, quantity, moments))
                        break
        planned.sort(key=lambda p: (p[0], p[1].code))
        return planned

    def run_history(self, planned: list[tuple[dt.datetime, _Line, int, list[dt.datetime]]],
                    progress: Callable[[str], None]) -> None:
        recent = self.now - dt.timedelta(days=OPEN_COMPLETED_DAYS)
        cancelled = False
        for index, (start, line, quantity, moments) in enumerate(planned):
            end = max(moments[-1] + dt.timedelta(hours=8), start + dt.timedelta(days=2))
            order = self._create(line, start, quantity, end)
            if not cancelled and index == len(planned) // 2:
                order_services.work_order_cancel(work_order=order, reason="客户订单取消, 物料退库")
                cancelled = True
                continue
            available = quantity
            for op, at in zip(line.ops, moments, strict=True):
                run = self._track_in(line, order, op, at, refusals=True)
                if run is None:
                    break
                available = self._track_out(line, order, op, run, available, at)
            else:
                order.refresh_from_db()
                if order.completed_at and order.completed_at < recent:
                    order_services.work_order_close(work_order=order, reason="批记录审核完成",
                                                    at=order.completed_at + dt.timedelta(days=1))
                    self.counts.closed += 1
            if (index + 1) % 50 == 0:
                progress(f"work orders: {index + 1}/{len(planned)}")

    def _track_in(self, line: _Line, order: WorkOrder, op: _Op, at: dt.datetime, *,
                  refusals: bool) -> OperationRun | None:
        """Track a qualified operator in (on an available asset); now and then somebody unqualified or a
        blocked asset is scanned first and refused. The gate decides: whoever it refuses, the next is tried."""
        rng = self.rng
        people = list(line.people)
        rng.shuffle(people)
        assets = self._assets_for(line, op, at) if op.equipment_class else []
        station_name = f"{line.code} {op.spec.name}"
        if refusals and rng.random() < REFUSAL_SHARE:
            others = [p for p in people if p.hire_date < at.date() and not self.verdict_ok(p, op, at)]
            if others:
                self._scan(order, op, others[0], rng.choice(assets) if assets else None, at, station_name)
        blocked = []
        if refusals and op.equipment_class and rng.random() < 0.5:
            blocked = [a for a in line.assets if a.equipment_class_id == self.classes[op.equipment_class].pk
                       and not self.asset_available(a, at)]
        for person in (p for p in people if self.verdict_ok(p, op, at)):
            if blocked:
                self._scan(order, op, person, blocked.pop(0), at, station_name)
            result = self._scan(order, op, person, rng.choice(assets) if assets else None, at, station_name)
            if result.allowed:
                self.counts.runs += 1
                return result.run
        return None

    def _scan(self, order: WorkOrder, op: _Op, person: Employee, asset: Equipment | None, at: dt.datetime,
              station_name: str) -> station.TrackIn:
        result = station.operation_track_in(
            badge=person.employee_number, work_order=order.number, sequence=op.spec.sequence,
            asset_number=asset.asset_number if asset else "", station=station_name, at=at,
        )
        if not result.allowed:
            self.counts.refusals += 1
        return result

    def _track_out(self, line: _Line, order: WorkOrder, op: _Op, run: OperationRun, available: int,
                   at: dt.datetime, *, until: dt.datetime | None = None) -> int:
        rng = self.rng
        failing = None
        candidates = [p for p in op.spec.inspections if p.code not in ("BI", "LABEL")]
        if candidates and rng.random() < FAILED_INSPECTION_SHARE:
            failing = rng.choice(candidates).code
        rate = rng.uniform(0.02, 0.05) if failing else rng.uniform(0.0005, 0.006)
        scrap = min(available, round(available * rate))
        results = {point.code: self._value(point, point.code == failing) for point in op.spec.inspections}
        minutes = min(420, max(40, float(op.spec.standard_minutes) * available)) + rng.randint(-10, 25)
        run = station.operation_track_out(
            run=run, good_quantity=available - scrap, scrap_quantity=scrap, inspection_results=results,
            at=min(at + dt.timedelta(minutes=minutes), until or self.now),
        )
        if failing:
            self.counts.failed_inspections += 1
            if self.counts.failed_inspections <= 2:
                quality_services.quality_event_open(
                    kind=QualityEventKind.NONCONFORMANCE,
                    title=f"{order.number} 批 {order.lot_number} {op.spec.name}检验不合格",
                    description=f"{op.spec.name}检验项 {failing} 超出规格; 不合格品 {scrap} 件已隔离报废, 同批加严抽检。",
                    site=line.model.site, source_type="production.operationrun", source_id=str(run.pk),
                    reason=self.reason, at=run.tracked_out_at,
                )
        return available - scrap

    def _value(self, point: spec.InspectionSpec, fail: bool) -> str:
        rng = self.rng
        if point.lower is None and point.upper is None:
            return "fail" if fail else "pass"
        if point.lower is not None and point.upper is not None:
            width = point.upper - point.lower
            value = point.upper + width * rng.uniform(0.05, 0.2) if fail else rng.uniform(
                point.lower + width * 0.2, point.upper - width * 0.2)
        else:
            value = point.lower * rng.uniform(0.7, 0.9) if fail else point.lower * rng.uniform(1.2, 1.9)
        return f"{value:.{point.decimals}f}"

    # ------------------------------------------------------------------ today

    def seed_today(self, lines: dict[str, _Line]) -> None:
        """Work for the station: orders released today, some under way, two or three past an override."""
        hours = lambda n: self.now - dt.timedelta(hours=n)  # noqa: E731
        line_a = lines["SZ-ASM-A"]
        # (line, operations done, the next one: "open", "override", "equipment" or None)
        plans = [
            (line_a, 1, "equipment"), (line_a, 0, "override"), (line_a, 1, "override"), (line_a, 0, "override"),
            (line_a, 0, "warning"),
            (lines["SZ-ASM-B"], 1, "open"), (lines["SZ-IM-1"], 0, None), (lines["SZ-IM-2"], 0, "open"),
            (lines["SZ-PK-1"], 0, None), (lines["CZ-EO-1"], 1, "open"), (lines["CZ-PK-2"], 0, None),
        ]
        overrides = 0
        for line, done, following in plans:
            start = hours(8)
            quantity = self._quantity(line.product_spec)
            if following == "warning":
                order = self._warning_order(line)
                continue
            if following == "override" and overrides >= len(spec.OVERRIDE_REASONS):
                following = "open"
            order = self._create(line, start if done or following else hours(-2), quantity, start + dt.timedelta(days=1))
            available = quantity
            for index, op in enumerate(line.ops[:done]):
                at = hours(7.5 - 2.5 * index)
                run = self._track_in(line, order, op, at, refusals=False)
                if run is None:
                    break
                available = self._track_out(line, order, op, run, available, at, until=at + dt.timedelta(hours=2))
            else:
                if following is not None and done < len(line.ops):
                    op = line.ops[done]
                    if following == "override" and self._override(line, order, op, overrides):
                        overrides += 1
                    elif following in ("open", "equipment", "override"):
                        self._track_in(line, order, op, hours(1), refusals=following == "equipment")

    def _override(self, line: _Line, order: WorkOrder, op: _Op, index: int) -> bool:
        """Someone the gate refuses now at `op` (preferably for a lapsed or unread qualification rather than
        one never held) is let through by the supervisor and QA, who both sign; a deviation is opened."""
        refused = [p for p in line.people if p.hire_date < self.now.date() and not self.verdict_ok(p, op, self.now)]
        main = {r.qualification.id for r in op.requirements}
        held_once = [p for p in refused if any(g.qualification_id in main for g in self.facts[p.pk].grants)]
        pool = held_once or refused
        self.rng.shuffle(pool)
        for person in pool[:3]:
            result = self._scan(order, op, person, None, self.now, f"{line.code} {op.spec.name}")
            if result.allowed:
                self.counts.runs += 1
                return False
            station.operation_override(
                refusal=result.refusal, supervisor=self.users["supervisor.a"], supervisor_password=self.password,
                qa=self.users["qa"], qa_password=self.password, reason=spec.OVERRIDE_REASONS[index],
                station=f"{line.code} {op.spec.name}",
            )
            self.counts.runs += 1
            self.counts.overrides += 1
            return True
        return False

    def _warning_order(self, line: _Line) -> WorkOrder:
        """Released for tomorrow's day shift with a lot the leak testers' few qualified people cannot carry."""
        site = LINE_SITE[line.code]
        day = self.local(site, self.now).date() + dt.timedelta(days=1)
        start, end = self.at_local(site, day, 8), self.at_local(site, day, 20)
        leak = next(op for op in line.ops if op.equipment_class)
        qualified = sum(1 for p in line.people if self.verdict_ok(p, leak, start) and self.verdict_ok(p, leak, end))
        window = (end - start).total_seconds() / 60
        quantity = max(line.product_spec.lot_sizes[1],
                       math.ceil((qualified + 1) * window / float(leak.spec.standard_minutes) / 500) * 500)
        return self._create(line, start, quantity, end)


def seed_production(*, seed: int, reason: str, password: str, progress: Callable[[str], None]) -> Counts:
    now = timezone.now()
    seeder = _Seeder(seed=seed, reason=reason, password=password, now=now)
    lines = {line.code: line for line in ProductionLine.objects.select_related("site")}
    seeder.seed_equipment(lines)
    built = seeder.seed_catalogue(lines)
    counts = seeder.counts
    progress(f"equipment: {len(seeder.assets)} assets, {EquipmentPlan.objects.count()} plans, "
             f"{counts.equipment_records} records; production: {len(built)} products with approved routings")
    if not QualificationGrant.objects.exists():
        progress("work orders: skipped without training history (nobody would pass the gate)")
        return counts
    planned = seeder.plan_history(built)
    seeder.run_history(planned, progress)
    seeder.seed_today(built)
    progress(f"work orders: {counts.orders} ({counts.closed} closed), {counts.runs} operation runs, "
             f"{counts.refusals} refusals, {counts.overrides} overrides, {counts.failed_inspections} failed inspections")
    return counts

