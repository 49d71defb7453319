"""Reading one row of a legacy file into Qualiflow values: pure rules over plain values.

A row arrives as {Qualiflow field: cell} once the column mapping and value mapping are applied; cells are
text (CSV) or, from XLSX, also numbers, dates and datetimes. Each field is parsed by its spec; each problem
becomes an `Issue` (field, code, params) that the service layer words in the reader's language.
No Django, no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

TEXT = "text"
DATE = "date"
MOMENT = "moment"  # a date (midnight in the plant's calendar) or a date and time
BOOL = "bool"
DECIMAL = "decimal"
CHOICE = "choice"
REF = "ref"
EMAIL = "email"

# Legacy exports write dates in many ways; day-first and month-first slashes are ambiguous, so only
# year-first forms (any one separator, or none) and the dotted day-first form are read. Regular
# expressions rather than strptime: a million rows would spend most of their time in strptime.
_YEAR_FIRST = re.compile(
    r"^(\d{4})([-/.]?)(\d{1,2})\2(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$"
)
_DAY_FIRST = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_CHINESE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
DATE_FORMATS_SHOWN = "YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD, DD.MM.YYYY, YYYY年MM月DD日"

TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "是", "合格", "通过", "pass", "passed", "x"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "否", "不合格", "未通过", "fail", "failed"})

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Ref:
    """A record a row may name by its code: its id, and the site it belongs to (for cross-checks)."""

    id: Any
    site_id: Any = None
    zone: str = ""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = TEXT
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    ref: str = ""  # for REF: which lookup, e.g. "department"
    digits: int = 7
    places: int = 2


@dataclass(frozen=True)
class Issue:
    field: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KindSpec:
    """A kind of import: its fields and the checks across fields."""

    kind: str
    fields: tuple[FieldSpec, ...]
    checks: tuple[Callable[[Mapping[str, Any]], list[Issue]], ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _parts(text: str) -> tuple[int, ...] | None:
    """(year, month, day[, hour, minute, second]) of a legacy date or date-and-time text."""
    if match := _YEAR_FIRST.match(text):
        y, separator, m, d, hh, mm, ss = match.groups()
        if not separator and (len(m) != 2 or len(d) != 2):
            return None  # 2024105 could be 5 October or 15 January
    elif match := _DAY_FIRST.match(text):
        d, m, y, hh, mm, ss = match.groups()
    elif match := _CHINESE.match(text):
        (y, m, d), hh, mm, ss = match.groups(), None, None, None
    else:
        return None
    if hh is None:
        return int(y), int(m), int(d)
    return int(y), int(m), int(d), int(hh), int(mm), int(ss or 0)


def _build(parts: tuple[int, ...]) -> dt.date | dt.datetime | None:
    try:
        return dt.date(*parts) if len(parts) == 3 else dt.datetime(*parts)
    except ValueError:
        return None


def parse_date(cell: Any) -> dt.date | None:
    if isinstance(cell, dt.datetime):
        return cell.date() if cell.time() == dt.time.min else None
    if isinstance(cell, dt.date):
        return cell
    parts = _parts(str(cell).strip())
    if parts is None or (len(parts) > 3 and any(parts[3:])):
        return None
    return _build(parts[:3])


def parse_moment(cell: Any) -> dt.date | dt.datetime | None:
    """A date, or a naive date and time (the service places it in the plant's time zone)."""
    if isinstance(cell, dt.datetime):
        return cell.date() if cell.time() == dt.time.min else cell.replace(tzinfo=None)
    if isinstance(cell, dt.date):
        return cell
    parts = _parts(str(cell).strip())
    return _build(parts) if parts is not None else None


def parse_bool(cell: Any) -> bool | None:
    if isinstance(cell, bool):
        return cell
    text = str(cell).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def parse_decimal(cell: Any, digits: int, places: int) -> Decimal | None:
    """A number with at most `places` decimals and `digits` digits in all."""
    try:
        value = Decimal(str(cell).strip())
        if not value.is_finite():
            return None
        rounded = value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        return None
    if rounded != value or abs(rounded) >= Decimal(10) ** (digits - places):
        return None
    return rounded


def text_of(cell: Any) -> str:
    """XLSX cells come typed: 1001.0 in an employee-number column is the text "1001"."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    return str(cell).strip()


def parse_field(spec: FieldSpec, cell: Any, refs: Mapping[str, Mapping[str, Ref]]) -> tuple[Any, Issue | None]:
    """The value of one non-blank cell, or the issue with it."""
    kind = spec.type
    if kind in (TEXT, EMAIL):
        text = text_of(cell)
        if spec.max_length is not None and len(text) > spec.max_length:
            return None, Issue(spec.name, "too_long", {"value": text, "max": spec.max_length})
        if kind == EMAIL and not _EMAIL.match(text):
            return None, Issue(spec.name, "bad_email", {"value": text})
        return text, None
    if kind == DATE:
        value = parse_date(cell)
        return (value, None) if value is not None else (None, Issue(spec.name, "bad_date", {"value": text_of(cell)}))
    if kind == MOMENT:
        value = parse_moment(cell)
        return (value, None) if value is not None else (None, Issue(spec.name, "bad_moment", {"value": text_of(cell)}))
    if kind == BOOL:
        value = parse_bool(cell)
        return (value, None) if value is not None else (None, Issue(spec.name, "bad_bool", {"value": text_of(cell)}))
    if kind == DECIMAL:
        value = parse_decimal(cell, spec.digits, spec.places)
        if value is None:
            return None, Issue(spec.name, "bad_number", {"value": text_of(cell), "places": spec.places})
        return value, None
    if kind == CHOICE:
        text = text_of(cell)
        if text not in spec.choices:
            return None, Issue(spec.name, "bad_choice", {"value": text, "choices": ", ".join(spec.choices)})
        return text, None
    if kind == REF:
        text = text_of(cell)
        ref = refs.get(spec.ref, {}).get(text)
        if ref is None:
            return None, Issue(spec.name, "unknown_ref", {"value": text, "ref": spec.ref})
        return ref, None
    raise ValueError(f"unknown field type {kind!r}")


def read_row(spec: KindSpec, row: Mapping[str, Any], refs: Mapping[str, Mapping[str, Ref]]) -> tuple[dict, list[Issue]]:
    """Parse every mapped field of `row`; blank optional cells become None (text: ""). Fields absent from
    the row (not mapped) stay absent, so an import never blanks what the file does not carry."""
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    for fs in spec.fields:
        if fs.name not in row:
            continue
        cell = row[fs.name]
        if _blank(cell):
            if fs.required:
                issues.append(Issue(fs.name, "required"))
            else:
                values[fs.name] = "" if fs.type in (TEXT, EMAIL) else None
            continue
        value, issue = parse_field(fs, cell, refs)
        if issue is not None:
            issues.append(issue)
        else:
            values[fs.name] = value
    if not issues:
        for check in spec.checks:
            issues.extend(check(values))
    return values, issues


# ---- checks across fields -------------------------------------------------------------------------------


def _as_moment(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time.min)
    return value


def after(later: str, earlier: str, *, strictly: bool) -> Callable[[Mapping[str, Any]], list[Issue]]:
    def check(values: Mapping[str, Any]) -> list[Issue]:
        a, b = _as_moment(values.get(later)), _as_moment(values.get(earlier))
        if a is None or b is None:
            return []
        if a < b or (strictly and a == b):
            return [Issue(later, "date_order", {"later": later, "earlier": earlier})]
        return []

    return check


def same_site(child: str, parent: str) -> Callable[[Mapping[str, Any]], list[Issue]]:
    def check(values: Mapping[str, Any]) -> list[Issue]:
        a, b = values.get(child), values.get(parent)
        if a is None or b is None or a.site_id == b.id:
            return []
        return [Issue(child, "other_site", {"field": child, "parent": parent})]

    return check


def different(a: str, b: str) -> Callable[[Mapping[str, Any]], list[Issue]]:
    def check(values: Mapping[str, Any]) -> list[Issue]:
        x, y = values.get(a), values.get(b)
        if x is not None and y is not None and x.id == y.id:
            return [Issue(a, "same_person", {"field": a, "other": b})]
        return []

    return check


def missing_columns(spec: KindSpec, mapped: Mapping[str, str], headers: list[str]) -> list[str]:
    """Source headers the mapping needs for required fields but the file lacks (in field order)."""
    present = set(headers)
    return [mapped.get(name, name) for name in spec.required if mapped.get(name, name) not in present]
