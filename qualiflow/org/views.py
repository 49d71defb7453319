"""Organisation pages: the structure overview and one generic set of list / detail / create / edit /
deactivate views, parametrised by the kind of unit in the URL."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qualiflow.accounts.pages import posted, require
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import NotFound, QualiflowError

from .forms import ReasonForm, local_name, org_unit_form
from .models import Company, Department, OrgUnit, Position, ProductionLine, Site, WorkCenter
from .selectors import org_structure, org_unit_get, org_unit_list, parent_fields
from .services import EDITABLE_FIELDS, org_unit_create, org_unit_deactivate, org_unit_update

KINDS: dict[str, type[OrgUnit]] = {
    "company": Company,
    "site": Site,
    "department": Department,
    "line": ProductionLine,
    "workcenter": WorkCenter,
    "position": Position,
}
KIND_OF = {model: kind for kind, model in KINDS.items()}
PAGE_SIZE = 25
STATUS_FILTERS = {"active": True, "inactive": False, "all": None}


def _model(kind: str) -> type[OrgUnit]:
    model = KINDS.get(kind)
    if model is None:
        raise Http404
    return model






def _get(model: type[OrgUnit], pk) -> OrgUnit:
    try:
        return org_unit_get(model=model, unit_id=pk)
    except NotFound as exc:
        raise Http404 from exc


def unit_url(unit: OrgUnit | None) -> str:
    if unit is None:
        return ""
    return reverse("org:unit_detail", kwargs={"kind": KIND_OF[type(unit)], "pk": unit.pk})


def _kind_context(kind: str, model: type[OrgUnit]) -> dict:
    return {
        "kind": kind,
        "kind_label": capfirst(model._meta.verbose_name),
        "kind_label_plural": capfirst(model._meta.verbose_name_plural),
        "kinds": [(k, capfirst(m._meta.verbose_name_plural)) for k, m in KINDS.items()],
    }


@login_required
def overview(request):
    require(request, Perm.ORG_VIEW)
    return render(request, "org/overview.html", {
        "structure": org_structure(),
        "can_manage": has_perm(request.user, Perm.ORG_MANAGE),
        **_kind_context("", Company),
    })


@login_required
def unit_list(request, kind: str):
    model = _model(kind)
    require(request, Perm.ORG_VIEW)
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "active")
    if status not in STATUS_FILTERS:
        status = "active"
    units = org_unit_list(model=model, search=search, active=STATUS_FILTERS[status])
    page = Paginator(units, PAGE_SIZE).get_page(request.GET.get("page"))
    parents = parent_fields(model)
    rows = [
        (unit, [{"text": local_name(getattr(unit, name)), "url": unit_url(getattr(unit, name))} for name in parents])
        for unit in page
    ]
    return render(request, "org/unit_list.html", {
        **_kind_context(kind, model),
        "page": page,
        "rows": rows,
        "parent_labels": [capfirst(model._meta.get_field(name).verbose_name) for name in parents],
        "search": search,
        "status": status,
        "can_manage": has_perm(request.user, Perm.ORG_MANAGE),
    })


def _field_rows(unit: OrgUnit) -> list[dict]:
    rows = []
    for name in EDITABLE_FIELDS[type(unit)]:
        if name == "external_refs":
            continue
        field = unit._meta.get_field(name)
        value = getattr(unit, name)
        if isinstance(field, models.ForeignKey):
            rows.append({"label": capfirst(field.verbose_name), "text": local_name(value), "url": unit_url(value)})
        else:
            rows.append({"label": capfirst(field.verbose_name), "text": value, "url": ""})
    return rows


@login_required
def unit_detail(request, kind: str, pk):
    model = _model(kind)
    require(request, Perm.ORG_VIEW)
    unit = _get(model, pk)
    return render(request, "org/unit_detail.html", {
        **_kind_context(kind, model),
        "unit": unit,
        "field_rows": _field_rows(unit),
        "object_type": f"{model._meta.app_label}.{model._meta.model_name}",
        "can_manage": has_perm(request.user, Perm.ORG_MANAGE),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
@require_http_methods(["GET", "POST"])
def unit_create(request, kind: str):
    model = _model(kind)
    require(request, Perm.ORG_MANAGE)
    form = org_unit_form(model)(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            unit = org_unit_create(
                model=model, data=form.service_data(), by=request.user, reason=form.cleaned_data["reason"]
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("%(unit)s created.") % {"unit": local_name(unit)})
            return redirect(unit_url(unit))
    return render(request, "org/unit_form.html", {**_kind_context(kind, model), "form": form, "unit": None})


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request, kind: str, pk):
    model = _model(kind)
    require(request, Perm.ORG_MANAGE)
    unit = _get(model, pk)
    form = org_unit_form(model)(posted(request), instance=unit)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect(unit_url(unit))
        try:
            unit = org_unit_update(unit=unit, data=data, by=request.user, reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("%(unit)s saved.") % {"unit": local_name(unit)})
            return redirect(unit_url(unit))
    return render(request, "org/unit_form.html", {**_kind_context(kind, model), "form": form, "unit": unit})


@login_required
@require_http_methods(["GET", "POST"])
def unit_deactivate(request, kind: str, pk):
    model = _model(kind)
    require(request, Perm.ORG_MANAGE)
    unit = _get(model, pk)
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            unit = org_unit_deactivate(unit=unit, by=request.user, reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("%(unit)s deactivated.") % {"unit": local_name(unit)})
            return redirect(unit_url(unit))
    return render(request, "org/unit_deactivate.html", {**_kind_context(kind, model), "form": form, "unit": unit})
