"""Employee pages. Reads go through `people.selectors` (scoped to what the user may see: anything else
is a 404), writes through `people.services` with the signed-in user and the stated reason."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from openpyxl import Workbook

from qualiflow.accounts.pages import posted, require
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.selectors import signatures_for
from qualiflow.accounts.services import esignature_sign
from qualiflow.core.errors import NotFound, QualiflowError
from qualiflow.org.forms import local_name

from . import selectors, services
from .forms import (
    ChangePositionForm,
    EmployeeCreateForm,
    EmployeeDeactivateForm,
    EmployeeFilterForm,
    EmployeeForm,
    SignForm,
)
from .models import Employee, EmployeeStatus

PAGE_SIZE = 25
RESULTS_TARGET = "employee-results"
TABS = ("details", "positions", "signatures", "history")
# (sort key or None, field): the list's columns; the keys are those `selectors.employee_list` sorts by.
LIST_COLUMNS = (
    ("employee_number", "employee_number"), ("family_name", "family_name"), (None, "site"),
    ("department__code", "department"), (None, "line"), (None, "position"), (None, "employment_type"),
    ("hire_date", "hire_date"), ("status", "status"),
)
EXPORT_COLUMNS = (
    "employee_number", "family_name", "given_name", "latin_name", "employment_type", "status", "hire_date",
    "termination_date", "site", "department", "line", "position", "manager", "email", "phone",
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"






def _employee(request, pk) -> Employee:
    try:
        return selectors.employee_get(user=request.user, employee_id=pk)
    except NotFound as exc:
        raise Http404 from exc


def _detail_url(employee: Employee, tab: str = "details") -> str:
    url = reverse("people:employee_detail", kwargs={"pk": employee.pk})
    return url if tab == "details" else f"{url}?tab={tab}"


def _columns(current_sort: str) -> list[dict]:
    columns = []
    for key, field in LIST_COLUMNS:
        direction = "" if key is None else "asc" if current_sort == key else "desc" if current_sort == f"-{key}" else ""
        columns.append({
            "label": capfirst(Employee._meta.get_field(field).verbose_name),
            "sort": "" if key is None else f"-{key}" if direction == "asc" else key,
            "direction": direction,
        })
    return columns


@login_required
def employee_list(request):
    require(request, Perm.PEOPLE_VIEW)
    form = EmployeeFilterForm(request.GET)
    filters = form.selector_kwargs()
    employees = selectors.employee_list(user=request.user, **filters)
    page = Paginator(employees, PAGE_SIZE).get_page(request.GET.get("page"))
    # htmx swaps only the results; a history restore or a plain request gets the whole page.
    fragment = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")
    context = {
        "form": form,
        "page": page,
        "columns": _columns(filters["sort"]),
        "fragment": fragment,
        "hx_target": f"#{RESULTS_TARGET}",
        "results_id": RESULTS_TARGET,
        "export_query": request.GET.urlencode(),
        "can_manage": has_perm(request.user, Perm.PEOPLE_MANAGE),
    }
    response = render(request, "people/_employee_results.html" if fragment else "people/employee_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _export_value(employee: Employee, name: str):
    if name in ("employment_type", "status"):
        return getattr(employee, f"get_{name}_display")()
    if name == "manager":
        return employee.manager.employee_number if employee.manager_id else ""
    if name in ("site", "department", "line", "position"):
        return local_name(getattr(employee, name))
    return getattr(employee, name)


@login_required
def employee_export(request):
    require(request, Perm.PEOPLE_VIEW)
    employees = selectors.employee_list(user=request.user, **EmployeeFilterForm(request.GET).selector_kwargs())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(capfirst(Employee._meta.verbose_name_plural))[:31])
    sheet.append([str(capfirst(Employee._meta.get_field(name).verbose_name)) for name in EXPORT_COLUMNS])
    for employee in employees.iterator(chunk_size=2000):
        sheet.append([_export_value(employee, name) for name in EXPORT_COLUMNS])
    content = io.BytesIO()
    workbook.save(content)
    response = HttpResponse(content.getvalue(), content_type=XLSX_TYPE)
    filename = f"employees-{timezone.now():%Y%m%d-%H%M}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _render_detail(request, employee: Employee, tab: str, *, sign_form: SignForm | None = None):
    tab = tab if tab in TABS else "details"
    context = {
        "employee": employee,
        "tab": tab,
        "tabs": [("details", _("Details")), ("positions", _("Position history")),
                 ("signatures", _("Signatures")), ("history", _("History"))],
        "can_manage": has_perm(request.user, Perm.PEOPLE_MANAGE, employee),
        "can_view_sensitive": has_perm(request.user, Perm.PEOPLE_VIEW_SENSITIVE, employee),
        "is_active": employee.status != EmployeeStatus.TERMINATED,
    }
    if tab == "positions":
        context["assignments"] = selectors.position_history(employee)
    elif tab == "history":
        context["can_view_history"] = has_perm(request.user, Perm.AUDIT_VIEW)
    elif tab == "signatures":
        context["signatures"] = signatures_for(employee)
        context["can_sign"] = has_perm(request.user, Perm.ESIGN)
        context["sign_form"] = sign_form or SignForm()
    return render(request, "people/employee_detail.html", context)


@login_required
def employee_detail(request, pk):
    return _render_detail(request, _employee(request, pk), request.GET.get("tab", "details"))


@login_required
@require_POST
def employee_sign(request, pk):
    employee = _employee(request, pk)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            esignature_sign(
                signer=request.user, password=form.cleaned_data["password"], record=employee,
                meaning=form.cleaned_data["meaning"], reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("The record was signed."))
            return redirect(_detail_url(employee, "signatures"))
    return _render_detail(request, employee, "signatures", sign_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def employee_create(request):
    require(request, Perm.PEOPLE_MANAGE)
    form = EmployeeCreateForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            employee = services.employee_create(
                data=form.service_data(), position=form.cleaned_data["position"], by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Employee %(number)s created.") % {"number": employee.employee_number})
            return redirect(_detail_url(employee))
    return render(request, "people/employee_form.html", {"form": form, "employee": None})


@login_required
@require_http_methods(["GET", "POST"])
def employee_edit(request, pk):
    employee = _employee(request, pk)
    require(request, Perm.PEOPLE_MANAGE, employee)
    form = EmployeeForm(posted(request), instance=employee, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect(_detail_url(employee))
        try:
            employee = services.employee_update(
                employee=employee, data=data, by=request.user, reason=form.cleaned_data["reason"]
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Employee %(number)s saved.") % {"number": employee.employee_number})
            return redirect(_detail_url(employee))
    return render(request, "people/employee_form.html", {"form": form, "employee": employee})


@login_required
@require_http_methods(["GET", "POST"])
def employee_deactivate(request, pk):
    employee = _employee(request, pk)
    require(request, Perm.PEOPLE_MANAGE, employee)
    form = EmployeeDeactivateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.employee_deactivate(
                employee=employee, termination_date=form.cleaned_data["termination_date"], by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Employee %(number)s deactivated.") % {"number": employee.employee_number})
            return redirect(_detail_url(employee))
    return render(request, "people/employee_action.html", {
        "form": form, "employee": employee, "title": _("Deactivate employee"), "submit": _("Deactivate"),
        "danger": True,
    })


@login_required
@require_http_methods(["GET", "POST"])
def employee_change_position(request, pk):
    employee = _employee(request, pk)
    require(request, Perm.PEOPLE_MANAGE, employee)
    form = ChangePositionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.employee_change_position(
                employee=employee, position=form.cleaned_data["position"], start_date=form.cleaned_data["start_date"],
                by=request.user, reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Position of %(number)s changed.") % {"number": employee.employee_number})
            return redirect(_detail_url(employee, "positions"))
    return render(request, "people/employee_action.html", {
        "form": form, "employee": employee, "title": _("Change position"), "submit": _("Change position"),
        "danger": False,
    })
