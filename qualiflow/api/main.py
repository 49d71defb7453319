"""The REST API under /api/v1/: the apps' routers, authentication, and one error shape for every refusal.

Every error, ninja's own included, is `{"code", "message", "details"}` in the caller's language.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

import qualiflow
from qualiflow.accounts import api as accounts_api
from qualiflow.accounts.api_auth import NotAuthenticated, requires
from qualiflow.accounts.roles import Perm
from qualiflow.audit import api as audit_api
from qualiflow.automation import api as automation_api
from qualiflow.core.api import ApiErrorCode, declare_input_refusals, validation_failure
from qualiflow.core.errors import Conflict, CoreErrorCode, NotFound, QualiflowError
from qualiflow.documents import api as documents_api
from qualiflow.equipment import api as equipment_api
from qualiflow.imports import api as imports_api
from qualiflow.integration import api as integration_api
from qualiflow.org import api as org_api
from qualiflow.people import api as people_api
from qualiflow.production import api as production_api
from qualiflow.quality import api as quality_api
from qualiflow.training import api as training_api

logger = logging.getLogger(__name__)


class QualiflowAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        declare_input_refusals(document)
        return document


api = QualiflowAPI(
    title="Qualiflow API",
    version=qualiflow.__version__,
    description=(
        "People, organisation and audit trail of a Qualiflow plant. Authenticate with "
        "`Authorization: Bearer qf_...` (an API token) or a signed-in browser session. Errors are "
        '`{"code", "message", "details"}` with stable codes; messages follow the user\'s language.'
    ),
    urls_namespace="api-v1",
    auth=requires(),
)
api.add_router("", accounts_api.router)
api.add_router("/org", org_api.router)
api.add_router("", people_api.router)
api.add_router("/audit", audit_api.router, auth=requires(Perm.AUDIT_VIEW))
api.add_router("/training", training_api.router)
api.add_router("/documents", documents_api.router)
api.add_router("/equipment", equipment_api.router)
api.add_router("/quality", quality_api.router)
api.add_router("/production", production_api.router)
# Reading is checked for the whole router (before the body is read); writing by each operation, since
# integration sits below accounts.
api.add_router("/integration", integration_api.router, auth=requires(Perm.INTEGRATION_VIEW))
api.add_router("/automation", automation_api.router)
api.add_router("/imports", imports_api.router)


class MethodNotAllowed(QualiflowError):
    status = 405


def error_response(request: HttpRequest, error: QualiflowError) -> HttpResponse:
    response = api.create_response(request, error.as_dict(), status=error.status)
    response["Content-Language"] = translation.get_language()
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="qualiflow"'
    return response


@api.exception_handler(QualiflowError)
def on_refusal(request, exc: QualiflowError):
    return error_response(request, exc)


@api.exception_handler(NinjaValidationError)
def on_invalid_input(request, exc: NinjaValidationError):
    return error_response(request, validation_failure(exc.errors))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc: AuthenticationError):
    return error_response(
        request,
        NotAuthenticated(
            CoreErrorCode.AUTHENTICATION_REQUIRED,
            _("Authentication required: send an API token (Authorization: Bearer ...) or sign in."),
        ),
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # ninja raises these for bodies it cannot parse (400) and similar protocol faults.
    error = QualiflowError(ApiErrorCode.MALFORMED_REQUEST, _("The request could not be read; send valid JSON."))
    error.status = exc.status_code
    return error_response(request, error)


@api.exception_handler(MultiPartParserError)
def on_unreadable_form(request, exc: MultiPartParserError):
    error = QualiflowError(
        ApiErrorCode.MALFORMED_REQUEST, _("The form could not be read; send multipart/form-data with its boundary.")
    )
    return error_response(request, error)


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return error_response(request, NotFound(CoreErrorCode.NOT_FOUND, _("Not found.")))


@api.exception_handler(IntegrityError)
def on_integrity_error(request, exc: IntegrityError):
    # A concurrent write won the race for a unique value; nothing of this request was saved.
    return error_response(
        request, Conflict(CoreErrorCode.CONFLICT, _("The change conflicts with another one; reload and try again."))
    )


@api.exception_handler(Exception)
def on_unexpected(request, exc: Exception):
    logger.exception("API request failed: %s %s", request.method, request.path)
    error = QualiflowError(ApiErrorCode.INTERNAL_ERROR, _("Something went wrong on our side; please try again or contact your administrator."))
    error.status = 500
    return error_response(request, error)


def not_found(request: HttpRequest) -> HttpResponse:
    return error_response(request, NotFound(CoreErrorCode.NOT_FOUND, _("There is no such API endpoint.")))


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    response = error_response(
        request,
        MethodNotAllowed(
            ApiErrorCode.METHOD_NOT_ALLOWED,
            _("%(method)s is not allowed here; allowed: %(allowed)s.") % {"method": request.method, "allowed": allowed},
        ),
    )
    response["Allow"] = allowed
    return response

