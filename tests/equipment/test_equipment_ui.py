"""Equipment pages: a maintenance user lists, opens, exports and posts the forms with a reason; an operator
is refused; a failed calibration's record page links production's impact list only once it exists."""

from __future__ import annotations

import io
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from equipment_helpers import DAY, PDF
from openpyxl import load_workbook

from qualiflow.equipment import services
from qualiflow.equipment.models import Equipment, EquipmentClass, EquipmentPlan, EquipmentRecord

# The reader's plant time or the server's.
ZONES = (zoneinfo.ZoneInfo("UTC"), zoneinfo.ZoneInfo("Asia/Shanghai"))


def _local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_list_detail_and_export_show_availability(login, maintenance_user, steriliser, calibration_plan, now):
    client = login(maintenance_user)
    page = client.get(reverse("equipment:equipment_list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "EQ-0001" in body and "Available" in body
    fragment = client.get(reverse("equipment:equipment_list"), {"availability": "blocked"}, HTTP_HX_REQUEST="true")
    assert "EQ-0001" not in fragment.content.decode() and "<html" not in fragment.content.decode()

    services.equipment_update(equipment=steriliser, data={"status": "out_of_service"}, reason="broken")
    detail = client.get(reverse("equipment:equipment_detail", kwargs={"pk": steriliser.pk})).content.decode()
    assert "Blocked" in detail and "Out of service." in detail and "温度探头校准" in detail

    export = client.get(reverse("equipment:equipment_export"))
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.values)
    assert rows[0][:7] == ("Asset number", "Name", "Class", "Site", "Line", "Status", "Availability")
    assert rows[1][0] == "EQ-0001" and rows[1][6] == "Blocked" and rows[1][7] == "Out of service."
    due = now + 30 * DAY
    assert rows[1][9] is None and rows[1][11] in {due.astimezone(zone).strftime("%Y-%m-%d %H:%M") for zone in ZONES}


def test_forms_create_class_asset_and_plan_with_a_reason(login, maintenance_user, plant, metrology, now):
    client = login(maintenance_user)
    refused = client.post(reverse("equipment:class_create"), {"code": "BAL", "name": "天平"})
    assert refused.status_code == 200 and not EquipmentClass.objects.exists()
    assert client.post(reverse("equipment:class_create"), {"code": "BAL", "name": "天平", "reason": "new class"}).status_code == 302
    balance_class = EquipmentClass.objects.get(code="BAL")
    edit = client.post(reverse("equipment:class_edit", kwargs={"class_pk": balance_class.pk}),
                       {"code": "BAL", "name": "电子天平", "is_active": "on", "reason": "renamed"})
    assert edit.status_code == 302
    created = client.post(reverse("equipment:equipment_create"), {
        "asset_number": "EQ-0100", "name": "天平1", "equipment_class": balance_class.pk, "site": plant.site_a.pk,
        "line": plant.line_a.pk, "status": "in_service", "reason": "purchased"})
    assert created.status_code == 302
    balance = Equipment.objects.get(asset_number="EQ-0100")
    assert created["Location"] == reverse("equipment:equipment_detail", kwargs={"pk": balance.pk})
    assert client.get(reverse("equipment:equipment_edit", kwargs={"pk": balance.pk})).status_code == 200
    plan = client.post(reverse("equipment:plan_create", kwargs={"pk": balance.pk}), {
        "kind": "calibration", "title": "量程校准", "interval_days": "0", "qualification": metrology.pk,
        "first_due": _local(now + 30 * DAY), "reason": "calibration plan"})
    assert plan.status_code == 200 and "The interval is at least one day." in plan.content.decode()
    plan = client.post(reverse("equipment:plan_create", kwargs={"pk": balance.pk}), {
        "kind": "calibration", "title": "量程校准", "interval_days": "365", "qualification": metrology.pk,
        "first_due": _local(now + 30 * DAY), "reason": "calibration plan"})
    assert plan.status_code == 302
    saved = EquipmentPlan.objects.get(equipment=balance)
    assert client.post(reverse("equipment:plan_edit", kwargs={"pk": balance.pk, "plan_pk": saved.pk}), {
        "title": "量程校准", "interval_days": "180", "qualification": metrology.pk,
        "first_due": _local(now + 30 * DAY), "is_active": "on", "reason": "tighter interval"}).status_code == 302
    saved.refresh_from_db()
    assert saved.interval_days == 180


def test_start_and_complete_a_failed_calibration(login, maintenance_user, steriliser, calibration_plan, technician,
                                                 trainee, now):
    client = login(maintenance_user)
    start_url = reverse("equipment:record_start", kwargs={"pk": steriliser.pk})
    assert client.get(start_url, {"plan": calibration_plan.pk}).status_code == 200
    refused = client.post(start_url, {"plan": calibration_plan.pk, "performed_by": trainee.employee_number,
                                      "reason": "calibration"})
    assert refused.status_code == 200 and "does not hold the qualification Q-MET-T" in refused.content.decode()
    assert not EquipmentRecord.objects.exists()
    started = client.post(start_url, {"plan": calibration_plan.pk, "performed_by": technician.employee_number,
                                      "started_at": _local(now - DAY), "reason": "calibration"})
    record = EquipmentRecord.objects.get()
    assert started["Location"] == reverse("equipment:record_detail", kwargs={"record_pk": record.pk})
    completed = client.post(reverse("equipment:record_complete", kwargs={"record_pk": record.pk}), {
        "result": "fail", "as_found": "+1.2 °C", "as_left": "+1.2 °C", "certificate_number": "C-1",
        "certificate_file": SimpleUploadedFile("c.pdf", PDF), "reason": "probe 4 out of tolerance"})
    assert completed.status_code == 302
    record.refresh_from_db()
    assert (record.result, bool(record.certificate_file)) == ("fail", True)
    page = client.get(reverse("equipment:record_detail", kwargs={"record_pk": record.pk})).content.decode()
    assert "Out of tolerance" in page and "impact assessment" in page


def test_record_page_links_impact_only_when_production_provides_it(login, maintenance_user, steriliser,
                                                                  calibration_plan, technician, now, monkeypatch):
    from django.urls import NoReverseMatch

    from qualiflow.equipment import views

    services.equipment_record_create(equipment=steriliser, plan=calibration_plan, performed_by=technician,
                                     started_at=now - 40 * DAY, completed_at=now - 39 * DAY, result="pass", reason="ok")
    record = services.equipment_record_create(equipment=steriliser, plan=calibration_plan, performed_by=technician,
                                              started_at=now - 2 * DAY, completed_at=now - DAY, result="fail",
                                              reason="failed")
    url = reverse("equipment:record_detail", kwargs={"record_pk": record.pk})
    client = login(maintenance_user)
    page = client.get(url).content.decode()
    assert "since the last passing calibration" in page
    try:
        impact = reverse("production:calibration_impact", args=[record.pk])
    except NoReverseMatch:
        assert "Production affected" not in page
    else:
        assert f'href="{impact}"' in page

    def missing(*args, **kwargs):
        raise NoReverseMatch("production:calibration_impact")

    monkeypatch.setattr(views, "reverse", missing)
    page = client.get(url).content.decode()
    assert "Production affected" not in page and "since the last passing calibration" in page


@pytest.mark.parametrize("name, kwargs, method", [
    ("equipment:equipment_list", {}, "get"),
    ("equipment:equipment_export", {}, "get"),
    ("equipment:equipment_detail", {"pk": None}, "get"),
    ("equipment:equipment_create", {}, "post"),
    ("equipment:equipment_edit", {"pk": None}, "post"),
    ("equipment:class_list", {}, "get"),
    ("equipment:class_create", {}, "post"),
    ("equipment:plan_create", {"pk": None}, "post"),
    ("equipment:record_start", {"pk": None}, "post"),
])
def test_operator_is_refused(login, operator_user, steriliser, name, kwargs, method):
    kwargs = {k: steriliser.pk for k in kwargs}
    response = getattr(login(operator_user), method)(reverse(name, kwargs=kwargs), {"reason": "x"})
    assert response.status_code == 403


def test_auditor_reads_but_cannot_record(login, make_user, steriliser):
    from qualiflow.accounts.roles import Role

    client = login(make_user(Role.AUDITOR))
    assert client.get(reverse("equipment:equipment_detail", kwargs={"pk": steriliser.pk})).status_code == 200
    assert client.get(reverse("equipment:record_start", kwargs={"pk": steriliser.pk})).status_code == 403
