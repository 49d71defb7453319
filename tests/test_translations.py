"""The zh-Hans catalogue is complete: every string the code marks for translation is translated."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "qualiflow" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _untranslated(po: polib.POFile) -> list[str]:
    missing = []
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            missing.append(f"fuzzy: {entry.msgid!r}")
        elif entry.msgid_plural:
            if not entry.msgstr_plural or not all(entry.msgstr_plural.values()):
                missing.append(entry.msgid)
        elif not entry.msgstr:
            missing.append(entry.msgid)
    return missing


def test_every_catalogue_entry_is_translated():
    po = polib.pofile(str(CATALOGUE))
    assert len(po) > 0
    assert _untranslated(po) == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is needed to extract strings")
def test_catalogue_covers_every_marked_string(tmp_path):
    """Extract the strings from a copy of the source and compare with the committed catalogue."""
    copy = tmp_path / "qualiflow"
    shutil.copytree(ROOT / "qualiflow", copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-location",
         "--ignore", "static/*"],
        cwd=copy, check=True, capture_output=True,
        env={"DJANGO_SETTINGS_MODULE": "qualiflow.settings", "PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin",
             "QUALIFLOW_VAR_DIR": str(tmp_path / "var")},
    )
    extracted = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(CATALOGUE)) if not e.obsolete and (e.msgstr or e.msgstr_plural)}
    missing = sorted(e.msgid for e in extracted if (e.msgctxt, e.msgid) not in committed)
    assert missing == []
