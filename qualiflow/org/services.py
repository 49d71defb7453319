"""Writes for the organisation structure: sites, departments, lines, work centers, positions."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core import context
from qualiflow.core.errors import Conflict, CoreErrorCode, PermissionDenied, ValidationFailed
from qualiflow.core.validation import assign, full_clean
from qualiflow.integration import events

from .errors import OrgErrorCode
from .models import Company, Department, OrgUnit, Position, ProductionLine, Site, WorkCenter

U = TypeVar("U", bound=OrgUnit)

EDITABLE_FIELDS: dict[type[OrgUnit], tuple[str, ...]] = {
    Company: ("code", "name", "name_en", "external_refs"),
    Site: ("code", "name", "name_en", "company", "time_zone", "address", "external_refs"),
    Department: ("code", "name", "name_en", "site", "parent", "external_refs"),
    ProductionLine: ("code", "name", "name_en", "site", "department", "clean_room_class", "external_refs"),
    WorkCenter: ("code", "name", "name_en", "line", "external_refs"),
    Position: ("code", "name", "name_en", "department", "description", "external_refs"),
}


def _entity(model: type[OrgUnit]) -> str:
    return model._meta.model_name


def _check(by, perm: str) -> None:
    if by is not None and not has_perm(by, perm):
        raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to change the organisation."))


def _check_consistency(unit: OrgUnit) -> None:
    if isinstance(unit, ProductionLine) and unit.department_id and unit.department.site_id != unit.site_id:
        raise ValidationFailed(
            _("The department belongs to another site."),
            fields={"department": [_("The department belongs to another site.")]},
            code=OrgErrorCode.SITE_MISMATCH,
        )
    if (
        isinstance(unit, Department)
        and unit.parent_id
        and (unit.parent_id == unit.pk or unit.parent.site_id != unit.site_id)
    ):
        raise ValidationFailed(
            _("The parent department must be another department of the same site."),
            fields={"parent": [_("The parent department must be another department of the same site.")]},
            code=OrgErrorCode.SITE_MISMATCH,
        )


@transaction.atomic
def org_unit_create(*, model: type[U], data: dict[str, Any], by=None, reason: str = "") -> U:
    _check(by, Perm.ORG_MANAGE)
    unit = model()
    assign(unit, data, EDITABLE_FIELDS[model])
    full_clean(unit)
    _check_consistency(unit)
    with context.acting(reason=reason):
        unit.save()
        events.emit(f"org.{_entity(model)}.created", f"org/{_entity(model)}/{unit.pk}", {"code": unit.code, "name": unit.name})
    return unit


@transaction.atomic
def org_unit_update(*, unit: U, data: dict[str, Any], by=None, reason: str = "") -> U:
    _check(by, Perm.ORG_MANAGE)
    model = type(unit)
    unit = model.objects.select_for_update().get(pk=unit.pk)
    assign(unit, data, EDITABLE_FIELDS[model])
    full_clean(unit)
    _check_consistency(unit)
    with context.acting(reason=reason):
        unit.save()
        events.emit(f"org.{_entity(model)}.updated", f"org/{_entity(model)}/{unit.pk}", {"fields": sorted(data)})
    return unit


@transaction.atomic
def org_unit_deactivate(*, unit: U, by=None, reason: str = "") -> U:
    _check(by, Perm.ORG_MANAGE)
    model = type(unit)
    unit = model.objects.select_for_update().get(pk=unit.pk)
    if unit.is_active:
        unit.is_active = False
        with context.acting(reason=reason):
            unit.save()
            events.emit(f"org.{_entity(model)}.deactivated", f"org/{_entity(model)}/{unit.pk}", {"code": unit.code})
    return unit


@transaction.atomic
def org_unit_delete(*, unit: OrgUnit, by=None, reason: str = "") -> None:
    """Remove a unit created in error; anything that refers to it keeps it (deactivate it instead)."""
    _check(by, Perm.ORG_MANAGE)
    model = type(unit)
    try:
        with context.acting(reason=reason), transaction.atomic():
            unit.delete()
    except ProtectedError as exc:
        raise Conflict(OrgErrorCode.IN_USE, _("This record is in use and cannot be deleted; deactivate it instead.")) from exc
    events.emit(f"org.{_entity(model)}.deleted", f"org/{_entity(model)}/{unit.pk}", {"code": unit.code})
