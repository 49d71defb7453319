"""`manage.py audit verify` (re-hash the chain) and `manage.py audit trace` (raw-SQL writes on PostgreSQL)."""

from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand, CommandParser

from qualiflow.audit import selectors


class Command(BaseCommand):
    help = "Audit trail tools: verify the hash chain, list database-level changes made outside the application."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="re-hash every entry; exit 1 at the first edited, deleted or inserted one")
        verify.add_argument(
            "--workers", type=int, default=os.cpu_count() or 1,
            help="processes for a large trail (default: one per CPU; 1 checks in this process)",
        )
        trace = sub.add_parser("trace", help="list row changes made to regulated tables outside the application")
        trace.add_argument("--limit", type=int, default=100)

    def handle(self, *args, subcommand: str, **options) -> None:
        if subcommand == "verify":
            self.verify(options["workers"])
        else:
            self.trace(options["limit"])

    def verify(self, workers: int) -> None:
        report = selectors.chain_verify(workers=max(1, workers))
        if report.intact:
            self.stdout.write(f"audit chain intact: {report.checked} entries")
            return
        broken = report.first_break
        self.stdout.write(f"audit chain BROKEN at entry {broken.seq}: {broken.detail}")
        raise SystemExit(1)

    def trace(self, limit: int) -> None:
        changes = list(selectors.database_changes()[:limit])
        if not changes:
            self.stdout.write("no database-level changes recorded")
            return
        for change in changes:
            self.stdout.write(
                f"{change.occurred_at.isoformat()} {change.operation} {change.table_name} {change.row_id} "
                f"by {change.database_user}@{change.client_address} ({change.application_name})"
            )
            self.stdout.write(f"  old: {json.dumps(change.old_row, ensure_ascii=False, sort_keys=True)}")
            self.stdout.write(f"  new: {json.dumps(change.new_row, ensure_ascii=False, sort_keys=True)}")
