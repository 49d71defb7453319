"""`qualiflow worker`: runs the daily jobs (settings.QUALIFLOW_DAILY_JOBS, management commands) once a day
at settings.QUALIFLOW_DAILY_AT (UTC), and the continuous loops (settings.QUALIFLOW_WORKER_LOOPS, functions
`run_once() -> int`: event delivery, automation rules, background imports) all the time. No broker: any
number of workers may run, on SQLite or PostgreSQL; the unique (job, day) row of `JobRun` lets exactly one
of them run each job each day, and each loop claims its own work.

A loop that handled work runs again at once; when every loop was idle the worker sleeps about a second. A
loop that fails is logged and the others go on; a lost database connection is dropped and reopened on the
next round, so the worker outlives a database restart."""

import datetime as dt
import io
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
    transaction,
)
from django.utils import timezone
from django.utils.module_loading import import_string

from qualiflow.core.models import JobRun

logger = logging.getLogger(__name__)
IDLE_SLEEP = 1.0


def daily_at() -> dt.time:
    try:
        return dt.time.fromisoformat(settings.QUALIFLOW_DAILY_AT)
    except ValueError as exc:
        raise CommandError(f"QUALIFLOW_DAILY_AT {settings.QUALIFLOW_DAILY_AT!r} is not HH:MM") from exc


def claim(job: str, day: dt.date, now: dt.datetime) -> JobRun | None:
    """The run of `job` for `day`, if this process is the first to claim it."""
    try:
        with transaction.atomic():
            return JobRun.objects.create(job=job, day=day, started_at=now)
    except IntegrityError:
        return None


def run_due(now: dt.datetime, write=lambda line: None) -> list[JobRun]:
    """Run every daily job due at `now` that no worker has claimed for today; returns the runs made."""
    now = now.astimezone(dt.UTC)
    if now.time() < daily_at():
        return []
    runs = []
    for job in settings.QUALIFLOW_DAILY_JOBS:
        run = claim(job, now.date(), now)
        if run is None:
            continue
        output = io.StringIO()
        write(f"{job}: started")
        try:
            call_command(job, stdout=output)
        except Exception as exc:
            # Recorded, not retried today: the jobs are idempotent and can be run by hand.
            run.succeeded, run.output = False, f"{output.getvalue()}{type(exc).__name__}: {exc}"
        else:
            run.succeeded, run.output = True, output.getvalue()
        run.finished_at = timezone.now()
        run.save(update_fields=["succeeded", "output", "finished_at"])
        write(f"{job}: {'done' if run.succeeded else 'failed'}\n{run.output.rstrip()}")
        runs.append(run)
    return runs


def loops() -> list[tuple[str, Callable[[], int]]]:
    """The loop functions of settings.QUALIFLOW_WORKER_LOOPS; one that cannot be imported is logged and left
    out, so it does not stop the others."""
    found = []
    for path in settings.QUALIFLOW_WORKER_LOOPS:
        try:
            found.append((path, import_string(path)))
        except ImportError:
            logger.exception("worker loop %s cannot be imported; running without it", path)
    return found


def _drop_connections() -> None:
    for connection in connections.all(initialized_only=True):
        connection.close()


def run_loops(functions: list[tuple[str, Callable[[], int]]]) -> int:
    """One round of every loop; returns the work they did. Failures are logged, never raised."""
    done = 0
    for path, function in functions:
        try:
            done += int(function() or 0)
        except (OperationalError, InterfaceError):
            logger.warning("worker loop %s: database unavailable", path, exc_info=True)
            _drop_connections()
        except Exception:
            logger.exception("worker loop %s failed", path)
    return done


def _safely(step: Callable[[], object], what: str) -> None:
    try:
        step()
    except (OperationalError, InterfaceError):
        logger.warning("worker: database unavailable during %s", what, exc_info=True)
        _drop_connections()
    except Exception:
        logger.exception("worker: %s failed", what)


class Command(BaseCommand):
    help = ("Run the daily jobs once a day at QUALIFLOW_DAILY_AT (UTC) and the QUALIFLOW_WORKER_LOOPS "
            "continuously; safe to run in several processes.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="run the jobs that are due now and one round of every loop, and exit")
        parser.add_argument("--poll", type=int, default=60, help="seconds between daily-job checks (default 60)")

    def handle(self, *args, once=False, poll=60, **options):
        daily_at()
        functions = loops()
        write = self.stdout.write
        if once:
            runs = run_due(timezone.now(), write)
            done = run_loops(functions)
            if not runs and not done:
                write("nothing due")
            return
        write(f"worker: daily jobs {', '.join(settings.QUALIFLOW_DAILY_JOBS)} at {settings.QUALIFLOW_DAILY_AT} UTC; "
              f"loops {', '.join(path for path, _ in functions)}")
        next_check = 0.0
        while True:
            close_old_connections()  # a long-lived process outlives server-side connection timeouts
            if time.monotonic() >= next_check:
                _safely(lambda: run_due(timezone.now(), write), "daily jobs")
                next_check = time.monotonic() + max(poll, 1)
            if not run_loops(functions):
                time.sleep(IDLE_SLEEP)
