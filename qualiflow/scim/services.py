"""Writes for SCIM provisioning. People and logins change through the people and accounts services, so
the HR record's audit entries (with a reason) and events are the same as from any other channel."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import RoleAssignment, User
from qualiflow.accounts.permissions import forget
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.accounts.services import role_assign, user_create
from qualiflow.core import context
from qualiflow.integration import events
from qualiflow.org.models import Department
from qualiflow.people.models import Employee, EmployeeStatus
from qualiflow.people.services import employee_create, employee_deactivate, employee_update

from . import selectors
from .domain.mapping import GroupState, UserState
from .errors import ScimError, ScimType
from .models import ScimAccount, ScimGroup, ScimGroupMembership
from .representations import SOURCE

GROUP_ROLES_SETTING = "QUALIFLOW_SCIM_GROUP_ROLES"


def _reason() -> str:
    return gettext("Provisioned through SCIM by %(client)s") % {"client": context.current().actor.name}


def _uniqueness(message) -> ScimError:
    return ScimError(409, message, ScimType.UNIQUENESS)


def _invalid(message) -> ScimError:
    return ScimError(400, message, ScimType.INVALID_VALUE)


def _refuse_taken_user_name(user_name: str, *, keep: User | None = None) -> None:
    taken = User.objects.filter(username__iexact=user_name)
    if keep is not None:
        taken = taken.exclude(pk=keep.pk)
    if taken.exists():
        raise _uniqueness(_("The userName %(name)s is already taken.") % {"name": user_name})


def _department(reference: str) -> Department:
    """By code, then by name (the schema makes the enterprise department required)."""
    found = Department.objects.filter(is_active=True).filter(
        Q(code__iexact=reference) | Q(name__iexact=reference) | Q(name_en__iexact=reference)
    ).select_related("site").order_by("code")
    department = next((d for d in found if d.code.lower() == reference.lower()), None) or found.first()
    if department is None:
        raise _invalid(_("No active department has the code or name %(department)s.") % {"department": reference})
    return department


def _manager(manager_id: str | None, *, of: User | None = None) -> Employee | None:
    if manager_id is None:
        return None
    try:
        manager = selectors.scim_user_get(manager_id)
    except ScimError:
        raise _invalid(_("The manager %(id)s is not a provisioned user.") % {"id": manager_id}) from None
    if of is not None and manager.pk == of.pk:
        raise _invalid(_("A user cannot be their own manager."))
    return manager.employee


def _today(department: Department) -> dt.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(department.site.time_zone))


def _record_account(user: User, state: UserState) -> bool:
    """Keep what the client said about the primary flags; True when it changed."""
    account = ScimAccount.objects.filter(user=user).first() or ScimAccount(user=user)
    wanted = {"email_primary": state.email_primary if state.email else None,
              "phone_primary": state.phone_primary if state.phone else None}
    if account.pk and all(getattr(account, name) == value for name, value in wanted.items()):
        return False
    for name, value in wanted.items():
        setattr(account, name, value)
    with context.acting(reason=_reason()):
        account.save()
    return True


def _external_refs(current: dict[str, Any] | None, external_id: str | None) -> dict[str, Any]:
    refs = dict(current or {})
    if external_id:
        refs[SOURCE] = external_id
    else:
        refs.pop(SOURCE, None)
    return refs


@transaction.atomic
def user_provision(*, state: UserState) -> User:
    """Create the login and the HR record; an existing employee with that number and no login is adopted,
    so an identity provider can give logins to people HR entered first."""
    _refuse_taken_user_name(state.user_name)
    if not state.employee_number:
        raise _invalid(_("The employeeNumber (enterprise extension) is required."))
    department = _department(state.department)
    manager = _manager(state.manager_id)
    existing = Employee.objects.select_for_update().filter(employee_number=state.employee_number).first()
    if existing is not None and (existing.user_id is not None or existing.status == EmployeeStatus.TERMINATED):
        raise _uniqueness(
            _("The employeeNumber %(number)s belongs to another user.") % {"number": state.employee_number}
        )
    user = user_create(
        username=state.user_name, password=None, first_name=state.given_name[:150],
        last_name=state.family_name[:150], email=state.email,
    )
    if state.active is False:
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
    data = {
        "employee_number": state.employee_number, "family_name": state.family_name, "given_name": state.given_name,
        "email": state.email, "phone": state.phone, "site": department.site, "department": department,
        "manager": manager, "user": user,
    }
    if existing is None:
        data["external_refs"] = _external_refs({}, state.external_id)
        data["hire_date"] = _today(department)
        employee = employee_create(data=data, reason=_reason())
    else:
        data["external_refs"] = _external_refs(existing.external_refs, state.external_id)
        employee = employee_update(employee=existing, data=data, reason=_reason())
    _record_account(user, state)
    events.emit("scim.user.provisioned", f"user/{user.pk}", {
        "username": user.username, "employee_id": employee.pk, "adopted": existing is not None})
    return user


@transaction.atomic
def user_replace(*, user: User, state: UserState) -> User:
    """Make the login and the HR record hold `state` (PUT, and PATCH once applied)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    employee = user.employee
    _refuse_taken_user_name(state.user_name, keep=user)
    department = _department(state.department) if state.department else employee.department
    manager = _manager(state.manager_id, of=user)
    if state.employee_number and state.employee_number != employee.employee_number and Employee.objects.filter(
            employee_number=state.employee_number).exclude(pk=employee.pk).exists():
        raise _uniqueness(
            _("The employeeNumber %(number)s belongs to another user.") % {"number": state.employee_number}
        )
    account = {"username": state.user_name, "first_name": state.given_name[:150],
               "last_name": state.family_name[:150], "email": state.email}
    if state.active is not None:
        account["is_active"] = state.active
    changed_account = sorted(name for name, value in account.items() if getattr(user, name) != value)
    wanted = {
        "employee_number": state.employee_number or employee.employee_number, "family_name": state.family_name,
        "given_name": state.given_name, "email": state.email, "phone": state.phone, "site": department.site,
        "department": department, "manager": manager,
        "external_refs": _external_refs(employee.external_refs, state.external_id),
    }
    changed = {name: value for name, value in wanted.items() if getattr(employee, name) != value}
    if changed_account:
        with context.acting(reason=_reason()):
            for name in changed_account:
                setattr(user, name, account[name])
            user.save(update_fields=[*changed_account, "updated_at"])
        if "is_active" in changed_account and not user.is_active:
            _sync_roles([user])
    if changed:
        employee_update(employee=employee, data=changed, reason=_reason())
    flags_changed = _record_account(user, state)
    if changed or changed_account or flags_changed:
        events.emit("scim.user.updated", f"user/{user.pk}", {
            "username": user.username, "fields": sorted({*changed, *changed_account})})
    return user


