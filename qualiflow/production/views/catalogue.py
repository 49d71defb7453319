"""Catalogue pages: products, their routing versions and the operations of a routing. Reads need
`production.view`, writes `production.manage` and a stated reason; approving a routing is an e-signature
given here, in the signer's own session, with their password re-entered."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qualiflow.accounts.pages import done, found, posted, require
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import QualiflowError
from qualiflow.org.forms import ReasonForm

from ..forms.catalogue import (
    OperationForm,
    ProductEditForm,
    ProductFilterForm,
    ProductForm,
    RoutingApproveForm,
    RoutingForm,
)
from ..models import Operation, Product, Routing, RoutingStatus
from ..selectors import catalogue as selectors
from ..services import catalogue as services

PAGE_SIZE = 25
RESULTS_TARGET = "product-results"
FORM_TEMPLATE = "production/catalogue/form.html"






def _get(request, getter, **kwargs):
    require(request, Perm.PRODUCTION_VIEW)
    return found(getter, **kwargs)




def _product_url(product: Product) -> str:
    return reverse("production:product_detail", kwargs={"pk": product.pk})


def _routing_url(routing: Routing) -> str:
    return reverse("production:routing_detail", kwargs={"pk": routing.pk})


def _form_page(request, form, *, title: str, product: Product | None = None, routing: Routing | None = None, **extra):
    """The shared form page: breadcrumbs Products > product > routing version, the form, save / cancel
    (back to the last crumb)."""
    crumbs = [(_("Products"), reverse("production:product_list"))]
    if product is not None:
        crumbs.append((product.code, _product_url(product)))
    if routing is not None:
        crumbs.append((_routing_label(routing), _routing_url(routing)))
    return render(request, FORM_TEMPLATE, {"form": form, "title": title, "crumbs": crumbs,
                                           "cancel_url": crumbs[-1][1], **extra})


def _routing_label(routing: Routing) -> str:
    return _("Routing version %(version)s") % {"version": routing.version}


# ---- products ----------------------------------------------------------------------------------------


@login_required
def product_list(request):
    require(request, Perm.PRODUCTION_VIEW)
    form = ProductFilterForm(request.GET)
    page = Paginator(selectors.product_list(**form.selector_kwargs()), PAGE_SIZE).get_page(request.GET.get("page"))
    # htmx swaps only the results; a history restore or a plain request gets the whole page.
    fragment = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")
    context = {
        "form": form, "page": page, "fragment": fragment, "hx_target": f"#{RESULTS_TARGET}",
        "results_id": RESULTS_TARGET, "list_url": reverse("production:product_list"),
        "can_manage": has_perm(request.user, Perm.PRODUCTION_MANAGE),
    }
    template = "production/catalogue/_product_results.html" if fragment else "production/catalogue/product_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def product_detail(request, pk):
    product = _get(request, selectors.product_get, product_id=pk)
    current = selectors.routing_in_effect(product)
    return render(request, "production/catalogue/product_detail.html", {
        "product": product,
        "routings": selectors.routing_list(product=product),
        "routing_in_effect": current,
        "can_manage": has_perm(request.user, Perm.PRODUCTION_MANAGE),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    require(request, Perm.PRODUCTION_MANAGE)
    form = ProductForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(data=form.service_data(), by=request.user,
                                               reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Product %(code)s created.") % {"code": product.code}, _product_url(product))
    return _form_page(request, form, title=_("New product"))


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk):
    product = _get(request, selectors.product_get, product_id=pk)
    require(request, Perm.PRODUCTION_MANAGE)
    form = ProductEditForm(posted(request), instance=product)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect(_product_url(product))
        try:
            product = services.product_update(product=product, data=data, by=request.user,
                                              reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Product %(code)s saved.") % {"code": product.code}, _product_url(product))
    return _form_page(request, form, title=_("Edit %(code)s") % {"code": product.code}, product=product)


# ---- routings ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def routing_create(request, pk):
    product = _get(request, selectors.product_get, product_id=pk)
    require(request, Perm.PRODUCTION_MANAGE)
    form = RoutingForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            routing = services.routing_create(product=product, notes=form.cleaned_data["notes"], by=request.user,
                                              reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Routing version %(version)s created as a draft.") % {"version": routing.version},
                         _routing_url(routing))
    return _form_page(request, form, title=_("New routing version"), product=product,
                      intro=_("An empty draft; add its operations, then approve it."))


@login_required
def routing_detail(request, pk):
    routing = _get(request, selectors.routing_get, routing_id=pk)
    can_manage = has_perm(request.user, Perm.PRODUCTION_MANAGE)
    return render(request, "production/catalogue/routing_detail.html", {
        "routing": routing,
        "product": routing.product,
        "detail": selectors.routing_detail(routing=routing),
        "is_draft": routing.status == RoutingStatus.DRAFT,
        "can_manage": can_manage,
        "can_approve": can_manage and has_perm(request.user, Perm.ESIGN),
        "can_view_documents": has_perm(request.user, Perm.DOCUMENTS_VIEW),
        "can_view_training": has_perm(request.user, Perm.TRAINING_VIEW),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
@require_http_methods(["GET", "POST"])
def routing_copy(request, pk):
    source = _get(request, selectors.routing_get, routing_id=pk)
    require(request, Perm.PRODUCTION_MANAGE)
    form = RoutingForm(posted(request), initial={"notes": source.notes})
    if request.method == "POST" and form.is_valid():
        try:
            routing = services.routing_copy(routing=source, notes=form.cleaned_data["notes"], by=request.user,
                                            reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Version %(version)s copied into the draft version %(new)s.") % {
                "version": source.version, "new": routing.version})
            for dropped in routing.dropped_requirements:
                messages.warning(request, _(
                    "Operation %(sequence)s no longer requires %(code)s: the qualification is no longer in use.") % {
                    "sequence": dropped["sequence"], "code": dropped["qualification_code"]})
            return redirect(_routing_url(routing))
    return _form_page(
        request, form, title=_("Copy version %(version)s into a new version") % {"version": source.version},
        product=source.product, routing=source,
        intro=_("The new draft starts with this version's operations and what they require; this version stays as it is."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def routing_approve(request, pk):
    routing = _get(request, selectors.routing_get, routing_id=pk)
    require(request, Perm.PRODUCTION_MANAGE)
    require(request, Perm.ESIGN)
    form = RoutingApproveForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            routing = services.routing_approve(routing=routing, signer=request.user, password=data["password"],
                                               effective_from=data["effective_from"], reason=data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Routing version %(version)s approved and signed.") % {"version": routing.version},
                         _routing_url(routing))
    return _form_page(
        request, form, title=_("Approve version %(version)s") % {"version": routing.version}, product=routing.product,
        routing=routing, submit=_("Approve and sign"),
        intro=_("Your signature (meaning: approved) binds your printed name and this version as approved. "
                "Once approved, the version can no longer be changed."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def routing_retire(request, pk):
    routing = _get(request, selectors.routing_get, routing_id=pk)
    require(request, Perm.PRODUCTION_MANAGE)
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            routing = services.routing_retire(routing=routing, by=request.user, reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Routing version %(version)s retired.") % {"version": routing.version},
                         _routing_url(routing))
    return _form_page(
        request, form, title=_("Retire version %(version)s") % {"version": routing.version}, product=routing.product,
        routing=routing, submit=_("Retire"), danger=True,
        intro=_("It will make no more work orders; work orders already made keep it."),
    )


# ---- operations --------------------------------------------------------------------------------------


def _operation(request, pk) -> Operation:
    operation = _get(request, selectors.operation_get, operation_id=pk)
    require(request, Perm.PRODUCTION_MANAGE)
    return operation


def _not_a_draft(request, routing: Routing):
    """Operations change only on drafts: anything else goes back to the routing saying so (the service
    refuses such a change in any case)."""
    try:
        services.refuse_not_draft(routing)
    except QualiflowError as exc:
        messages.error(request, exc.message)
        return redirect(_routing_url(routing))
    return None


@login_required
@require_http_methods(["GET", "POST"])
def operation_create(request, pk):
    routing = _get(request, selectors.routing_get, routing_id=pk)
    require(request, Perm.PRODUCTION_MANAGE)
    if refused := _not_a_draft(request, routing):
        return refused
    form = OperationForm(posted(request), instance=Operation(routing=routing))
    if request.method == "POST" and form.is_valid():
        try:
            operation = services.operation_create(
                routing=routing, data=form.service_data(), requirements=form.requirement_items(), by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Operation %(sequence)s added.") % {"sequence": operation.sequence},
                         _routing_url(routing))
    return _form_page(request, form, title=_("New operation"), product=routing.product, routing=routing)


@login_required
@require_http_methods(["GET", "POST"])
def operation_edit(request, pk):
    operation = _operation(request, pk)
    routing = operation.routing
    if refused := _not_a_draft(request, routing):
        return refused
    requirements = selectors.operation_requirements([operation.pk])[operation.pk]
    form = OperationForm(posted(request), instance=operation, requirements=requirements)
    if request.method == "POST" and form.is_valid():
        data, items = form.service_data(), form.requirement_items()
        if not data and items is None:
            messages.info(request, _("Nothing was changed."))
            return redirect(_routing_url(routing))
        try:
            operation = services.operation_update(operation=operation, data=data, requirements=items, by=request.user,
                                                  reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Operation %(sequence)s saved.") % {"sequence": operation.sequence},
                         _routing_url(routing))
    return _form_page(request, form, title=_("Edit operation %(sequence)s") % {"sequence": operation.sequence},
                      product=routing.product, routing=routing)


@login_required
@require_http_methods(["GET", "POST"])
def operation_remove(request, pk):
    operation = _operation(request, pk)
    routing = operation.routing
    if refused := _not_a_draft(request, routing):
        return refused
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.operation_remove(operation=operation, by=request.user, reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Operation %(sequence)s removed.") % {"sequence": operation.sequence},
                         _routing_url(routing))
    return _form_page(
        request, form, title=_("Remove operation %(sequence)s") % {"sequence": operation.sequence},
        product=routing.product, routing=routing,
        submit=_("Remove"), danger=True, intro=operation.display_name(request.LANGUAGE_CODE),
    )


urlpatterns = [
    path("products/", product_list, name="product_list"),
    path("products/new/", product_create, name="product_create"),
    path("products/<uuid:pk>/", product_detail, name="product_detail"),
    path("products/<uuid:pk>/edit/", product_edit, name="product_edit"),
    path("products/<uuid:pk>/routings/new/", routing_create, name="routing_create"),
    path("routings/<uuid:pk>/", routing_detail, name="routing_detail"),
    path("routings/<uuid:pk>/copy/", routing_copy, name="routing_copy"),
    path("routings/<uuid:pk>/approve/", routing_approve, name="routing_approve"),
    path("routings/<uuid:pk>/retire/", routing_retire, name="routing_retire"),
    path("routings/<uuid:pk>/operations/new/", operation_create, name="operation_create"),
    path("operations/<uuid:pk>/edit/", operation_edit, name="operation_edit"),
    path("operations/<uuid:pk>/remove/", operation_remove, name="operation_remove"),
]
