"""Writes for HR master data. Every change to an employee needs a reason and is audited and emitted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.core.validation import assign, full_clean, require_reason
from qualiflow.integration import events
from qualiflow.org.models import Position

from .errors import PeopleErrorCode
from .models import Employee, EmployeeStatus, PositionAssignment

EDITABLE_FIELDS = (
    "employee_number", "family_name", "given_name", "latin_name", "employment_type", "hire_date", "birth_date",
    "site", "department", "line", "manager", "email", "phone", "user", "external_refs",
)


def _authorize(by, employee: Employee) -> None:
    """`by` None is the system itself (seed, scheduled jobs, imports run under their own actor)."""
    if by is not None and not has_perm(by, Perm.PEOPLE_MANAGE, employee):
        raise PermissionDenied(PeopleErrorCode.OUT_OF_SCOPE, _("You are not allowed to change this employee."))


def _validate(employee: Employee) -> None:
    full_clean(employee, exclude=["position"])
    errors: dict[str, list] = {}
    if employee.department_id and employee.department.site_id != employee.site_id:
        errors["department"] = [_("The department belongs to another site.")]
    if employee.line_id and employee.line.site_id != employee.site_id:
        errors["line"] = [_("The production line belongs to another site.")]
    if employee.manager_id:
        if employee.manager_id == employee.pk:
            errors["manager"] = [_("An employee cannot be their own manager.")]
        elif employee.manager.status == EmployeeStatus.TERMINATED:
            errors["manager"] = [_("The manager has left the company.")]
    if employee.termination_date and employee.termination_date < employee.hire_date:
        errors["termination_date"] = [_("The termination date cannot be before the hire date.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors, code=PeopleErrorCode.ORG_MISMATCH)
    for system, key in (employee.external_refs or {}).items():
        clash = Employee.objects.filter(**{f"external_refs__{system}": key}).exclude(pk=employee.pk).first()
        if clash is not None:
            raise ValidationFailed(
                _("Another employee already has this external reference."),
                fields={"external_refs": [_("%(system)s key %(key)s belongs to %(employee)s.") % {
                    "system": system, "key": key, "employee": clash}]},
                code=PeopleErrorCode.EXTERNAL_REF_TAKEN,
            )


def _refuse_duplicate_number(employee: Employee) -> None:
    if Employee.objects.filter(employee_number=employee.employee_number).exclude(pk=employee.pk).exists():
        message = _("Employee number %(number)s is already used by another employee.") % {
            "number": employee.employee_number}
        raise ValidationFailed(message, fields={"employee_number": [message]}, code=PeopleErrorCode.EMPLOYEE_NUMBER_TAKEN)


def _payload(employee: Employee) -> dict[str, Any]:
    return {
        "employee_number": employee.employee_number,
        "name": employee.full_name,
        "status": employee.status,
        "site_id": employee.site_id,
        "department_id": employee.department_id,
        "line_id": employee.line_id,
        "position_id": employee.position_id,
    }


@transaction.atomic
def employee_create(
    *, data: dict[str, Any], position: Position | None = None, by=None, reason: str = ""
) -> Employee:
    reason = require_reason(Employee, reason)
    employee = Employee(status=EmployeeStatus.ACTIVE)
    assign(employee, data, EDITABLE_FIELDS)
    _refuse_duplicate_number(employee)
    _validate(employee)
    _authorize(by, employee)
    with context.acting(reason=reason):
        employee.save()
        if position is not None:
            _open_position(employee, position, employee.hire_date)
        events.emit("people.employee.created", f"people/employee/{employee.pk}", _payload(employee))
    return employee


@transaction.atomic
def employee_update(*, employee: Employee, data: dict[str, Any], by=None, reason: str = "") -> Employee:
    reason = require_reason(Employee, reason)
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    _authorize(by, employee)
    assign(employee, data, EDITABLE_FIELDS)
    _refuse_duplicate_number(employee)
    _validate(employee)
    _authorize(by, employee)  # and may still manage it where it now belongs
    with context.acting(reason=reason):
        employee.save()
        events.emit(
            "people.employee.updated", f"people/employee/{employee.pk}", {**_payload(employee), "fields": sorted(data)}
        )
    return employee


@transaction.atomic
def employee_deactivate(
    *, employee: Employee, termination_date: dt.date, by=None, reason: str = ""
) -> Employee:
    reason = require_reason(Employee, reason)
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    _authorize(by, employee)
    if employee.status == EmployeeStatus.TERMINATED:
        raise ValidationFailed(_("This employee has already left."), code=PeopleErrorCode.NOT_ACTIVE)
    if termination_date < employee.hire_date:
        raise ValidationFailed(
            _("The termination date cannot be before the hire date."),
            fields={"termination_date": [_("The termination date cannot be before the hire date.")]},
        )
    with context.acting(reason=reason):
        employee.status = EmployeeStatus.TERMINATED
        employee.termination_date = termination_date
        employee.save()
        open_assignment = employee.position_assignments.filter(end_date__isnull=True).first()
        if open_assignment is not None:
            open_assignment.end_date = max(termination_date, open_assignment.start_date + dt.timedelta(days=1))
            open_assignment.save()
        if employee.user_id and employee.user.is_active:
            employee.user.is_active = False
            employee.user.save()
        events.emit("people.employee.deactivated", f"people/employee/{employee.pk}", _payload(employee))
    return employee


def _open_position(employee: Employee, position: Position, start_date: dt.date) -> PositionAssignment:
    assignment = PositionAssignment.objects.create(employee=employee, position=position, start_date=start_date)
    employee.position = position
    employee.save(update_fields=["position", "updated_at"])
    return assignment


@transaction.atomic
def employee_change_position(
    *, employee: Employee, position: Position, start_date: dt.date, by=None, reason: str = ""
) -> PositionAssignment:
    """Close the current assignment the day the new one starts; the history keeps both."""
    reason = require_reason(PositionAssignment, reason)
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    _authorize(by, employee)
    if employee.status == EmployeeStatus.TERMINATED:
        raise ValidationFailed(_("This employee has already left."), code=PeopleErrorCode.NOT_ACTIVE)
    current = employee.position_assignments.filter(end_date__isnull=True).first()
    if current is not None and start_date <= current.start_date:
        message = _("The new position must start after the current one (%(date)s).") % {"date": current.start_date}
        raise ValidationFailed(message, fields={"start_date": [message]}, code=PeopleErrorCode.POSITION_DATE_INVALID)
    if start_date < employee.hire_date:
        message = _("A position cannot start before the hire date.")
        raise ValidationFailed(message, fields={"start_date": [message]}, code=PeopleErrorCode.POSITION_DATE_INVALID)
    with context.acting(reason=reason):
        previous_position_id = current.position_id if current else None
        if current is not None:
            current.end_date = start_date
            current.save()
        assignment = _open_position(employee, position, start_date)
        events.emit(
            "people.employee.position_changed", f"people/employee/{employee.pk}",
            {"from_position_id": previous_position_id, "to_position_id": position.pk, "start_date": start_date},
        )
    return assignment
