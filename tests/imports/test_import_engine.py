"""The import engine: dry run, commit, rollback, re-import, encodings, bad input, duplicates, XLSX."""

from __future__ import annotations

import datetime as dt

import pytest
from imports_helpers import audit_count, catalogue, snapshot, upload, write_csv
from openpyxl import Workbook

from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import Conflict
from qualiflow.imports import progress, services, worker
from qualiflow.imports.models import BatchStatus, ImportChange, ImportRowError
from qualiflow.integration.models import OutboxEvent
from qualiflow.people.models import Employee, EmployeeStatus
from qualiflow.training import services as training
from qualiflow.training.models import Certificate, QualificationGrant, TrainingRecord

EMPLOYEE_HEADER = ["employee_number", "family_name", "given_name", "hire_date", "site", "department", "birth_date", "phone"]


def _errors(batch) -> list[tuple]:
    return list(ImportRowError.objects.filter(batch=batch).order_by("row_number", "id").values_list("row_number", "message"))


def _validated(path, kind, source, **kwargs):
    return services.batch_validate(batch=upload(path, kind=kind, source=source, **kwargs))


def test_dry_run_writes_nothing(plant, legacy, tmp_path):
    path = write_csv(tmp_path / "employees.csv", EMPLOYEE_HEADER, [
        ["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "1990-05-06", ""],
        ["E2", "李", "娜", "2021/03/04", "SZ", "SZ-IM", "", "13800000000"],
    ])
    batch = upload(path, kind="employees", source=legacy)
    before, audits, events = snapshot(), audit_count(), OutboxEvent.objects.count()
    batch = services.batch_validate(batch=batch)
    assert (batch.status, batch.rows, batch.created_count, batch.updated_count, batch.skipped_count, batch.error_count) == (
        BatchStatus.VALIDATED, 2, 2, 0, 0, 0)
    assert batch.preview["create"] == 2
    assert snapshot() == before
    assert (audit_count(), OutboxEvent.objects.count(), ImportChange.objects.count()) == (audits, events, 0)


def test_commit_then_rollback_returns_the_database_to_its_prior_state(plant, make_employee, legacy, tmp_path):
    existing = make_employee(employee_number="E9", family_name="王", given_name="芳", phone="111")
    path = write_csv(tmp_path / "employees.csv", EMPLOYEE_HEADER, [
        ["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "1990-05-06", ""],
        ["E9", "王", "芳", "2022-03-01", "SZ", "SZ-ASM", "", "222"],
    ])
    before = snapshot()
    batch = services.batch_commit(batch=_validated(path, "employees", legacy))
    assert (batch.status, batch.created_count, batch.updated_count) == (BatchStatus.COMMITTED, 1, 1), batch.failure
    existing.refresh_from_db()
    assert existing.phone == "222"
    assert Employee.objects.get(employee_number="E1").external_refs == {}
    reasons = set(AuditEntry.objects.filter(object_type="people.employee", action__in=["create", "update"])
                  .exclude(reason="test hire").values_list("reason", flat=True))
    assert reasons == {f"Import batch {batch.pk} (employees from legacy-hr, file employees.csv)"}
    assert snapshot() != before

    services.batch_rollback(batch=batch, reason="wrong export")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.ROLLED_BACK
    assert snapshot() == before
    undo = AuditEntry.objects.filter(reason=f"Rollback of import batch {batch.pk}: wrong export")
    assert sorted(undo.values_list("action", flat=True)) == ["delete", "update"]


def test_reimport_of_the_same_file_changes_nothing(plant, legacy, tmp_path):
    catalogue()
    path = write_csv(tmp_path / "employees.csv", ["external_key", *EMPLOYEE_HEADER], [
        ["HR-1", "E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "1990-05-06", ""],
        ["HR-2", "E2", "李", "娜", "2021-03-04", "SZ", "SZ-IM", "", ""],
    ])
    first = services.batch_commit(batch=_validated(path, "employees", legacy))
    assert first.created_count == 2
    assert Employee.objects.get(employee_number="E1").external_refs == {"legacy-hr": "HR-1"}
    records = write_csv(tmp_path / "records.csv", ["employee_number", "course", "completed_at", "passed", "score"], [
        ["E1", "C-ASM", "2024-01-05", "是", "85"], ["E2", "C-ASM", "2024-01-05 10:30", "1", "90.5"]])
    services.batch_commit(batch=_validated(records, "training_records", legacy))
    before, audits = snapshot(), audit_count()

    for path_, kind in ((path, "employees"), (records, "training_records")):
        again = _validated(path_, kind, legacy)
        assert (again.created_count, again.updated_count, again.skipped_count, again.error_count) == (0, 0, 2, 0)
        again = services.batch_commit(batch=again)
        assert again.status == BatchStatus.COMMITTED
    assert snapshot() == before
    assert audit_count() == audits


def test_a_gb18030_file_with_chinese_names_imports_correctly(plant, legacy, tmp_path):
    path = write_csv(tmp_path / "员工.csv", EMPLOYEE_HEADER, [
        ["E1", "欧阳", "娜娜", "2020-01-02", "SZ", "SZ-ASM", "", ""],
        ["E2", "吉", "𠮷祥", "2020-01-02", "SZ", "SZ-ASM", "", ""],
        ["E3", "龚", "赟", "2020年1月2日", "SZ", "SZ-ASM", "", ""],
    ], encoding="gb18030")
    assert path.read_bytes().decode("gb18030")  # the file really is GB18030, not UTF-8
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    batch = _validated(path, "employees", legacy)
    assert (batch.encoding, batch.error_count) == ("gb18030", 0)
    batch = services.batch_commit(batch=batch)
    names = dict(Employee.objects.values_list("employee_number", "given_name"))
    assert names == {"E1": "娜娜", "E2": "𠮷祥", "E3": "赟"}
    assert Employee.objects.get(employee_number="E1").full_name == "欧阳娜娜"


@pytest.mark.parametrize(("encoding", "detected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")])
def test_utf8_with_and_without_bom(plant, legacy, tmp_path, encoding, detected):
    path = write_csv(tmp_path / "e.csv", EMPLOYEE_HEADER, [["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "", ""]],
                     encoding=encoding)
    batch = _validated(path, "employees", legacy)
    assert (batch.encoding, batch.error_count, batch.created_count) == (detected, 0, 1)


def test_an_undecodable_file_is_refused_naming_the_encoding_problem(plant, legacy, tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"employee_number,family_name\n\xff\xfe\xfd\xfc\x80\x81\n")
    batch = _validated(path, "employees", legacy)
    assert _errors(batch) == [(None, "The file is neither UTF-8 nor GB18030/GBK text: byte "
                                     "0xFF at position 28 cannot be decoded as either. Save it as CSV in UTF-8.")]
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("employee_number\nE1\n".encode("utf-16"))
    assert _errors(_validated(utf16, "employees", legacy)) == [(None, (
        "The file is encoded as UTF-16, which is not accepted. Save it as CSV in UTF-8 "
        "or GB18030."))]


def test_missing_columns_are_listed_in_one_message(plant, legacy, tmp_path):
    path = write_csv(tmp_path / "e.csv", ["employee_number", "family_name", "given_name", "department"],
                     [["E1", "张", "伟", "SZ-ASM"]])
    batch = _validated(path, "employees", legacy, columns={"hire_date": "入职日期"})
    assert _errors(batch) == [(None, "Required columns are missing from the file: 入职日期, site.")]
    assert batch.created_count == 0


def test_bad_dates_and_values_get_specific_messages(plant, legacy, tmp_path):
    path = write_csv(tmp_path / "e.csv", ["工号", "姓", "名", "入职日期", "site", "department", "status"], [
        ["E1", "张", "伟", "2023-13-45", "SZ", "SZ-ASM", ""],
        ["E2", "李", "娜", "03/04/2021", "SZ", "SZ-ASM", "9"],
        ["E3", "", "娜", "2021-03-04", "XX", "SZ-ASM", ""],
        ["E4", "赵", "六", "2021-03-04", "SZ", "CZ-PK", ""],
    ])
    batch = _validated(path, "employees", legacy, columns={
        "employee_number": "工号", "family_name": "姓", "given_name": "名", "hire_date": "入职日期"})
    formats = "YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD, DD.MM.YYYY, YYYY年MM月DD日"
    assert _errors(batch) == [
        (2, f"Column 入职日期: “2023-13-45” is not a date; write it as one of {formats}."),
        (3, "Column status: “9” is not one of active, on_leave, suspended, terminated; add a value mapping for it "
            "if it is a legacy code."),
        (3, f"Column 入职日期: “03/04/2021” is not a date; write it as one of {formats}."),
        (4, "Column 姓 is empty; it is required."),
        (4, "Column site: no site with the code “XX” exists in Qualiflow."),
        (5, "Column department: this department belongs to another site than the one in column site."),
    ]
    assert (batch.created_count, batch.error_count) == (0, 6)
    with pytest.raises(Conflict):
        services.batch_queue(batch=batch)


def test_value_mapping_translates_legacy_codes(plant, legacy, tmp_path):
    services.value_mapping_set(source=legacy, field="status", legacy_value="3", value="terminated")
    services.value_mapping_set(source=legacy, field="site", legacy_value="苏州", value="SZ")
    path = write_csv(tmp_path / "e.csv", [*EMPLOYEE_HEADER[:6], "status", "termination_date"], [
        ["E1", "张", "伟", "2020-01-02", "苏州", "SZ-ASM", "3", "2024.06.30"]])
    batch = services.batch_commit(batch=_validated(path, "employees", legacy))
    assert batch.status == BatchStatus.COMMITTED, _errors(batch)
    employee = Employee.objects.get(employee_number="E1")
    assert (employee.status, employee.site_id, employee.termination_date) == (
        EmployeeStatus.TERMINATED, plant.site_a.pk, dt.date(2024, 6, 30))


def test_duplicate_rows_in_the_file_are_reported(plant, legacy, tmp_path):
    path = write_csv(tmp_path / "e.csv", EMPLOYEE_HEADER, [
        ["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "1990-01-01", ""],
        ["E2", "李", "娜", "2020-01-02", "SZ", "SZ-ASM", "", ""],
        ["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "1990-01-01", ""],
        ["E3", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "1990-01-01", ""],
    ])
    batch = _validated(path, "employees", legacy)
    assert _errors(batch) == [
        (4, "This row repeats row 2 (same identifying values)."),
        (5, "This row repeats row 2 (same name and birth date)."),
    ]


def test_the_same_person_is_found_by_name_and_birth_date(plant, make_employee, legacy, tmp_path):
    person = make_employee(employee_number="OLD-1", family_name="王", given_name="芳", birth_date=dt.date(1990, 1, 1))
    path = write_csv(tmp_path / "e.csv", EMPLOYEE_HEADER, [
        ["NEW-1", "王", "芳", "2022-03-01", "SZ", "SZ-ASM", "1990-01-01", ""]])
    batch = _validated(path, "employees", legacy)
    assert (batch.created_count, batch.updated_count, batch.error_count) == (0, 1, 0)
    services.batch_commit(batch=batch)
    person.refresh_from_db()
    assert person.employee_number == "NEW-1"
    assert Employee.objects.count() == 1


def test_100000_rows_with_3_bad_report_exactly_those_and_write_nothing(plant, make_employee, legacy, tmp_path):
    catalogue()
    for number in ("E1", "E2", "E3", "E4"):
        make_employee(employee_number=number)
    rows = []
    for i in range(100_000):
        day = dt.date(2000, 1, 1) + dt.timedelta(days=i // 8)
        rows.append([f"E{i % 4 + 1}", "C-ASM" if i % 8 < 4 else "C-GMP", day.isoformat(), "1", ""])
    rows[10][2] = "2019-02-30"
    rows[50_000][1] = "C-NOPE"
    rows[99_998][3] = "maybe"
    path = write_csv(tmp_path / "big.csv", ["employee_number", "course", "completed_at", "passed", "score"], rows)
    before = snapshot()
    batch = _validated(path, "training_records", legacy)
    formats = "YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD, DD.MM.YYYY, YYYY年MM月DD日"
    assert _errors(batch) == [
        (12, f"Column completed_at: “2019-02-30” is not a date or a date and time; write it as one of {formats}, "
             "optionally followed by HH:MM."),
        (50_002, "Column course: no course with the code “C-NOPE” exists in Qualiflow."),
        (100_000, "Column passed: “maybe” is not yes or no (1/0, Y/N, 是/否, pass/fail)."),
    ]
    assert (batch.rows, batch.created_count, batch.error_count) == (100_000, 99_997, 3)
    with pytest.raises(Conflict):
        services.batch_queue(batch=batch)
    assert snapshot() == before
    assert TrainingRecord.objects.count() == 0


def test_rows_that_became_invalid_after_the_dry_run_fail_the_commit_and_write_nothing(plant, make_employee, legacy, tmp_path):
    cat = catalogue()
    make_employee(employee_number="E1")
    path = write_csv(tmp_path / "grants.csv", ["employee_number", "qualification", "valid_from"], [
        ["E1", "Q-WELD", "2024-01-01"], ["E1", "Q-ASM", "2024-01-01"]])
    batch = _validated(path, "qualification_grants", legacy)
    assert batch.error_count == 0
    from qualiflow.training.services.catalogue import qualification_deactivate

    qualification_deactivate(qualification=cat["welding"], reason="retired")
    before, audits = snapshot(), audit_count()
    batch = services.batch_commit(batch=batch)
    assert batch.status == BatchStatus.FAILED
    assert batch.failure == "Rows failed validation when committing; nothing was written."
    assert _errors(batch) == [(2, "Column qualification: no active qualification with the code “Q-WELD” exists in Qualiflow.")]
    assert snapshot() == before
    assert audit_count() == audits


def test_rollback_is_refused_when_a_created_row_is_referred_to_since(plant, legacy, tmp_path):
    cat = catalogue()
    path = write_csv(tmp_path / "e.csv", EMPLOYEE_HEADER, [["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "", ""]])
    batch = services.batch_commit(batch=_validated(path, "employees", legacy))
    employee = Employee.objects.get(employee_number="E1")
    training.qualification_grant(employee=employee, qualification=cat["qualification"],
                                 valid_from=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), source="manual", reason="test")
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        services.batch_rollback(batch=batch, reason="undo")
    assert str(refused.value.message).startswith(
        "The batch cannot be rolled back: a employee it created is now referred to by ")
    assert snapshot() == before
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMMITTED


def test_certificates_grant_their_qualification_and_roll_back_with_it(plant, make_employee, legacy, tmp_path):
    catalogue()
    make_employee(employee_number="E1")
    path = write_csv(tmp_path / "certs.csv", ["employee_number", "qualification", "number", "issuer", "issued_on", "expires_on"], [
        ["E1", "Q-WELD", "W-001", "江苏省特种设备协会", "2023-05-01", "2027-05-01"]])
    before = snapshot()
    batch = services.batch_commit(batch=_validated(path, "certificates", legacy))
    assert batch.status == BatchStatus.COMMITTED, batch.failure
    certificate = Certificate.objects.get()
    grant = certificate.grant
    # Local midnight at the site (Asia/Shanghai), as recording a certificate by hand does.
    assert (grant.source, grant.certificate_number, grant.valid_from.isoformat(), grant.valid_until.isoformat()) == (
        "certificate", "W-001", "2023-04-30T16:00:00+00:00", "2027-04-30T16:00:00+00:00")
    assert OutboxEvent.objects.filter(type="training.certificate.recorded").count() == 1
    services.batch_rollback(batch=batch, reason="test")
    assert snapshot() == before
    assert QualificationGrant.objects.count() == 0


def test_positions_and_grants(plant, make_employee, legacy, tmp_path):
    catalogue()
    make_employee(employee_number="E1")
    positions = write_csv(tmp_path / "p.csv", ["code", "name", "department"], [
        ["OP-MLD", "注塑操作工", "SZ-IM"], ["OP-ASM", "组装操作工 新", "SZ-ASM"]])
    batch = services.batch_commit(batch=_validated(positions, "positions", legacy))
    assert (batch.created_count, batch.updated_count) == (1, 1)
    grants = write_csv(tmp_path / "g.csv", ["employee_number", "qualification", "valid_from"], [["E1", "Q-ASM", "2024-01-01"]])
    batch = services.batch_commit(batch=_validated(grants, "qualification_grants", legacy))
    grant = QualificationGrant.objects.get()
    # Without an end date the grant lasts the qualification's validity, from local midnight at the site.
    assert (grant.source, grant.valid_from.isoformat(), (grant.valid_until - grant.valid_from).days) == (
        "import", "2023-12-31T16:00:00+00:00", 365)
    assert OutboxEvent.objects.filter(type="training.qualification.granted").count() == 1


def test_xlsx_input(plant, legacy, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(EMPLOYEE_HEADER)
    sheet.append([1001, "张", "伟", dt.datetime(2020, 1, 2), "SZ", "SZ-ASM", dt.date(1990, 5, 6), 13800000000])
    sheet.append([1002.0, "李", "娜", "2021-03-04", "SZ", "SZ-IM", None, None])
    path = tmp_path / "employees.xlsx"
    workbook.save(path)
    batch = _validated(path, "employees", legacy)
    assert (batch.encoding, batch.created_count, batch.error_count) == ("xlsx", 2, 0), _errors(batch)
    services.batch_commit(batch=batch)
    first = Employee.objects.get(employee_number="1001")
    assert (first.hire_date, first.birth_date, first.phone) == (dt.date(2020, 1, 2), dt.date(1990, 5, 6), "13800000000")
    assert Employee.objects.filter(employee_number="1002").exists()


def test_worker_commits_queued_batches_with_progress(plant, legacy, admin_user, tmp_path):
    path = write_csv(tmp_path / "e.csv", EMPLOYEE_HEADER, [["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "", ""]])
    batch = services.batch_queue(batch=_validated(path, "employees", legacy), by=admin_user)
    assert batch.status == BatchStatus.QUEUED
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    batch.refresh_from_db()
    assert (batch.status, batch.progress_done, batch.committed_by) == (BatchStatus.COMMITTED, 1, admin_user)
    entry = AuditEntry.objects.get(object_type="people.employee", action="create")
    assert (entry.actor_kind, entry.actor_name) == ("user", "admin")


def test_progress_is_readable_from_outside_the_commit_transaction(plant, legacy, tmp_path):
    path = write_csv(tmp_path / "e.csv", EMPLOYEE_HEADER, [
        ["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "", ""], ["E2", "李", "娜", "2020-01-02", "SZ", "SZ-ASM", "", ""]])
    batch = _validated(path, "employees", legacy)
    seen = []
    services.batch_commit(batch=batch, on_progress=lambda done: seen.append((done, progress.read(batch.pk))))
    assert seen == [(2, (2, 2))]
    assert progress.read(batch.pk) is None
