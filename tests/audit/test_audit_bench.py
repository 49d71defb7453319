"""`qualiflow bench audit` runs end to end in its own throwaway database (figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_the_audit_benchmark_runs_and_cleans_up(tmp_path: Path):
    database = tmp_path / "bench.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "qualiflow.cli", "bench", "audit", "--employees", "20", "--entries", "500",
         "--rounds", "1", "--json", "--database-url", f"sqlite:///{database}"],
        capture_output=True, text=True, check=True,
    )
    figures = json.loads(done.stdout)
    assert figures["engine"] == "sqlite"
    assert figures["employees"] == 20
    assert figures["verify"]["entries"] >= 500
    assert set(figures["single"]) == {"audited_s", "unaudited_s", "ratio", "target"}
    assert figures["bulk_update"]["target"] == 2.0
    assert not database.exists()
