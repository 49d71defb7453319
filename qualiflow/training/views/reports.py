"""Report pages: the training matrix (and its XLSX export), a person's training page and passport (PDF),
the traceability query (and its XLSX export) and the coordinator's calendar of sessions (and iCalendar).

Every page needs `training.view` and shows only people and sessions in the reader's scope; a person
outside it is refused with 403.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from collections.abc import Callable, Iterable

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core import errors
from qualiflow.documents.models import Document
from qualiflow.org.forms import OrgUnitChoiceField, local_name
from qualiflow.org.models import Department, Position, ProductionLine, Site
from qualiflow.org.selectors import org_unit_choices

from ..models import Course, Qualification
from ..selectors import reports as selectors

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MATRIX_PAGE_SIZE = 100
TRACE_PAGE_SIZE = 50
RESULTS_TARGET = "report-results"
# (background, text) per cell state: the matrix page, its legend and the XLSX export use the same colours.
STATE_COLOURS: dict[str, tuple[str, str]] = {
    "qualified": ("C8E6C9", "1B5E20"),
    "expiring": ("FFE082", "6D4C00"),
    "expired": ("E57373", "FFFFFF"),
    "suspended": ("D1C4E9", "4527A0"),
    "revoked": ("424242", "FFFFFF"),
    "retraining_required": ("FFB74D", "5D2E00"),
    "missing": ("FFCDD2", "B71C1C"),
    "not_required": ("EEEEEE", "757575"),
}


def _require_view(request) -> None:
    if not has_perm(request.user, Perm.TRAINING_VIEW):
        raise PermissionDenied


def _call(reader: Callable, **kwargs):
    """A scoped read, its refusals as the HTTP answers Django gives them."""
    try:
        return reader(**kwargs)
    except errors.NotFound as exc:
        raise Http404 from exc
    except errors.PermissionDenied as exc:
        raise PermissionDenied from exc


def _fragment(request) -> bool:
    """htmx swaps only the results; a history restore or a plain request gets the whole page."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def _coded(obj) -> str:
    return f"{obj.code} {obj.display_name(get_language() or 'en')}"


def _xlsx_response(workbook: Workbook, stem: str) -> HttpResponse:
    content = io.BytesIO()
    workbook.save(content)
    response = HttpResponse(content.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{stem}-{timezone.now():%Y%m%d-%H%M}.xlsx"'
    return response


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CodedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _coded(obj)


class CodedMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return _coded(obj)


def _unit_field(label) -> OrgUnitChoiceField:
    return OrgUnitChoiceField(label=label, queryset=Site.objects.none(), required=False, empty_label=gettext_lazy("All"))


class FilterForm(forms.Form):
    """Filters parse leniently: a value that does not parse is ignored, not an error."""

    units = {"site": Site, "department": Department, "line": ProductionLine, "position": Position}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, model in self.units.items():
            if name in self.fields:
                self.fields[name].queryset = org_unit_choices(model)

    def clean_values(self) -> dict:
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}

    @staticmethod
    def pk(value):
        return value.pk if value is not None else None


# ---- training matrix -----------------------------------------------------------------------------------


