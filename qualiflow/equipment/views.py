"""Equipment pages: the asset list (with its XLSX export) showing whether each asset may be used, an asset
with its plans, records and history, the classes, and the forms to create and edit classes, assets and
plans and to start and complete maintenance and calibration (each with a reason)."""

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
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook
from openpyxl.styles import Font

from qualiflow.accounts.pages import found, posted
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import QualiflowError
from qualiflow.org.forms import local_name

from . import selectors, services
from .domain.status import Availability
from .forms import (
    EquipmentClassEditForm,
    EquipmentClassForm,
    EquipmentFilterForm,
    EquipmentForm,
    PlanEditForm,
    PlanForm,
    RecordCompleteForm,
    RecordStartForm,
)
from .models import Equipment, EquipmentClass, EquipmentRecord, PlanKind, RecordResult

PAGE_SIZE = 25
RESULTS_TARGET = "equipment-results"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(request, perm: str, equipment: Equipment | None = None) -> None:
    if not has_perm(request.user, perm, selectors.placement(equipment) if equipment is not None else None):
        raise PermissionDenied




def _fragment(request) -> bool:
    """htmx swaps only the results; a history restore or a plain request gets the whole page."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def _equipment(request, pk, perm: str = Perm.EQUIPMENT_VIEW) -> Equipment:
    _require(request, Perm.EQUIPMENT_VIEW)
    equipment = found(selectors.equipment_get, user=request.user, equipment_id=pk)
    _require(request, perm, equipment)
    return equipment


def _record(request, record_pk, perm: str = Perm.EQUIPMENT_VIEW) -> EquipmentRecord:
    _require(request, Perm.EQUIPMENT_VIEW)
    record = found(selectors.record_get, user=request.user, record_id=record_pk)
    _require(request, perm, record.equipment)
    return record


def _detail_url(equipment: Equipment) -> str:
    return reverse("equipment:equipment_detail", kwargs={"pk": equipment.pk})


def _record_url(record: EquipmentRecord) -> str:
    return reverse("equipment:record_detail", kwargs={"record_pk": record.pk})


class _State:
    """An asset's availability as a page shows it: the badge, the reasons and warnings as sentences."""

    def __init__(self, availability: Availability, plans: dict[str, str]):
        zone = timezone.get_current_timezone()
        self.availability = availability
        self.available = availability.available
        self.reasons = [selectors.finding_text(f, zone=zone, plans=plans) for f in availability.reasons]
        self.warnings = [selectors.finding_text(f, zone=zone, plans=plans) for f in availability.warnings]


def _states(equipment_ids) -> dict:
    ids = list(equipment_ids)
    plans = selectors.plan_names(ids)
    return {pk: _State(state, plans) for pk, state in selectors.availability_for(ids).items()}


# ---- assets -------------------------------------------------------------------------------------------


