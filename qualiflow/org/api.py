"""API for the organisation structure: one generic set of list / create / get / update / deactivate
operations, registered once per kind of unit. Request and response schemas are derived from the model
and the fields its service lets callers set."""

# No `from __future__ import annotations`: the generated views annotate with schemas built at runtime.

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.db import models
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import create_model

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import (
    PageParams,
    WriteSchema,
    api_field_names,
    error_responses,
    page_schema,
    paginate,
    patch_field,
)
from qualiflow.core.errors import NotFound, ValidationFailed

from . import selectors, services
from .models import Company, Department, OrgUnit, Position, ProductionLine, Site, WorkCenter

router = Router(tags=["org"])

# URL segment -> (model, what one of them is called in the OpenAPI summaries)
KINDS: dict[str, tuple[type[OrgUnit], str]] = {
    "companies": (Company, "company"),
    "sites": (Site, "site"),
    "departments": (Department, "department"),
    "lines": (ProductionLine, "production line"),
    "work-centers": (WorkCenter, "work center"),
    "positions": (Position, "position"),
}

Ordering = Literal["code", "-code", "name", "-name", "created_at", "-created_at"]


def _api_name(field: models.Field) -> str:
    return f"{field.name}_id" if field.is_relation else field.name


def _annotation(field: models.Field) -> Any:
    if field.is_relation:
        return UUID
    if isinstance(field, models.JSONField):
        return dict[str, str]
    return str


def _input_field(field: models.Field, *, partial: bool) -> tuple[Any, Any]:
    annotation = _annotation(field)
    description = str(field.verbose_name)
    max_length = getattr(field, "max_length", None) if annotation is str else None
    if field.null:
        return annotation | None, Field(None, max_length=max_length, description=description)
    if partial:
        return annotation, patch_field(max_length=max_length, description=description)
    if field.has_default():
        return annotation, Field(default_factory=field.get_default, max_length=max_length, description=description)
    if field.blank:
        return annotation, Field("", max_length=max_length, description=description)
    return annotation, Field(..., max_length=max_length, description=description)


def _schemas(model: type[OrgUnit]) -> tuple[type[Schema], type[Schema], type[Schema], type[Schema]]:
    name = model.__name__
    editable = [model._meta.get_field(f) for f in services.EDITABLE_FIELDS[model]]
    reason = (str, Field("", max_length=2000, description="Why the change is made (kept in the audit trail)."))
    create_in = create_model(
        f"{name}In", __base__=WriteSchema, **{_api_name(f): _input_field(f, partial=False) for f in editable},
        reason=reason,
    )
    patch_in = create_model(
        f"{name}Patch", __base__=WriteSchema, **{_api_name(f): _input_field(f, partial=True) for f in editable},
        reason=reason,
    )
    out = create_model(
        f"{name}Out", __base__=Schema,
        id=(UUID, ...),
        **{_api_name(f): (_annotation(f) | None if f.null else _annotation(f), ...) for f in editable},
        is_active=(bool, ...),
        created_at=(dt.datetime, ...),
        updated_at=(dt.datetime, ...),
    )
    filters = create_model(
        f"{name}Filters", __base__=PageParams,
        search=(str, Field("", description="Part of the code or either name.")),
        is_active=(bool | None, Field(None, description="Only active (true) or inactive (false) units.")),
        ordering=(Ordering, "code"),
        **{_api_name(f): (UUID | None, None) for f in editable if f.is_relation},
    )
    return create_in, patch_in, out, filters


class UnitDeactivateIn(WriteSchema):
    reason: str = Field("", max_length=2000)


def _references(model: type[OrgUnit], values: dict[str, Any]) -> dict[str, Any]:
    """API field values -> service data: `site_id` becomes the `site` unit it names."""
    data: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for key, value in values.items():
        field = model._meta.get_field(key.removesuffix("_id"))
        if not field.is_relation:
            data[field.name] = value
        elif value is None:
            data[field.name] = None
        else:
            try:
                data[field.name] = selectors.org_unit_get(model=field.related_model, unit_id=value)
            except NotFound:
                errors[key] = [_("No such record.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return data


def _register(slug: str, model: type[OrgUnit], noun: str) -> None:
    create_in, patch_in, out, filters_schema = _schemas(model)
    entity = model._meta.model_name
    view, manage = requires(Perm.ORG_VIEW), requires(Perm.ORG_MANAGE)
    relations = [f"{f.name}_id" for f in model._meta.concrete_fields if f.is_relation]
    api_names = {name.removesuffix("_id"): name for name in relations}

    def list_units(request, filters: Query[filters_schema]):
        units = selectors.org_unit_list(model=model, search=filters.search, active=filters.is_active)
        parents = {name: getattr(filters, name) for name in relations if getattr(filters, name) is not None}
        return paginate(units.filter(**parents).order_by(filters.ordering, "code"), filters)

    def create_unit(request, payload: create_in):
        values = payload.model_dump(exclude={"reason"})
        with api_field_names(api_names):
            unit = services.org_unit_create(
                model=model, data=_references(model, values), by=request.user, reason=payload.reason
            )
        return Status(201, unit)

    def get_unit(request, unit_id: UUID):
        return selectors.org_unit_get(model=model, unit_id=unit_id)

    def update_unit(request, unit_id: UUID, payload: patch_in):
        unit = selectors.org_unit_get(model=model, unit_id=unit_id)
        values = payload.model_dump(exclude_unset=True, exclude={"reason"})
        with api_field_names(api_names):
            return services.org_unit_update(
                unit=unit, data=_references(model, values), by=request.user, reason=payload.reason
            )

    def deactivate_unit(request, unit_id: UUID, payload: UnitDeactivateIn):
        unit = selectors.org_unit_get(model=model, unit_id=unit_id)
        return services.org_unit_deactivate(unit=unit, by=request.user, reason=payload.reason)

    router.get(
        f"/{slug}", response={200: page_schema(out), **error_responses(403, 422)}, auth=view,
        operation_id=f"org_{entity}_list", url_name=f"org_{entity}_list", summary=f"List {slug.replace('-', ' ')}",
    )(list_units)
    router.post(
        f"/{slug}", response={201: out, **error_responses(403, 422)}, auth=manage,
        operation_id=f"org_{entity}_create", url_name=f"org_{entity}_create", summary=f"Create a {noun}",
    )(create_unit)
    router.get(
        f"/{slug}/{{unit_id}}", response={200: out, **error_responses(403, 404, 422)}, auth=view,
        operation_id=f"org_{entity}_get", url_name=f"org_{entity}_get", summary=f"Get a {noun}",
    )(get_unit)
    router.patch(
        f"/{slug}/{{unit_id}}", response={200: out, **error_responses(403, 404, 422)}, auth=manage,
        operation_id=f"org_{entity}_update", url_name=f"org_{entity}_update", summary=f"Update a {noun}",
    )(update_unit)
    router.post(
        f"/{slug}/{{unit_id}}/deactivate", response={200: out, **error_responses(403, 404, 422)}, auth=manage,
        operation_id=f"org_{entity}_deactivate", url_name=f"org_{entity}_deactivate",
        summary=f"Deactivate a {noun}",
    )(deactivate_unit)


for _slug, (_model, _noun) in KINDS.items():
    _register(_slug, _model, _noun)
