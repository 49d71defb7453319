"""Which stored field a SCIM attribute path filters and sorts on; pure data read by the selectors.

Each entry is (ORM lookup path, kind). Kinds: "string" compares case-insensitively (caseExact false),
"exact" compares as stored (ids), "key" is the SCIM key among the external references, "bool", "datetime".
A multi-valued complex attribute whose Qualiflow side holds one value ("work" e-mail, phone) names it under its `value` sub-attribute; its `type` and
`primary` are constants of that one value (see CONSTANT_SUB_ATTRIBUTES).
"""

from __future__ import annotations

from ..resources import ENTERPRISE_SCHEMA

USER_FIELDS: dict[str, tuple[str, str]] = {
    "id": ("pk", "exact"),
    "externalid": ("employee__external_refs__scim", "key"),
    "username": ("username", "string"),
    "name.familyname": ("employee__family_name", "string"),
    "name.givenname": ("employee__given_name", "string"),
    "active": ("is_active", "bool"),
    "emails": ("employee__email", "string"),
    "emails.value": ("employee__email", "string"),
    "phonenumbers": ("employee__phone", "string"),
    "phonenumbers.value": ("employee__phone", "string"),
    "groups": ("scim_memberships__group_id", "exact"),
    "groups.value": ("scim_memberships__group_id", "exact"),
    "meta.created": ("created_at", "datetime"),
    "meta.lastmodified": ("updated_at", "datetime"),
    f"{ENTERPRISE_SCHEMA}:employeenumber".lower(): ("employee__employee_number", "string"),
    f"{ENTERPRISE_SCHEMA}:department".lower(): ("employee__department__code", "string"),
    f"{ENTERPRISE_SCHEMA}:manager".lower(): ("employee__manager__user_id", "exact"),
    f"{ENTERPRISE_SCHEMA}:manager.value".lower(): ("employee__manager__user_id", "exact"),
}

GROUP_FIELDS: dict[str, tuple[str, str]] = {
    "id": ("pk", "exact"),
    "externalid": ("external_refs__scim", "key"),
    "displayname": ("display_name", "string"),
    "members": ("memberships__user_id", "exact"),
    "members.value": ("memberships__user_id", "exact"),
    "meta.created": ("created_at", "datetime"),
    "meta.lastmodified": ("updated_at", "datetime"),
}

# Sub-attributes of the single-valued-in-Qualiflow lists, and the value they hold whenever the list holds one.
CONSTANT_SUB_ATTRIBUTES: dict[str, dict[str, object]] = {
    "emails": {"type": "work", "primary": True},
    "phonenumbers": {"type": "work", "primary": True},
    "members": {"type": "User"},
}

USER_SCHEMA_PREFIX = "urn:ietf:params:scim:schemas:core:2.0:user:"
GROUP_SCHEMA_PREFIX = "urn:ietf:params:scim:schemas:core:2.0:group:"


def key(uri: str | None, attr: str, sub_attr: str | None, *, core_prefix: str) -> str:
    """The lookup key of an attribute path: lower case, the core schema URN dropped, extensions kept."""
    name = attr.lower() + (f".{sub_attr.lower()}" if sub_attr else "")
    if not uri:
        return name
    prefix = uri.lower() + ":"
    return name if prefix == core_prefix else prefix + name
