"""`qualiflow import`: the same engine from the command line."""

from __future__ import annotations

import json

from imports_helpers import snapshot, write_csv

from qualiflow.cli import main
from qualiflow.imports.commandline import KINDS
from qualiflow.imports.models import BatchStatus, ImportBatch, ImportKind
from qualiflow.people.models import Employee

HEADER = ["工号", "姓", "名", "入职日期", "site", "department"]


def test_the_cli_knows_every_kind():
    assert list(KINDS) == ImportKind.values


def test_dry_run_commit_rerun_and_rollback(plant, legacy, tmp_path, capsys):
    path = write_csv(tmp_path / "员工.csv", HEADER, [["E1", "张", "伟", "2020-01-02", "SZ", "SZ-ASM"]], encoding="gb18030")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"columns": {"employee_number": "工号", "family_name": "姓", "given_name": "名",
                                               "hire_date": "入职日期"}}), encoding="utf-8")
    before = snapshot()
    assert main(["import", "employees", str(path), "--source", "legacy-hr", "--mapping", str(mapping), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Rows: 1; create 1, update 0, skip 0; errors 0" in out and "(gb18030)" in out
    assert snapshot() == before

    assert main(["import", "employees", str(path), "--source", "legacy-hr", "--mapping", str(mapping), "--commit"]) == 0
    captured = capsys.readouterr()
    assert "Status: Committed" in captured.out and "committing: 1/1 rows" in captured.err
    assert Employee.objects.get(employee_number="E1").full_name == "张伟"

    assert main(["import", "employees", str(path), "--source", "legacy-hr", "--mapping", str(mapping), "--commit"]) == 0
    assert "create 0, update 0, skip 1" in capsys.readouterr().out

    committed = ImportBatch.objects.filter(status=BatchStatus.COMMITTED).order_by("created_at").first()
    assert main(["import", "--rollback", str(committed.pk)]) == 1
    assert "A reason is required to roll back an import." in capsys.readouterr().err
    assert main(["import", "--rollback", str(committed.pk), "--reason", "test"]) == 0
    assert Employee.objects.count() == 0


def test_validation_errors_exit_1_and_write_nothing(plant, legacy, tmp_path, capsys):
    path = write_csv(tmp_path / "e.csv", ["employee_number", "family_name"], [["E1", "张"]])
    assert main(["import", "employees", str(path), "--source", "legacy-hr", "--commit"]) == 1
    out = capsys.readouterr().out
    assert "file: Required columns are missing from the file: given_name, hire_date, site, department." in out
    assert Employee.objects.count() == 0
    assert main(["import", "employees", str(path), "--source", "nope"]) == 1
    assert "No source system nope; create it first." in capsys.readouterr().err
