"""Integration pages: the overview, webhooks (the secret shown only to those who manage them), deliveries
with every attempt and a redeliver button, and the event log showing where each event went.

Permissions are checked by name with `user.has_perm` (integration sits below accounts)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qualiflow.core.errors import NotFound, QualiflowError

from . import selectors, services
from .forms import DeliveryFilterForm, EventFilterForm, WebhookForm

VIEW = "integration.view"
MANAGE = "integration.manage"
PAGE_SIZE = 50


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _found(getter, **kwargs):
    try:
        return getter(**kwargs)
    except NotFound as exc:
        raise Http404 from exc


@login_required
@require_GET
def overview(request):
    _require(request, VIEW)
    return render(request, "integration/overview.html", {
        "webhooks": selectors.webhook_list(active=True).count(),
        "counts": selectors.delivery_counts(),
    })


@login_required
@require_GET
def webhook_list(request):
    _require(request, VIEW)
    return render(request, "integration/webhook_list.html", {
        "webhooks": selectors.webhook_list(), "can_manage": request.user.has_perm(MANAGE),
    })


@login_required
@require_GET
def webhook_detail(request, pk):
    _require(request, VIEW)
    webhook = _found(selectors.webhook_get, webhook_id=pk)
    return render(request, "integration/webhook_detail.html", {
        "webhook": webhook, "can_manage": request.user.has_perm(MANAGE),
        "recent": selectors.delivery_list(webhook=str(webhook.pk))[:20],
    })


def _webhook_form(request, form, title: str, back: str):
    return render(request, "integration/form.html", {"form": form, "title": title, "back": back})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request):
    _require(request, MANAGE)
    form = WebhookForm(request.POST if request.method == "POST" else None, initial={"event_types": "*"})
    if request.method == "POST" and form.is_valid():
        try:
            webhook = services.webhook_create(data=form.service_data(), by=request.user)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Webhook %(name)s created; configure its secret in the receiver.")
                             % {"name": webhook.name})
            return redirect("integration:webhook_detail", pk=webhook.pk)
    return _webhook_form(request, form, _("New webhook"), reverse("integration:webhook_list"))


@login_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request, pk):
    _require(request, MANAGE)
    webhook = _found(selectors.webhook_get, webhook_id=pk)
    form = WebhookForm(request.POST if request.method == "POST" else None, webhook=webhook)
    back = reverse("integration:webhook_detail", kwargs={"pk": webhook.pk})
    if request.method == "POST" and form.is_valid():
        try:
            webhook = services.webhook_update(webhook=webhook, data=form.service_data(), by=request.user,
                                              rotate_secret=form.cleaned_data["rotate_secret"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Webhook %(name)s saved.") % {"name": webhook.name})
            return redirect(back)
    return _webhook_form(request, form, _("Edit %(name)s") % {"name": webhook.name}, back)


@login_required
@require_POST
def webhook_deactivate(request, pk):
    _require(request, MANAGE)
    webhook = services.webhook_deactivate(webhook=_found(selectors.webhook_get, webhook_id=pk), by=request.user)
    messages.success(request, _("Webhook %(name)s deactivated: no more events are sent to it.") % {"name": webhook.name})
    return redirect("integration:webhook_detail", pk=webhook.pk)


@login_required
@require_GET
def delivery_list(request):
    _require(request, VIEW)
    form = DeliveryFilterForm(request.GET or None, webhooks=selectors.webhook_list())
    page = Paginator(selectors.delivery_list(**form.filters()), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "integration/delivery_list.html", {
        "form": form, "page": page, "can_manage": request.user.has_perm(MANAGE),
    })


@login_required
@require_GET
def delivery_detail(request, pk):
    _require(request, VIEW)
    return render(request, "integration/delivery_detail.html", {
        "delivery": _found(selectors.delivery_get, delivery_id=pk), "can_manage": request.user.has_perm(MANAGE),
    })


@login_required
@require_POST
def delivery_redeliver(request, pk):
    _require(request, MANAGE)
    delivery = _found(selectors.delivery_get, delivery_id=pk)
    try:
        services.delivery_redeliver(delivery=delivery, by=request.user)
    except QualiflowError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The delivery will be sent again."))
    return redirect("integration:delivery_detail", pk=delivery.pk)


@login_required
@require_GET
def event_list(request):
    _require(request, VIEW)
    form = EventFilterForm(request.GET or None)
    page = Paginator(selectors.event_list(**form.filters()), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "integration/event_list.html", {"form": form, "page": page})


@login_required
@require_GET
def event_detail(request, event_id):
    _require(request, VIEW)
    return render(request, "integration/event_detail.html", {"event": _found(selectors.event_get, event_id=event_id)})
