"""The SCIM resources Qualiflow serves: exactly the attributes it stores, nothing it would have to drop.

The core and enterprise schema URNs are kept, with the subset of their attributes that maps onto
Qualiflow's records (RFC 7643 §7: a service provider publishes the attributes it supports). A request
naming any other attribute is refused rather than silently half-applied.
"""


from typing import Annotated, Any, ClassVar

from pydantic import Field
from scim2_models import (
    URN,
    CaseExact,
    ComplexAttribute,
    Extension,
    Mutability,
    Reference,
    Required,
    Resource,
    ResourceType,
    SchemaExtension,
    ScimProvider,
    Uniqueness,
)

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class Name(ComplexAttribute):
    family_name: Annotated[str | None, Required.true] = None
    """The family name (姓), or last name in most Western languages."""

    given_name: Annotated[str | None, Required.true] = None
    """The given name (名), or first name in most Western languages."""


class Email(ComplexAttribute):
    value: str | None = None
    """The person's work e-mail address."""

    type: str | None = Field(None, examples=["work"])
    """Only the work address is kept."""

    primary: bool | None = None
    """The one address kept is the primary one."""


class PhoneNumber(ComplexAttribute):
    value: str | None = None
    """The person's work phone number."""

    type: str | None = Field(None, examples=["work"])
    """Only the work number is kept."""

    primary: bool | None = None
    """The one number kept is the primary one."""


class Manager(ComplexAttribute):
    value: Annotated[str | None, CaseExact.true] = None
    """The id of the SCIM User who is this person's manager."""

    ref: Annotated[Reference["User"] | None, CaseExact.true] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the manager's SCIM User."""


class GroupMembership(ComplexAttribute):
    value: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    """The id of a group the user belongs to."""

    ref: Annotated[Reference["Group"] | None, Mutability.read_only] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the group."""

    display: Annotated[str | None, Mutability.read_only] = None
    """The group's display name."""


class EnterpriseUser(Extension):
    __schema__ = URN(ENTERPRISE_SCHEMA)

    employee_number: Annotated[str | None, Required.true, Uniqueness.server] = None
    """The employee number (工号) of the person's HR master record."""

    department: Annotated[str | None, Required.true] = None
    """The code of the department the person belongs to; its canonical values list the departments."""

    manager: Manager | None = None
    """The person's manager, another provisioned user."""


class User(Resource[Any]):
    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    """The login name."""

    name: Annotated[Name | None, Required.true] = None
    """The person's name as the HR record keeps it."""

    Name: ClassVar[type[ComplexAttribute]] = Name

    display_name: Annotated[str | None, Mutability.read_only] = None
    """The name Qualiflow prints for the person (signatures, records)."""

    active: Annotated[bool | None, Required.true] = None
    """Whether the person may sign in."""

    emails: list[Email] | None = None
    """The work e-mail address (one is kept)."""

    Emails: ClassVar[type[ComplexAttribute]] = Email

    phone_numbers: list[PhoneNumber] | None = None
    """The work phone number (one is kept)."""

    PhoneNumbers: ClassVar[type[ComplexAttribute]] = PhoneNumber

    groups: Annotated[list[GroupMembership] | None, Mutability.read_only] = None
    """The SCIM groups the user belongs to."""

    Groups: ClassVar[type[ComplexAttribute]] = GroupMembership


class GroupMember(ComplexAttribute):
    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    """The id of a member user."""

    ref: Annotated[Reference["User"] | None, Mutability.immutable] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the member user."""

    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])
    """Members are users; groups do not nest."""


class Group(Resource[Any]):
    __schema__ = URN(GROUP_SCHEMA)

    display_name: Annotated[str | None, Required.true, Uniqueness.server] = None
    """The group's name."""

    members: list[GroupMember] | None = None
    """The users in the group."""

    Members: ClassVar[type[ComplexAttribute]] = GroupMember


User.model_rebuild()
Group.model_rebuild()

USER_RESOURCE_TYPE = ResourceType(
    id="User", name="User", endpoint="/Users", description="A person with a login",
    schema_=USER_SCHEMA,
    schema_extensions=[SchemaExtension(schema_=ENTERPRISE_SCHEMA, required=True)],
)
GROUP_RESOURCE_TYPE = ResourceType(
    id="Group", name="Group", endpoint="/Groups", description="A group of users", schema_=GROUP_SCHEMA,
)

PROVIDER = ScimProvider(
    models=[User, EnterpriseUser, Group],
    resource_types=[USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE],
)
UserModel = PROVIDER.model_for("User")
GroupModel = PROVIDER.model_for("Group")
