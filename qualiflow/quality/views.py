"""Quality event pages: the list (with an Excel export), an event with its signatures and history, and the
forms to open, edit and close one (closing is QA's e-signed decision). Each change states a reason."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook

from qualiflow.accounts.pages import found, posted
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import QualiflowError
from qualiflow.org.forms import local_name

from . import selectors, services
from .forms import EventCloseForm, EventEditForm, EventFilterForm, EventOpenForm
from .models import QualityEvent

PAGE_SIZE = 25
RESULTS_TARGET = "event-results"
# (sort key or None, field): the list's columns; the keys are those `selectors.event_list` sorts by.
LIST_COLUMNS = (
    ("number", "number"), ("kind", "kind"), ("title", "title"), (None, "site"), ("opened_at", "opened_at"),
    ("status", "status"), ("closed_at", "closed_at"),
)
EXPORT_COLUMNS = (
    "number", "kind", "title", "status", "site", "source_type", "source_id", "opened_at", "opened_by",
    "closed_at", "description", "closure_summary",
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RUN_SOURCE = "production.operationrun"


def _require(request, perm: str, event: QualityEvent | None = None) -> None:
    if not has_perm(request.user, perm, None if event is None else services.place(event)):
        raise PermissionDenied




def _event(request, pk) -> QualityEvent:
    _require(request, Perm.QUALITY_VIEW)
    return found(selectors.event_get, user=request.user, event_id=pk)


def _detail_url(event: QualityEvent) -> str:
    return reverse("quality:event_detail", kwargs={"pk": event.pk})


def _source_url(event: QualityEvent) -> str:
    """A link to the record the event arose from, where that page exists."""
    if event.source_type != RUN_SOURCE or not event.source_id:
        return ""
    try:
        return reverse("production:run_detail", args=[event.source_id])
    except NoReverseMatch:
        return ""


def _columns(current_sort: str) -> list[dict]:
    columns = []
    for key, field in LIST_COLUMNS:
        direction = "" if key is None else "asc" if current_sort == key else "desc" if current_sort == f"-{key}" else ""
        columns.append({
            "label": capfirst(QualityEvent._meta.get_field(field).verbose_name),
            "sort": "" if key is None else f"-{key}" if direction == "asc" else key,
            "direction": direction,
        })
    return columns


@login_required
@require_GET
def event_list(request):
    _require(request, Perm.QUALITY_VIEW)
    form = EventFilterForm(request.GET)
    filters = form.selector_kwargs()
    events = selectors.event_list(user=request.user, **filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    # htmx swaps only the results; a history restore or a plain request gets the whole page.
    fragment = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")
    context = {
        "form": form,
        "page": page,
        "columns": _columns(filters["ordering"]),
        "sort": filters["ordering"],
        "fragment": fragment,
        "hx_target": f"#{RESULTS_TARGET}",
        "results_id": RESULTS_TARGET,
        "export_query": request.GET.urlencode(),
        "can_manage": has_perm(request.user, Perm.QUALITY_MANAGE),
    }
    response = render(request, "quality/_event_results.html" if fragment else "quality/event_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _export_value(event: QualityEvent, name: str):
    if name in ("kind", "status"):
        return getattr(event, f"get_{name}_display")()
    if name == "site":
        return local_name(event.site)
    if name == "opened_by":
        return event.opened_by.get_username() if event.opened_by_id else ""
    if name in ("opened_at", "closed_at"):
        value = getattr(event, name)
        # Excel has no time zones: the reader's plant time, as the pages show it.
        return timezone.localtime(value).replace(tzinfo=None) if value else None
    return getattr(event, name)


@login_required
@require_GET
def event_export(request):
    _require(request, Perm.QUALITY_VIEW)
    events = selectors.event_list(user=request.user, **EventFilterForm(request.GET).selector_kwargs())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(capfirst(QualityEvent._meta.verbose_name_plural))[:31])
    sheet.append([str(capfirst(QualityEvent._meta.get_field(name).verbose_name)) for name in EXPORT_COLUMNS])
    for event in events.iterator(chunk_size=2000):
        sheet.append([_export_value(event, name) for name in EXPORT_COLUMNS])
    content = io.BytesIO()
    workbook.save(content)
    response = HttpResponse(content.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="quality-events-{timezone.now():%Y%m%d-%H%M}.xlsx"'
    return response


@login_required
@require_GET
def event_detail(request, pk):
    event = _event(request, pk)
    place = services.place(event)
    return render(request, "quality/event_detail.html", {
        "event": event,
        "detail": selectors.event_detail(event=event),
        "source_url": _source_url(event),
        "can_manage": has_perm(request.user, Perm.QUALITY_MANAGE, place),
        "can_close": has_perm(request.user, Perm.QUALITY_APPROVE, place),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request):
    _require(request, Perm.QUALITY_MANAGE)
    form = EventOpenForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        try:
            event = services.quality_event_open(**data, by=request.user, reason=reason)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Quality event %(number)s opened.") % {"number": event.number})
            return redirect(_detail_url(event))
    return render(request, "quality/event_form.html", {"form": form, "event": None})


@login_required
@require_http_methods(["GET", "POST"])
def event_edit(request, pk):
    event = _event(request, pk)
    _require(request, Perm.QUALITY_MANAGE, event)
    form = EventEditForm(posted(request), initial={"title": event.title, "description": event.description})
    if request.method == "POST" and form.is_valid():
        try:
            event = services.quality_event_update(
                event=event, title=form.cleaned_data["title"], description=form.cleaned_data["description"],
                by=request.user, reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Quality event %(number)s saved.") % {"number": event.number})
            return redirect(_detail_url(event))
    return render(request, "quality/event_form.html", {"form": form, "event": event})


@login_required
@require_http_methods(["GET", "POST"])
def event_close(request, pk):
    event = _event(request, pk)
    _require(request, Perm.QUALITY_APPROVE, event)
    form = EventCloseForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            event = services.quality_event_close(
                event=event, signer=request.user, password=form.cleaned_data["password"],
                summary=form.cleaned_data["summary"], reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Quality event %(number)s closed and signed.") % {"number": event.number})
            return redirect(_detail_url(event))
    return render(request, "quality/event_close.html", {"form": form, "event": event})
