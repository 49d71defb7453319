"""Who is calling the API: a bearer API token or the browser session, and whether they hold a permission.

A successful check makes the caller `request.user`, the audit actor (so API writes are attributed to the
token's user; integration clients show as kind "integration") and activates their language.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from qualiflow.core import context
from qualiflow.core.errors import CoreErrorCode, PermissionDenied, QualiflowError

from .errors import AccountsErrorCode
from .permissions import has_perm
from .services import api_token_authenticate

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class NotAuthenticated(QualiflowError):
    status = 401


def _require(user, perm: str | None) -> None:
    if perm is not None and not has_perm(user, perm):
        raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to do this."))


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer qf_...`; a token that is wrong, revoked, expired or whose user is inactive
    is refused outright rather than falling back to the session."""

    def __init__(self, perm: str | None = None) -> None:
        self.perm = perm
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(token.strip())
        if user is None:
            raise NotAuthenticated(
                AccountsErrorCode.TOKEN_INVALID, _("The API token is not valid, has expired or was revoked.")
            )
        request.user = user
        context.bind(actor=context.user_actor(user))
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language
        _require(user, self.perm)
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session (the request middleware already set the actor and language);
    unsafe methods need the CSRF token like any form post."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, perm: str | None = None) -> None:
        self.perm = perm
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF only matters for a signed-in session; an anonymous caller gets 401, not a CSRF refusal.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        csrf_applies = request.method not in _SAFE_METHODS and not getattr(request, "_ninja_csrf_exempt", False)
        if csrf_applies and check_csrf(request) is not None:
            raise PermissionDenied(
                CoreErrorCode.PERMISSION_DENIED, _("The CSRF check failed; reload the page and try again.")
            )
        _require(user, self.perm)
        return user


def requires(perm: str | None = None) -> list:
    """Authentication for an operation: token or session, holding `perm` somewhere (None: any caller)."""
    return [BearerTokenAuth(perm), SessionAuth(perm)]
