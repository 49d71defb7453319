"""SCIM 2.0 endpoints (RFC 7644). Each view parses the request, calls one selector or service and answers
`application/scim+json`; refusals are SCIM error responses."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError
from scim2_models import Context, PatchOp, ResponseParameters, SCIMException

from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.services import api_token_authenticate
from qualiflow.core import context
from qualiflow.core.errors import QualiflowError

from . import discovery, representations, selectors, services
from .domain.mapping import ContactRefused, group_state, user_state
from .errors import ScimError, ScimType
from .resources import GroupModel, UserModel

CONTENT_TYPE = "application/scim+json"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
MAX_RESULTS = 200
_UNIQUE_CODES = {"accounts.username_taken", "people.employee_number_taken", "people.external_ref_taken"}


def respond(body: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    response = HttpResponse(content, status=status, content_type=CONTENT_TYPE if body is not None else None)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: ScimError) -> HttpResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="scim"'} if error.status == 401 else None
    return respond(error.as_dict(), error.status, headers)


def _authenticate(request: HttpRequest):
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    user = api_token_authenticate(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise ScimError(401, _("Send a valid API token: Authorization: Bearer qf_…"))
    request.user = user
    context.bind(actor=context.user_actor(user))
    translation.activate(user.language)
    request.LANGUAGE_CODE = user.language
    if not has_perm(user, Perm.INTEGRATION_PROVISION):
        raise ScimError(403, _("This API token may not provision people (integration.provision)."))
    return user


def _from_validation(exc: ValidationError) -> ScimError:
    first = exc.errors()[0]
    where = _location(first.get("loc", ()))
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        return ScimError(400, _("Unknown attribute: %(attribute)s.") % {"attribute": where}, ScimType.INVALID_SYNTAX)
    if kind.startswith("scim_") and kind[5:] in ScimType.__members__.values():
        return ScimError(400, _("%(attribute)s: %(problem)s") % {"attribute": where or "-", "problem": first["msg"]},
                         ScimType(kind[5:]))
    return ScimError(400, _("%(attribute)s: %(problem)s") % {"attribute": where or "-", "problem": first["msg"]},
                     ScimType.INVALID_VALUE)


def _location(loc: tuple) -> str:
    parts = [str(part) for part in loc if not isinstance(part, int)]
    text = ""
    for part in parts:
        text = part if not text else (f"{text}:{part}" if text.startswith("urn:") and ":" not in part else f"{text}.{part}")
    return text


def _from_qualiflow(exc: QualiflowError) -> ScimError:
    messages = [str(message) for values in (exc.details.get("fields") or {}).values() for message in values]
    detail = " ".join([str(exc.message), *messages])
    if exc.code in _UNIQUE_CODES:
        return ScimError(409, detail, ScimType.UNIQUENESS)
    if exc.status == 404:
        return ScimError(404, detail)
    if exc.status == 403:
        return ScimError(403, detail)
    return ScimError(400, detail, ScimType.INVALID_VALUE)


def scim_endpoint(methods: set[str]) -> Callable:
    """Token check, method check and the translation of every refusal into a SCIM error response."""
    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                _authenticate(request)
                if request.method not in methods:
                    raise ScimError(405, _("%(method)s is not supported here.") % {"method": request.method})
                return view(request, *args, **kwargs)
            except ScimError as exc:
                return error_response(exc)
            except ContactRefused as exc:
                return error_response(ScimError(400, _(
                    "Qualiflow keeps one work address in %(attribute)s; send one value of type \"work\"."
                ) % {"attribute": exc.attribute}, ScimType.INVALID_VALUE))
            except ValidationError as exc:
                return error_response(_from_validation(exc))
            except SCIMException as exc:
                return error_response(ScimError(exc.status, exc.detail, ScimType(exc.scim_type) if exc.scim_type in
                                                ScimType.__members__.values() else None))
            except QualiflowError as exc:
                return error_response(_from_qualiflow(exc))
        return wrapped
    return decorate


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ScimError(400, _("The request body is not valid JSON."), ScimType.INVALID_SYNTAX) from None
    if not isinstance(body, dict):
        raise ScimError(400, _("The request body must be a JSON object."), ScimType.INVALID_SYNTAX)
    return body


def _locator(request: HttpRequest) -> representations.Locator:
    names = {"Users": "scim:user", "Groups": "scim:group"}
    return lambda endpoint, ident: request.build_absolute_uri(reverse(names[endpoint], args=[ident]))


def _params(model, attributes: Any, excluded: Any) -> ResponseParameters | None:
    if not attributes and not excluded:
        return None
    return ResponseParameters[model].model_validate({"attributes": attributes, "excludedAttributes": excluded})


def _dump(resource, scim_ctx: Context, params: ResponseParameters | None = None) -> dict[str, Any]:
    return resource.model_dump(scim_ctx=scim_ctx, response_parameters=params)


def _check_version(request: HttpRequest, current: str) -> None:
    wanted = request.headers.get("If-Match")
    if wanted and wanted.strip() != "*" and current not in [tag.strip() for tag in wanted.split(",")]:
        raise ScimError(412, _("The resource changed since it was read (its version is %(version)s).") % {
            "version": current})


def _int(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScimError(400, _("%(name)s must be a whole number.") % {"name": name}, ScimType.INVALID_VALUE) from None


@dataclass(frozen=True)
class _Kind:
    """What differs between the two resource types; the endpoints themselves are the same."""

    name: str
    model: type
    select: Callable
    get: Callable
    represent: Callable
    version: Callable
    state: Callable
    create: Callable
    replace: Callable
    delete: Callable


USERS = _Kind(
    "Users", UserModel, selectors.filtered_users, selectors.scim_user_get, representations.user_resource,
    representations.user_version, user_state,
    create=lambda state: services.user_provision(state=state),
    replace=lambda record, state: services.user_replace(user=record, state=state),
    delete=lambda record: services.user_deprovision(user=record),
)
GROUPS = _Kind(
    "Groups", GroupModel, selectors.filtered_groups, selectors.scim_group_get, representations.group_resource,
    representations.group_version, group_state,
    create=lambda state: services.group_create(state=state),
    replace=lambda record, state: services.group_replace(group=record, state=state),
    delete=lambda record: services.group_delete(group=record),
)


def _list(request: HttpRequest, kind: _Kind, query: dict[str, Any]) -> HttpResponse:
    order = str(query.get("sortOrder") or "ascending").lower()
    if order not in ("ascending", "descending"):
        raise ScimError(400, _("sortOrder is ascending or descending."), ScimType.INVALID_VALUE)
    params = _params(kind.model, query.get("attributes"), query.get("excludedAttributes"))
    queryset = kind.select(query.get("filter"), sort_by=query.get("sortBy"), descending=order == "descending")
    start = max(_int(query.get("startIndex"), "startIndex", 1), 1)
    count = min(max(_int(query.get("count"), "count", MAX_RESULTS), 0), MAX_RESULTS)
    total = queryset.count()
    page = list(queryset[start - 1:start - 1 + count]) if count else []
    locate = _locator(request)
    return respond({
        "schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start, "itemsPerPage": len(page),
        "Resources": [_dump(kind.represent(item, locate), Context.SEARCH_RESPONSE, params) for item in page],
    })


def _one(request: HttpRequest, kind: _Kind, record, scim_ctx: Context, params=None,
         status: int = 200) -> HttpResponse:
    resource = kind.represent(record, _locator(request))
    headers = {"ETag": kind.version(record)}
    if status == 201:
        headers["Location"] = resource.meta.location
    return respond(_dump(resource, scim_ctx, params), status, headers)


def _collection_view(kind: _Kind) -> Callable:
    @scim_endpoint({"GET", "POST"})
    def collection(request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            return _list(request, kind, request.GET.dict())
        resource = kind.model.model_validate(_body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        return _one(request, kind, kind.create(kind.state(resource)), Context.RESOURCE_CREATION_RESPONSE, status=201)

    return collection


def _search_view(kind: _Kind) -> Callable:
    @scim_endpoint({"POST"})
    def search(request: HttpRequest) -> HttpResponse:
        return _list(request, kind, _body(request))

    return search


def _member_view(kind: _Kind) -> Callable:
    @scim_endpoint({"GET", "PUT", "PATCH", "DELETE"})
    def member(request: HttpRequest, record_id: str) -> HttpResponse:
        record = kind.get(record_id)
        if request.method == "GET":
            return _one(request, kind, record, Context.RESOURCE_QUERY_RESPONSE,
                        _params(kind.model, request.GET.get("attributes"), request.GET.get("excludedAttributes")))
        _check_version(request, kind.version(record))
        if request.method == "DELETE":
            kind.delete(record)
            return respond(None, 204)
        if request.method == "PUT":
            resource = kind.model.model_validate(_body(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
            scim_ctx = Context.RESOURCE_REPLACEMENT_RESPONSE
        else:
            patch = PatchOp[kind.model].model_validate(_body(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
            resource = kind.represent(record, _locator(request))
            patch.patch(resource)
            scim_ctx = Context.RESOURCE_PATCH_RESPONSE
        record = kind.replace(record, kind.state(resource))
        return _one(request, kind, kind.get(str(record.pk)), scim_ctx)

    return member


users, users_search, user = _collection_view(USERS), _search_view(USERS), _member_view(USERS)
groups, groups_search, group = _collection_view(GROUPS), _search_view(GROUPS), _member_view(GROUPS)


@scim_endpoint({"GET"})
def service_provider_config(request: HttpRequest) -> HttpResponse:
    return respond(discovery.service_provider_config(request.build_absolute_uri(
        reverse("scim:service_provider_config")), max_results=MAX_RESULTS))


@scim_endpoint({"GET"})
def resource_types(request: HttpRequest) -> HttpResponse:
    found = discovery.resource_types(request.build_absolute_uri(reverse("scim:resource_types")))
    return respond({"schemas": [LIST_SCHEMA], "totalResults": len(found), "startIndex": 1,
                    "itemsPerPage": len(found), "Resources": found})


@scim_endpoint({"GET"})
def resource_type(request: HttpRequest, type_id: str) -> HttpResponse:
    found = [item for item in discovery.resource_types(request.build_absolute_uri(reverse("scim:resource_types")))
             if item["id"] == type_id]
    if not found:
        raise ScimError(404, _("No resource type %(id)s.") % {"id": type_id})
    return respond(found[0])


@scim_endpoint({"GET"})
def schemas(request: HttpRequest) -> HttpResponse:
    found = discovery.schemas(request.build_absolute_uri(reverse("scim:schemas")))
    return respond({"schemas": [LIST_SCHEMA], "totalResults": len(found), "startIndex": 1,
                    "itemsPerPage": len(found), "Resources": found})


@scim_endpoint({"GET"})
def schema(request: HttpRequest, schema_id: str) -> HttpResponse:
    found = [item for item in discovery.schemas(request.build_absolute_uri(reverse("scim:schemas")))
             if item["id"] == schema_id]
    if not found:
        raise ScimError(404, _("No schema %(id)s.") % {"id": schema_id})
    return respond(found[0])


@scim_endpoint({"POST"})
def search(request: HttpRequest) -> HttpResponse:
    raise ScimError(501, _("Search the /Users or /Groups endpoint; searching both at once is not supported."))


@scim_endpoint({"GET", "POST", "PUT", "PATCH", "DELETE"})
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    raise ScimError(404, _("There is no SCIM endpoint at this address."))
