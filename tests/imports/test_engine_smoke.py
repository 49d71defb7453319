import datetime as dt

from imports_helpers import catalogue, snapshot, upload, write_csv

from qualiflow.imports import services
from qualiflow.imports.models import BatchStatus
from qualiflow.people.models import Employee
from qualiflow.training.models import TrainingRecord


def test_smoke(plant, legacy, tmp_path):
    path = write_csv(tmp_path / "emp.csv", ["employee_number", "family_name", "given_name", "hire_date", "site", "department", "birth_date"],
                     [["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM", "1990-05-06"], ["E2", "李", "娜", "2021/03/04", "SZ", "SZ-IM", ""]],
                     encoding="gb18030")
    batch = upload(path, kind="employees", source=legacy)
    before = snapshot()
    batch = services.batch_validate(batch=batch)
    assert batch.encoding == "gb18030"
    assert list(batch.row_errors.values_list("message", flat=True)) == []
    assert (batch.created_count, batch.error_count) == (2, 0)
    assert snapshot() == before
    batch = services.batch_commit(batch=batch)
    assert batch.status == BatchStatus.COMMITTED, batch.failure
    assert Employee.objects.get(employee_number="E1").full_name == "张伟"
    cat = catalogue()
    path = write_csv(tmp_path / "rec.csv", ["employee_number", "course", "completed_at", "passed", "score"],
                     [["E1", "C-ASM", "2024-01-05", "是", "85"], ["E2", "C-ASM", "2024-01-05 10:30", "1", "90.5"]])
    b2 = services.batch_validate(batch=upload(path, kind="training_records", source=legacy))
    assert list(b2.row_errors.values_list("message", flat=True)) == []
    b2 = services.batch_commit(batch=b2)
    assert b2.status == BatchStatus.COMMITTED, b2.failure
    assert TrainingRecord.objects.count() == 2
    b3 = services.batch_validate(batch=upload(path, kind="training_records", source=legacy))
    assert (b3.created_count, b3.updated_count, b3.skipped_count) == (0, 0, 2)
    services.batch_rollback(batch=b2, reason="test")
    assert TrainingRecord.objects.count() == 0
    assert cat
