"""Import pages and API: who may see and run imports, and that a refused request writes nothing."""

from __future__ import annotations

import csv
import io
import json

import pytest
from imports_helpers import snapshot, write_csv
from openpyxl import load_workbook

from qualiflow.accounts import services as account_services
from qualiflow.accounts.roles import Role
from qualiflow.imports import services, worker
from qualiflow.imports.models import BatchStatus, ColumnMapping, ImportBatch, SourceSystem, ValueMapping
from qualiflow.people.models import Employee

HEADER = ["employee_number", "family_name", "given_name", "hire_date", "site", "department"]
GOOD = [["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM"]]
BAD = [["E1", "张", "伟", "2020-02-30", "SZ", "SZ-ASM"]]


def _file(tmp_path, rows=GOOD, name="employees.csv"):
    return io.BytesIO(write_csv(tmp_path / name, HEADER, rows).read_bytes())


def _upload_form(legacy, handle, name="employees.csv"):
    handle.name = name
    return {"kind": "employees", "source": str(legacy.pk), "file": handle}


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.TRAINING_COORDINATOR, Role.INTEGRATION])
def test_the_pages_are_refused_without_integration_view(make_user, login, legacy, role, plant, tmp_path):
    client = login(make_user(role))
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/sources/").status_code == 403
    assert client.post("/imports/new/", _upload_form(legacy, _file(tmp_path))).status_code == 403
    assert ImportBatch.objects.count() == 0


def test_an_auditor_sees_batches_but_cannot_import(make_user, login, legacy, plant, tmp_path):
    batch = services.batch_validate(batch=services.batch_upload(
        kind="employees", source=legacy, file=_file(tmp_path), file_name="employees.csv"))
    client = login(make_user(Role.AUDITOR))
    assert client.get("/imports/").status_code == 200
    assert client.get(f"/imports/{batch.pk}/").status_code == 200
    assert client.get(f"/imports/sources/{legacy.pk}/").status_code == 200
    before = snapshot()
    assert client.post("/imports/new/", _upload_form(legacy, _file(tmp_path))).status_code == 403
    assert client.post(f"/imports/{batch.pk}/commit/").status_code == 403
    assert client.post("/imports/sources/", {"code": "x", "name": "X"}).status_code == 403
    assert client.post(f"/imports/sources/{legacy.pk}/values/", {"field": "status", "legacy_value": "1", "value": "active"}).status_code == 403
    assert ImportBatch.objects.count() == 1
    assert (SourceSystem.objects.count(), ValueMapping.objects.count()) == (1, 0)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.VALIDATED
    assert snapshot() == before


def test_hr_admin_uploads_previews_commits_and_rolls_back(make_user, login, legacy, plant, tmp_path):
    client = login(make_user(Role.HR_ADMIN))
    assert "employee_number*" in client.get("/imports/new/").content.decode()
    assert "legacy-hr" in client.get("/imports/sources/").content.decode()
    response = client.post("/imports/new/", _upload_form(legacy, _file(tmp_path)))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Commit 1 row" in page
    assert Employee.objects.count() == 0
    assert client.post(f"/imports/{batch.pk}/commit/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUEUED
    bar = client.get(f"/imports/{batch.pk}/progress/")
    assert 'hx-trigger="every 1s"' in bar.content.decode() and "HX-Refresh" not in bar
    assert worker.run_once() == 1
    assert client.get(f"/imports/{batch.pk}/progress/")["HX-Refresh"] == "true"
    assert Employee.objects.filter(employee_number="E1").exists()
    refused = client.post(f"/imports/{batch.pk}/rollback/", {"reason": ""})
    assert refused.status_code == 422 and Employee.objects.count() == 1
    assert client.post(f"/imports/{batch.pk}/rollback/", {"reason": "wrong file"}).status_code == 302
    assert Employee.objects.count() == 0
    assert "wrong file" in client.get(f"/imports/{batch.pk}/").content.decode()
    assert "employees.csv" in client.get("/imports/").content.decode()


def test_error_report_downloads(make_user, login, legacy, plant, tmp_path):
    batch = services.batch_validate(batch=services.batch_upload(
        kind="employees", source=legacy, file=_file(tmp_path, BAD), file_name="employees.csv"))
    client = login(make_user(Role.AUDITOR))
    message = ("Column hire_date: “2020-02-30” is not a date; write it as one of YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, "
               "YYYYMMDD, DD.MM.YYYY, YYYY年MM月DD日.")
    csv_text = client.get(f"/imports/{batch.pk}/errors.csv").content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(csv_text))) == [["Row", "Column", "Code", "Message"], ["2", "hire_date", "bad_date", message]]
    workbook = load_workbook(io.BytesIO(client.get(f"/imports/{batch.pk}/errors.xlsx").content))
    assert [list(r) for r in workbook.active.iter_rows(values_only=True)] == [
        ["Row", "Column", "Code", "Message"], [2, "hire_date", "bad_date", message]]
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "2020-02-30" in page and "Commit" not in page


