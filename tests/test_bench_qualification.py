"""`qualiflow bench qualification` at a tiny size: it builds its own plant in a throwaway database, measures
and prints every figure with its target (no timing is asserted: the machines are shared)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

TINY = ["--people", "60", "--qualifications", "12", "--records", "1200", "--site-people", "30", "--checks", "20",
        "--rounds", "1"]


def _bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """In a subprocess, because the benchmark sets up Django itself; on the server of $DATABASE_URL when it
    is PostgreSQL (in a database of its own), else in an SQLite file under `tmp_path`."""
    env = dict(os.environ)
    target = ["--bench-database", f"qf_bench_smoke_{os.getpid()}"]
    if not urlsplit(env.get("DATABASE_URL", "")).scheme.startswith("postgres"):
        target = ["--database-url", f"sqlite:///{tmp_path / 'bench.sqlite3'}"]
    return subprocess.run(
        [sys.executable, "-m", "qualiflow.cli", "bench", "qualification", *TINY, *target, *args],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )


def test_the_benchmark_prints_every_figure_with_its_target(tmp_path):
    result = _bench(tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"plant: 60 people, 12 qualifications, 1,200 training records, [\d,]+ grants", out)
    assert re.search(r"status check p50 \(can, 20 people\)\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+x\s+≤ 3x\s+(met|MISSED)", out)
    assert re.search(r"status check p99\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+x\s+≤ 2 ms\s+(met|MISSED)", out)
    assert re.search(r"matrix: 30 people x \d+ qualifications\s+[\d.]+s\s+[\d.]+s\s+[\d.]+x\s+≤ 1 s and ≤ 3x\s+(met|MISSED)", out)
    assert re.search(r"matrix: [\d,]+ cells from [\d,]+ fact rows; states .*qualified", out)
    assert not (tmp_path / "bench.sqlite3").exists()  # the throwaway database is gone


def test_the_benchmark_reports_json(tmp_path):
    result = _bench(tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["records"] == 1200 and figures["people"] == 60
    assert figures["check"]["checks"] == 20
    assert set(figures["check"]) >= {"p50_ms", "p99_ms", "bare_p50_ms", "bare_p99_ms", "ratio_p50", "ratio_p99"}
    assert figures["matrix"]["people"] == 30
    assert figures["matrix"]["cells"] == 30 * figures["matrix"]["qualifications"]
    assert sum(figures["matrix"]["states"].values()) == figures["matrix"]["cells"]
