"""Row issues and file problems in words, in the reader's language, naming the column as the file does."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from .domain.rows import DATE_FORMATS_SHOWN, Issue

_TEMPLATES: dict[str, Any] = {
    "required": gettext_lazy("Column %(column)s is empty; it is required."),
    "too_long": gettext_lazy("Column %(column)s: “%(value)s” is longer than %(max)s characters."),
    "bad_email": gettext_lazy("Column %(column)s: “%(value)s” is not an e-mail address."),
    "bad_date": gettext_lazy("Column %(column)s: “%(value)s” is not a date; write it as one of %(formats)s."),
    "bad_moment": gettext_lazy(
        "Column %(column)s: “%(value)s” is not a date or a date and time; write it as one of %(formats)s, "
        "optionally followed by HH:MM."),
    "bad_bool": gettext_lazy("Column %(column)s: “%(value)s” is not yes or no (1/0, Y/N, 是/否, pass/fail)."),
    "bad_number": gettext_lazy("Column %(column)s: “%(value)s” is not a number with at most %(places)s decimals."),
    "bad_choice": gettext_lazy(
        "Column %(column)s: “%(value)s” is not one of %(choices)s; add a value mapping for it if it is a legacy code."),
    "unknown_ref": gettext_lazy("Column %(column)s: no %(what)s with the code “%(value)s” exists in Qualiflow."),
    "date_order": gettext_lazy("Column %(column)s: the date must be after %(earlier)s."),
    "other_site": gettext_lazy(
        "Column %(column)s: this %(what)s belongs to another site than the one in column %(parent)s."),
    "same_person": gettext_lazy("Column %(column)s: the trainer cannot be the trainee."),
    "duplicate": gettext_lazy("This row repeats row %(row)s (same %(key)s)."),
    "conflict": gettext_lazy(
        "This row matches two different existing records: %(first)s and %(second)s; correct the file or the data."),
    "missing_columns": gettext_lazy("Required columns are missing from the file: %(columns)s."),
}

_REF_NAMES = {
    "site": gettext_lazy("site"),
    "department": gettext_lazy("department"),
    "line": gettext_lazy("production line"),
    "position": gettext_lazy("position"),
    "employee": gettext_lazy("employee"),
    "course": gettext_lazy("course"),
    "qualification": gettext_lazy("active qualification"),
}

KEY_NAMES = {
    "external_key": gettext_lazy("external key"),
    "natural": gettext_lazy("identifying values"),
    "person": gettext_lazy("name and birth date"),
}


def render(code: str, **params: Any) -> str:
    return str(_TEMPLATES[code]) % params


def issue_text(issue: Issue, column: str, columns: dict[str, str]) -> str:
    params = dict(issue.params)
    params["column"] = column
    params["formats"] = DATE_FORMATS_SHOWN
    if "ref" in params or "field" in params:
        name = params.get("ref") or params["field"]
        params["what"] = _REF_NAMES.get(name, name)
    for name in ("earlier", "parent"):
        if name in params:
            params[name] = columns.get(params[name], params[name])
    return render(issue.code, **params)
