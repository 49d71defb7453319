"""API: who am I, and API tokens for integration clients (system administrators only)."""

import datetime as dt
from uuid import UUID

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.core.api import PageParams, WriteSchema, error_responses, page_schema, paginate

from . import selectors, services
from .api_auth import requires
from .roles import Perm

router = Router(tags=["accounts"])


class UserOut(Schema):
    id: UUID
    username: str
    printed_name: str
    email: str
    language: str
    is_integration: bool


class RoleOut(Schema):
    role: str
    role_label: str = Field(..., description="The role's name in the caller's language.")
    scope_kind: str = Field(..., description="global, site, department or line")
    scope_id: UUID | None

    @staticmethod
    def resolve_role_label(obj) -> str:
        return str(obj.get_role_display())


class MeOut(Schema):
    user: UserOut
    roles: list[RoleOut]
    permissions: list[str] = Field(..., description="Permissions held at least somewhere (roles may narrow them).")


@router.get("/me", response={200: MeOut, **error_responses()}, auth=requires(), operation_id="me")
def me(request):
    """The caller, their role assignments with scopes, and the permissions those grant."""
    summary = selectors.access_summary(request.user)
    return {"user": request.user, "roles": summary.roles, "permissions": summary.permissions}


class TokenOut(Schema):
    id: UUID
    name: str
    prefix: str
    username: str = Field(..., alias="user.username")
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenIssuedOut(TokenOut):
    token: str = Field(..., description="The bearer token in clear text: shown once, never stored.")


class TokenIn(WriteSchema):
    username: str = Field(..., min_length=1, max_length=150, description="The user the token acts as.")
    name: str = Field(..., min_length=1, max_length=100, description="What uses the token, e.g. `SAP HR sync`.")
    expires_at: dt.datetime | None = None


class TokenFilters(PageParams):
    username: str = ""


_manage = requires(Perm.ACCOUNTS_MANAGE)


@router.post(
    "/tokens", response={201: TokenIssuedOut, **error_responses(403, 422)}, auth=_manage, operation_id="token_issue"
)
def token_issue(request, payload: TokenIn):
    """Issue a token; the response is the only time its clear text is shown."""
    user = selectors.user_get(username=payload.username)
    token, secret = services.api_token_issue(user=user, name=payload.name, expires_at=payload.expires_at, by=request.user)
    token.token = secret
    return Status(201, token)


@router.get("/tokens", response={200: page_schema(TokenOut), **error_responses(403, 422)}, auth=_manage,
            operation_id="token_list")
def token_list(request, filters: Query[TokenFilters]):
    return paginate(selectors.api_token_list(username=filters.username), filters)


@router.delete(
    "/tokens/{token_id}", response={200: TokenOut, **error_responses(403, 404, 422)}, auth=_manage,
    operation_id="token_revoke",
)
def token_revoke(request, token_id: UUID):
    """Revoke a token: it stops working at once; the record stays."""
    return services.api_token_revoke(token=selectors.api_token_get(token_id=token_id), by=request.user)

