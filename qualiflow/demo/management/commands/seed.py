"""`manage.py seed`: build the demo plant (华澄医疗器械, infusion sets) and print the demo logins."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils import timezone

from qualiflow.demo import plan, seeding
from qualiflow.people.models import Employee


class Command(BaseCommand):
    help = "Build the demo plant, deterministic from --seed; --employees scales it up for benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=13485, help="random seed (default 13485)")
        parser.add_argument("--employees", type=int, default=300, help="head count (default 300)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already has employees"
        )
        parser.add_argument(
            "--reset", action="store_true",
            help="first delete the default SQLite demo database and migrate it again (demo databases only)",
        )

    def handle(self, *args, seed: int, employees: int, if_empty: bool, reset: bool, **options) -> None:
        if employees < plan.minimum_headcount():
            raise CommandError(f"The demo plant needs at least {plan.minimum_headcount()} employees.")
        if reset:
            self._reset()
        token = ""
        if Employee.objects.exists():
            if not if_empty:
                raise CommandError("The database already holds employees; seed an empty database or use --reset.")
            self.stdout.write("The database already holds employees; the demo plant is not seeded again.")
        else:
            today = timezone.localdate()
            result = seeding.seed_plant(seed=seed, employees=employees, today=today, progress=self._progress)
            self.stdout.write(f"Demo plant seeded: {result.employees} employees (seed {seed}, as of {today}).")
            token = result.api_token
        if seeding.is_demo_database():
            self._print_logins(token)

    def _progress(self, line: str) -> None:
        self.stdout.write(f"  {line}")
        self.stdout.flush()

    def _reset(self) -> None:
        """Deleting the file is the only complete reset: the audit trail refuses DELETE by design."""
        connection = connections["default"]
        path = Path(connection.settings_dict["NAME"])
        if connection.vendor != "sqlite" or path != settings.VAR_DIR / "qualiflow.sqlite3":
            raise CommandError("--reset only deletes the default SQLite database under var/; drop other databases yourself.")
        if Employee.objects.exists() and not seeding.is_demo_database():
            raise CommandError("--reset refused: this database holds data that is not the demo plant.")
        connections.close_all()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        call_command("migrate", "--noinput", verbosity=0)
        self.stdout.write(f"Deleted and migrated {path}.")

    def _print_logins(self, token: str) -> None:
        rows = [(r.username, r.role, r.scope, r.employee) for r in seeding.demo_login_rows()]
        headers = ("username", "role", "scope", "employee")
        widths = [max(_width(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {seeding.DEMO_PASSWORD}; the integration client uses its API token)")
        for cells in (headers, tuple("-" * w for w in widths), *rows):
            self.stdout.write("  ".join(_pad(cell, w) for cell, w in zip(cells, widths, strict=True)).rstrip())
        if token:
            self.stdout.write(f"\nAPI token of 'integration' (shown once, stored only as a hash): {token}")
        else:
            self.stdout.write("\nThe API token of 'integration' was shown when the plant was seeded; only its hash is stored.")


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
