"""API for employees: reads go through the scoped selectors, writes through the services as the caller.

Employees are regulated records: every write states a reason, which the audit trail keeps.
"""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.accounts import selectors as account_selectors
from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.permissions import has_perm
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
from qualiflow.org import selectors as org_selectors
from qualiflow.org.models import Department, Position, ProductionLine, Site

from . import selectors, services
from .models import EmployeeStatus, EmploymentType

router = Router(tags=["people"])

EmploymentTypeValue = Literal[tuple(EmploymentType.values)]
StatusValue = Literal[tuple(EmployeeStatus.values)]
Ordering = Literal[tuple(sorted(selectors.SORTABLE))]
# "system:key"; the system name is a plain token so it can name a JSON key safely.
EXTERNAL_REF_PATTERN = r"^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*:.+$"

_view = requires(Perm.PEOPLE_VIEW)
_manage = requires(Perm.PEOPLE_MANAGE)


def _reason() -> Any:
    return Field(..., min_length=1, max_length=2000, description="Why the change is made (required; kept in the audit trail).")


class EmployeeOut(Schema):
    id: UUID
    employee_number: str
    family_name: str
    given_name: str
    full_name: str
    latin_name: str
    employment_type: str
    status: str
    hire_date: dt.date
    termination_date: dt.date | None
    birth_date: dt.date | None = Field(
        None, description="Only for callers allowed to see sensitive personal data; null otherwise."
    )
    site_id: UUID
    department_id: UUID
    line_id: UUID | None
    position_id: UUID | None
    manager_id: UUID | None
    email: str
    phone: str
    username: str | None = Field(None, description="The employee's login, if any.")
    external_refs: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_birth_date(obj, context) -> dt.date | None:
        request = context["request"]
        return obj.birth_date if has_perm(request.user, Perm.PEOPLE_VIEW_SENSITIVE, obj) else None

    @staticmethod
    def resolve_username(obj) -> str | None:
        return obj.user.username if obj.user_id else None


class EmployeeIn(WriteSchema):
    employee_number: str = Field(..., min_length=1, max_length=40)
    family_name: str = Field(..., min_length=1, max_length=60)
    given_name: str = Field(..., min_length=1, max_length=60)
    latin_name: str = Field("", max_length=120)
    employment_type: EmploymentTypeValue = EmploymentType.STAFF.value
    hire_date: dt.date
    birth_date: dt.date | None = None
    site_id: UUID
    department_id: UUID
    line_id: UUID | None = None
    position_id: UUID | None = Field(None, description="The first position, held from the hire date.")
    manager_id: UUID | None = None
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    username: str | None = Field(None, description="Link the employee to this login.")
    external_refs: dict[str, str] = Field(default_factory=dict)
    reason: str = _reason()


class EmployeePatch(WriteSchema):
    """Only the fields sent are changed; position and status have their own operations."""

    employee_number: str = patch_field(min_length=1, max_length=40)
    family_name: str = patch_field(min_length=1, max_length=60)
    given_name: str = patch_field(min_length=1, max_length=60)
    latin_name: str = patch_field(max_length=120)
    employment_type: EmploymentTypeValue = patch_field()
    hire_date: dt.date = patch_field()
    birth_date: dt.date | None = None
    site_id: UUID = patch_field()
    department_id: UUID = patch_field()
    line_id: UUID | None = None
    manager_id: UUID | None = None
    email: str = patch_field(max_length=254)
    phone: str = patch_field(max_length=40)
    username: str | None = None
    external_refs: dict[str, str] = patch_field()
    reason: str = _reason()


class DeactivateIn(WriteSchema):
    termination_date: dt.date
    reason: str = _reason()


class PositionChangeIn(WriteSchema):
    position_id: UUID
    start_date: dt.date
    reason: str = _reason()


class PositionAssignmentOut(Schema):
    id: UUID
    position_id: UUID
    position_code: str = Field(..., alias="position.code")
    position_name: str = Field(..., alias="position.name")
    position_name_en: str = Field(..., alias="position.name_en")
    start_date: dt.date
    end_date: dt.date | None


class EmployeeFilters(PageParams):
    search: str = Field("", description="Part of the number, a name or the e-mail address.")
    site_id: UUID | None = None
    department_id: UUID | None = None
    line_id: UUID | None = None
    position_id: UUID | None = None
    status: StatusValue | None = None
    employment_type: EmploymentTypeValue | None = None
    external_ref: str | None = Field(
        None, pattern=EXTERNAL_REF_PATTERN, description="`system:key`, e.g. `sap-hr:00012345`."
    )
    ordering: Ordering = "employee_number"


