"""`qualiflow worker`: runs the daily jobs (settings.QUALIFLOW_DAILY_JOBS, management commands) once a day
at settings.QUALIFLOW_DAILY_AT (UTC). No broker: any number of workers may run, on SQLite or PostgreSQL;
the unique (job, day) row of `JobRun` lets exactly one of them run each job each day."""

import datetime as dt
import io
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from qualiflow.core.models import JobRun


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


class Command(BaseCommand):
    help = "Run the daily jobs once a day at QUALIFLOW_DAILY_AT (UTC); safe to run in several processes."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run the jobs that are due now and exit")
        parser.add_argument("--poll", type=int, default=60, help="seconds between checks (default 60)")

    def handle(self, *args, once=False, poll=60, **options):
        daily_at()
        write = self.stdout.write
        if once:
            runs = run_due(timezone.now(), write)
            if not runs:
                write("nothing due")
            return
        write(f"worker: daily jobs {', '.join(settings.QUALIFLOW_DAILY_JOBS)} at {settings.QUALIFLOW_DAILY_AT} UTC")
        while True:
            close_old_connections()  # a long-lived process outlives server-side connection timeouts
            run_due(timezone.now(), write)
            time.sleep(max(poll, 1))
