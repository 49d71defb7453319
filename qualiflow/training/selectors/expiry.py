"""Reads for expiry management: which grants are about to lapse or have lapsed, in the reader's scope.

A grant is listed only while it decides its holder's status (a grant renewed by a newer one, suspended or
revoked is not "expiring"): the status function says so, from the facts at the moment asked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qualiflow.people.models import EmployeeStatus

from ..domain import status as domain
from ..models import QualificationGrant
from . import domain_qualifications, facts_for, revisions_for
from .reports import employees_in_scope

# Without a window: expiring within each qualification's lead time, expired within this many days.
DEFAULT_EXPIRED_DAYS = 90
MAX_WINDOW_DAYS = 3660


class ExpiryState(StrEnum):
    EXPIRING = "expiring"
    EXPIRED = "expired"


STATE_LABELS = {ExpiryState.EXPIRING: _("Expiring"), ExpiryState.EXPIRED: _("Expired")}


@dataclass(frozen=True)
class ExpiryFilters:
    site_id: UUID | None = None
    department_id: UUID | None = None
    line_id: UUID | None = None
    position_id: UUID | None = None
    qualification_id: UUID | None = None
    state: ExpiryState | None = None  # None: both
    window_days: int | None = None  # None: the qualification's lead time / DEFAULT_EXPIRED_DAYS


@dataclass(frozen=True)
class ExpiryRow:
    grant: QualificationGrant  # with employee (site, department, line, position) and qualification loaded
    state: ExpiryState
    valid_until: dt.datetime

    @property
    def state_label(self):
        return STATE_LABELS[self.state]


def deciding_grants(
    grants: list[QualificationGrant], at: dt.datetime, wanted: set[domain.State]
) -> list[tuple[QualificationGrant, domain.QualificationStatus]]:
    """The grants that decide their holder's status at `at` when that status is one of `wanted`, with it
    (a fixed number of queries for any number of grants)."""
    if not grants:
        return []
    qualification_ids = {g.qualification_id for g in grants}
    qualifications = domain_qualifications(qualification_ids)
    revisions = revisions_for(qualification_ids)
    facts = facts_for({g.employee_id for g in grants}, qualification_ids=qualification_ids)
    deciding = []
    for grant in grants:
        status = domain.qualification_status(
            person=facts[grant.employee_id], qualification=qualifications[grant.qualification_id],
            revisions=revisions, at=at,
        )
        if status.state in wanted and f"grant:{grant.pk}" in status.evidence:
            deciding.append((grant, status))
    return deciding


def expiry_list(*, user, filters: ExpiryFilters, at: dt.datetime) -> list[ExpiryRow]:
    """Grants of active people in `user`'s scope that are expiring or expired at `at`, soonest first.
    Raises PermissionDenied without `training.view`."""
    people = employees_in_scope(user).filter(status=EmployeeStatus.ACTIVE)
    for name in ("site_id", "department_id", "line_id", "position_id"):
        value = getattr(filters, name)
        if value is not None:
            people = people.filter(**{name: value})
    window = dt.timedelta(days=filters.window_days) if filters.window_days is not None else None
    grants = QualificationGrant.objects.filter(employee__in=people.values("pk"), valid_until__isnull=False)
    if filters.qualification_id is not None:
        grants = grants.filter(qualification_id=filters.qualification_id)
    lookback = window if window is not None else dt.timedelta(days=DEFAULT_EXPIRED_DAYS)
    ranges = Q()
    if filters.state in (None, ExpiryState.EXPIRING):
        ranges |= Q(valid_until__gt=at) & (Q(valid_until__lte=at + window) if window is not None else Q())
    if filters.state in (None, ExpiryState.EXPIRED):
        ranges |= Q(valid_until__lte=at, valid_until__gt=at - lookback)
    grants = list(grants.filter(ranges).select_related(
        "qualification", "employee__site", "employee__department", "employee__line", "employee__position",
    ).order_by("valid_until", "employee__employee_number", "pk"))
    wanted = {domain.State.EXPIRED, domain.State.EXPIRING}
    if window is not None:
        wanted.add(domain.State.QUALIFIED)  # an explicit window reaches past the lead time
    rows = []
    for grant, status in deciding_grants(grants, at, wanted):
        state = ExpiryState.EXPIRED if status.state == domain.State.EXPIRED else ExpiryState.EXPIRING
        if filters.state is not None and state != filters.state:
            continue
        rows.append(ExpiryRow(grant, state, grant.valid_until))
    return rows

