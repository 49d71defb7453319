"""Device history record: content, export (hash + e-signature), verification, PDF, JSON, pages and API.

The work order here is built from rows directly, with gate decisions shaped as the station stores them, so
the record's content is known to the character: two operations, three runs (one overridden through a
refusal, with a deviation), one refusal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.accounts.services import esignature_sign
from qualiflow.core.context import acting
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.documents.models import Document
from qualiflow.equipment.models import Equipment, EquipmentClass, EquipmentRecord, PlanKind, RecordResult
from qualiflow.integration.models import OutboxEvent
from qualiflow.org import services as org_services
from qualiflow.org.models import WorkCenter
from qualiflow.production.models import (
    DeviceClass,
    DhrExport,
    GateRefusal,
    Operation,
    OperationRun,
    Product,
    Routing,
    RoutingStatus,
    StepStatus,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)
from qualiflow.production.selectors.dhr import dhr_content
from qualiflow.production.services.dhr import dhr_export, dhr_verify
from qualiflow.quality.models import QualityEvent, QualityEventKind
from tests.conftest import PASSWORD

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
Q_ASM = "6a0f6f0e-1b1f-4c55-9d0e-000000000001"
Q_EO = "6a0f6f0e-1b1f-4c55-9d0e-000000000002"


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _iso(minutes: int) -> str:
    return _at(minutes).isoformat()


@dataclass
class Dhr:
    work_order: WorkOrder
    routing: Routing
    steps: list[WorkOrderOperation]
    runs: list[OperationRun]
    refusal: GateRefusal
    deviation: QualityEvent
    calibration: EquipmentRecord
    operators: list
    grants: dict[str, str]
    supervisor: object
    qa: object


def _qualification(code: str, qualification_id: str, grant_id: str | None, state: str, *, until: int | None = 400_000,
                   certificates: tuple[str, ...] = ()) -> dict:
    return {
        "qualification_id": qualification_id, "code": code, "name": {"Q-ASM": "组装资质", "Q-EO": "灭菌资质"}[code],
        "state": state, "grant_id": grant_id, "valid_from": _iso(-200_000) if grant_id else None,
        "valid_until": _iso(until) if grant_id and until is not None else None,
        "certificate_numbers": list(certificates), "evidence": [f"grant:{grant_id}"] if grant_id else [],
    }


def _decision(operator, qualifications: list[dict], *, at: int, allowed: bool = True, equipment: dict | None = None,
              reasons: list[dict] | None = None, work_instruction: dict | None = None) -> dict:
    return {
        "allowed": allowed, "at": _iso(at), "overridden": False,
        "operator": {"id": str(operator.pk), "employee_number": operator.employee_number, "name": operator.full_name},
        "work_instruction": work_instruction, "qualifications": qualifications, "equipment": equipment,
        "reasons": reasons or [],
    }


@pytest.fixture
def dhr(plant, make_employee, make_user) -> Dhr:
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, first_name="Wei", last_name="Chen")
    qa = make_user(Role.QA, first_name="Min", last_name="Liu")
    operators = [
        make_employee(employee_number="OP-101", family_name="李", given_name="娜"),
        make_employee(employee_number="OP-102", family_name="张", given_name="伟"),
        make_employee(employee_number="OP-103", family_name="王", given_name="芳"),
    ]
    grants = {"OP-101": str(uuid.UUID(int=101)), "OP-102": str(uuid.UUID(int=102)), "OP-103": str(uuid.UUID(int=103))}
    center = org_services.org_unit_create(model=WorkCenter, data={
        "code": "WC-DHR", "name": "组装工位", "name_en": "Assembly bench", "line": plant.line_a}, reason="test")
    with acting(reason="test"):
        wi = Document.objects.create(code="WI-ASM-01", title="组装作业指导书", title_en="Assembly WI", kind="wi")
        eo_class = EquipmentClass.objects.create(code="EQ-EO", name="环氧乙烷灭菌柜", name_en="EO steriliser")
        steriliser = Equipment.objects.create(asset_number="EO-01", name="灭菌柜1号", name_en="Steriliser 1",
                                              equipment_class=eo_class, site=plant.site_a, line=plant.line_a)
        calibration = EquipmentRecord.objects.create(
            equipment=steriliser, kind=PlanKind.CALIBRATION, external_lab="SIMT", started_at=_at(-40_000),
            completed_at=_at(-40_000), result=RecordResult.PASS, certificate_number="CAL-2026-0042")
        product = Product.objects.create(code="P-IS-01", name="一次性输液器", name_en="Infusion set", model="IS-20",
                                         device_class=DeviceClass.II, udi_di="06901234567892")
        routing = Routing.objects.create(product=product, version=3, status=RoutingStatus.APPROVED,
                                         effective_from=_at(-90_000), approved_at=_at(-90_000))
        operations = [
            Operation.objects.create(routing=routing, sequence=10, name="组装", name_en="Assembly", work_center=center,
                                     standard_minutes=Decimal("1.50"), work_instruction=wi),
            Operation.objects.create(routing=routing, sequence=20, name="灭菌", name_en="Sterilisation",
                                     work_center=center, standard_minutes=Decimal("0.25"), equipment_class=eo_class),
        ]
        order = WorkOrder.objects.create(
            number="WO-DHR-1", product=product, routing=routing, line=plant.line_a, quantity=10, lot_number="L2026-031",
            planned_start=_at(0), planned_end=_at(480), status=WorkOrderStatus.COMPLETED, released_at=_at(-60),
            started_at=_at(5), completed_at=_at(300))
        leak = {"code": "LEAK", "characteristic": "Leak test", "unit": "kPa", "lower": 0, "upper": 5}
        steps = [
            WorkOrderOperation.objects.create(
                work_order=order, operation=operations[0], sequence=10, name="组装", name_en="Assembly",
                work_center=center, standard_minutes=Decimal("1.50"), work_instruction=wi,
                requirements=[{"qualification_id": Q_ASM, "code": "Q-ASM", "mandatory": True}],
                inspection_points=[leak], status=StepStatus.DONE, good_quantity=9, scrap_quantity=1,
                completed_at=_at(120)),
            WorkOrderOperation.objects.create(
                work_order=order, operation=operations[1], sequence=20, name="灭菌", name_en="Sterilisation",
                work_center=center, standard_minutes=Decimal("0.25"), equipment_class=eo_class,
                requirements=[{"qualification_id": Q_EO, "code": "Q-EO", "mandatory": True}],
                status=StepStatus.DONE, good_quantity=9, scrap_quantity=0, completed_at=_at(300)),
        ]
        instruction = {"document_id": str(wi.pk), "code": "WI-ASM-01", "revision": 2, "label": "B",
                       "trained_revision": 2, "record_id": str(uuid.UUID(int=900))}
        equipment = {"id": str(steriliser.pk), "asset_number": "EO-01", "name": "灭菌柜1号", "available": True,
                     "calibration_record_id": str(calibration.pk), "calibration_certificate": "CAL-2026-0042",
                     "calibrated_at": _iso(-40_000), "calibration_due": _iso(220_000), "reasons": []}
        first = OperationRun.objects.create(
            step=steps[0], operator=operators[0], tracked_in_at=_at(10), tracked_out_at=_at(60), good_quantity=6,
            scrap_quantity=0, inspection_results=[{"code": "LEAK", "value": "1.2", "passed": True}],
            decision=_decision(operators[0], [_qualification("Q-ASM", Q_ASM, grants["OP-101"], "qualified",
                                                             certificates=("CERT-ASM-101",))],
                               at=10, work_instruction=instruction))
        # Tracked in first, so listed first; its qualification runs out within the renewal lead time.
        second = OperationRun.objects.create(
            step=steps[0], operator=operators[1], tracked_in_at=_at(5), tracked_out_at=_at(120), good_quantity=3,
            scrap_quantity=1, inspection_results=[{"code": "LEAK", "value": "7.5", "passed": False}],
            decision=_decision(operators[1], [_qualification("Q-ASM", Q_ASM, grants["OP-102"], "expiring", until=14_400)],
                               at=5, work_instruction=instruction))
        refused = _decision(
            operators[2], [_qualification("Q-EO", Q_EO, None, "missing")], at=130, allowed=False, equipment=equipment,
            reasons=[{"code": "qualification", "detail": "no_grant", "params": {"qualification": Q_EO}}])
        refusal = GateRefusal.objects.create(step=steps[1], operator=operators[2], equipment=steriliser, at=_at(130),
                                             decision=refused, station="ST-2")
        deviation = QualityEvent.objects.create(number="DEV-2026-0007", kind=QualityEventKind.DEVIATION,
                                                title="Gate override", site=plant.site_a, opened_at=_at(140))
        third = OperationRun.objects.create(
            step=steps[1], operator=operators[2], equipment=steriliser, tracked_in_at=_at(140), tracked_out_at=_at(300),
            good_quantity=9, scrap_quantity=0, decision={**refused, "overridden": True}, overridden=True,
            override_reason="Certified trainer supervises the cycle", deviation=deviation, station="ST-2",
            tracked_in_by=supervisor)
        refusal.run = third
        refusal.save()
    esignature_sign(signer=supervisor, password=PASSWORD, record=routing, meaning="approved", reason="Validated")
    for signer in (supervisor, qa):
        esignature_sign(signer=signer, password=PASSWORD, record=third, meaning="approved",
                        reason="Certified trainer supervises the cycle")
    return Dhr(order, routing, steps, [second, first, third], refusal, deviation, calibration, operators, grants,
               supervisor, qa)


def _content(dhr: Dhr) -> dict:
    return dhr_content(work_order=dhr.work_order)


# ---- content -------------------------------------------------------------------------------------------


def test_content_header_steps_and_runs(dhr):
    content = _content(dhr)
    assert set(content) == {"schema", "header", "steps", "refusals", "deviations", "totals", "exceptions"}
    header = content["header"]
    routing_signatures = header["routing"].pop("signatures")
    assert header == {
        "work_order_id": str(dhr.work_order.pk), "work_order_number": "WO-DHR-1",
        "product": {"id": str(dhr.work_order.product_id), "code": "P-IS-01", "name": "一次性输液器",
                    "name_en": "Infusion set", "model": "IS-20", "device_class": "II", "udi_di": "06901234567892"},
        "routing": {"id": str(dhr.routing.pk), "version": 3, "status": "approved",
                    "effective_from": "2025-12-29T13:00:00Z", "approved_at": "2025-12-29T13:00:00Z"},
        "lot_number": "L2026-031", "serial_numbers": [], "quantity": 10,
        "line": {"id": str(dhr.work_order.line_id), "code": "L-A", "name": "输液器组装线A", "name_en": "Infusion set line A"},
        "site": {"id": str(dhr.work_order.line.site_id), "code": "SZ", "name": "苏州工厂", "name_en": "Suzhou"},
        "planned_start": "2026-03-02T01:00:00Z", "planned_end": "2026-03-02T09:00:00Z",
        "released_at": "2026-03-02T00:00:00Z", "started_at": "2026-03-02T01:05:00Z",
        "completed_at": "2026-03-02T06:00:00Z", "closed_at": None, "status": "completed",
    }
    assert [(s["printed_name"], s["meaning"]) for s in routing_signatures] == [("Wei Chen", "approved")]

    assert [s["sequence"] for s in content["steps"]] == [10, 20]
    assembly, sterilisation = content["steps"]
    assert assembly["requirements"] == [{"qualification_id": Q_ASM, "code": "Q-ASM", "mandatory": True}]
    assert assembly["work_instruction"]["code"] == "WI-ASM-01"
    assert (assembly["standard_minutes"], assembly["good_quantity"], assembly["scrap_quantity"], assembly["status"]) == (
        "1.50", 9, 1, "done")
    # Runs in the order they were tracked in.
    assert [r["operator"]["employee_number"] for r in assembly["runs"]] == ["OP-102", "OP-101"]
    first = assembly["runs"][1]
    assert first == {
        "id": str(dhr.runs[1].pk),
        "operator": {"id": str(dhr.operators[0].pk), "employee_number": "OP-101", "name": "李娜"},
        "tracked_in_at": "2026-03-02T01:10:00Z", "tracked_out_at": "2026-03-02T02:00:00Z", "station": "",
        "recorded_by": "", "equipment": None, "good_quantity": 6, "scrap_quantity": 0,
        "inspections": [{"code": "LEAK", "characteristic": "Leak test", "unit": "kPa", "lower": 0, "upper": 5,
                         "value": "1.2", "passed": True}],
        "decision": {"allowed": True, "at": "2026-03-02T01:10:00Z", "reasons": []},
        "work_instruction": {"document_id": assembly["work_instruction"]["id"], "code": "WI-ASM-01", "revision": 2,
                             "label": "B", "trained_revision": 2, "record_id": str(uuid.UUID(int=900)),
                             "in_grace_until": None},
        "qualifications": [{
            "qualification_id": Q_ASM, "code": "Q-ASM", "name": "组装资质", "state": "qualified", "expiring": False,
            "grant_id": dhr.grants["OP-101"], "valid_from": _at(-200_000).isoformat().replace("+00:00", "Z"),
            "valid_until": _at(400_000).isoformat().replace("+00:00", "Z"), "certificate_numbers": ["CERT-ASM-101"],
            "evidence": [f"grant:{dhr.grants['OP-101']}"],
        }],
        "overridden": False, "override_reason": "", "override_signatures": [], "deviation": None,
    }

    [overridden] = sterilisation["runs"]
    assert overridden["overridden"] is True
    assert overridden["override_reason"] == "Certified trainer supervises the cycle"
    assert [s["printed_name"] for s in overridden["override_signatures"]] == ["Wei Chen", "Min Liu"]
    assert overridden["recorded_by"] == "Wei Chen"
    assert overridden["deviation"]["number"] == "DEV-2026-0007"
    assert overridden["decision"]["reasons"] == [
        {"code": "qualification", "detail": "no_grant", "params": {"qualification": Q_EO}}]
    assert overridden["equipment"] == {
        "id": str(dhr.runs[2].equipment_id), "asset_number": "EO-01", "name": "灭菌柜1号", "available": True,
        "calibration_record_id": str(dhr.calibration.pk), "calibration_certificate": "CAL-2026-0042",
        "calibrated_at": _at(-40_000).isoformat().replace("+00:00", "Z"),
        "calibration_due": _at(220_000).isoformat().replace("+00:00", "Z"), "reasons": [], "evidence": [],
    }


def test_content_refusals_deviations_totals_and_exceptions(dhr):
    content = _content(dhr)
    third = str(dhr.runs[2].pk)
    assert content["refusals"] == [{
        "id": str(dhr.refusal.pk), "at": "2026-03-02T03:10:00Z", "step_sequence": 20,
        "operator": {"id": str(dhr.operators[2].pk), "employee_number": "OP-103", "name": "王芳"},
        "equipment": "EO-01", "station": "ST-2",
        "reasons": [{"code": "qualification", "detail": "no_grant", "params": {"qualification": Q_EO}}],
        "qualifications": [{
            "qualification_id": Q_EO, "code": "Q-EO", "name": "灭菌资质", "state": "missing", "expiring": False,
            "grant_id": None, "valid_from": None, "valid_until": None, "certificate_numbers": [], "evidence": [],
        }],
        "overridden": True, "run_id": third, "signatures": [],
    }]
    assert content["deviations"] == [{
        "id": str(dhr.deviation.pk), "number": "DEV-2026-0007", "kind": "deviation", "title": "Gate override",
        "status": "open", "opened_at": "2026-03-02T03:20:00Z", "closed_at": None, "step_sequence": 20, "run_id": third,
    }]
    assert content["totals"] == {"quantity": 10, "good": 9, "scrap": 1, "yield_percent": "90.00"}
    second = {"run_id": str(dhr.runs[0].pk), "step_sequence": 10, "employee_number": "OP-102", "name": "张伟"}
    assert content["exceptions"] == {
        "overrides": [{"step_sequence": 20, "run_id": third, "employee_number": "OP-103", "name": "王芳",
                       "reason": "Certified trainer supervises the cycle", "deviation": "DEV-2026-0007"}],
        "failed_inspections": [{**second, "code": "LEAK", "value": "7.5"}],
        "expiring_qualifications": [{**second, "code": "Q-ASM", "valid_until": "2026-03-12T01:00:00Z"}],
        "open_runs": [], "refusals": 1, "count": 4,
    }
    json.dumps(content)  # JSON-ready as it is


def test_content_tolerates_a_sparse_decision(dhr):
    """Whatever optional keys the stored decision lacks, the record still reads."""
    with acting(reason="test"):
        OperationRun.objects.filter(pk=dhr.runs[1].pk).update(decision={"allowed": True})
        OperationRun.objects.filter(pk=dhr.runs[2].pk).update(decision={"reasons": [{"code": "equipment_blocked",
                                                                                     "message_params": {"code": "x"}}]})
    content = _content(dhr)
    run = content["steps"][0]["runs"][1]
    assert run["operator"]["employee_number"] == "OP-101"
    assert run["qualifications"] == [] and run["work_instruction"] is None
    overridden = content["steps"][1]["runs"][0]
    assert overridden["equipment"]["asset_number"] == "EO-01"  # from the run's equipment
    assert overridden["decision"]["reasons"] == [{"code": "equipment_blocked", "detail": "", "params": {"code": "x"}}]


def test_query_count_does_not_grow_with_runs(dhr, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        dhr_content(work_order=dhr.work_order)
    step = dhr.steps[0]
    with acting(reason="test"):
        for index, operator in enumerate(dhr.operators * 4):
            run = OperationRun.objects.create(
                step=step, operator=operator, equipment=dhr.runs[2].equipment, tracked_in_at=_at(200 + index),
                tracked_out_at=_at(201 + index), good_quantity=0, decision=dhr.runs[2].decision,
                overridden=True, deviation=dhr.deviation)
            GateRefusal.objects.create(step=step, operator=operator, at=_at(200 + index), decision={}, run=run)
    with django_assert_max_num_queries(5):
        content = dhr_content(work_order=dhr.work_order)
    assert len(content["steps"][0]["runs"]) == 14


# ---- export, hash, verification ------------------------------------------------------------------------


def test_export_hashes_signs_and_verifies(dhr):
    export = dhr_export(work_order=dhr.work_order, signer=dhr.qa, password=PASSWORD, reason="Batch release")
    assert export.content == _content(dhr)
    canonical = json.dumps(export.content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert export.content_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert dhr_verify(export)
    [signature] = ESignature.objects.filter(object_type="production.dhrexport", object_id=str(export.pk))
    assert (signature.printed_name, signature.meaning, signature.reason) == ("Min Liu", "approved", "Batch release")
    event = OutboxEvent.objects.get(type="production.dhr.exported")
    assert event.data["content_hash"] == export.content_hash
    assert event.data["work_order_number"] == "WO-DHR-1"

    again = dhr_export(work_order=dhr.work_order, signer=dhr.supervisor, password=PASSWORD)
    assert again.content_hash == export.content_hash  # the same facts give the same hash

    with acting(reason="test"):
        DhrExport.objects.filter(pk=export.pk).update(content={**export.content, "totals": {"good": 10}})
    export.refresh_from_db()
    assert not dhr_verify(export)


def test_wrong_password_saves_nothing(dhr):
    exports, signatures = DhrExport.objects.count(), ESignature.objects.count()
    with pytest.raises(PermissionDenied) as refused:
        dhr_export(work_order=dhr.work_order, signer=dhr.qa, password="wrong")
    assert refused.value.code == "accounts.signature_password_invalid"
    assert (DhrExport.objects.count(), ESignature.objects.count()) == (exports, signatures)
    assert not OutboxEvent.objects.filter(type="production.dhr.exported").exists()


@pytest.mark.parametrize("status", [WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.CANCELLED])
def test_only_completed_or_closed_orders_are_exported(dhr, status):
    with acting(reason="test"):
        WorkOrder.objects.filter(pk=dhr.work_order.pk).update(status=status)
    with pytest.raises(ValidationFailed) as refused:
        dhr_export(work_order=dhr.work_order, signer=dhr.qa, password=PASSWORD)
    assert refused.value.code == "production.dhr_invalid"
    assert "WO-DHR-1" in str(refused.value.message)
    assert not DhrExport.objects.exists()


def test_closed_order_is_exported_and_operator_may_not_export(dhr, make_user):
    with acting(reason="test"):
        WorkOrder.objects.filter(pk=dhr.work_order.pk).update(status=WorkOrderStatus.CLOSED)
    assert dhr_export(work_order=dhr.work_order, signer=dhr.supervisor, password=PASSWORD).content["header"]["status"] == "closed"
    with pytest.raises(PermissionDenied):
        dhr_export(work_order=dhr.work_order, signer=make_user(Role.OPERATOR), password=PASSWORD)


# ---- PDF -----------------------------------------------------------------------------------------------


def _pdftotext(content: bytes, tmp_path) -> str:
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) is needed"
    source = tmp_path / "dhr.pdf"
    source.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True,
                          text=True).stdout


def _squeezed(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_pdf_holds_operators_qualifications_and_calibration(dhr, login, tmp_path):
    export = dhr_export(work_order=dhr.work_order, signer=dhr.qa, password=PASSWORD, reason="Batch release")
    response = login(dhr.qa).get(reverse("production:dhr_pdf", kwargs={"pk": export.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="DHR-WO-DHR-1.pdf"'
    text = _pdftotext(response.content, tmp_path)
    squeezed = _squeezed(text)
    assert "Device history record" in text and "器械历史记录" in text
    for operator in ("OP-101", "OP-102", "OP-103"):
        assert operator in text
    for name in ("李娜", "张伟", "王芳"):  # Chinese names, in the CJK font
        assert name in squeezed
    assert "Q-ASM" in text and "Q-EO" in text
    for grant in dhr.grants.values():
        if grant != dhr.grants["OP-103"]:  # OP-103 held no grant: that is why the gate refused
            assert grant in squeezed
    assert "CERT-ASM-101" in text
    assert "CAL-2026-0042" in text and str(dhr.calibration.pk) in squeezed
    assert "EO-01" in text
    assert "OVERRIDE" in text and "DEV-2026-0007" in text
    assert export.content_hash in squeezed
    assert "Min Liu" in text and "UTC" in text
    assert "Page 1 of" in text
    assert text.count("WO-DHR-1") >= 2  # the title and every page's footer


def test_pdf_reads_in_the_readers_language(dhr, make_user, login, tmp_path):
    export = dhr_export(work_order=dhr.work_order, signer=dhr.qa, password=PASSWORD)
    reader = make_user(Role.AUDITOR, language="zh-hans")
    client = login(reader)
    response = client.get(reverse("production:dhr_pdf", kwargs={"pk": export.pk}), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    text = _pdftotext(response.content, tmp_path)
    assert "器械历史记录" in text
    assert "OP-101" in text and export.content_hash in _squeezed(text)


def test_pdf_is_made_from_the_stored_content(dhr, login, tmp_path):
    export = dhr_export(work_order=dhr.work_order, signer=dhr.qa, password=PASSWORD)
    with acting(reason="test"):
        WorkOrder.objects.filter(pk=dhr.work_order.pk).update(lot_number="CHANGED-LATER")
    text = _pdftotext(login(dhr.qa).get(reverse("production:dhr_pdf", kwargs={"pk": export.pk})).content, tmp_path)
    assert "L2026-031" in text and "CHANGED-LATER" not in text


# ---- pages, downloads and API --------------------------------------------------------------------------


def test_json_download_is_the_stored_content(dhr, login):
    export = dhr_export(work_order=dhr.work_order, signer=dhr.qa, password=PASSWORD)
    response = login(dhr.qa).get(reverse("production:dhr_json", kwargs={"pk": export.pk}))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="DHR-WO-DHR-1.json"'
    body = json.loads(response.content)
    assert body["content"] == export.content
    assert body["content_hash"] == export.content_hash and body["verified"] is True
    assert [s["printed_name"] for s in body["signatures"]] == ["Min Liu"]


def test_preview_export_form_and_detail(dhr, login):
    client = login(dhr.supervisor)
    page = client.get(reverse("production:dhr_view", kwargs={"pk": dhr.work_order.pk}))
    assert page.status_code == 200
    html = page.content.decode()
    assert "WO-DHR-1" in html and "李娜" in html and "CAL-2026-0042" in html and "DEV-2026-0007" in html
    assert reverse("production:dhr_export", kwargs={"pk": dhr.work_order.pk}) in html

    url = reverse("production:dhr_export", kwargs={"pk": dhr.work_order.pk})
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"password": "wrong", "reason": ""})
    assert wrong.status_code == 200 and "password is not correct" in wrong.content.decode()
    assert not DhrExport.objects.exists()

    response = client.post(url, {"password": PASSWORD, "reason": "Release"})
    export = DhrExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("production:dhr_export_detail", kwargs={"pk": export.pk})
    detail = client.get(response["Location"]).content.decode()
    assert export.content_hash in detail and "Wei Chen" in detail
    assert reverse("production:dhr_pdf", kwargs={"pk": export.pk}) in detail
    assert "Verified" in detail


def test_pages_refuse_outside_scope_and_without_permission(dhr, make_user, login, plant):
    export = dhr_export(work_order=dhr.work_order, signer=dhr.qa, password=PASSWORD)
    other_line = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_b.pk)
    operator = make_user(Role.OPERATOR)
    auditor = make_user(Role.AUDITOR)
    for user, view, export_status in ((other_line, 403, 403), (operator, 403, 403), (auditor, 200, 403)):
        client = login(user)
        assert client.get(reverse("production:dhr_view", kwargs={"pk": dhr.work_order.pk})).status_code == view
        assert client.get(reverse("production:dhr_json", kwargs={"pk": export.pk})).status_code == view
        assert client.get(reverse("production:dhr_export", kwargs={"pk": dhr.work_order.pk})).status_code == export_status
    unknown = uuid.uuid4()
    assert login(auditor).get(reverse("production:dhr_export_detail", kwargs={"pk": unknown})).status_code == 404


def test_api_content_export_and_pdf(dhr, login, tmp_path):
    export = dhr_export(work_order=dhr.work_order, signer=dhr.qa, password=PASSWORD)
    client = login(dhr.qa)
    live = client.get(f"/api/v1/production/work-orders/{dhr.work_order.pk}/dhr")
    assert live.status_code == 200
    assert live.json() == _content(dhr)
    stored = client.get(f"/api/v1/production/dhr-exports/{export.pk}")
    assert stored.status_code == 200
    body = stored.json()
    assert body["content"] == export.content and body["content_hash"] == export.content_hash
    assert body["verified"] is True and [s["meaning"] for s in body["signatures"]] == ["approved"]
    pdf = client.get(f"/api/v1/production/dhr-exports/{export.pk}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "CAL-2026-0042" in _pdftotext(pdf.content, tmp_path)
    missing = client.get(f"/api/v1/production/dhr-exports/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["code"] == "core.not_found"
