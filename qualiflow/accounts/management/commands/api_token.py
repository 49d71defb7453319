"""`manage.py api_token <username> --name ...`: issue an API token for an existing user from the shell, e.g. for
an integration client set up by an administrator or for CI running checks against a live server."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from qualiflow.accounts import services
from qualiflow.accounts.models import User
from qualiflow.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Issue an API token for a user and print it; only its hash is stored, so it is shown this once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="what uses the token, e.g. 'ERP sync'")
        parser.add_argument("--expires-in-days", type=int, help="days until the token stops working (default: never)")

    def handle(self, *args, username: str, name: str, expires_in_days: int | None, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            _token, secret = services.api_token_issue(user=user, name=name, expires_at=expires_at)
        except ValidationFailed as exc:
            problems = "; ".join(str(m) for messages in exc.fields.values() for m in messages)
            raise CommandError(problems or str(exc.message)) from exc
        # The secret alone on stdout, so a script can capture it.
        self.stdout.write(secret)
