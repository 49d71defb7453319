"""The device history record of an order made through the real station: the gate's stored decisions end up
in the signed record and its PDF (operators, qualification evidence, calibration, the override)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
import station_plant
from django.urls import reverse
from django.utils import timezone

from qualiflow.accounts.roles import Role
from qualiflow.production.models import WorkOrderStatus
from qualiflow.production.services import station
from qualiflow.production.services.dhr import dhr_export, dhr_verify
from tests.conftest import PASSWORD


@pytest.fixture
def made(plant, make_employee, make_user):
    line = station_plant.build(plant, number="WO-STN-7")
    first = make_employee(employee_number="OP-201", family_name="李", given_name="娜")
    second = make_employee(employee_number="OP-202", family_name="张", given_name="伟")
    third = make_employee(employee_number="OP-203", family_name="王", given_name="芳")
    station_plant.qualify(line, first)
    station_plant.qualify(line, second, valid_until=timezone.now() + dt.timedelta(days=10))  # within the renewal lead
    station_plant.qualify(line, third, eo=False)
    runs = [station.operation_track_in(badge=badge, work_order="WO-STN-7", sequence=10).run for badge in ("OP-201", "OP-202")]
    station.operation_track_out(run=runs[0], good_quantity=6, inspection_results={"LEAK": "1.5"})
    station.operation_track_out(run=runs[1], good_quantity=4, inspection_results={"LEAK": "2"})
    refusal = station.operation_track_in(badge="OP-203", work_order="WO-STN-7", sequence=20, asset_number="EO-01").refusal
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, first_name="Wei", last_name="Chen")
    qa = make_user(Role.QA, first_name="Min", last_name="Liu")
    override = station.operation_override(refusal=refusal, supervisor=supervisor, supervisor_password=PASSWORD, qa=qa,
                                          qa_password=PASSWORD, reason="Trainer present at the steriliser")
    station.operation_track_out(run=override, good_quantity=10)
    line.work_order.refresh_from_db()
    assert line.work_order.status == WorkOrderStatus.COMPLETED
    return line, [first, second, third], qa, override


def test_the_signed_record_and_its_pdf_carry_the_gate_evidence(made, login, tmp_path):
    line, operators, qa, override = made
    export = dhr_export(work_order=line.work_order, signer=qa, password=PASSWORD, reason="Batch release")
    assert dhr_verify(export)
    content = export.content
    exceptions = content["exceptions"]
    assert [o["employee_number"] for o in exceptions["overrides"]] == ["OP-203"]
    assert [(e["employee_number"], e["code"]) for e in exceptions["expiring_qualifications"]] == [("OP-202", "Q-ASM")]
    assert exceptions["refusals"] == 1 and exceptions["failed_inspections"] == []
    [run] = content["steps"][1]["runs"]
    assert run["equipment"]["calibration_certificate"] == "CAL-2026-0042"
    assert run["equipment"]["calibration_record_id"] == str(line.calibration.pk)
    assert run["deviation"]["number"] == override.deviation.number
    assert len(run["override_signatures"]) == 2

    response = login(qa).get(reverse("production:dhr_pdf", kwargs={"pk": export.pk}))
    assert response.status_code == 200
    source = tmp_path / "dhr.pdf"
    source.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True).stdout
    squeezed = re.sub(r"\s", "", text)
    for operator in operators:
        assert operator.employee_number in text
        assert operator.full_name in squeezed
    assert "Q-ASM" in text and "Q-EO" in text
    grant = operators[0].qualification_grants.get(qualification=line.assembly)
    assert str(grant.pk) in squeezed
    assert "CERT-Q-ASM-OP-201" in text and "CERT-Q-ASM-OP-202" in text
    assert "CAL-2026-0042" in text and str(line.calibration.pk) in squeezed
    assert "WI-ASM-01" in text
    assert override.deviation.number in text and "OVERRIDE" in text
    assert export.content_hash in squeezed