def test_mapping_editor(make_user, login, legacy, plant):
    client = login(make_user(Role.HR_ADMIN))
    response = client.post(f"/imports/sources/{legacy.pk}/columns/employees/",
                           {"employees-employee_number": "工号", "employees-hire_date": "入职日期"})
    assert response.status_code == 302
    assert ColumnMapping.objects.get().columns == {"employee_number": "工号", "hire_date": "入职日期"}
    assert client.post(f"/imports/sources/{legacy.pk}/values/",
                       {"field": "status", "legacy_value": "3", "value": "terminated"}).status_code == 302
    mapping = ValueMapping.objects.get()
    assert (mapping.field, mapping.legacy_value, mapping.value) == ("status", "3", "terminated")
    assert client.post(f"/imports/sources/{legacy.pk}/values/{mapping.pk}/delete/").status_code == 302
    assert ValueMapping.objects.count() == 0
    assert client.post("/imports/sources/", {"code": "sap-hr", "name": "SAP HR"}).status_code == 302
    assert SourceSystem.objects.filter(code="sap-hr").exists()


# ---- API ------------------------------------------------------------------------------------------------


@pytest.fixture
def token(make_user):
    def make(role):
        return {"Authorization": f"Bearer {account_services.api_token_issue(user=make_user(role), name='t')[1]}"}

    return make


def test_api_upload_dry_run_commit_and_rollback(client, token, legacy, plant, tmp_path):
    headers = token(Role.HR_ADMIN)
    handle = _file(tmp_path)
    handle.name = "employees.csv"
    created = client.post("/api/v1/imports/batches", {"kind": "employees", "source": "legacy-hr", "file": handle},
                          headers=headers)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["rows"], body["created"], body["errors"], body["encoding"]) == (
        "validated", 1, 1, 0, "utf-8")
    assert Employee.objects.count() == 0
    committed = client.post(f"/api/v1/imports/batches/{body['id']}/commit", headers=headers)
    assert committed.status_code == 202 and committed.json()["status"] == "queued"
    worker.run_once()
    got = client.get(f"/api/v1/imports/batches/{body['id']}", headers=headers).json()
    assert (got["status"], got["progress"]) == ("committed", {"done": 1, "total": 1, "percent": 100})
    again = client.post(f"/api/v1/imports/batches/{body['id']}/commit", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "imports.not_validated"
    rolled = client.post(f"/api/v1/imports/batches/{body['id']}/rollback", json.dumps({"reason": "test"}),
                         content_type="application/json", headers=headers)
    assert rolled.status_code == 200 and rolled.json()["status"] == "rolled_back"
    assert Employee.objects.count() == 0


def test_api_errors_and_refusals(client, token, legacy, plant, tmp_path):
    handle = _file(tmp_path, BAD)
    handle.name = "employees.csv"
    denied = client.post("/api/v1/imports/batches", {"kind": "employees", "source": "legacy-hr", "file": handle},
                         headers=token(Role.AUDITOR))
    assert denied.status_code == 403 and ImportBatch.objects.count() == 0
    handle.seek(0)
    unknown = client.post("/api/v1/imports/batches", {"kind": "employees", "source": "nope", "file": handle},
                          headers=token(Role.HR_ADMIN))
    assert unknown.status_code == 422 and unknown.json()["details"]["fields"] == {
        "source": ["No source system nope; create it first."]}
    handle.seek(0)
    body = client.post("/api/v1/imports/batches", {"kind": "employees", "source": "legacy-hr", "file": handle},
                       headers=token(Role.HR_ADMIN)).json()
    assert body["errors"] == 1
    reader = token(Role.AUDITOR)
    errors = client.get(f"/api/v1/imports/batches/{body['id']}/errors", headers=reader).json()
    assert errors["count"] == 1 and errors["items"][0]["row"] == 2 and errors["items"][0]["code"] == "bad_date"
    refused = client.post(f"/api/v1/imports/batches/{body['id']}/commit", headers=token(Role.HR_ADMIN))
    assert refused.status_code == 409 and refused.json()["code"] == "imports.has_errors"
    assert client.get("/api/v1/imports/batches", headers=token(Role.OPERATOR)).status_code == 403


def test_api_mappings(client, token, legacy):
    headers = token(Role.HR_ADMIN)
    put = client.put("/api/v1/imports/sources/legacy-hr/columns/employees", json.dumps({"columns": {"hire_date": "入职"}}),
                     content_type="application/json", headers=headers)
    assert put.status_code == 200 and put.json() == {"kind": "employees", "columns": {"hire_date": "入职"}}
    bad = client.put("/api/v1/imports/sources/legacy-hr/columns/employees", json.dumps({"columns": {"shoe_size": "x"}}),
                     content_type="application/json", headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "imports.mapping_invalid"
    value = client.post("/api/v1/imports/sources/legacy-hr/values", json.dumps(
        {"field": "status", "legacy_value": "3", "value": "terminated"}), content_type="application/json", headers=headers)
    assert value.status_code == 201
    reader = token(Role.AUDITOR)
    assert client.get("/api/v1/imports/sources/legacy-hr/values", headers=reader).json() == [value.json()]
    denied = client.delete(f"/api/v1/imports/sources/legacy-hr/values/{value.json()['id']}", headers=reader)
    assert denied.status_code == 403 and ValueMapping.objects.count() == 1
    assert client.delete(f"/api/v1/imports/sources/legacy-hr/values/{value.json()['id']}", headers=headers).status_code == 204
    assert ValueMapping.objects.count() == 0
    created = client.post("/api/v1/imports/sources", json.dumps({"code": "sap-hr", "name": "SAP"}),
                          content_type="application/json", headers=headers)
    assert created.status_code == 201
    renamed = client.patch("/api/v1/imports/sources/sap-hr", json.dumps({"name": "SAP HCM"}),
                           content_type="application/json", headers=headers)
    assert renamed.json()["name"] == "SAP HCM"
