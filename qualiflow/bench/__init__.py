"""`qualiflow bench <name>`: speed and memory figures, each reported as a ratio to a baseline measured in
the same run (the machines are shared and noisy). Each benchmark is a module with `main(argv) -> int`."""

from __future__ import annotations

import importlib

BENCHMARKS = {
    "audit": "qualiflow.bench.audit",
    "events": "qualiflow.bench.events",
    "import": "qualiflow.bench.imports",
    "qualification": "qualiflow.bench.qualification",
    "trackin": "qualiflow.bench.trackin",
}


def run(name: str, argv: list[str]) -> int:
    if name not in BENCHMARKS:
        raise SystemExit(f"unknown benchmark {name!r}; choose from: {', '.join(sorted(BENCHMARKS))}")
    return importlib.import_module(BENCHMARKS[name]).main(argv)
