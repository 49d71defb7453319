"""Reads of the organisation structure. Org records are not scoped: whoever holds `org.view` sees all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from qualiflow.core.errors import CoreErrorCode, NotFound

from .models import Company, Department, OrgUnit, Position, ProductionLine, Site, WorkCenter

U = TypeVar("U", bound=OrgUnit)


def parent_fields(model: type[OrgUnit]) -> list[str]:
    """The foreign keys that place a unit in the structure (site, department, line, ...)."""
    return [f.name for f in model._meta.concrete_fields if f.is_relation]


def org_unit_list(*, model: type[U], search: str = "", active: bool | None = True) -> QuerySet[U]:
    qs = model.objects.select_related(*parent_fields(model))
    if active is not None:
        qs = qs.filter(is_active=active)
    term = search.strip()
    if term:
        qs = qs.filter(Q(code__icontains=term) | Q(name__icontains=term) | Q(name_en__icontains=term))
    return qs.order_by("code")


def org_unit_get(*, model: type[U], unit_id) -> U:
    unit = model.objects.select_related(*parent_fields(model)).filter(pk=unit_id).first()
    if unit is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Organisation unit not found."))
    return unit


def org_unit_choices(model: type[U], *, include_id=None) -> QuerySet[U]:
    """Active units to pick from, plus the one already chosen even if it was deactivated since."""
    q = Q(is_active=True)
    if include_id:
        q |= Q(pk=include_id)
    return model.objects.filter(q).order_by("code")


@dataclass(frozen=True)
class OrgStructure:
    companies: list[Company]
    positions_without_department: list[Position]


def org_structure() -> OrgStructure:
    """Companies → sites → departments → lines → work centers (and positions), active units only, in a
    fixed number of queries."""
    active_lines = ProductionLine.objects.filter(is_active=True).prefetch_related(
        Prefetch("work_centers", queryset=WorkCenter.objects.filter(is_active=True))
    )
    active_departments = Department.objects.filter(is_active=True).prefetch_related(
        Prefetch("lines", queryset=active_lines),
        Prefetch("positions", queryset=Position.objects.filter(is_active=True)),
    )
    active_sites = Site.objects.filter(is_active=True).prefetch_related(
        Prefetch("departments", queryset=active_departments)
    )
    return OrgStructure(
        companies=list(Company.objects.filter(is_active=True).prefetch_related(Prefetch("sites", queryset=active_sites))),
        positions_without_department=list(Position.objects.filter(is_active=True, department__isnull=True)),
    )