class MatrixFilterForm(FilterForm):
    day = forms.DateField(label=gettext_lazy("Status on"), required=False, widget=DateInput())
    site = _unit_field(gettext_lazy("Site"))
    department = _unit_field(gettext_lazy("Department"))
    line = _unit_field(gettext_lazy("Line"))
    position = _unit_field(gettext_lazy("Position"))
    qualifications = CodedMultipleChoiceField(
        label=gettext_lazy("Qualifications"), queryset=Qualification.objects.none(), required=False,
        help_text=gettext_lazy("Empty: those the positions require."),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qualifications"].queryset = Qualification.objects.filter(is_active=True).order_by("code")

    def filters(self) -> selectors.MatrixFilters:
        values = self.clean_values()
        return selectors.MatrixFilters(
            day=values.get("day"),
            site_id=self.pk(values.get("site")), department_id=self.pk(values.get("department")),
            line_id=self.pk(values.get("line")), position_id=self.pk(values.get("position")),
            qualification_ids=tuple(q.pk for q in values.get("qualifications") or ()),
        )


def _legend() -> list[dict]:
    return [
        {"state": state, "label": selectors.STATE_LABELS[state], "description": selectors.STATE_DESCRIPTIONS[state],
         "background": STATE_COLOURS[state][0], "colour": STATE_COLOURS[state][1]}
        for state in selectors.CELL_STATES
    ]


def _cell_text(cell: selectors.Cell, zone) -> str:
    """What a cell shows: the validity end of a usable qualification, the state otherwise."""
    if cell.state in ("qualified", "expiring"):
        return cell.valid_until.astimezone(zone).date().isoformat() if cell.valid_until else "∞"
    if cell.in_grace_until is not None:
        return _("%(state)s (in grace)") % {"state": cell.label}
    return str(cell.label)


def _cell_tooltip(cell: selectors.Cell, zone) -> str:
    lines = [str(cell.label)]
    if cell.valid_until:
        lines.append(_("Valid until %(day)s") % {"day": cell.valid_until.astimezone(zone).date().isoformat()})
    if cell.requested and not cell.required:
        lines.append(_("Recommended, not mandatory"))
    lines.extend(reason.message for reason in cell.reasons)
    return "\n".join(lines)


@login_required
def matrix(request):
    _require_view(request)
    form = MatrixFilterForm(request.GET)
    filters = form.filters()
    try:
        number = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        number = 1

    def load(number: int) -> selectors.Matrix:
        return _call(selectors.training_matrix, user=request.user, filters=filters, limit=MATRIX_PAGE_SIZE,
                     offset=(number - 1) * MATRIX_PAGE_SIZE)

    result = load(number)
    page = Paginator(range(result.total), MATRIX_PAGE_SIZE).get_page(number)
    if page.number != number:  # past the last page (e.g. a stale link after filtering): show the last one
        result = load(page.number)
    rows = [
        {"employee": row.employee, "position": row.position,
         "cells": [{"state": c.state, "text": _cell_text(c, result.zone), "tooltip": _cell_tooltip(c, result.zone),
                    "required": c.required} for c in row.cells]}
        for row in result.rows
    ]
    fragment = _fragment(request)
    context = {
        "form": form, "matrix": result, "rows": rows, "page": page, "legend": _legend(), "fragment": fragment,
        "hx_target": f"#{RESULTS_TARGET}", "results_id": RESULTS_TARGET, "export_query": request.GET.urlencode(),
        "colours": STATE_COLOURS,
    }
    template = "training/reports/_matrix_results.html" if fragment else "training/reports/matrix.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _fills() -> dict[str, tuple[PatternFill, Font]]:
    return {
        state: (PatternFill(fill_type="solid", start_color=f"FF{bg}", end_color=f"FF{bg}"), Font(color=f"FF{fg}"))
        for state, (bg, fg) in STATE_COLOURS.items()
    }


def _header(sheet, titles: Iterable[str]) -> None:
    sheet.append([str(t) for t in titles])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top", wrap_text=True)


@login_required
def matrix_export(request):
    _require_view(request)
    filters = MatrixFilterForm(request.GET).filters()
    result = _call(selectors.training_matrix, user=request.user, filters=filters)
    fills = _fills()
    zone = result.zone
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Matrix")[:31]
    fixed = [_("Employee number"), _("Name"), _("Department"), _("Line"), _("Position")]
    _header(sheet, [*fixed, *(_coded(q) for q in result.columns)])
    details = workbook.create_sheet(_("Details")[:31])
    _header(details, [_("Employee number"), _("Name"), _("Qualification"), _("Status"), _("Valid until"),
                      _("Mandatory"), _("Reasons"), _("Evidence")])
    for row in result.rows:
        employee = row.employee
        sheet.append([employee.employee_number, employee.full_name, local_name(employee.department),
                      local_name(employee.line), local_name(row.position),
                      *(str(c.label) for c in row.cells)])
        for index, cell in enumerate(row.cells, start=len(fixed) + 1):
            target = sheet.cell(row=sheet.max_row, column=index)
            target.fill, target.font = fills[cell.state]
        for qualification, cell in zip(result.columns, row.cells, strict=True):
            details.append([
                employee.employee_number, employee.full_name, qualification.code, str(cell.label),
                cell.valid_until.astimezone(zone).date() if cell.valid_until else None,
                _("yes") if cell.required else _("no"), "\n".join(r.message for r in cell.reasons),
                "\n".join(cell.evidence),
            ])
            status_cell = details.cell(row=details.max_row, column=4)
            status_cell.fill, status_cell.font = fills[cell.state]
    for ws, width in ((sheet, len(fixed) + len(result.columns)), (details, 8)):
        ws.freeze_panes = "C2" if ws is sheet else "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(width)}{max(ws.max_row, 1)}"
    for letter, size in (("A", 14), ("B", 14), ("C", 22), ("D", 22), ("E", 22)):
        sheet.column_dimensions[letter].width = size
    for index in range(len(fixed) + 1, len(fixed) + len(result.columns) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 16
    legend = workbook.create_sheet(_("Legend")[:31])
    _header(legend, [_("Status"), _("Meaning")])
    for item in _legend():
        legend.append([str(item["label"]), str(item["description"])])
        legend.cell(row=legend.max_row, column=1).fill, legend.cell(row=legend.max_row, column=1).font = fills[item["state"]]
    legend.append([])
    legend.append([_("Status on"), result.day.isoformat()])
    legend.append([_("Time zone"), str(zone)])
    legend.append([_("Generated at (UTC)"), timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")])
    legend.append([_("People"), result.total])
    legend.column_dimensions["A"].width = 24
    legend.column_dimensions["B"].width = 70
    return _xlsx_response(workbook, "training-matrix")


# ---- a person's training page and passport -------------------------------------------------------------


@login_required
def employee_training(request, pk):
    data = _call(selectors.employee_training, user=request.user, employee_id=pk)
    return render(request, "training/reports/employee_training.html", {
        "data": data, "employee": data.status.employee, "zone": str(data.status.zone), "colours": STATE_COLOURS,
        "can_view_person": has_perm(request.user, Perm.PEOPLE_VIEW, data.status.employee),
    })


def passport_pdf(passport: selectors.Passport, *, page_url: str) -> bytes:
    """The passport laid out as a PDF (A4, CJK font, footer with generation time and content hash)."""
    from weasyprint import HTML  # imported here: loading Pango costs every process that never prints

    html = render_to_string("training/reports/passport.html", {
        "passport": passport, "employee": passport.employee, "zone": str(passport.zone), "page_url": page_url,
        "colours": STATE_COLOURS, "language": get_language() or "en",
        "generated_at": passport.generated_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    })
    return HTML(string=html).write_pdf()


def passport_response(request, employee_id) -> HttpResponse:
    passport = selectors.training_passport(user=request.user, employee_id=employee_id)
    page_url = request.build_absolute_uri(reverse("training:employee_training", kwargs={"pk": passport.employee.pk}))
    response = HttpResponse(passport_pdf(passport, page_url=page_url), content_type="application/pdf")
    filename = f"training-passport-{passport.employee.employee_number}-{timezone.now():%Y%m%d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def passport(request, pk):
    return _call(passport_response, request=request, employee_id=pk)


# ---- traceability --------------------------------------------------------------------------------------

PASSED_CHOICES = (("", gettext_lazy("Any")), ("yes", gettext_lazy("Passed")), ("no", gettext_lazy("Not passed")))


class TraceFilterForm(FilterForm):
    employee = forms.CharField(
        label=gettext_lazy("Employee"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("Number or name")}),
    )
    course = CodedChoiceField(label=gettext_lazy("Course"), queryset=Course.objects.none(), required=False,
                              empty_label=gettext_lazy("All"))
    qualification = CodedChoiceField(label=gettext_lazy("Qualification"), queryset=Qualification.objects.none(),
                                     required=False, empty_label=gettext_lazy("All"))
    trainer = forms.CharField(
        label=gettext_lazy("Trainer"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("Number or name")}),
    )
    line = _unit_field(gettext_lazy("Line"))
    document = CodedChoiceField(label=gettext_lazy("Document"), queryset=Document.objects.none(), required=False,
                                empty_label=gettext_lazy("All"))
    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=gettext_lazy("Until"), required=False, widget=DateInput())
    passed = forms.ChoiceField(label=gettext_lazy("Result"), choices=PASSED_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.order_by("code")
        self.fields["qualification"].queryset = Qualification.objects.order_by("code")
        self.fields["document"].queryset = Document.objects.order_by("code")

    def filters(self) -> selectors.TraceFilters:
        values = self.clean_values()
        passed = values.get("passed")
        return selectors.TraceFilters(
            employee=values.get("employee") or "", trainer=values.get("trainer") or "",
            course_id=self.pk(values.get("course")), qualification_id=self.pk(values.get("qualification")),
            line_id=self.pk(values.get("line")), document_id=self.pk(values.get("document")),
            date_from=values.get("date_from"), date_to=values.get("date_to"),
            passed={"yes": True, "no": False}.get(passed or ""),
        )


def _traced(request, form: TraceFilterForm):
    """The matching records, or None with the refusal added to the form."""
    try:
        return _call(selectors.traceability, user=request.user, filters=form.filters())
    except errors.ValidationFailed as exc:
        for name, messages in exc.fields.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, str(message))
        return None


@login_required
def traceability(request):
    _require_view(request)
    form = TraceFilterForm(request.GET)
    records = _traced(request, form)
    page = Paginator(records if records is not None else [], TRACE_PAGE_SIZE).get_page(request.GET.get("page"))
    signatures = selectors.trace_signatures(list(page.object_list))
    fragment = _fragment(request)
    context = {
        "form": form, "page": page, "fragment": fragment, "hx_target": f"#{RESULTS_TARGET}",
        "results_id": RESULTS_TARGET, "export_query": request.GET.urlencode(),
        "rows": [{"record": r, "signatures": signatures.get(str(r.pk), [])} for r in page.object_list],
    }
    template = "training/reports/_trace_results.html" if fragment else "training/reports/traceability.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def trace_row(record) -> list:
    """One record as the export's columns (see `trace_columns`), the time in the trainee's site time zone
    (Excel has no time zones)."""
    line = record.line or (record.session.line if record.session_id else None)
    document = f"{record.document_code} {record.document_revision_label}".strip() if record.document_id else ""
    return [
        record.completed_at.astimezone(zoneinfo.ZoneInfo(record.employee.site.time_zone)).replace(tzinfo=None),
        record.employee.employee_number, record.employee.full_name, record.course.code,
        record.course.display_name(get_language() or "en"), record.course.get_kind_display(),
        str(record.trainer) if record.trainer_id else (record.session.external_trainer if record.session_id else ""),
        local_name(line), document, record.session.place if record.session_id else "",
        record.score, _("yes") if record.passed else _("no"),
    ]


def trace_columns() -> list[str]:
    return [_("Completed at (site time)"), _("Employee number"), _("Name"), _("Course code"), _("Course"), _("Kind"),
            _("Trainer"), _("Line"), _("Document revision"), _("Place"), _("Score"), _("Passed")]


@login_required
def traceability_export(request):
    _require_view(request)
    form = TraceFilterForm(request.GET)
    records = _traced(request, form)
    if records is None:
        return HttpResponseBadRequest(" ".join(str(e) for errs in form.errors.values() for e in errs))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Training records")[:31]
    _header(sheet, [*trace_columns(), _("Signatures")])
    for chunk_start in range(0, records.count(), 2000):
        chunk = list(records[chunk_start:chunk_start + 2000])
        signatures = selectors.trace_signatures(chunk)
        for record in chunk:
            signed = "; ".join(
                f"{s.printed_name} ({s.get_meaning_display()}, {s.signed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC)"
                for s in signatures.get(str(record.pk), [])
            )
            sheet.append([*trace_row(record), signed])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(trace_columns()) + 1)}{max(sheet.max_row, 1)}"
    for index, width in enumerate((18, 14, 14, 14, 28, 16, 22, 22, 18, 18, 8, 8, 40), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    return _xlsx_response(workbook, "training-traceability")


# ---- calendar of sessions ------------------------------------------------------------------------------


class CalendarFilterForm(FilterForm):
    month = forms.DateField(
        label=gettext_lazy("Month"), required=False, input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    site = _unit_field(gettext_lazy("Site"))
    line = _unit_field(gettext_lazy("Line"))
    course = CodedChoiceField(label=gettext_lazy("Course"), queryset=Course.objects.none(), required=False,
                              empty_label=gettext_lazy("All"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.order_by("code")

    def month_and_filters(self) -> tuple[dt.date | None, selectors.CalendarFilters]:
        values = self.clean_values()
        filters = selectors.CalendarFilters(
            site_id=self.pk(values.get("site")), line_id=self.pk(values.get("line")),
            course_id=self.pk(values.get("course")),
        )
        return values.get("month"), filters


def _month(request):
    form = CalendarFilterForm(request.GET)
    month, filters = form.month_and_filters()
    if month is None:
        month = timezone.now().astimezone(selectors.report_zone(filters.site_id)).date()
    result = _call(selectors.session_calendar, user=request.user, year=month.year, month=month.month, filters=filters)
    return form, result


@login_required
def session_calendar(request):
    _require_view(request)
    form, result = _month(request)
    weekdays = [dt.date(2024, 1, day) for day in range(1, 8)]  # 2024-01-01 was a Monday
    return render(request, "training/reports/calendar.html", {
        "form": form, "month": result, "weekdays": weekdays, "zone": str(result.zone),
        "previous_month": result.previous.strftime("%Y-%m"), "next_month": result.next.strftime("%Y-%m"),
        "ics_query": request.GET.urlencode(),
    })


def _ics_text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT escaping."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def _ics_fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets continue on the next line after a space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current, limit = [], b"", 75
    for char in line:
        piece = char.encode("utf-8")
        if len(current) + len(piece) > limit:
            parts.append(current.decode("utf-8"))
            current, limit = b"", 74  # continuation lines start with the space
        current += piece
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _ics_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def sessions_ics(sessions, *, host: str) -> str:
    stamp = _ics_time(timezone.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Qualiflow//Training sessions//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH"]
    for session in sessions:
        trainer = str(session.trainer) if session.trainer_id else session.external_trainer
        description = "\n".join(filter(None, [
            _("Course: %(course)s") % {"course": _coded(session.course)},
            _("Line: %(line)s") % {"line": local_name(session.line)} if session.line_id else "",
            _("Trainer: %(trainer)s") % {"trainer": trainer} if trainer else "",
            _("Enrolled: %(enrolled)s of %(capacity)s") % {"enrolled": session.enrolled, "capacity": session.capacity},
        ]))
        lines += [
            "BEGIN:VEVENT", f"UID:{session.pk}@{host}", f"DTSTAMP:{stamp}",
            f"DTSTART:{_ics_time(session.starts_at)}", f"DTEND:{_ics_time(session.ends_at)}",
            f"SUMMARY:{_ics_text(_coded(session.course))}",
            f"LOCATION:{_ics_text(session.place)}", f"DESCRIPTION:{_ics_text(description)}",
            f"STATUS:{'CANCELLED' if session.status == 'cancelled' else 'CONFIRMED'}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(f"{_ics_fold(line)}\r\n" for line in lines)


@login_required
def calendar_ics(request):
    _require_view(request)
    _form, result = _month(request)
    response = HttpResponse(sessions_ics(result.sessions, host=request.get_host()), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="training-sessions-{result.year}-{result.month:02d}.ics"'
    return response


@login_required
def training_home(request):
    """/training/: the matrix for those who may see it, otherwise one's own training records."""
    return redirect("training:matrix" if has_perm(request.user, Perm.TRAINING_VIEW) else "training:my_records")


urlpatterns = [
    path("", training_home, name="home"),
    path("matrix/", matrix, name="matrix"),
    path("matrix/export/", matrix_export, name="matrix_export"),
    path("employees/<uuid:pk>/", employee_training, name="employee_training"),
    path("employees/<uuid:pk>/passport.pdf", passport, name="passport"),
    path("traceability/", traceability, name="traceability"),
    path("traceability/export/", traceability_export, name="traceability_export"),
    path("calendar/", session_calendar, name="calendar"),
    path("calendar/sessions.ics", calendar_ics, name="calendar_ics"),
]
