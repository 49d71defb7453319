"""Device history record pages: the live preview of a work order's DHR, its export (signed with the
exporter's password), a stored export with its verification, and the export's PDF and JSON downloads.

Reading needs `production.view` over the order's line; exporting needs `production.export` there.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qualiflow.accounts.models import SignatureMeaning
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core import errors
from qualiflow.core.errors import QualiflowError
from qualiflow.quality.models import QualityEventStatus
from qualiflow.training.selectors.reports import STATE_LABELS

from ..forms.dhr import DhrExportForm
from ..models import DeviceClass, DhrExport, RoutingStatus, StepStatus, WorkOrderStatus
from ..selectors import dhr as selectors
from ..selectors.station import reason_text
from ..services import dhr as services

# Keys of the content that hold an ISO-8601 time besides those ending in "_at".
_TIME_KEYS = frozenset({"valid_from", "valid_until", "calibration_due", "effective_from", "planned_start", "planned_end",
                        "in_grace_until"})


def _call(reader, **kwargs):
    try:
        return reader(**kwargs)
    except errors.NotFound as exc:
        raise Http404 from exc
    except errors.PermissionDenied as exc:
        raise PermissionDenied from exc


def _times_and_names(value: Any, language: str, key: str = "") -> Any:
    """A copy of the content with its times as datetimes and a `label` in the reader's language on every
    named unit (product, line, work center, step)."""
    if isinstance(value, dict):
        out = {k: _times_and_names(v, language, k) for k, v in value.items()}
        if "name" in value and "name_en" in value:
            out["label"] = value["name_en"] if language == "en" and value["name_en"] else value["name"]
        if "title" in value and "title_en" in value:
            out["label"] = value["title_en"] if language == "en" and value["title_en"] else value["title"]
        return out
    if isinstance(value, list):
        return [_times_and_names(v, language) for v in value]
    if isinstance(value, str) and value and (key.endswith("_at") or key in _TIME_KEYS or key == "at"):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _signed(signatures: list[dict]) -> None:
    for signature in signatures:
        signature["meaning_label"] = _label(SignatureMeaning, signature["meaning"])


def dhr_document(content: dict, *, language: str) -> dict:
    """The DHR content laid out for a page or the PDF: times, names and codes as the reader reads them."""
    doc = _times_and_names(copy.deepcopy(content), language)
    header = doc["header"]
    header["status_label"] = _label(WorkOrderStatus, header["status"])
    header["product"]["device_class_label"] = _label(DeviceClass, header["product"]["device_class"])
    header["routing"]["status_label"] = _label(RoutingStatus, header["routing"]["status"])
    _signed(header["routing"]["signatures"])
    for step in doc["steps"]:
        step["status_label"] = _label(StepStatus, step["status"])
        for run in step["runs"]:
            _signed(run["override_signatures"])
            for reason in run["decision"]["reasons"]:
                reason["label"] = reason_text(reason, run)
            for qualification in run["qualifications"]:
                qualification["state_label"] = str(STATE_LABELS.get(qualification["state"], qualification["state"]))
            if run["deviation"]:
                run["deviation"]["status_label"] = _label(QualityEventStatus, run["deviation"]["status"])
    for refusal in doc["refusals"]:
        _signed(refusal["signatures"])
        for reason in refusal["reasons"]:
            reason["label"] = reason_text(reason, {**refusal, "equipment": {"asset_number": refusal["equipment"]}})
    for deviation in doc["deviations"]:
        deviation["status_label"] = _label(QualityEventStatus, deviation["status"])
    return doc


def _css_string(text: str) -> str:
    """Text as the inside of a CSS string (escaped, so a translation cannot end the string or the style)."""
    return mark_safe(text.replace("\\", "\\5C ").replace('"', "\\22 ").replace("<", "\\3C "))


def _page_counter() -> dict[str, str]:
    """The words around the numbers of "page x of y" in the reader's language, for the CSS page counters."""
    before, rest = _("Page %(page)s of %(pages)s").split("%(page)s", 1)
    between, after = rest.split("%(pages)s", 1)
    return {"page_before": _css_string(before), "page_between": _css_string(between), "page_after": _css_string(after)}