@login_required
@require_GET
def equipment_list(request):
    _require(request, Perm.EQUIPMENT_VIEW)
    form = EquipmentFilterForm(request.GET)
    page = Paginator(selectors.equipment_list(user=request.user, **form.selector_kwargs()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    states = _states(e.pk for e in page)
    rows = [(equipment, states[equipment.pk]) for equipment in page]
    fragment = _fragment(request)
    context = {
        "form": form, "page": page, "rows": rows, "fragment": fragment, "hx_target": f"#{RESULTS_TARGET}",
        "results_id": RESULTS_TARGET, "export_query": request.GET.urlencode(),
        "can_manage": has_perm(request.user, Perm.EQUIPMENT_MANAGE),
    }
    response = render(request, "equipment/_equipment_results.html" if fragment else "equipment/equipment_list.html",
                      context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def equipment_export(request):
    """The filtered list as XLSX: each asset with its availability, reasons and calibration dates."""
    _require(request, Perm.EQUIPMENT_VIEW)
    assets = list(selectors.equipment_list(user=request.user, **EquipmentFilterForm(request.GET).selector_kwargs()))
    states = _states(e.pk for e in assets)
    language = get_language() or "en"
    zone = timezone.get_current_timezone()

    def moment(value) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Equipment")[:31]
    sheet.append([_("Asset number"), _("Name"), _("Class"), _("Site"), _("Line"), _("Status"), _("Availability"),
                  _("Reasons"), _("Warnings"), _("Last calibration"), _("Certificate number"),
                  _("Next calibration due"), _("Serial number")])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for equipment in assets:
        state = states[equipment.pk]
        sheet.append([
            equipment.asset_number, equipment.display_name(language), equipment.equipment_class.code,
            local_name(equipment.site), local_name(equipment.line), equipment.get_status_display(),
            str(selectors.AVAILABILITY_LABELS[state.available]), "\n".join(state.reasons), "\n".join(state.warnings),
            moment(state.availability.calibrated_at), state.availability.calibration_certificate,
            moment(state.availability.calibration_due), equipment.serial_number,
        ])
    sheet.freeze_panes = "A2"
    content = io.BytesIO()
    workbook.save(content)
    response = HttpResponse(content.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="equipment-{timezone.now():%Y%m%d-%H%M}.xlsx"'
    return response


@login_required
@require_GET
def equipment_detail(request, pk):
    equipment = _equipment(request, pk)
    plans = list(selectors.plans_for(equipment))
    state = _State(selectors.availability_of(equipment), {str(p.pk): p.title for p in plans})
    return render(request, "equipment/equipment_detail.html", {
        "equipment": equipment,
        "state": state,
        "plans": plans,
        "records": selectors.records_for(equipment)[:100],
        "can_manage": has_perm(request.user, Perm.EQUIPMENT_MANAGE, selectors.placement(equipment)),
        "can_service": has_perm(request.user, Perm.EQUIPMENT_SERVICE, selectors.placement(equipment)),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
@require_http_methods(["GET", "POST"])
def equipment_create(request):
    _require(request, Perm.EQUIPMENT_MANAGE)
    form = EquipmentForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            equipment = services.equipment_create(data=form.service_data(), by=request.user,
                                                  reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Equipment %(number)s registered.") % {"number": equipment.asset_number})
            return redirect(_detail_url(equipment))
    return _form_page(request, form, title=_("New equipment"), back=reverse("equipment:equipment_list"))


@login_required
@require_http_methods(["GET", "POST"])
def equipment_edit(request, pk):
    equipment = _equipment(request, pk, Perm.EQUIPMENT_MANAGE)
    form = EquipmentForm(posted(request), instance=equipment)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect(_detail_url(equipment))
        try:
            equipment = services.equipment_update(equipment=equipment, data=data, by=request.user,
                                                  reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Equipment %(number)s saved.") % {"number": equipment.asset_number})
            return redirect(_detail_url(equipment))
    return _form_page(request, form, title=_("Edit %(number)s") % {"number": equipment.asset_number},
                      back=_detail_url(equipment), equipment=equipment)


def _form_page(request, form, *, title: str, back: str, equipment: Equipment | None = None, **extra):
    return render(request, "equipment/form.html", {
        "form": form, "title": title, "back": back, "equipment": equipment, **extra,
    })


# ---- classes ------------------------------------------------------------------------------------------


@login_required
@require_GET
def class_list(request):
    _require(request, Perm.EQUIPMENT_VIEW)
    status = request.GET.get("status") or "active"
    classes = selectors.equipment_class_list(
        search=request.GET.get("q", ""), active={"active": True, "inactive": False}.get(status),
    )
    page = Paginator(classes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "equipment/class_list.html", {
        "page": page, "q": request.GET.get("q", ""), "status": status,
        "can_manage": has_perm(request.user, Perm.EQUIPMENT_MANAGE),
    })


@login_required
@require_http_methods(["GET", "POST"])
def class_create(request):
    _require(request, Perm.EQUIPMENT_MANAGE)
    form = EquipmentClassForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            equipment_class = services.equipment_class_create(data=form.service_data(), by=request.user,
                                                              reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Equipment class %(code)s created.") % {"code": equipment_class.code})
            return redirect("equipment:class_list")
    return _form_page(request, form, title=_("New equipment class"), back=reverse("equipment:class_list"))


@login_required
@require_http_methods(["GET", "POST"])
def class_edit(request, class_pk):
    _require(request, Perm.EQUIPMENT_MANAGE)
    equipment_class: EquipmentClass = found(selectors.equipment_class_get, class_id=class_pk)
    form = EquipmentClassEditForm(posted(request), instance=equipment_class)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect("equipment:class_list")
        try:
            equipment_class = services.equipment_class_update(equipment_class=equipment_class, data=data,
                                                              by=request.user, reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Equipment class %(code)s saved.") % {"code": equipment_class.code})
            return redirect("equipment:class_list")
    return _form_page(request, form, title=_("Edit %(code)s") % {"code": equipment_class.code},
                      back=reverse("equipment:class_list"))


# ---- plans --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request, pk):
    equipment = _equipment(request, pk, Perm.EQUIPMENT_MANAGE)
    form = PlanForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.equipment_plan_create(equipment=equipment, data=form.service_data(), by=request.user,
                                                  reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Plan %(title)s added.") % {"title": plan.title})
            return redirect(_detail_url(equipment))
    return _form_page(request, form, title=_("New plan for %(number)s") % {"number": equipment.asset_number},
                      back=_detail_url(equipment), equipment=equipment)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk, plan_pk):
    equipment = _equipment(request, pk, Perm.EQUIPMENT_MANAGE)
    plan = found(selectors.plan_get, equipment=equipment, plan_id=plan_pk)
    form = PlanEditForm(posted(request), instance=plan)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect(_detail_url(equipment))
        try:
            plan = services.equipment_plan_update(plan=plan, data=data, by=request.user,
                                                  reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Plan %(title)s saved.") % {"title": plan.title})
            return redirect(_detail_url(equipment))
    return _form_page(request, form, title=_("Edit plan %(title)s") % {"title": plan.title},
                      back=_detail_url(equipment), equipment=equipment)


# ---- records ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def record_start(request, pk):
    equipment = _equipment(request, pk, Perm.EQUIPMENT_SERVICE)
    form = RecordStartForm(posted(request), equipment=equipment, user=request.user,
                           initial={"plan": request.GET.get("plan")})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.equipment_record_start(equipment=equipment, **form.service_kwargs(), by=request.user,
                                                     reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Work started on %(number)s.") % {"number": equipment.asset_number})
            return redirect(_record_url(record))
    return _form_page(request, form, title=_("Start maintenance or calibration on %(number)s") % {
        "number": equipment.asset_number}, back=_detail_url(equipment), equipment=equipment)


@login_required
@require_http_methods(["GET", "POST"])
def record_complete(request, record_pk):
    record = _record(request, record_pk, Perm.EQUIPMENT_SERVICE)
    if record.completed_at is not None:
        messages.info(request, _("This work was already completed."))
        return redirect(_record_url(record))
    # The notes start as those written when the work started, so completing never drops them unseen.
    form = RecordCompleteForm(posted(request), request.FILES if request.method == "POST" else None,
                              initial={"notes": record.notes})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.equipment_record_complete(record=record, **form.service_kwargs(), by=request.user,
                                                        reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            if record.result == RecordResult.FAIL and record.kind == PlanKind.CALIBRATION:
                messages.warning(request, _("Calibration failed: %(number)s is blocked until a calibration passes.") % {
                    "number": record.equipment.asset_number})
            else:
                messages.success(request, _("Work on %(number)s completed.") % {"number": record.equipment.asset_number})
            return redirect(_record_url(record))
    return _form_page(request, form, title=_("Complete work on %(number)s") % {
        "number": record.equipment.asset_number}, back=_record_url(record), equipment=record.equipment,
        multipart=True)


def _impact_url(record: EquipmentRecord) -> str | None:
    """The production impact assessment of a failed calibration, once the production pages provide it."""
    try:
        return reverse("production:calibration_impact", args=[record.pk])
    except NoReverseMatch:
        return None


@login_required
@require_GET
def record_detail(request, record_pk):
    record = _record(request, record_pk)
    failed_calibration = record.kind == PlanKind.CALIBRATION and record.result == RecordResult.FAIL
    since = (selectors.last_passing_calibration(record.equipment, record.completed_at, plan_id=record.plan_id)
             if failed_calibration else None)
    return render(request, "equipment/record_detail.html", {
        "record": record,
        "equipment": record.equipment,
        "evidence": record.qualification_evidence,
        "failed_calibration": failed_calibration,
        "since": since,
        "impact_url": _impact_url(record) if failed_calibration else None,
        "can_service": has_perm(request.user, Perm.EQUIPMENT_SERVICE, selectors.placement(record.equipment)),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })
