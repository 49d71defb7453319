"""`manage.py audit verify|trace` and `qualiflow audit verify`: output and exit codes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from audit_helpers import last_seq
from django.core.management import call_command

from qualiflow import cli
from qualiflow.audit.models import AuditEntry


def _verify() -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except SystemExit as exc:
        return out.getvalue(), exc.code
    return out.getvalue(), 0


def test_verify_reports_an_intact_chain(make_employee):
    make_employee(employee_number="E-CLI")
    assert _verify() == (f"audit chain intact: {last_seq()} entries\n", 0)


def test_verify_names_the_broken_entry_and_exits_1(make_employee, tamper):
    make_employee(employee_number="E-CLI")
    target = AuditEntry.objects.order_by("seq")[2]
    tamper.update(target.seq, object_repr="forged")
    assert _verify() == (f"audit chain BROKEN at entry {target.seq}: entry {target.seq} does not match its hash\n", 1)
    assert cli.main(["audit", "verify"]) == 1


def test_the_qualiflow_command_returns_0_when_intact(make_employee, capsys):
    make_employee(employee_number="E-CLI")
    assert cli.main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == f"audit chain intact: {last_seq()} entries\n"


def test_trace_on_an_empty_trace(db):
    out = io.StringIO()
    call_command("audit", "trace", stdout=out)
    assert out.getvalue() == "no database-level changes recorded\n"


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="uses its own SQLite file")
def test_installed_console_script_end_to_end(tmp_path: Path):
    """The `qualiflow` console script against a fresh SQLite database: migrate, then verify."""
    script = Path(sys.executable).with_name("qualiflow")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "QUALIFLOW_VAR_DIR": str(tmp_path)}
    subprocess.run([script, "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run([script, "audit", "verify"], env=env, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "audit chain intact: 0 entries\n")
