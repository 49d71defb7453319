"""`qualiflow bench trackin`: gated track-ins over HTTP, through a real application server, on PostgreSQL.

In a throwaway PostgreSQL database (created and dropped on the server of --database-url or $DATABASE_URL),
generates a plant of N people (default 10,000) on lines of 1,000 with their training history: grants on
the qualifications the gated operations require and on others, the work-instruction trainings (current
revision for most, only the superseded one or none for a few), read-and-understand records of other SOPs,
some expired grants, some suspensions and a few people on leave, so that a share of the gated track-ins is
refused. Ten steriliser assets are calibrated; one is overdue.

Two approved routings of two operations each, identical but for the gate:
  gated:   10 assembly: three qualifications and a work instruction;
           20 sterilisation: one qualification and the steriliser class (the asset is scanned);
  ungated: the same two operations with no qualification, no work instruction and no equipment class, so
           the gate evaluates nothing.
One order per routing is created and released through `work_order_create` / `work_order_release`; the
other released orders are bulk copies of it, step rows copied field for field from what the release wrote
(requirements, work instruction, equipment class, inspection points). Half of the orders are fresh (their
operation 10 takes the track-ins), in the other half operation 10 is set done in the copy so operation 20
takes them. The copies, the people and their history are raw bulk inserts (COPY) outside the audit path,
because they are scaffolding; everything measured goes through the product.

Measured: `POST /api/v1/production/track-in` with an integration client's bearer token, served by
gunicorn on 127.0.0.1 as `qualiflow serve` runs it (gthread, --workers x --threads, DEBUG off, no access
log), driven by separate load processes with a fixed number of keep-alive connections (closed loop: each
connection sends its next track-in when the previous one is answered). Every track-in is a fresh
(operator, operation) pair, and consecutive ones go to different operations, so neither "already tracked
in" nor the per-operation row lock comes into play. 201 is an allowed track-in (run, step and order
updates, audit entries, outbox event); 409 `production.gate_refused` is a refusal (refusal record, audit
entry, outbox event); anything else is an error and makes the run fail.

The ungated baseline is the same endpoint, the same server, the same people, the same kind of order and
the same writes, on the routing whose operations require nothing: what is left of a track-in when the
gate has nothing to check (it still refuses the few people on leave, as it must). No switch in product
code is involved. Gated and ungated runs alternate after
a warm-up of each; each reports its best round (highest throughput) with that round's latencies.
Figures: throughput (track-ins answered per second over the run), p50, p99 and mean latency, and the
gated / ungated ratio of p50 latency (the target) as well as of the mean and of the time per track-in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import multiprocessing
import os
import queue
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .harness import ThrowawayDatabase, run_isolated

TARGET_THROUGHPUT = 300.0
TARGET_P99_MS = 50.0
TARGET_RATIO = 1.5
PATH = "/api/v1/production/track-in"
REASON = "track-in benchmark set-up"
LINE_PEOPLE = 1_000
ASSETS = 10
CLIENT_PROCESSES = 2
GATED_QUALIFICATIONS = ("Q-ASM", "Q-CLEAN", "Q-GMP")  # operation 10
EO_QUALIFICATION = "Q-EO"  # operation 20
OTHER_QUALIFICATIONS = 8
SOPS = 10
DAY = dt.timedelta(days=1)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qualiflow bench trackin", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000, help="people in the plant (10,000)")
    parser.add_argument("--requests", type=int, default=3_000, help="track-ins per measured run (3,000)")
    parser.add_argument("--warmup", type=int, default=300, help="track-ins per variant before measuring (300)")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections of the load (8)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating gated / ungated rounds (3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (2: one per core)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker, as `qualiflow serve` (4)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated plant and load")
    parser.add_argument(
        "--database-url", default="",
        help="a postgres:// server on which --bench-database is created and dropped (default: the server of "
        "$DATABASE_URL)",
    )
    parser.add_argument("--bench-database", default="qualiflow_bench_trackin", help="PostgreSQL database to create and drop")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if min(args.requests, args.concurrency, args.rounds, args.workers, args.threads) < 1:
        parser.error("--requests, --concurrency, --rounds, --workers and --threads must be at least 1")
    if args.people < 20:
        parser.error("--people must be at least 20")
    if args.warmup < 0:
        parser.error("--warmup cannot be negative")
    return args


# ---------------------------------------------------------------- the generated plant


@dataclass
class Catalogue:
    now: dt.datetime
    lines: list  # ProductionLine
    site: object
    department: object
    qualifications: dict[str, object]  # code -> Qualification
    courses: dict[str, object]  # qualification code / "WI" -> Course
    wi: object  # Document
    wi_revisions: list[tuple[int, str, dt.datetime]]
    sops: list[tuple[object, object, int, str, dt.datetime]]  # (document, course, revision, label, effective from)
    assets: list[str]  # asset numbers; the last is overdue for calibration
    routings: dict[str, object]  # "gated" / "ungated" -> Routing
    products: dict[str, object]


@dataclass
class Plant:
    catalogue: Catalogue
    badges: list[str] = field(default_factory=list)
    targets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # variant -> (order number, sequence)
    token: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def _catalogue(rng: random.Random, args: argparse.Namespace) -> Catalogue:
    """Organisation, qualifications, documents, equipment and routings through the services and the
    audited model layer, as an installation would set them up (a few dozen records)."""
    from django.utils import timezone

    from qualiflow.core import context
    from qualiflow.documents import services as document_services
    from qualiflow.documents.models import DocumentKind
    from qualiflow.equipment.models import (
        Equipment,
        EquipmentClass,
        EquipmentPlan,
        EquipmentRecord,
        PlanKind,
        RecordResult,
    )
    from qualiflow.org.models import Company, Department, ProductionLine, Site, WorkCenter
    from qualiflow.production.models import DeviceClass, Operation, Product, Routing, RoutingStatus
    from qualiflow.training import services as training_services
    from qualiflow.training.models import TargetKind

    now = timezone.now()
    with context.acting(reason=REASON):
        company = Company.objects.create(code="BT", name="基准医疗器械", name_en="Bench Medical")
        site = Site.objects.create(code="BT-S", name="基准工厂", name_en="Bench plant", company=company)
        department = Department.objects.create(code="BT-ASM", name="洁净组装车间", name_en="Clean-room assembly", site=site)
        lines = [
            ProductionLine.objects.create(code=f"BT-L{i:02d}", name=f"输液器组装线{i}", name_en=f"Line {i}", site=site,
                                          department=department)
            for i in range(max(1, args.people // LINE_PEOPLE))
        ]
        center = WorkCenter.objects.create(code="BT-WC", name="组装工位", name_en="Assembly bench", line=lines[0])

    qualifications, courses = {}, {}
    codes = [*GATED_QUALIFICATIONS, EO_QUALIFICATION, *(f"Q-X{i:02d}" for i in range(OTHER_QUALIFICATIONS))]
    for code in codes:
        qualifications[code] = training_services.qualification_create(
            data={"code": code, "name": f"资质 {code}", "name_en": f"Qualification {code}", "validity_days": 365,
                  "renewal_lead_days": 30}, reason=REASON)
        courses[code] = training_services.course_create(
            data={"code": f"C-{code}", "name": f"课程 {code}", "name_en": f"Course {code}", "duration_hours": 4},
            confers=[qualifications[code]], reason=REASON)

    wi = document_services.document_create(
        data={"code": "WI-ASM-01", "title": "输液器组装作业指导书", "title_en": "Infusion set assembly WI",
              "kind": DocumentKind.WORK_INSTRUCTION}, reason=REASON)
    wi_revisions = [(1, "A", now - 400 * DAY), (2, "B", now - 100 * DAY)]
    for _number, label, effective in wi_revisions:
        document_services.revision_create(document=wi, label=label, effective_from=effective, retraining_grace_days=30,
                                          reason=REASON)
    courses["WI"] = training_services.course_create(
        data={"code": "C-WI-ASM", "name": "组装作业指导书培训", "name_en": "Assembly WI training",
              "kind": "read_and_understand", "duration_hours": 1, "document": wi}, reason=REASON)
    sops = []
    for i in range(SOPS):
        sop = document_services.document_create(
            data={"code": f"SOP-{i:03d}", "title": f"规程{i}", "title_en": f"SOP {i}"}, reason=REASON)
        effective = now - DAY * rng.randint(30, 900)
        document_services.revision_create(document=sop, label="A", effective_from=effective, reason=REASON)
        course = training_services.course_create(
            data={"code": f"C-SOP-{i:03d}", "name": f"规程{i}培训", "name_en": f"SOP {i} reading",
                  "kind": "read_and_understand", "duration_hours": 1, "document": sop}, reason=REASON)
        sops.append((sop, course, 1, "A", effective))

    assets = [f"EO-{i:02d}" for i in range(1, ASSETS + 1)]
    with context.acting(reason=REASON):
        steriliser_class = EquipmentClass.objects.create(code="EQ-EO", name="环氧乙烷灭菌柜", name_en="EO steriliser")
        for index, asset_number in enumerate(assets):
            overdue = index == len(assets) - 1
            calibrated = now - DAY * (200 if overdue else rng.randint(5, 150))
            asset = Equipment.objects.create(
                asset_number=asset_number, name=f"灭菌柜{index + 1}号", name_en=f"Steriliser {index + 1}",
                equipment_class=steriliser_class, site=site, line=lines[index % len(lines)])
            plan = EquipmentPlan.objects.create(
                equipment=asset, kind=PlanKind.CALIBRATION, title="Temperature calibration", interval_days=180,
                tolerance="±0.5 °C", first_due=calibrated)
            EquipmentRecord.objects.create(
                equipment=asset, plan=plan, kind=PlanKind.CALIBRATION, external_lab="SIMT", started_at=calibrated,
                completed_at=calibrated, result=RecordResult.PASS, as_found="+0.2 °C", as_left="+0.1 °C",
                certificate_number=f"CAL-{asset_number}")

        routings, products, operations = {}, {}, {}
        for variant in ("gated", "ungated"):
            products[variant] = Product.objects.create(
                code=f"P-IS-{variant}", name=f"一次性输液器 ({variant})", name_en=f"Infusion set ({variant})",
                model="IS-20", device_class=DeviceClass.II)
            # Drafts while their operations' requirements are set; approved (backdated) below.
            routings[variant] = Routing.objects.create(product=products[variant], version=1, status=RoutingStatus.DRAFT)
            gated = variant == "gated"
            operations[variant] = (
                Operation.objects.create(
                    routing=routings[variant], sequence=10, name="组装", name_en="Assembly", work_center=center,
                    standard_minutes=2, work_instruction=wi if gated else None,
                    inspection_points=[{"code": "LEAK", "characteristic": "Leak test", "unit": "kPa", "lower": 0, "upper": 5}]),
                Operation.objects.create(
                    routing=routings[variant], sequence=20, name="灭菌", name_en="Sterilisation", work_center=center,
                    standard_minutes=1, equipment_class=steriliser_class if gated else None),
            )
    assemble, sterilise = operations["gated"]
    for code in GATED_QUALIFICATIONS:
        training_services.requirement_set(qualification=qualifications[code], target_kind=TargetKind.OPERATION,
                                          target_id=assemble.pk, reason=REASON)
    training_services.requirement_set(qualification=qualifications[EO_QUALIFICATION], target_kind=TargetKind.OPERATION,
                                      target_id=sterilise.pk, reason=REASON)
    with context.acting(reason=REASON):
        for routing in routings.values():
            routing.status, routing.effective_from, routing.approved_at = (
                RoutingStatus.APPROVED, now - 60 * DAY, now - 60 * DAY)
            routing.save()
    return Catalogue(now, lines, site, department, qualifications, courses, wi, wi_revisions, sops, assets, routings,
                     products)


def _traces(connection, tables: list[str], switch: str) -> None:
    # Raw writes to regulated tables would each be traced at commit; the scaffolding is not evidence.
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" {switch} TRIGGER qualiflow_trace')


def _people(rng: random.Random, args: argparse.Namespace, plant: Plant, writer) -> None:
    """The people and their training history. Most hold everything both gated operations need; a few
    miss a qualification, hold it expired or suspended, know only the superseded work-instruction revision
    or none, or are on leave: those are refused."""
    from django.db.models import QuerySet

    from qualiflow.people.models import Employee, EmployeeStatus

    from .qualification import GRANT_COLUMNS, RECORD_COLUMNS, SUSPENSION_COLUMNS

    c = plant.catalogue
    now = c.now
    employees = []
    for i in range(args.people):
        line = c.lines[min(i // LINE_PEOPLE, len(c.lines) - 1)]
        status = EmployeeStatus.ON_LEAVE if rng.random() < 0.005 else EmployeeStatus.ACTIVE
        employees.append(Employee(
            employee_number=f"T{i:07d}", family_name="王", given_name=f"{i}", hire_date=dt.date(2020, 1, 1),
            site_id=c.site.pk, department_id=c.department.pk, line_id=line.pk, status=status,
        ))
    QuerySet(model=Employee).bulk_create(employees, batch_size=2000)
    plant.badges = [e.employee_number for e in employees]
    counts = Counter()
    counts["on_leave"] = sum(e.status != EmployeeStatus.ACTIVE for e in employees)
    required = [*GATED_QUALIFICATIONS, EO_QUALIFICATION]
    others = [code for code in c.qualifications if code not in required]

    def record(employee, course, at, document=None, revision=None, label="") -> uuid.UUID:
        pk = uuid.uuid4()
        writer.add("training_trainingrecord", RECORD_COLUMNS, (
            pk, at, at, "{}", employee, course.pk, at, True, None, document, revision, label, ""))
        counts["records"] += 1
        return pk

    def grant(employee, code, valid_from) -> None:
        record_id = record(employee, c.courses[code], valid_from)
        writer.add("training_qualificationgrant", GRANT_COLUMNS, (
            uuid.uuid4(), valid_from, valid_from, "{}", employee, c.qualifications[code].pk, valid_from,
            valid_from + 365 * DAY, "training_record", json.dumps({"training_record_ids": [str(record_id)]}), "", "",
        ))
        counts["grants"] += 1

    for employee in employees:
        pk = employee.pk
        held = required + rng.sample(others, rng.randint(2, 4))
        missing = rng.choice(required) if rng.random() < 0.02 else None
        expired = rng.choice(required) if rng.random() < 0.03 else None
        for code in held:
            if code == missing:
                continue
            # A renewal history: the earlier grant ran out when the next one began.
            if rng.random() < 0.5:
                grant(pk, code, now - DAY * rng.randint(400, 700))
            if code == expired:
                grant(pk, code, now - DAY * rng.randint(366, 420))
                counts["expired"] += 1
            else:
                grant(pk, code, now - DAY * rng.randint(5, 360))
        if rng.random() < 0.01:
            writer.add("training_qualificationsuspension", SUSPENSION_COLUMNS, (
                uuid.uuid4(), now, now, "{}", pk, c.qualifications[rng.choice(required)].pk, now - 10 * DAY, None,
                "deviation under investigation"))
            counts["suspensions"] += 1
        # The work instruction: the current revision for most; only the superseded one, or none, for a few.
        draw = rng.random()
        (_n1, label_a, effective_a), (_n2, label_b, effective_b) = c.wi_revisions
        if draw < 0.96:
            record(pk, c.courses["WI"], effective_a + DAY * rng.randint(1, 200), c.wi.pk, 1, label_a)
        if draw < 0.93:
            record(pk, c.courses["WI"], effective_b + DAY * rng.randint(1, 60), c.wi.pk, 2, label_b)
        for document, course, revision, label, effective in rng.sample(c.sops, 3):
            record(pk, course, effective + DAY * rng.randint(1, 20), document.pk, revision, label)
    writer.flush()
    plant.counts.update(counts)


def _work_orders(args: argparse.Namespace, plant: Plant, orders_per_variant: int) -> None:
    """Per routing, one order created and released through the services; the others copied from it."""
    from django.db.models import QuerySet

    from qualiflow.production.models import StepStatus, WorkOrder, WorkOrderOperation, WorkOrderStatus
    from qualiflow.production.services import orders

    c = plant.catalogue
    now = c.now
    for variant, prefix in (("gated", "G"), ("ungated", "U")):
        template = orders.work_order_create(
            number=f"WO-{prefix}-TEMPLATE", product=c.products[variant], routing=c.routings[variant], line=c.lines[0],
            quantity=100, lot_number=f"L-{prefix}-0", planned_start=now, planned_end=now + dt.timedelta(hours=8),
            reason=REASON)
        template = orders.work_order_release(work_order=template, reason=REASON)
        steps = list(template.steps.order_by("sequence"))
        copies, step_rows, targets = [], [], []
        for i in range(orders_per_variant):
            later = i % 2 == 1  # operation 10 done: operation 20 takes the track-ins
            order = WorkOrder(
                number=f"WO-{prefix}-{i:06d}", product_id=template.product_id, routing_id=template.routing_id,
                line_id=template.line_id, quantity=template.quantity, lot_number=f"L-{prefix}-{i}",
                planned_start=template.planned_start, planned_end=template.planned_end,
                status=WorkOrderStatus.IN_PROGRESS if later else WorkOrderStatus.RELEASED,
                released_at=template.released_at, started_at=now - DAY if later else None,
                release_warnings=template.release_warnings,
            )
            copies.append(order)
            for step in steps:
                done = later and step.sequence == steps[0].sequence
                step_rows.append(WorkOrderOperation(
                    work_order=order, operation_id=step.operation_id, sequence=step.sequence, name=step.name,
                    name_en=step.name_en, work_center_id=step.work_center_id, standard_minutes=step.standard_minutes,
                    equipment_class_id=step.equipment_class_id, work_instruction_id=step.work_instruction_id,
                    requirements=step.requirements, inspection_points=step.inspection_points,
                    status=StepStatus.DONE if done else StepStatus.PENDING,
                    good_quantity=template.quantity if done else 0, completed_at=now - DAY if done else None,
                ))
            targets.append((order.number, steps[1 if later else 0].sequence))
        QuerySet(model=WorkOrder).bulk_create(copies, batch_size=2000)
        QuerySet(model=WorkOrderOperation).bulk_create(step_rows, batch_size=2000)
        plant.targets[variant] = targets
        plant.counts[f"{variant}_requirements"] = sum(len(s.requirements) for s in steps)
    plant.counts["orders"] = 2 * (orders_per_variant + 1)


def _generate(rng: random.Random, args: argparse.Namespace, orders_per_variant: int) -> Plant:
    from django.db import connection, transaction

    from qualiflow.accounts import services as account_services
    from qualiflow.accounts.roles import Role
    from qualiflow.people.models import Employee
    from qualiflow.production.models import WorkOrder, WorkOrderOperation
    from qualiflow.training.models import QualificationGrant, QualificationSuspension, TrainingRecord

    from .qualification import BulkWriter

    plant = Plant(_catalogue(rng, args))
    bulk_tables = [m._meta.db_table for m in (Employee, QualificationGrant, QualificationSuspension, TrainingRecord,
                                              WorkOrder, WorkOrderOperation)]
    _traces(connection, bulk_tables, "DISABLE")
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            _people(rng, args, plant, BulkWriter(connection, "postgresql"))
    finally:
        _traces(connection, bulk_tables, "ENABLE")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # The releases read the line's people, so they come after them.
    _traces(connection, bulk_tables, "DISABLE")
    try:
        with transaction.atomic():
            _work_orders(args, plant, orders_per_variant)
    finally:
        _traces(connection, bulk_tables, "ENABLE")
    user = account_services.user_create(username="bench-mes", password="Bench-Terminal-2026!", language="en")
    account_services.role_assign(user=user, role=Role.INTEGRATION)
    _token, plant.token = account_services.api_token_issue(user=user, name="MES terminal (benchmark)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return plant


# ---------------------------------------------------------------- the load


def _plan(rng: random.Random, plant: Plant, total: int) -> list[tuple[int, str]]:
    """(target index, badge) for each track-in of a variant, in order: targets in turn (consecutive track-ins
    on different operations), each operator at most once per target. The same list drives both variants."""
    targets = len(plant.targets["gated"])
    used: list[set[int]] = [set() for _ in range(targets)]
    plan = []
    for k in range(total):
        index = k % targets
        while True:
            person = rng.randrange(len(plant.badges))
            if person not in used[index]:
                used[index].add(person)
                break
        plan.append((index, plant.badges[person]))
    return plan


def _bodies(plant: Plant, variant: str, plan: list[tuple[int, str]]) -> list[bytes]:
    assets = plant.catalogue.assets
    bodies = []
    for k, (index, badge) in enumerate(plan):
        number, sequence = plant.targets[variant][index]
        # The gated operation 20 needs the steriliser scanned; the ungated one needs nothing scanned.
        asset = assets[index // 2 % len(assets)] if variant == "gated" and sequence == 20 else ""
        bodies.append(json.dumps({"badge": badge, "work_order": number, "sequence": sequence, "asset_number": asset,
                                  "station": f"BENCH-{k % 16:02d}"}).encode())
    return bodies


def _client(port: int, token: str, bodies: list[bytes], connections: int, out) -> None:
    """One load process: `connections` threads, each on its own keep-alive connection, taking the next
    track-in from a shared queue as soon as the previous one is answered."""
    work: queue.SimpleQueue = queue.SimpleQueue()
    for body in bodies:
        work.put(body)
    results: list[tuple[float, float, int, str]] = []
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}

    def connection_loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                break
            start = time.perf_counter()
            try:
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                mine.append((start, time.perf_counter(), 0, type(exc).__name__))
                continue
            end = time.perf_counter()
            code = ""
            if status != 201:
                try:
                    code = json.loads(payload).get("code", "")
                except ValueError:
                    code = payload[:80].decode(errors="replace")
            mine.append((start, end, status, code))
        conn.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=connection_loop) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(results)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _drive(port: int, token: str, bodies: list[bytes], concurrency: int) -> dict:
    """Send `bodies` with `concurrency` connections spread over up to two load processes; the figures."""
    context = multiprocessing.get_context("spawn")
    processes = min(CLIENT_PROCESSES, concurrency)
    out = context.Queue()
    children = []
    for p in range(processes):
        connections = concurrency // processes + (1 if p < concurrency % processes else 0)
        child = context.Process(target=_client, args=(port, token, bodies[p::processes], connections, out))
        child.start()
        children.append(child)
    results = [r for _ in children for r in out.get(timeout=3600)]
    for child in children:
        child.join()
    latencies = [end - start for start, end, _status, _code in results]
    window = max(end for _s, end, _st, _c in results) - min(start for start, _e, _st, _c in results)
    statuses = Counter(f"{status} {code}".strip() for _s, _e, status, code in results)
    allowed = statuses.get("201", 0)
    refused = statuses.get("409 production.gate_refused", 0)
    return {
        "requests": len(results), "allowed": allowed, "refused": refused,
        "errors": {k: v for k, v in statuses.items() if k not in ("201", "409 production.gate_refused")},
        "seconds": window, "throughput": len(results) / window,
        "p50_ms": _percentile(latencies, 0.5) * 1e3, "p99_ms": _percentile(latencies, 0.99) * 1e3,
        "mean_ms": statistics.fmean(latencies) * 1e3, "max_ms": max(latencies) * 1e3,
    }


# ---------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving the WSGI application on the benchmark's database, as `qualiflow serve` does."""

    def __init__(self, database_url: str, workers: int, threads: int) -> None:
        self.port = _free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="qualiflow-bench-trackin-", suffix=".log", delete=False)  # noqa: SIM115
        env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "qualiflow.settings",
               "QUALIFLOW_DEBUG": "0"}
        self.argv = [
            sys.executable, "-m", "gunicorn", "qualiflow.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
            "--graceful-timeout", "10", "--log-level", "warning",
        ]
        self.process = subprocess.Popen(self.argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", PATH)
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer within {timeout:.0f}s:\n{self.output()}")

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


# ---------------------------------------------------------------- the run


def _run(args: argparse.Namespace, database_url: str) -> dict:
    from django.core.management import call_command
    from django.db import connection, connections

    from qualiflow.production.models import GateRefusal, OperationRun

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(args.seed)
    per_variant = args.warmup + args.rounds * args.requests
    orders_per_variant = max(4, math.ceil(per_variant / 8), 2 * math.ceil(per_variant / args.people))
    start = time.perf_counter()
    plant = _generate(rng, args, orders_per_variant)
    generate_s = time.perf_counter() - start
    plan = _plan(random.Random(args.seed + 1), plant, per_variant)
    bodies = {variant: _bodies(plant, variant, plan) for variant in ("gated", "ungated")}
    connections.close_all()

    server = Server(database_url, args.workers, args.threads)
    rounds: dict[str, list[dict]] = {"gated": [], "ungated": []}
    try:
        for variant in ("gated", "ungated"):
            if args.warmup:
                warm = _drive(server.port, plant.token, bodies[variant][:args.warmup], args.concurrency)
                if warm["errors"]:
                    raise SystemExit(f"warm-up ({variant}) answered {warm['errors']}:\n{server.output()}")
        for r in range(args.rounds):
            chunk = slice(args.warmup + r * args.requests, args.warmup + (r + 1) * args.requests)
            for variant in ("gated", "ungated") if r % 2 == 0 else ("ungated", "gated"):
                rounds[variant].append(_drive(server.port, plant.token, bodies[variant][chunk], args.concurrency))
        log = server.output()
    finally:
        server.stop()

    best = {variant: max(runs, key=lambda run: run["throughput"]) for variant, runs in rounds.items()}
    gated, ungated = best["gated"], best["ungated"]
    # What the database holds agrees with what was answered (warm-up included).
    recorded = {
        f"{variant}_{kind}": model.objects.filter(step__work_order__routing=plant.catalogue.routings[variant]).count()
        for variant in ("gated", "ungated") for kind, model in (("runs", OperationRun), ("refusals", GateRefusal))
    }
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    errors = sum(sum(run["errors"].values()) for runs in rounds.values() for run in runs)
    return {
        "engine": "postgresql", "server_version": server_version, "people": args.people,
        "records": plant.counts["records"], "grants": plant.counts["grants"],
        "expired": plant.counts["expired"], "suspensions": plant.counts["suspensions"],
        "on_leave": plant.counts["on_leave"], "orders": plant.counts["orders"], "generate_s": generate_s,
        "requests": args.requests, "warmup": args.warmup, "rounds": args.rounds, "concurrency": args.concurrency,
        "workers": args.workers, "threads": args.threads, "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "gated": gated, "ungated": ungated, "all_rounds": rounds, "recorded": recorded, "errors": errors,
        "ratio_p50": gated["p50_ms"] / ungated["p50_ms"], "ratio_mean": gated["mean_ms"] / ungated["mean_ms"],
        "ratio_throughput": ungated["throughput"] / gated["throughput"],
        "server_log": log if errors else "",
    }


def _table(r: dict) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    g, u = r["gated"], r["ungated"]
    rows = [
        ("throughput (track-ins/s)", f"{g['throughput']:,.1f}", f"{u['throughput']:,.1f}", r["ratio_throughput"],
         "≥ 300/s", verdict(g["throughput"] >= TARGET_THROUGHPUT)),
        ("latency p50", f"{g['p50_ms']:.1f}ms", f"{u['p50_ms']:.1f}ms", r["ratio_p50"], "≤ 1.5x",
         verdict(r["ratio_p50"] <= TARGET_RATIO)),
        ("latency mean", f"{g['mean_ms']:.1f}ms", f"{u['mean_ms']:.1f}ms", r["ratio_mean"], "", ""),
        ("latency p99", f"{g['p99_ms']:.1f}ms", f"{u['p99_ms']:.1f}ms", g["p99_ms"] / u["p99_ms"], "≤ 50 ms",
         verdict(g["p99_ms"] <= TARGET_P99_MS)),
    ]
    lines = [
        f"Qualiflow track-in benchmark on postgresql {r['server_version']} — best of {r['rounds']} alternating rounds",
        f"plant: {r['people']:,} people, {r['grants']:,} grants ({r['expired']:,} lapsed), {r['records']:,} training "
        f"records, {r['suspensions']:,} suspensions, {r['on_leave']:,} on leave, {r['orders']:,} released work orders "
        f"(generated in {r['generate_s']:.0f}s)",
        f"server: gunicorn, {r['workers']} workers x {r['threads']} threads (gthread), DEBUG off, on 127.0.0.1 "
        f"({r['cpus']} CPUs, load average {r['load_average']:.1f})",
        f"load: {r['concurrency']} keep-alive connections, {r['requests']:,} track-ins per run after "
        f"{r['warmup']:,} warm-up track-ins per variant",
        "",
        f"{'measurement':<28}{'gated':>11}{'ungated':>11}{'ratio':>8}  {'target':<10}result",
        *(f"{name:<28}{a:>11}{b:>11}{ratio:>7.2f}x  {target:<10}{result}".rstrip()
          for name, a, b, ratio, target, result in rows),
        "",
        f"gated: {g['allowed']:,} allowed, {g['refused']:,} refused of {g['requests']:,} (best round); "
        f"ungated: {u['allowed']:,} allowed, {u['refused']:,} refused of {u['requests']:,}",
        f"recorded (all rounds and warm-up): gated {r['recorded']['gated_runs']:,} runs and "
        f"{r['recorded']['gated_refusals']:,} refusals, ungated {r['recorded']['ungated_runs']:,} runs and "
        f"{r['recorded']['ungated_refusals']:,} refusals",
        "other answers: " + (", ".join(f"{k} x{v}" for run in (*r["all_rounds"]["gated"], *r["all_rounds"]["ungated"])
                                        for k, v in run["errors"].items()) or "none"),
    ]
    if r["server_log"]:
        lines += ["", "server log (tail):", r["server_log"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    database = ThrowawayDatabase(args.database_url, args.bench_database, sqlite_name="trackin.sqlite3")
    if database.engine != "postgresql":
        raise SystemExit("the trackin benchmark runs on PostgreSQL: give --database-url postgres://… or set "
                         "DATABASE_URL to a PostgreSQL server")
    outcome: dict = {}

    def run(_engine: str) -> dict:
        outcome.update(_run(args, database.url))
        return outcome

    code = run_isolated(name="trackin", database=database, keep=args.keep, as_json=args.json, run=run, table=_table)
    return 1 if code or outcome.get("errors") else code