_ORG_REFERENCES = {"site_id": Site, "department_id": Department, "line_id": ProductionLine, "position_id": Position}
# Model field -> the API field a caller sends it as.
_API_NAMES = {"site": "site_id", "department": "department_id", "line": "line_id", "position": "position_id",
              "manager": "manager_id", "user": "username"}


def _references(request, values: dict[str, Any]) -> dict[str, Any]:
    """API field values -> service data: ids become the records they name; unknown ids are field errors."""
    data: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for key, value in values.items():
        try:
            if key in _ORG_REFERENCES:
                data[key.removesuffix("_id")] = (
                    None if value is None else org_selectors.org_unit_get(model=_ORG_REFERENCES[key], unit_id=value)
                )
            elif key == "manager_id":
                # The manager must be someone the caller can see: ids do not reveal other scopes.
                data["manager"] = None if value is None else selectors.employee_get(user=request.user, employee_id=value)
            elif key == "username":
                data["user"] = None if not value else account_selectors.user_get(username=value)
            else:
                data[key] = value
        except NotFound:
            errors[key] = [_("No such record.")]
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return data


@router.get("/employees", response={200: page_schema(EmployeeOut), **error_responses(403, 422)}, auth=_view,
            operation_id="employee_list")
def employee_list(request, filters: Query[EmployeeFilters]):
    """Employees the caller may see, filtered, sorted and paginated."""
    external_ref = tuple(filters.external_ref.split(":", 1)) if filters.external_ref else None
    employees = selectors.employee_list(
        user=request.user, search=filters.search, site_id=filters.site_id, department_id=filters.department_id,
        line_id=filters.line_id, position_id=filters.position_id, status=filters.status or "",
        employment_type=filters.employment_type or "", sort=filters.ordering, external_ref=external_ref,
    )
    return paginate(employees.select_related("user"), filters)


@router.post("/employees", response={201: EmployeeOut, **error_responses(403, 409, 422)}, auth=_manage,
             operation_id="employee_create")
def employee_create(request, payload: EmployeeIn):
    data = _references(request, payload.model_dump(exclude={"reason"}))
    position = data.pop("position", None)
    with api_field_names(_API_NAMES):
        employee = services.employee_create(data=data, position=position, by=request.user, reason=payload.reason)
    return Status(201, employee)


@router.get("/employees/{employee_id}", response={200: EmployeeOut, **error_responses(403, 404, 422)}, auth=_view,
            operation_id="employee_get")
def employee_get(request, employee_id: UUID):
    return selectors.employee_get(user=request.user, employee_id=employee_id)


@router.patch("/employees/{employee_id}", response={200: EmployeeOut, **error_responses(403, 404, 409, 422)},
              auth=_manage, operation_id="employee_update")
def employee_update(request, employee_id: UUID, payload: EmployeePatch):
    """Change the fields sent; the others stay as they are."""
    employee = selectors.employee_get(user=request.user, employee_id=employee_id)
    data = _references(request, payload.model_dump(exclude_unset=True, exclude={"reason"}))
    with api_field_names(_API_NAMES):
        return services.employee_update(employee=employee, data=data, by=request.user, reason=payload.reason)


@router.post("/employees/{employee_id}/deactivate", response={200: EmployeeOut, **error_responses(403, 404, 422)},
             auth=_manage, operation_id="employee_deactivate")
def employee_deactivate(request, employee_id: UUID, payload: DeactivateIn):
    """Record that the employee left: status terminated, open position closed, login disabled."""
    employee = selectors.employee_get(user=request.user, employee_id=employee_id)
    return services.employee_deactivate(
        employee=employee, termination_date=payload.termination_date, by=request.user, reason=payload.reason
    )


@router.post("/employees/{employee_id}/position",
             response={201: PositionAssignmentOut, **error_responses(403, 404, 422)}, auth=_manage,
             operation_id="employee_change_position")
def employee_change_position(request, employee_id: UUID, payload: PositionChangeIn):
    """Move the employee to another position from `start_date`; the current one ends that day."""
    employee = selectors.employee_get(user=request.user, employee_id=employee_id)
    position = _references(request, {"position_id": payload.position_id})["position"]
    assignment = services.employee_change_position(
        employee=employee, position=position, start_date=payload.start_date, by=request.user, reason=payload.reason
    )
    return Status(201, assignment)


@router.get("/employees/{employee_id}/positions",
            response={200: list[PositionAssignmentOut], **error_responses(403, 404, 422)}, auth=_view,
            operation_id="employee_positions")
def employee_positions(request, employee_id: UUID):
    """The employee's position history, newest first."""
    return selectors.position_history(selectors.employee_get(user=request.user, employee_id=employee_id))
