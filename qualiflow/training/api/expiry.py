"""Expiry API under /api/v1/training: the expiring / expired list (`training.view`, the caller's scope)
and running the reconciler (`training.manage`)."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import PageParams, WriteSchema, error_responses, page_schema, paginate
from qualiflow.core.errors import ValidationFailed
from qualiflow.people.selectors import employees_visible

from ..selectors import expiry as selectors
from ..services.reconcile import assignments_reconcile

router = Router(tags=["training"])

_view = requires(Perm.TRAINING_VIEW)
_manage = requires(Perm.TRAINING_MANAGE)


class ExpiringFilters(PageParams):
    site_id: UUID | None = None
    department_id: UUID | None = None
    line_id: UUID | None = None
    position_id: UUID | None = None
    qualification_id: UUID | None = None
    state: Literal["expiring", "expired"] | None = Field(None, description="Default: both.")
    window_days: int | None = Field(
        None, ge=1, le=selectors.MAX_WINDOW_DAYS,
        description="Expiring within / expired in the last this many days. Default: each qualification's "
                    "renewal lead time, and expired in the last 90 days.",
    )


class ExpiringOut(Schema):
    grant_id: UUID
    employee_id: UUID
    employee_number: str
    full_name: str
    site_id: UUID
    department_id: UUID
    line_id: UUID | None
    position_id: UUID | None
    qualification_id: UUID
    qualification_code: str
    state: str = Field(..., description="`expiring` or `expired`.")
    valid_until: dt.datetime


@router.get("/expiring", response={200: page_schema(ExpiringOut), **error_responses(403, 422)}, auth=_view,
            operation_id="training_expiring_list")
def expiring_list(request, filters: Query[ExpiringFilters]):
    """Qualifications of people in the caller's scope that are expiring or expired now, soonest first."""
    rows = selectors.expiry_list(user=request.user, at=timezone.now(), filters=selectors.ExpiryFilters(
        site_id=filters.site_id, department_id=filters.department_id, line_id=filters.line_id,
        position_id=filters.position_id, qualification_id=filters.qualification_id,
        state=selectors.ExpiryState(filters.state) if filters.state else None, window_days=filters.window_days,
    ))
    page = paginate(rows, filters)
    page["items"] = [
        {"grant_id": r.grant.pk, "employee_id": r.grant.employee_id, "employee_number": r.grant.employee.employee_number,
         "full_name": r.grant.employee.full_name, "site_id": r.grant.employee.site_id,
         "department_id": r.grant.employee.department_id, "line_id": r.grant.employee.line_id,
         "position_id": r.grant.employee.position_id, "qualification_id": r.grant.qualification_id,
         "qualification_code": r.grant.qualification.code, "state": r.state.value, "valid_until": r.valid_until}
        for r in page["items"]
    ]
    return page


class ReconcileIn(WriteSchema):
    employee_ids: list[UUID] | None = Field(
        None, max_length=10_000, description="The people to reconcile; omitted: the whole plant.",
    )


class ReconcileOut(Schema):
    people: int
    created: int
    retired: int
    unchanged: int
    without_course: int = Field(..., description="Needs no active course can meet (a catalogue gap).")


@router.post("/reconcile", response={200: ReconcileOut, **error_responses(403, 422)}, auth=_manage,
             operation_id="training_reconcile")
def reconcile(request, payload: ReconcileIn):
    """Create the training assignments people now need and retire those no longer needed. Idempotent."""
    employees = None
    if payload.employee_ids is not None:
        wanted = set(payload.employee_ids)
        employees = employees_visible(request.user).filter(pk__in=wanted)
        unknown = wanted - set(employees.values_list("pk", flat=True))
        if unknown:
            raise ValidationFailed(_("Please correct the errors below."), fields={
                "employee_ids": [_("No such employee: %(ids)s.") % {"ids": ", ".join(sorted(map(str, unknown)))}]})
    return assignments_reconcile(employees=employees, at=timezone.now(), by=request.user).as_dict()
