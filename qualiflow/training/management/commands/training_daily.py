"""The daily training job: reconcile the whole plant, then renewals, reminders and escalations."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from qualiflow.core import context
from qualiflow.training.services.expiry import expiry_run
from qualiflow.training.services.reconcile import assignments_reconcile

JOB_ACTOR = context.Actor(kind="system", id="", name="training-daily")


class Command(BaseCommand):
    help = "Reconcile training assignments with the requirements, then run the expiry job (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="the moment to run for, ISO 8601 with time zone (default: now)")

    def handle(self, *args, at=None, **options):
        if at:
            try:
                moment = dt.datetime.fromisoformat(at)
            except ValueError as exc:
                raise CommandError(f"--at {at!r} is not an ISO 8601 date and time") from exc
            if timezone.is_naive(moment):
                raise CommandError("--at needs a time zone, e.g. 2026-06-01T02:00:00+00:00")
        else:
            moment = timezone.now()
        with context.acting(actor=JOB_ACTOR):
            self.stdout.write(f"training daily at {moment.isoformat()}")
            reconciled = assignments_reconcile(at=moment)
            self.stdout.write("reconcile: " + ", ".join(f"{k} {v}" for k, v in reconciled.as_dict().items()))
            expiry = expiry_run(at=moment)
            self.stdout.write("expiry: " + ", ".join(f"{k} {v}" for k, v in expiry.as_dict().items()))
