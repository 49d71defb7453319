"""The expiring / expired list (and its XLSX export): grants about to lapse or lapsed, per site, department,
line, position and qualification. Needs `training.view`; shows only people in the reader's scope."""

from __future__ import annotations

import io

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from qualiflow.core import errors
from qualiflow.org.forms import OrgUnitChoiceField, local_name
from qualiflow.org.models import Department, Position, ProductionLine, Site
from qualiflow.org.selectors import org_unit_choices

from ..models import Qualification
from ..selectors import expiry as selectors
from ..selectors.reports import report_zone

PAGE_SIZE = 50
RESULTS_TARGET = "expiry-results"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class QualificationField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.display_name(get_language() or 'en')}"


def _unit(label) -> OrgUnitChoiceField:
    return OrgUnitChoiceField(label=label, queryset=Site.objects.none(), required=False, empty_label=gettext_lazy("All"))


class ExpiryFilterForm(forms.Form):
    """Filters parse leniently: a value that does not parse is ignored, not an error."""

    site = _unit(gettext_lazy("Site"))
    department = _unit(gettext_lazy("Department"))
    line = _unit(gettext_lazy("Line"))
    position = _unit(gettext_lazy("Position"))
    qualification = QualificationField(
        label=gettext_lazy("Qualification"), queryset=Qualification.objects.none(), required=False,
        empty_label=gettext_lazy("All"),
    )
    state = forms.ChoiceField(
        label=gettext_lazy("State"), required=False,
        choices=[("", gettext_lazy("Expiring and expired")), *selectors.STATE_LABELS.items()],
    )
    window = forms.IntegerField(
        label=gettext_lazy("Window (days)"), required=False, min_value=1, max_value=selectors.MAX_WINDOW_DAYS,
        help_text=gettext_lazy("Empty: each qualification's renewal lead time, and expired in the last 90 days."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, model in (("site", Site), ("department", Department), ("line", ProductionLine), ("position", Position)):
            self.fields[name].queryset = org_unit_choices(model)
        self.fields["qualification"].queryset = Qualification.objects.filter(validity_days__isnull=False).order_by("code")

    def filters(self) -> selectors.ExpiryFilters:
        self.is_valid()
        value = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        pk = lambda obj: obj.pk if obj is not None else None  # noqa: E731
        return selectors.ExpiryFilters(
            site_id=pk(value.get("site")), department_id=pk(value.get("department")), line_id=pk(value.get("line")),
            position_id=pk(value.get("position")), qualification_id=pk(value.get("qualification")),
            state=selectors.ExpiryState(value["state"]) if value.get("state") else None,
            window_days=value.get("window"),
        )


def _rows(request, filters: selectors.ExpiryFilters) -> list[selectors.ExpiryRow]:
    try:
        return selectors.expiry_list(user=request.user, filters=filters, at=timezone.now())
    except errors.PermissionDenied as exc:
        raise PermissionDenied from exc


@login_required
def expiring(request):
    form = ExpiryFilterForm(request.GET)
    filters = form.filters()
    rows = _rows(request, filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    fragment = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")
    context = {
        "form": form, "page": page, "fragment": fragment, "hx_target": f"#{RESULTS_TARGET}",
        "results_id": RESULTS_TARGET, "export_query": request.GET.urlencode(),
        "zone": report_zone(filters.site_id),
    }
    response = render(request, "training/expiry/_results.html" if fragment else "training/expiry/list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def expiring_export(request):
    filters = ExpiryFilterForm(request.GET).filters()
    rows = _rows(request, filters)
    zone = report_zone(filters.site_id)
    language = get_language() or "en"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Expiring")[:31]
    sheet.append([_("Employee number"), _("Name"), _("Site"), _("Department"), _("Line"), _("Position"),
                  _("Qualification code"), _("Qualification"), _("State"), _("Valid until")])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        employee, qualification = row.grant.employee, row.grant.qualification
        sheet.append([
            employee.employee_number, employee.full_name, local_name(employee.site), local_name(employee.department),
            local_name(employee.line), local_name(employee.position), qualification.code,
            qualification.display_name(language), str(row.state_label),
            row.valid_until.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        ])
    sheet.freeze_panes = "A2"
    content = io.BytesIO()
    workbook.save(content)
    response = HttpResponse(content.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="expiring-{timezone.now():%Y%m%d-%H%M}.xlsx"'
    return response


urlpatterns = [
    path("expiring/", expiring, name="expiring"),
    path("expiring/export/", expiring_export, name="expiring_export"),
]
