"""The worker runs its loops, survives a failing one, and a worker killed in the middle of delivering loses
nothing: a real `manage.py worker` process on a database file of its own, killed with SIGKILL."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import integration_worker_loops
from django.core.management import call_command
from integration_helpers import Receiver

from qualiflow.core.management.commands import worker

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def test_worker_runs_every_loop_and_a_failing_one_stops_none(db, settings, caplog):
    settings.QUALIFLOW_DAILY_AT = "23:59:59.999999"
    settings.QUALIFLOW_WORKER_LOOPS = [
        "integration_worker_loops.failing", "integration_worker_loops.database_gone",
        "integration_worker_loops.counting", "integration_worker_loops.no_such_loop",
        "qualiflow.integration.dispatch.run_once",
    ]
    integration_worker_loops.calls.clear()
    with caplog.at_level(logging.WARNING):
        call_command("worker", "--once")
    assert integration_worker_loops.calls == ["failing", "database_gone", "counting"]
    messages = [r.getMessage() for r in caplog.records]
    assert "worker loop integration_worker_loops.no_such_loop cannot be imported; running without it" in messages
    assert "worker loop integration_worker_loops.failing failed" in messages
    assert "worker loop integration_worker_loops.database_gone: database unavailable" in messages


def test_run_loops_adds_up_the_work_done(db, settings):
    settings.QUALIFLOW_WORKER_LOOPS = ["integration_worker_loops.counting", "integration_worker_loops.failing"]
    assert worker.run_loops([*worker.loops(), ("five", lambda: 5)]) == 5


def _manage(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=300, **kwargs)


_SEED = """
import json
from django.db import transaction
from qualiflow.integration import events, services
services.webhook_create(data={"name": "kill test", "url": URL, "event_types": ["people.*"]})
with transaction.atomic():
    ids = [str(events.emit("people.employee.updated", f"people/employee/{i % 50}", {"n": i}).id) for i in range(COUNT)]
print(json.dumps(ids))
"""

_STATE = """
from qualiflow.integration.models import Delivery
print(sorted(Delivery.objects.order_by().values_list("status", flat=True).distinct()))
"""


def _start(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", "worker"], cwd=ROOT, env=env,
                            stdout=log.open("a"), stderr=subprocess.STDOUT)


def test_worker_killed_mid_delivery_loses_nothing(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "integration_worker_settings",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "QUALIFLOW_VAR_DIR": str(tmp_path),
    }
    count = 1500

    def slow(n, event):
        time.sleep(0.002)  # slow enough for the kill to land in the middle of a batch
        return 200

    with Receiver(respond=slow) as receiver:
        _manage(env, "migrate", "--verbosity", "0")
        seeded = _manage(env, "shell", "-c", _SEED.replace("URL", repr(receiver.url)).replace("COUNT", str(count)))
        emitted = json.loads(seeded.stdout.strip().splitlines()[-1])
        log = tmp_path / "worker.log"
        first = _start(env, log)
        try:
            deadline = time.monotonic() + 120
            while len(receiver.calls) < 200 and time.monotonic() < deadline:
                time.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        killed_at = len(receiver.calls)
        assert 200 <= killed_at < count + 1, log.read_text()

        second = _start(env, log)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                got = {call.event["id"] for call in receiver.calls if call.event["type"] == "people.employee.updated"}
                if got >= set(emitted):
                    break
                time.sleep(0.2)
            time.sleep(1)  # the last results are recorded after the last answer
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)

    events_seen = [call.event for call in receiver.calls if call.event["type"] == "people.employee.updated"]
    assert {e["id"] for e in events_seen} == set(emitted), log.read_text()
    # Duplicates are allowed (the killed worker's unrecorded sends) and recognisable by the event id; the
    # first arrival of each event keeps the order of its subject.
    first_seen: dict[str, list[int]] = {}
    seen_ids: set[str] = set()
    for event in events_seen:
        if event["id"] not in seen_ids:
            seen_ids.add(event["id"])
            first_seen.setdefault(event["subject"], []).append(event["data"]["n"])
    assert all(numbers == sorted(numbers) for numbers in first_seen.values())
    assert sum(len(numbers) for numbers in first_seen.values()) == count
    state = _manage(env, "shell", "-c", _STATE)
    assert state.stdout.strip().splitlines()[-1] == "['delivered']"
