"""The shop-floor station: a tablet page a barcode scanner types into. Scan the badge, the traveller
(work order / operation) and the equipment; the gate answers at once, in the operator's language, and the
operator's open runs are offered for track-out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qualiflow.accounts.pages import found
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import QualiflowError
from qualiflow.people.models import Employee

from ..forms.station import ScanForm, TrackOutForm
from ..selectors import orders as selectors
from ..selectors.station import reasons_text
from ..services import station as services
from ..services.orders import place_of


def _require(request) -> None:
    if not has_perm(request.user, Perm.PRODUCTION_EXECUTE):
        raise PermissionDenied


def _operator_language(operator: Employee, default: str) -> str:
    """Reasons are shown in the language of the person refused, when they have a login with one."""
    user = operator.user if operator.user_id else None
    return getattr(user, "language", "") or default


def _station_url(badge: str = "", station: str = "") -> str:
    query = "&".join(f"{k}={v}" for k, v in (("badge", badge), ("station", station)) if v)
    return reverse("production:station") + (f"?{query}" if query else "")


@login_required
@require_http_methods(["GET", "POST"])
def station(request):
    _require(request)
    station_name = (request.POST.get("station") or request.GET.get("station") or "").strip()[:100]
    form = ScanForm(request.POST if request.method == "POST" else None)
    result = reasons = operator = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.operation_track_in(
                badge=data["badge"], work_order=data["work_order"], sequence=data["sequence"],
                asset_number=data["asset_number"], station=station_name, by=request.user,
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            operator = (result.run or result.refusal).operator
            with translation.override(_operator_language(operator, translation.get_language())):
                reasons = reasons_text(result.decision)
            # The next scan starts in an empty form: a scanner types into the focused field, it never replaces.
            form = ScanForm()
    badge = (request.GET.get("badge") or "").strip()
    if operator is None and badge:
        operator = Employee.objects.filter(employee_number=badge).first()
    return render(request, "production/station/station.html", {
        "form": form, "result": result, "reasons": reasons, "operator": operator, "station_name": station_name,
        "open_runs": selectors.open_runs(operator) if operator else [],
        "can_override": result is not None and not result.allowed and has_perm(
            request.user, Perm.PRODUCTION_OVERRIDE, place_of(result.refusal.step.work_order.line)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def station_track_out(request, pk):
    _require(request)
    run = found(selectors.run_get, user=None, run_id=pk)
    if not has_perm(request.user, Perm.PRODUCTION_EXECUTE, place_of(run.step.work_order.line)):
        raise PermissionDenied
    station_name = (request.GET.get("station") or "").strip()[:100]
    back = _station_url(run.operator.employee_number, station_name)
    if run.tracked_out_at is not None:
        messages.info(request, _("This run is already tracked out."))
        return redirect(back)
    form = TrackOutForm(request.POST if request.method == "POST" else None, points=run.step.inspection_points)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.operation_track_out(
                run=run, good_quantity=data["good_quantity"], scrap_quantity=data["scrap_quantity"] or 0,
                inspection_results=form.inspection_results(), finish=data["finish"], by=request.user,
            )
        except QualiflowError as exc:
            exc.details["fields"] = {("__all__" if name == "inspection_results" else name): m
                                     for name, m in (exc.details.get("fields") or {}).items()}
            form.add_service_error(exc)
        else:
            messages.success(request, _("%(name)s tracked out of %(number)s / %(sequence)s.") % {
                "name": run.operator.full_name, "number": run.step.work_order.number, "sequence": run.step.sequence})
            return redirect(back)
    return render(request, "production/station/track_out.html", {"form": form, "run": run, "back": back})


urlpatterns = [
    path("station/", station, name="station"),
    path("station/runs/<uuid:pk>/track-out/", station_track_out, name="station_track_out"),
]
