"""`qualiflow bench trackin` at a tiny size: it builds its own plant in a throwaway PostgreSQL database,
serves it with gunicorn on 127.0.0.1, drives gated and ungated track-ins over HTTP and prints every figure
with its target (no timing is asserted: the machines are shared)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.skipif(
    not urlsplit(os.environ.get("DATABASE_URL", "")).scheme.startswith("postgres"),
    reason="the track-in benchmark runs on PostgreSQL only (set DATABASE_URL=postgres://…)",
)

PEOPLE, REQUESTS = 50, 40
TINY = ["--people", str(PEOPLE), "--requests", str(REQUESTS), "--warmup", "10", "--rounds", "1",
        "--concurrency", "4", "--workers", "1", "--threads", "4"]


def _bench(*args: str) -> subprocess.CompletedProcess:
    """In a subprocess, because the benchmark sets up Django itself; on the server of $DATABASE_URL, in a
    database of its own."""
    return subprocess.run(
        [sys.executable, "-m", "qualiflow.cli", "bench", "trackin", *TINY,
         "--bench-database", f"qualiflow_bench_trackin_smoke_{os.getpid()}", *args],
        capture_output=True, text=True, env=dict(os.environ), timeout=900, check=False,
    )


def _gone(name: str) -> bool:
    import psycopg

    server = urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None


def test_the_benchmark_reports_every_track_in_as_allowed_or_refused():
    result = _bench("--json")
    assert result.returncode == 0, result.stderr + result.stdout
    figures = json.loads(result.stdout)
    assert figures["people"] == PEOPLE and figures["requests"] == REQUESTS
    for variant in ("gated", "ungated"):
        run = figures[variant]
        assert run["requests"] == REQUESTS
        assert run["allowed"] + run["refused"] == REQUESTS
        assert run["errors"] == {}  # no 5xx, no other 4xx
        assert set(run) >= {"throughput", "p50_ms", "p99_ms", "mean_ms"}
    assert figures["errors"] == 0
    assert {"ratio_p50", "ratio_mean", "ratio_throughput"} <= set(figures)
    # Warm-up and measured track-ins are all in the database: a run or a refusal each.
    recorded = figures["recorded"]
    for variant in ("gated", "ungated"):
        assert recorded[f"{variant}_runs"] + recorded[f"{variant}_refusals"] == 10 + REQUESTS
    assert _gone(figures["database"])


def test_the_benchmark_prints_every_figure_with_its_target():
    result = _bench()
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert re.search(rf"plant: {PEOPLE} people, [\d,]+ grants \([\d,]+ lapsed\), [\d,]+ training records", out)
    assert re.search(r"server: gunicorn, 1 workers x 4 threads \(gthread\), DEBUG off, on 127\.0\.0\.1", out)
    assert re.search(r"throughput \(track-ins/s\)\s+[\d,.]+\s+[\d,.]+\s+[\d.]+x\s+≥ 300/s\s+(met|MISSED)", out)
    assert re.search(r"latency p50\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+x\s+≤ 1\.5x\s+(met|MISSED)", out)
    assert re.search(r"latency p99\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+x\s+≤ 50 ms\s+(met|MISSED)", out)
    match = re.search(rf"gated: (\d+) allowed, (\d+) refused of {REQUESTS} \(best round\); "
                      rf"ungated: (\d+) allowed, (\d+) refused of {REQUESTS}", out)
    assert match and int(match[1]) + int(match[2]) == REQUESTS and int(match[3]) + int(match[4]) == REQUESTS
    assert "other answers: none" in out
