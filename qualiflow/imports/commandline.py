"""`qualiflow import <kind> <file> --source <system>`: the import engine from the command line, run
synchronously with a progress line on stderr. Exit code 0 when everything went in (or would), 1 when
rows or the file were refused or the commit failed."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from django.utils.translation import gettext as _

SHOWN_ERRORS = 50
KINDS = ("employees", "positions", "training_records", "certificates", "qualification_grants")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", choices=KINDS, help="what the file holds")
    parser.add_argument("file", nargs="?", type=Path, help="CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) or XLSX")
    parser.add_argument("--source", help="code of the source system the file comes from")
    parser.add_argument("--mapping", type=Path,
                        help='JSON: {"columns": {field: header}, "values": {field: {legacy: value}}} for this run '
                             "instead of the source system's saved mappings")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="validate and report only (the default)")
    mode.add_argument("--commit", action="store_true", help="validate, then commit when no row has an error")
    mode.add_argument("--rollback", metavar="BATCH_ID", help="roll a committed batch back completely")
    parser.add_argument("--reason", default="", help="why a batch is rolled back (required with --rollback)")


def _progress(label: str, total: int | None):
    def show(done: int) -> None:
        shown = f"{done:,}/{total:,}" if total else f"{done:,}"
        print(f"\r{label}: {shown} rows", end="", file=sys.stderr, flush=True)

    return show


def _print_report(batch) -> None:
    from . import report, selectors

    print(file=sys.stderr)
    for line in report.summary(batch):
        print(line)
    errors = list(selectors.batch_errors(batch=batch)[:SHOWN_ERRORS])
    for error in errors:
        where = _("row %(row)s") % {"row": error.row_number} if error.row_number is not None else _("file")
        print(f"  {where}: {error.message}")
    if batch.error_count > len(errors):
        print(_("  … and %(more)s more; the full list is in the batch report (/imports/%(batch)s/).") % {
            "more": batch.error_count - len(errors), "batch": batch.pk})


def run(args: argparse.Namespace) -> int:
    """Needs Django set up; `add_arguments` does not, so `qualiflow --help` stays fast."""
    from qualiflow.core import context
    from qualiflow.core.errors import QualiflowError

    actor = context.Actor(kind="shell", id="", name=getpass.getuser())
    with context.acting(actor=actor):
        try:
            return _run(args)
        except QualiflowError as exc:
            print(f"qualiflow import: {exc.message}", file=sys.stderr)
            for messages in exc.details.get("fields", {}).values():
                for message in messages:
                    print(f"  {message}", file=sys.stderr)
            return 1


def _run(args: argparse.Namespace) -> int:
    from . import report, selectors, services
    from .models import BatchStatus

    if args.rollback:
        batch = selectors.batch_get(batch_id=args.rollback)
        batch = services.batch_rollback(batch=batch, reason=args.reason)
        for line in report.summary(batch):
            print(line)
        return 0
    if args.kind is None or args.file is None or not args.source:
        print(_("qualiflow import: give the kind, the file and --source (or --rollback BATCH_ID)."), file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(_("qualiflow import: no file %(file)s.") % {"file": args.file}, file=sys.stderr)
        return 2
    source = selectors.source_get(code=args.source)
    columns = values = None
    if args.mapping is not None:
        try:
            mapping = json.loads(args.mapping.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(_("qualiflow import: the mapping file cannot be read: %(problem)s") % {"problem": exc}, file=sys.stderr)
            return 2
        columns = mapping.get("columns", {}) if isinstance(mapping, dict) else mapping
        values = mapping.get("values", {}) if isinstance(mapping, dict) else {}
    with args.file.open("rb") as handle:
        batch = services.batch_upload(kind=args.kind, source=source, file=handle, file_name=args.file.name,
                                      columns=columns, values=values)
    batch = services.batch_validate(batch=batch, on_progress=_progress(_("validating"), None))
    if batch.error_count or not args.commit:
        _print_report(batch)
        return 1 if batch.error_count else 0
    batch = services.batch_commit(batch=batch, on_progress=_progress(_("committing"), batch.rows))
    _print_report(batch)
    return 0 if batch.status == BatchStatus.COMMITTED else 1
