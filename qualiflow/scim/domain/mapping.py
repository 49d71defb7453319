"""SCIM representations <-> the plain state Qualiflow stores, without Django, clock or I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..resources import EnterpriseUser

WORK = "work"


class ContactRefused(ValueError):
    """More than one address, or one that is not a work address: Qualiflow keeps one work e-mail and phone."""

    def __init__(self, attribute: str) -> None:
        super().__init__(attribute)
        self.attribute = attribute


@dataclass(frozen=True)
class UserState:
    """What a SCIM User asks Qualiflow to hold. `active` None: not said (kept on replace, true on create)."""

    user_name: str
    family_name: str
    given_name: str
    active: bool | None
    email: str
    phone: str
    email_primary: bool | None
    phone_primary: bool | None
    external_id: str | None
    employee_number: str | None
    department: str | None
    manager_id: str | None


@dataclass(frozen=True)
class GroupState:
    display_name: str
    external_id: str | None
    member_ids: tuple[str, ...]


def _single_contact(entries: list[Any] | None, attribute: str) -> tuple[str, bool | None]:
    """(value, primary as sent) of the one work entry."""
    values = [entry for entry in entries or [] if entry.value]
    if not values:
        return "", None
    if len(values) > 1 or any(entry.type and str(entry.type).lower() != WORK for entry in values):
        raise ContactRefused(attribute)
    return values[0].value.strip(), values[0].primary


def user_state(resource: Any) -> UserState:
    """Read a validated SCIM User (scim2-models object) into the state to store."""
    extension = resource[EnterpriseUser] or EnterpriseUser()
    manager = extension.manager
    name = resource.name
    email, email_primary = _single_contact(resource.emails, "emails")
    phone, phone_primary = _single_contact(resource.phone_numbers, "phoneNumbers")
    return UserState(
        user_name=(resource.user_name or "").strip(),
        family_name=((name.family_name if name else None) or "").strip(),
        given_name=((name.given_name if name else None) or "").strip(),
        active=resource.active,
        email=email,
        phone=phone,
        email_primary=email_primary,
        phone_primary=phone_primary,
        external_id=resource.external_id or None,
        employee_number=(extension.employee_number or "").strip() or None,
        department=(extension.department or "").strip() or None,
        manager_id=(manager.value or None) if manager is not None else None,
    )


def group_state(resource: Any) -> GroupState:
    members = tuple(dict.fromkeys(member.value for member in resource.members or [] if member.value))
    return GroupState(
        display_name=(resource.display_name or "").strip(), external_id=resource.external_id or None, member_ids=members
    )


def display_name(*, family_name: str, given_name: str, latin_name: str = "") -> str:
    """The name Qualiflow prints: the Latin-script name where HR keeps one; Chinese order for Chinese names."""
    if latin_name:
        return latin_name
    if (family_name + given_name).isascii():
        return f"{given_name} {family_name}".strip()
    return f"{family_name}{given_name}"
