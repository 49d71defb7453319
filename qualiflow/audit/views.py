"""The audit viewer: filtered entries with field-level changes, CSV export, one record's history (an htmx
fragment for record pages), chain verification and the PostgreSQL trace of writes made outside the app.

Permissions are checked with `user.has_perm` (answered from roles by the accounts backend): audit sits
below accounts and does not import it."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import selectors, services
from .domain.chain import timestamp_text
from .forms import EntryFilterForm
from .models import AuditEntry

PAGE_SIZE = 50
HISTORY_LIMIT = 100
VIEW = "audit.view"
EXPORT = "audit.export"
# Cells a spreadsheet would run as a formula; prefixed with an apostrophe in the export.
_FORMULA_START = ("=", "+", "-", "@")


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: Any
    new: Any


@dataclass(frozen=True)
class EntryRow:
    entry: AuditEntry
    changes: list[FieldChange]


def _field_labels(object_type: str, cache: dict[str, dict[str, str]]) -> dict[str, str]:
    """Column name -> the field's own (translated) label, for the kinds of record the registry knows."""
    if object_type not in cache:
        labels: dict[str, str] = {}
        try:
            model = apps.get_model(object_type)
        except (LookupError, ValueError):
            model = None
        if model is not None:
            for field in model._meta.concrete_fields:
                labels[field.attname] = capfirst(field.verbose_name)
        cache[object_type] = labels
    return cache[object_type]


def _shown(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _rows(entries) -> list[EntryRow]:
    cache: dict[str, dict[str, str]] = {}
    rows = []
    for entry in entries:
        labels = _field_labels(entry.object_type, cache)
        rows.append(
            EntryRow(
                entry,
                [FieldChange(labels.get(name, name), _shown(old), _shown(new)) for name, old, new in entry.change_list],
            )
        )
    return rows


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
@require_http_methods(["GET"])
def entry_list(request: HttpRequest) -> HttpResponse:
    _require(request, VIEW)
    form = EntryFilterForm(request.GET or None, object_types=selectors.object_types())
    if form.is_bound:
        form.is_valid()
    page = Paginator(selectors.entry_list(form.filters()), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/entry_list.html",
        {
            "form": form,
            "page": page,
            "rows": _rows(page.object_list),
            "site_time_zone": selectors.viewer_time_zone(request.user),
            "can_export": request.user.has_perm(EXPORT),
            "export_query": request.GET.urlencode(),
            "tab": "entries",
        },
    )


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@login_required
@require_http_methods(["GET"])
def entry_export(request: HttpRequest) -> StreamingHttpResponse:
    _require(request, EXPORT)
    form = EntryFilterForm(request.GET or None, object_types=selectors.object_types())
    if form.is_bound:
        form.is_valid()
    _count, entries = services.entries_export(filters=form.filters())
    fields = [AuditEntry._meta.get_field(name) for name in selectors.EXPORT_COLUMNS]

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def lines():
        # The byte-order mark makes Excel read the file as UTF-8, so Chinese names show correctly.
        yield "\ufeff" + writer.writerow([capfirst(f.verbose_name) for f in fields])
        for entry in entries:
            values = []
            for field in fields:
                value = getattr(entry, field.attname)
                # The time exactly as it was hashed, so an exported row can be re-verified.
                values.append(_cell(timestamp_text(value) if field.name == "recorded_at" else value))
            yield writer.writerow(values)

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse((line.encode("utf-8") for line in lines()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response


@login_required
@require_http_methods(["GET"])
def object_history(request: HttpRequest, object_type: str, object_id: str) -> HttpResponse:
    _require(request, VIEW)
    entries = list(selectors.object_history(object_type=object_type, object_id=object_id)[: HISTORY_LIMIT + 1])
    context = {
        "rows": _rows(entries[:HISTORY_LIMIT]),
        "more": len(entries) > HISTORY_LIMIT,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": entries[0].object_repr if entries else "",
        "site_time_zone": selectors.viewer_time_zone(request.user),
    }
    template = "audit/_history.html" if _is_htmx(request) else "audit/object_history.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    _require(request, VIEW)
    report = selectors.chain_verify() if request.method == "POST" else None
    return render(request, "audit/verify.html", {"report": report, "tab": "verify"})


@login_required
@require_http_methods(["GET"])
def trace(request: HttpRequest) -> HttpResponse:
    _require(request, VIEW)
    page = Paginator(selectors.database_changes(), PAGE_SIZE).get_page(request.GET.get("page"))
    changes = [(change, _row_text(change.old_row), _row_text(change.new_row)) for change in page.object_list]
    return render(
        request,
        "audit/trace.html",
        {"supported": selectors.trace_supported(), "page": page, "changes": changes, "tab": "trace"},
    )


def _row_text(row: dict | None) -> str:
    return "" if row is None else json.dumps(row, ensure_ascii=False, sort_keys=True)
