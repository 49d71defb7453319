"""`compilemessages_polib` compiles .po catalogues to .mo without GNU gettext."""

from __future__ import annotations

import gettext
import os
from io import StringIO

from django.core.management import call_command

CATALOGUE = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

msgid "Employee"
msgstr "员工"

#, fuzzy
msgid "Position"
msgstr "职位"

msgid "Untranslated"
msgstr ""
"""


def _compile(**options) -> str:
    out = StringIO()
    call_command("compilemessages_polib", stdout=out, **options)
    return out.getvalue().strip()


def test_compiles_translated_entries_and_skips_up_to_date_catalogues(tmp_path, settings):
    messages = tmp_path / "zh_Hans" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    po = messages / "django.po"
    po.write_text(CATALOGUE, encoding="utf-8")
    settings.LOCALE_PATHS = [tmp_path]

    assert _compile() == "translations: 1 catalogue(s) compiled, 0 up to date"
    with (messages / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    assert catalogue.gettext("Employee") == "员工"
    assert catalogue.gettext("Position") == "Position"  # fuzzy entries are not trusted, as with msgfmt
    assert catalogue.gettext("Untranslated") == "Untranslated"

    assert _compile() == "translations: 0 catalogue(s) compiled, 1 up to date"
    mo_time = (messages / "django.mo").stat().st_mtime
    os.utime(po, (mo_time + 10, mo_time + 10))
    assert _compile() == "translations: 1 catalogue(s) compiled, 0 up to date"
    assert _compile(force=True) == "translations: 1 catalogue(s) compiled, 0 up to date"
