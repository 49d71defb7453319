"""Work-order pages: the list, an order with its operations, runs and refusals, the lifecycle actions,
one run with the evidence its track-in rested on, a refusal with its controlled override, and the runs a
failed calibration puts in doubt."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, re_path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from qualiflow.accounts.models import User
from qualiflow.accounts.pages import found, posted, require
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.selectors import signatures_for
from qualiflow.core.errors import QualiflowError

from ..forms.orders import OverrideForm, WorkOrderActionForm, WorkOrderFilterForm, WorkOrderForm
from ..models import WorkOrderStatus
from ..selectors import orders as selectors
from ..selectors.catalogue import routing_in_effect
from ..selectors.station import decision_view, reasons_text
from ..services import orders as services
from ..services import station as station_services
from ..services.orders import place_of

PAGE_SIZE = 25

# action -> (service, the states it applies to, button label, done message)
ACTIONS = {
    "release": (services.work_order_release, (WorkOrderStatus.CREATED,), gettext_lazy("Release"),
                gettext_lazy("Work order %(number)s released.")),
    "start": (services.work_order_start, (WorkOrderStatus.RELEASED,), gettext_lazy("Start"),
              gettext_lazy("Work order %(number)s started.")),
    "complete": (services.work_order_complete, (WorkOrderStatus.IN_PROGRESS,), gettext_lazy("Complete"),
                 gettext_lazy("Work order %(number)s completed.")),
    "close": (services.work_order_close, (WorkOrderStatus.COMPLETED,), gettext_lazy("Close"),
              gettext_lazy("Work order %(number)s closed.")),
    "cancel": (services.work_order_cancel, (WorkOrderStatus.CREATED, WorkOrderStatus.RELEASED), gettext_lazy("Cancel order"),
               gettext_lazy("Work order %(number)s cancelled.")),
}








def _order_url(order) -> str:
    return reverse("production:work_order_detail", kwargs={"pk": order.pk})


@login_required
def work_order_list(request):
    require(request, Perm.PRODUCTION_VIEW)
    form = WorkOrderFilterForm(request.GET)
    orders = selectors.work_order_list(user=request.user, **form.selector_kwargs())
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "production/orders/work_order_list.html", {
        "form": form, "page": page, "can_manage": has_perm(request.user, Perm.PRODUCTION_MANAGE),
        "query": request.GET.copy().urlencode() if "page" not in request.GET else "",
    })


@login_required
def work_order_detail(request, pk):
    require(request, Perm.PRODUCTION_VIEW)
    order = found(selectors.work_order_get, user=request.user, work_order_id=pk)
    steps = selectors.work_order_steps(order)
    for step in steps:
        for refusal in step.refusal_list:
            refusal.reason_texts = reasons_text(refusal.decision)
    can_manage = has_perm(request.user, Perm.PRODUCTION_MANAGE, place_of(order.line))
    return render(request, "production/orders/work_order_detail.html", {
        "order": order, "steps": steps,
        "actions": [(name, label) for name, (_service, states, label, _done) in ACTIONS.items()
                    if can_manage and order.status in states],
        "can_override": has_perm(request.user, Perm.PRODUCTION_OVERRIDE, place_of(order.line)),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
@require_http_methods(["GET", "POST"])
def work_order_create(request):
    require(request, Perm.PRODUCTION_MANAGE)
    form = WorkOrderForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        routing = data["routing"] or routing_in_effect(data["product"], data["planned_start"])
        if routing is None:
            form.add_error("routing", _("No approved routing of this product is in effect at the planned start."))
        else:
            try:
                order = services.work_order_create(
                    number=data["number"], product=data["product"], routing=routing, line=data["line"],
                    quantity=data["quantity"], lot_number=data["lot_number"], serial_numbers=form.serials(),
                    planned_start=data["planned_start"], planned_end=data["planned_end"], by=request.user,
                    reason=data["reason"],
                )
            except QualiflowError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("Work order %(number)s created.") % {"number": order.number})
                return redirect(_order_url(order))
    return render(request, "production/orders/form.html", {
        "form": form, "title": _("New work order"), "cancel_url": reverse("production:work_order_list")})


@login_required
@require_http_methods(["GET", "POST"])
def work_order_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    require(request, Perm.PRODUCTION_MANAGE)
    order = found(selectors.work_order_get, user=request.user, work_order_id=pk, perm=Perm.PRODUCTION_MANAGE)
    service, _states, label, done = ACTIONS[action]
    form = WorkOrderActionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            order = service(work_order=order, by=request.user, reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, str(done) % {"number": order.number})
            for warning in order.release_warnings if action == "release" else ():
                messages.warning(request, _("Operation %(sequence)s %(name)s: %(qualified)s people on the line are qualified "
                                            "for the planned window, %(needed)s needed.") % warning)
            return redirect(_order_url(order))
    return render(request, "production/orders/form.html", {
        "form": form, "title": f"{label}: {order.number}", "submit": label, "cancel_url": _order_url(order),
        "danger": action == "cancel"})


@login_required
def run_detail(request, pk):
    require(request, Perm.PRODUCTION_VIEW)
    run = found(selectors.run_get, user=request.user, run_id=pk)
    return render(request, "production/orders/run_detail.html", {
        "run": run, "order": run.step.work_order, "decision": decision_view(run.decision),
        "reasons": reasons_text(run.decision),
        "signatures": signatures_for(run),
        "refusal": getattr(run, "refusal", None) if run.overridden else None,
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
def refusal_list(request):
    require(request, Perm.PRODUCTION_VIEW)
    refusals = selectors.refusal_list(user=request.user)
    page = Paginator(refusals, PAGE_SIZE).get_page(request.GET.get("page"))
    for refusal in page:
        refusal.reason_texts = reasons_text(refusal.decision)
    return render(request, "production/orders/refusal_list.html", {"page": page})


@login_required
def refusal_detail(request, pk):
    require(request, Perm.PRODUCTION_VIEW)
    refusal = found(selectors.refusal_get, user=request.user, refusal_id=pk)
    order = refusal.step.work_order
    return render(request, "production/orders/refusal_detail.html", {
        "refusal": refusal, "order": order, "decision": decision_view(refusal.decision),
        "reasons": reasons_text(refusal.decision),
        "can_override": refusal.run_id is None and order.status in station_services.TRACKABLE
        and has_perm(request.user, Perm.PRODUCTION_OVERRIDE, place_of(order.line)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def refusal_override(request, pk):
    require(request, Perm.PRODUCTION_OVERRIDE)
    refusal = found(selectors.refusal_get, user=request.user, refusal_id=pk, perm=Perm.PRODUCTION_OVERRIDE)
    detail_url = reverse("production:refusal_detail", kwargs={"pk": refusal.pk})
    form = OverrideForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        qa = User.objects.filter(username=data["qa_username"], is_active=True).first()
        if qa is None:
            form.add_error("qa_username", _("There is no active user with this name."))
        else:
            try:
                run = station_services.operation_override(
                    refusal=refusal, supervisor=request.user, supervisor_password=data["supervisor_password"], qa=qa,
                    qa_password=data["qa_password"], reason=data["reason"],
                )
            except QualiflowError as exc:
                form.add_service_error(exc)
            else:
                messages.warning(request, _("Override recorded; deviation %(number)s opened.") % {"number": run.deviation.number})
                return redirect(reverse("production:run_detail", kwargs={"pk": run.pk}))
    return render(request, "production/orders/override.html", {
        "form": form, "refusal": refusal, "reasons": reasons_text(refusal.decision), "cancel_url": detail_url})


@login_required
def calibration_impact(request, pk):
    require(request, Perm.PRODUCTION_VIEW)
    record = found(selectors.impact_record_get, user=request.user, record_id=pk)
    since, runs = found(selectors.calibration_impact, record=record, user=request.user)
    return render(request, "production/orders/calibration_impact.html", {
        "record": record, "since": since, "runs": list(runs.select_related("deviation")),
        "can_view_equipment": has_perm(request.user, Perm.EQUIPMENT_VIEW),
    })


urlpatterns = [
    path("", work_order_list, name="work_order_list"),
    path("work-orders/new/", work_order_create, name="work_order_create"),
    path("work-orders/<uuid:pk>/", work_order_detail, name="work_order_detail"),
    re_path(rf"^work-orders/(?P<pk>[0-9a-f-]{{36}})/(?P<action>{'|'.join(ACTIONS)})/$", work_order_action,
            name="work_order_action"),
    path("runs/<uuid:pk>/", run_detail, name="run_detail"),
    path("refusals/", refusal_list, name="refusal_list"),
    path("refusals/<uuid:pk>/", refusal_detail, name="refusal_detail"),
    path("refusals/<uuid:pk>/override/", refusal_override, name="refusal_override"),
    path("calibration-impact/<uuid:pk>/", calibration_impact, name="calibration_impact"),
]