@transaction.atomic
def user_deprovision(*, user: User) -> None:
    """DELETE: the employee leaves (terminated today, login deactivated) and the user leaves every group.
    Nothing is erased: the records the person signed stay attributable."""
    user = User.objects.select_for_update().get(pk=user.pk)
    employee = user.employee
    termination = max(_today(employee.department), employee.hire_date)
    employee_deactivate(employee=employee, termination_date=termination, reason=_reason())
    with context.acting(reason=_reason()):
        for membership in ScimGroupMembership.objects.filter(user=user):
            membership.delete()
    user.refresh_from_db()
    _sync_roles([user])
    events.emit("scim.user.deprovisioned", f"user/{user.pk}", {"username": user.username, "employee_id": employee.pk})


def _members(member_ids: tuple[str, ...]) -> list[User]:
    members = []
    for member_id in member_ids:
        try:
            members.append(selectors.scim_user_get(member_id))
        except ScimError:
            raise _invalid(_("The member %(id)s is not a provisioned user.") % {"id": member_id}) from None
    return members


def _refuse_taken_group_name(name: str, *, keep: ScimGroup | None = None) -> None:
    taken = ScimGroup.objects.filter(display_name__iexact=name)
    if keep is not None:
        taken = taken.exclude(pk=keep.pk)
    if taken.exists():
        raise _uniqueness(_("A group named %(name)s already exists.") % {"name": name})


