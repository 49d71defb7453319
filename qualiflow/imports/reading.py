"""Reading a legacy export: CSV in UTF-8 (with or without BOM) or GB18030/GBK, or XLSX; streamed row by row
so a file of a million rows never sits in memory."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

SAMPLE_BYTES = 1 << 20
GB_FAMILY = frozenset({"gb18030", "gbk", "gb2312", "hz", "cp936"})
_ZIP_MAGIC = b"PK\x03\x04"


class FileProblem(Exception):
    """The file as a whole cannot be read; the message says why, in the reader's language."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Table:
    encoding: str
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (row number as a spreadsheet shows it, cells)


def is_xlsx(head: bytes, name: str) -> bool:
    return head.startswith(_ZIP_MAGIC) or name.lower().endswith((".xlsx", ".xlsm"))


def _cjk_share(text: str) -> float:
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 1.0
    cjk = sum(1 for c in wide if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")
    return cjk / len(wide)


def detect_encoding(head: bytes) -> str:
    """UTF-8 with BOM, UTF-8, or GB18030 (a superset of GBK and GB2312); anything else is refused with the
    reason, since a wrong guess would import garbled names."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem("encoding", _("The file is encoded as UTF-16, which is not accepted. Save it as CSV in UTF-8 or GB18030."))
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError as utf8_error:
        utf8_failure = utf8_error
    guess = from_bytes(head).best()
    guessed = (guess.encoding if guess is not None else "").lower().replace("_", "")
    try:
        text = codecs.getincrementaldecoder("gb18030")("strict").decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise FileProblem("encoding", _(
            "The file is neither UTF-8 nor GB18030/GBK text: byte 0x%(byte)02X at position %(position)s cannot be "
            "decoded as either. Save it as CSV in UTF-8."
        ) % {"byte": head[exc.start], "position": exc.start}) from exc
    if guessed.replace("-", "") in GB_FAMILY or _cjk_share(text) >= 0.95:
        return "gb18030"
    raise FileProblem("encoding", _(
        "The file is not UTF-8 (byte 0x%(byte)02X at position %(position)s is invalid) and does not look like "
        "GB18030/GBK Chinese text either; it seems to be %(guess)s. Save it as CSV in UTF-8."
    ) % {"byte": head[utf8_failure.start], "position": utf8_failure.start, "guess": guess.encoding if guess else "?"})


def _cells_text(row: list[str]) -> list[str]:
    return [cell.strip() for cell in row]


def _csv_rows(reader, encoding: str) -> Iterator[tuple[int, list[Any]]]:
    number = 1
    try:
        for row in reader:
            number += 1
            if not any(cell.strip() for cell in row):
                continue
            yield number, _cells_text(row)
    except UnicodeDecodeError as exc:
        raise FileProblem("encoding", _(
            "Row %(row)s cannot be decoded as %(encoding)s (byte 0x%(byte)02X): the file mixes encodings. "
            "Save it again as CSV in UTF-8."
        ) % {"row": number + 1, "encoding": encoding, "byte": exc.object[exc.start]}) from exc
    except csv.Error as exc:
        raise FileProblem("csv", _("Row %(row)s is not valid CSV: %(problem)s.") % {"row": number + 1, "problem": exc}) from exc


def _xlsx_rows(sheet) -> Iterator[tuple[int, list[Any]]]:
    for number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        cells = [cell.strip() if isinstance(cell, str) else ("" if cell is None else cell) for cell in row]
        if any(cell != "" for cell in cells):
            yield number, cells


@contextmanager
def open_table(path: Path | str, name: str) -> Iterator[Table]:
    """The header row and a stream of the data rows; problems with the file itself raise `FileProblem`."""
    path = Path(path)
    with path.open("rb") as raw:
        head = raw.read(SAMPLE_BYTES)
    if not head.strip():
        raise FileProblem("empty", _("The file is empty."))
    if is_xlsx(head, name):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise FileProblem("xlsx", _("The file is not a readable XLSX workbook: %(problem)s") % {"problem": exc}) from exc
        try:
            sheet = workbook.worksheets[0]
            first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), None)
            headers = [str(c).strip() if c is not None else "" for c in (first or ())]
            if not any(headers):
                raise FileProblem("empty", _("The first sheet has no header row."))
            yield Table("xlsx", headers, _xlsx_rows(sheet))
        finally:
            workbook.close()
        return
    encoding = detect_encoding(head)
    with path.open("r", encoding=encoding, errors="strict", newline="") as text:
        try:
            first_line = text.readline()
        except UnicodeDecodeError as exc:
            raise FileProblem("encoding", _("The header row cannot be decoded as %(encoding)s.") % {"encoding": encoding}) from exc
        try:
            dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t|")
            delimiter = dialect.delimiter
        except csv.Error:
            delimiter = ","
        headers = _cells_text(next(csv.reader(io.StringIO(first_line), delimiter=delimiter), []))
        if not any(headers):
            raise FileProblem("empty", _("The file has no header row."))
        yield Table(encoding, headers, _csv_rows(csv.reader(text, delimiter=delimiter), encoding))