def dhr_pdf(export: DhrExport) -> bytes:
    """The stored export as a batch record (A4, CJK font; every page carries the order, page x / y and the
    content hash), in the reader's language. Made from the stored content only, never from live data."""
    from weasyprint import HTML  # imported here: loading Pango costs every process that never prints

    language = get_language() or "en"
    signatures = selectors.export_signatures(export)
    _signed(signatures)
    html = render_to_string("production/dhr/pdf.html", {
        "dhr": dhr_document(export.content, language=language), "export": export, "language": language,
        "signatures": _times_and_names(signatures, language), "verified": services.dhr_verify(export),
        **_page_counter(),
    })
    return HTML(string=html).write_pdf()


def pdf_response(export: DhrExport) -> HttpResponse:
    response = HttpResponse(dhr_pdf(export), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="DHR-{export.work_order.number}.pdf"'
    return response


def export_document(export: DhrExport) -> dict[str, Any]:
    """What the JSON download and the API give: the stored content exactly, with its hash and signatures."""
    return {
        "id": str(export.pk), "work_order_id": str(export.work_order_id), "work_order_number": export.work_order.number,
        "exported_at": export.exported_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "exported_by": export.exported_by.printed_name, "content_hash": export.content_hash,
        "hash_algorithm": "SHA-256 over the content as JSON with sorted keys, no spaces, UTF-8",
        "verified": services.dhr_verify(export), "signatures": selectors.export_signatures(export),
        "content": export.content,
    }


def _page(request, work_order, template: str, **extra) -> HttpResponse:
    language = get_language() or "en"
    return render(request, template, {
        "work_order": work_order, "language": language,
        "can_export": has_perm(request.user, Perm.PRODUCTION_EXPORT, selectors.placed(work_order)),
        "exportable": work_order.status in services.EXPORTABLE, **extra,
    })


@login_required
def dhr_view(request, pk):
    work_order = _call(selectors.dhr_work_order, user=request.user, work_order_id=pk)
    content = selectors.dhr_content(work_order=work_order)
    return _page(request, work_order, "production/dhr/view.html",
                 dhr=dhr_document(content, language=get_language() or "en"),
                 exports=selectors.dhr_exports(work_order=work_order))


@login_required
@require_http_methods(["GET", "POST"])
def dhr_export(request, pk):
    work_order = _call(selectors.dhr_work_order, user=request.user, work_order_id=pk, perm=Perm.PRODUCTION_EXPORT)
    form = DhrExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            export = services.dhr_export(work_order=work_order, signer=request.user,
                                         password=form.cleaned_data["password"], reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("The device history record of %(number)s was exported and signed.")
                             % {"number": work_order.number})
            return redirect("production:dhr_export_detail", pk=export.pk)
    return _page(request, work_order, "production/dhr/export.html", form=form)


@login_required
def dhr_export_detail(request, pk):
    export = _call(selectors.dhr_export_get, user=request.user, export_id=pk)
    signatures = selectors.export_signatures(export)
    _signed(signatures)
    return _page(request, export.work_order, "production/dhr/export_detail.html", export=export,
                 verified=services.dhr_verify(export), signatures=_times_and_names(signatures, get_language() or "en"))


@login_required
def dhr_pdf_download(request, pk):
    return pdf_response(_call(selectors.dhr_export_get, user=request.user, export_id=pk))


@login_required
def dhr_json(request, pk):
    export = _call(selectors.dhr_export_get, user=request.user, export_id=pk)
    body = json.dumps(export_document(export), ensure_ascii=False, indent=2, sort_keys=True)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="DHR-{export.work_order.number}.json"'
    return response


urlpatterns = [
    path("work-orders/<uuid:pk>/dhr/", dhr_view, name="dhr_view"),
    path("work-orders/<uuid:pk>/dhr/export/", dhr_export, name="dhr_export"),
    path("dhr/<uuid:pk>/", dhr_export_detail, name="dhr_export_detail"),
    path("dhr/<uuid:pk>/pdf/", dhr_pdf_download, name="dhr_pdf"),
    path("dhr/<uuid:pk>/json/", dhr_json, name="dhr_json"),
]