def _set_members(group: ScimGroup, members: list[User]) -> set[User]:
    """Returns every user whose membership changed."""
    current = {membership.user_id: membership for membership in group.memberships.select_related("user")}
    wanted = {member.pk: member for member in members}
    touched = set()
    for user_id, membership in current.items():
        if user_id not in wanted:
            touched.add(membership.user)
            membership.delete()
    for user_id, member in wanted.items():
        if user_id not in current:
            ScimGroupMembership.objects.create(group=group, user=member)
            touched.add(member)
    return touched


@transaction.atomic
def group_create(*, state: GroupState) -> ScimGroup:
    if not state.display_name:
        raise _invalid(_("The group needs a displayName."))
    _refuse_taken_group_name(state.display_name)
    members = _members(state.member_ids)
    with context.acting(reason=_reason()):
        group = ScimGroup.objects.create(
            display_name=state.display_name, external_refs=_external_refs({}, state.external_id)
        )
        _set_members(group, members)
    _sync_roles(members)
    events.emit("scim.group.created", f"scim/group/{group.pk}", {
        "display_name": group.display_name, "members": [str(member.pk) for member in members]})
    return group


@transaction.atomic
def group_replace(*, group: ScimGroup, state: GroupState) -> ScimGroup:
    group = ScimGroup.objects.select_for_update().get(pk=group.pk)
    if not state.display_name:
        raise _invalid(_("The group needs a displayName."))
    _refuse_taken_group_name(state.display_name, keep=group)
    members = _members(state.member_ids)
    renamed = group.display_name != state.display_name
    refs = _external_refs(group.external_refs, state.external_id)
    with context.acting(reason=_reason()):
        if renamed or refs != group.external_refs:
            group.display_name = state.display_name
            group.external_refs = refs
            group.save()
        touched = _set_members(group, members)
    _sync_roles(set(members) | touched if renamed else touched)
    events.emit("scim.group.updated", f"scim/group/{group.pk}", {
        "display_name": group.display_name, "members": [str(member.pk) for member in members]})
    return group


@transaction.atomic
def group_delete(*, group: ScimGroup) -> None:
    group = ScimGroup.objects.select_for_update().get(pk=group.pk)
    members = [membership.user for membership in group.memberships.select_related("user")]
    with context.acting(reason=_reason()):
        group.delete()
    _sync_roles(members)
    events.emit("scim.group.deleted", f"scim/group/{group.pk}", {"display_name": group.display_name})


def _group_roles() -> dict[str, str]:
    mapping = getattr(settings, GROUP_ROLES_SETTING, None) or {}
    return {name.casefold(): role for name, role in mapping.items() if role in Role.values}


def _sync_roles(users) -> None:
    """Company-wide assignments of the roles that groups map to follow group membership: held while the
    active user is in a group mapped to the role, revoked when no such group remains."""
    mapping = _group_roles()
    if not mapping:
        return
    managed = set(mapping.values())
    for user in users:
        names = ScimGroup.objects.filter(memberships__user=user).values_list("display_name", flat=True)
        wanted = {mapping[name.casefold()] for name in names if name.casefold() in mapping} if user.is_active else set()
        held = {
            assignment.role: assignment for assignment in RoleAssignment.objects.filter(
                user=user, scope_kind=ScopeKind.GLOBAL, role__in=managed)
        }
        for role in sorted(wanted - set(held)):
            role_assign(user=user, role=role)
        for role in sorted(set(held) - wanted):
            with context.acting(reason=_reason()):
                held[role].delete()
            forget(user)
            events.emit("scim.role.revoked", f"user/{user.pk}", {"role": role, "scope_kind": ScopeKind.GLOBAL})
