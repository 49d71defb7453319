"""Qualiflow records as SCIM resources (scim2-models objects), with `meta` and the ETag version."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from scim2_models import Meta

from qualiflow.accounts.models import User

from . import selectors
from .domain.mapping import WORK, display_name
from .models import ScimGroup
from .resources import EnterpriseUser, GroupModel, Manager, UserModel

SOURCE = "scim"

# Builds the absolute URL of a resource from its endpoint and id (the request knows the host).
Locator = Callable[[str, str], str]


def version(*moments) -> str:
    stamp = "|".join(moment.isoformat() for moment in moments)
    return f'W/"{hashlib.sha256(stamp.encode()).hexdigest()[:16]}"'


def user_version(user: User) -> str:
    return version(user.updated_at, user.employee.updated_at)


def group_version(group: ScimGroup) -> str:
    return version(group.updated_at)


def user_resource(user: User, locate: Locator):
    employee = user.employee
    manager = None
    if employee.manager_id and employee.manager.user_id and employee.manager.status != "terminated":
        manager_id = str(employee.manager.user_id)
        manager = Manager(value=manager_id, ref=locate("Users", manager_id))
    groups = selectors.user_groups(user)
    account = selectors.scim_account(user)
    resource = UserModel(
        id=str(user.pk),
        external_id=(employee.external_refs or {}).get(SOURCE),
        meta=Meta(
            resource_type="User", created=user.created_at, last_modified=max(user.updated_at, employee.updated_at),
            location=locate("Users", str(user.pk)), version=user_version(user),
        ),
        user_name=user.username,
        name=UserModel.Name(family_name=employee.family_name, given_name=employee.given_name),
        display_name=display_name(
            family_name=employee.family_name, given_name=employee.given_name, latin_name=employee.latin_name
        ),
        active=user.is_active,
        emails=[UserModel.Emails(value=employee.email, type=WORK, primary=account.email_primary)] if employee.email else None,
        phone_numbers=[UserModel.PhoneNumbers(
            value=employee.phone, type=WORK, primary=account.phone_primary)] if employee.phone else None,
        groups=[
            UserModel.Groups(value=str(group.pk), ref=locate("Groups", str(group.pk)), display=group.display_name)
            for group in groups
        ] or None,
    )
    resource[EnterpriseUser] = EnterpriseUser(
        employee_number=employee.employee_number, department=employee.department.code, manager=manager
    )
    return resource


def group_resource(group: ScimGroup, locate: Locator):
    members = selectors.group_members(group)
    return GroupModel(
        id=str(group.pk),
        external_id=(group.external_refs or {}).get(SOURCE),
        meta=Meta(
            resource_type="Group", created=group.created_at, last_modified=group.updated_at,
            location=locate("Groups", str(group.pk)), version=group_version(group),
        ),
        display_name=group.display_name,
        members=[
            GroupModel.Members(value=str(member.pk), ref=locate("Users", str(member.pk)), type="User")
            for member in members
        ] or None,
    )
