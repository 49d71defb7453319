"""Reads of people data, always limited to what the reader may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import Scope, scope_for
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import CoreErrorCode, NotFound
from qualiflow.org.models import Site

from .models import Employee, EmployeeStatus, PositionAssignment

SORTABLE = {
    "employee_number", "-employee_number", "family_name", "-family_name", "hire_date", "-hire_date",
    "department__code", "-department__code", "status", "-status",
}


def scope_q(scope: Scope, prefix: str = "") -> Q:
    """The rows of a scoped record type inside `scope` (prefix reaches the scoped record through a relation)."""
    if scope.everywhere:
        return Q()
    q = Q(pk__in=[])
    if scope.site_ids:
        q |= Q(**{f"{prefix}site_id__in": scope.site_ids})
    if scope.department_ids:
        q |= Q(**{f"{prefix}department_id__in": scope.department_ids})
    if scope.line_ids:
        q |= Q(**{f"{prefix}line_id__in": scope.line_ids})
    return q


def employees_visible(user, perm: str = Perm.PEOPLE_VIEW) -> QuerySet[Employee]:
    """Employees `user` may see: those in the scope of the role, and the user's own record."""
    scope = scope_for(user, perm)
    if scope.everywhere:
        return Employee.objects.all()
    # Not `scope_q(...) | Q(user_id=...)` alone: OR-ing Q() (everywhere) with a condition keeps only the condition.
    q = scope_q(scope)
    if user is not None and user.is_authenticated:
        q |= Q(user_id=user.pk)
    return Employee.objects.filter(q)


def employee_list(
    *, user, search: str = "", site_id=None, department_id=None, line_id=None, position_id=None,
    status: str = "", employment_type: str = "", sort: str = "employee_number",
    external_ref: tuple[str, str] | None = None,
) -> QuerySet[Employee]:
    qs = employees_visible(user).select_related("site", "department", "line", "position", "manager")
    if external_ref is not None:
        system, key = external_ref
        qs = qs.filter(**{f"external_refs__{system}": key})
    if search:
        term = search.strip()
        qs = qs.filter(
            Q(employee_number__icontains=term) | Q(family_name__icontains=term) | Q(given_name__icontains=term)
            | Q(latin_name__icontains=term) | Q(email__icontains=term)
        )
    for field, value in (("site_id", site_id), ("department_id", department_id), ("line_id", line_id),
                         ("position_id", position_id), ("status", status), ("employment_type", employment_type)):
        if value:
            qs = qs.filter(**{field: value})
    return qs.order_by(sort if sort in SORTABLE else "employee_number", "employee_number")


def employee_get(*, user, employee_id) -> Employee:
    employee = (
        employees_visible(user).select_related("site", "department", "line", "position", "manager", "user")
        .filter(pk=employee_id).first()
    )
    if employee is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Employee not found."))
    return employee


def position_history(employee: Employee) -> QuerySet[PositionAssignment]:
    return employee.position_assignments.select_related("position").order_by("-start_date")


@dataclass(frozen=True)
class SiteHeadcount:
    site: Site
    active: int


@dataclass(frozen=True)
class PeopleFigures:
    visible: int
    active_by_site: list[SiteHeadcount]


def people_figures(user) -> PeopleFigures:
    """Head-counts for the home page, over the employees `user` may see."""
    visible = employees_visible(user)
    counts = dict(
        visible.filter(status=EmployeeStatus.ACTIVE).values("site_id").annotate(n=Count("pk")).values_list("site_id", "n")
    )
    sites = Site.objects.filter(pk__in=counts).order_by("code")
    return PeopleFigures(visible=visible.count(), active_by_site=[SiteHeadcount(s, counts[s.pk]) for s in sites])
