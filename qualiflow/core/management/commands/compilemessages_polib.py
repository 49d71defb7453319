"""`manage.py compilemessages_polib`: compile the .po catalogues to .mo with polib, so that setting up
needs no GNU gettext."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Compile every .po catalogue under the LOCALE_PATHS (qualiflow/locale) to .mo; up-to-date ones are skipped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="compile even catalogues whose .mo is up to date")

    def handle(self, *args, force: bool, **options) -> None:
        compiled = current = 0
        for locale_dir in map(Path, settings.LOCALE_PATHS):
            for po_path in sorted(locale_dir.rglob("*.po")):
                mo_path = po_path.with_suffix(".mo")
                if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    current += 1
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
                if options["verbosity"] > 1:
                    self.stdout.write(f"compiled {mo_path}")
        self.stdout.write(f"translations: {compiled} catalogue(s) compiled, {current} up to date")
