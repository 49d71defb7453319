"""The batch report: counts as text, and the row errors as a CSV or XLSX file to download."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

from . import selectors
from .models import ImportBatch

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _header() -> list[str]:
    return [_("Row"), _("Column"), _("Code"), _("Message")]


def _rows(batch: ImportBatch):
    for error in selectors.batch_errors(batch=batch).iterator(chunk_size=2000):
        yield [error.row_number if error.row_number is not None else "", error.column, error.code, error.message]


def errors_csv(batch: ImportBatch) -> bytes:
    """UTF-8 with a BOM, so Excel on a Chinese Windows opens the names unmangled."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(_header())
    writer.writerows(_rows(batch))
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def errors_xlsx(batch: ImportBatch) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Errors"))
    sheet.append(_header())
    for row in _rows(batch):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def summary(batch: ImportBatch) -> list[str]:
    lines = [
        _("Batch %(batch)s: %(kind)s from %(source)s, file %(file)s (%(encoding)s)") % {
            "batch": batch.pk, "kind": batch.get_kind_display(), "source": batch.source_system.code,
            "file": batch.file_name, "encoding": batch.encoding or "?"},
        _("Status: %(status)s") % {"status": batch.get_status_display()},
        _("Rows: %(rows)s; create %(created)s, update %(updated)s, skip %(skipped)s; errors %(errors)s") % {
            "rows": batch.rows, "created": batch.created_count, "updated": batch.updated_count,
            "skipped": batch.skipped_count, "errors": batch.error_count},
    ]
    if batch.failure:
        lines.append(batch.failure)
    return lines
