"""The API's shared vocabulary: the error body every refusal uses, pagination, and the translation of
schema validation errors into field messages in the caller's language."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import ConfigDict, create_model, field_validator

from .errors import CoreErrorCode, QualiflowError, ValidationFailed


class ApiErrorCode(StrEnum):
    """Refusals that only the HTTP channel produces."""

    MALFORMED_REQUEST = "core.malformed_request"
    METHOD_NOT_ALLOWED = "core.method_not_allowed"
    INTERNAL_ERROR = "core.internal_error"


class ErrorOut(Schema):
    code: str = Field(..., description="Stable machine-readable code, e.g. `people.employee_number_taken`.")
    message: str = Field(..., description="Human-readable message in the caller's language.")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra facts; validation errors carry `fields`: {field: [messages]}.",
    )


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Response declarations for the error statuses an operation can answer with (for the OpenAPI)."""
    return dict.fromkeys((401, *statuses), ErrorOut)


def declare_input_refusals(document: dict[str, Any]) -> None:
    """Declare in the OpenAPI document the refusals the API's central handlers give any operation that reads
    input: 422 when a parameter or the body fails validation, and 400 when the body cannot be read at all."""
    for methods in document["paths"].values():
        for operation in methods.values():
            statuses = [422] if operation.get("parameters") or "requestBody" in operation else []
            if "requestBody" in operation:
                statuses.append(400)
            for status in statuses:
                operation["responses"].setdefault(status, {
                    "description": HTTPStatus(status).phrase,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
                })


def _storable(value: Any) -> bool:
    """Whether every text in the value can be stored: no NUL character (PostgreSQL text and JSON refuse it)
    and valid Unicode (a lone surrogate from a JSON escape has no UTF-8 form)."""
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return all(_storable(key) and _storable(item) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return all(_storable(item) for item in value)
    return True


class InputSchema(Schema):
    """Base of query and body schemas. A moment sent with any UTC offset is read as the same moment in UTC
    (what the database stores; PostgreSQL refuses offsets beyond 15:59), one with no UTC equivalent is refused;
    text that no database can store is refused instead of failing on our side."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable_value(cls, value: Any) -> Any:
        if not _storable(value):
            raise ValueError(_("Remove the NUL character or the invalid Unicode from this text."))
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            try:
                return value.astimezone(dt.UTC)
            except OverflowError:
                raise ValueError(_("Enter a moment between the years 1 and 9999 in UTC.")) from None
        return value


MAX_OFFSET = 1_000_000_000  # far beyond any list, and within every database's integer range


class PageParams(InputSchema):
    limit: int = Field(50, ge=1, le=500, description="Items per page (1-500).")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


@functools.cache
def page_schema(item: type[Schema]) -> type[Schema]:
    """`{"count": total, "items": [...]}` for `item`, named after it in the OpenAPI document."""
    return create_model(f"{item.__name__.removesuffix('Out')}Page", __base__=Schema, count=(int, ...), items=(list[item], ...))


def paginate(queryset: QuerySet | Sequence, page: PageParams) -> dict[str, Any]:
    count = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
    return {"count": count, "items": list(queryset[page.offset : page.offset + page.limit])}


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def patch_field(**constraints: Any) -> Any:
    """A field of a partial update that may be left out (the record keeps its value) but, when sent, must be
    a value: the record cannot hold null there. Declare it as `name: str = patch_field(...)`."""
    return Field(None, json_schema_extra=_no_default, **constraints)


class WriteSchema(InputSchema):
    """Request bodies refuse fields they do not know instead of silently ignoring them."""

    model_config = ConfigDict(extra="forbid")


# Pydantic's own messages are English only; these are the ones a caller sees, in their language.
_MESSAGES: dict[str, Any] = {
    "missing": _("This field is required."),
    "string_type": _("Enter a text value."),
    "string_too_short": _("Ensure this value has at least %(min_length)s characters."),
    "string_too_long": _("Ensure this value has at most %(max_length)s characters."),
    "string_pattern_mismatch": _("Enter a value in the expected format."),
    "int_type": _("Enter a whole number."),
    "int_parsing": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number."),
    "greater_than": _("Ensure this value is greater than %(gt)s."),
    "greater_than_equal": _("Ensure this value is greater than or equal to %(ge)s."),
    "less_than": _("Ensure this value is less than %(lt)s."),
    "less_than_equal": _("Ensure this value is less than or equal to %(le)s."),
    "bool_type": _("Enter true or false."),
    "bool_parsing": _("Enter true or false."),
    "date_type": _("Enter a valid date (YYYY-MM-DD)."),
    "date_parsing": _("Enter a valid date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": _("Enter a valid date (YYYY-MM-DD)."),
    "date_from_datetime_inexact": _("Enter a valid date (YYYY-MM-DD)."),
    "datetime_type": _("Enter a valid date and time (ISO 8601)."),
    "datetime_parsing": _("Enter a valid date and time (ISO 8601)."),
    "datetime_from_date_parsing": _("Enter a valid date and time (ISO 8601)."),
    "uuid_type": _("Enter a valid identifier (UUID)."),
    "uuid_parsing": _("Enter a valid identifier (UUID)."),
    "literal_error": _("Select one of: %(expected)s."),
    "enum": _("Select one of: %(expected)s."),
    "dict_type": _("Enter an object."),
    "list_type": _("Enter a list."),
    "model_type": _("Send a JSON object."),
    "model_attributes_type": _("Send a JSON object."),
    "json_invalid": _("The request body is not valid JSON."),
    "extra_forbidden": _("This field cannot be set here."),
}
_FALLBACK = _("Enter a valid value.")
_REASON_ABSENT = frozenset({"missing", "string_type", "string_too_short"})


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    template = _MESSAGES.get(error.get("type", ""), _FALLBACK)
    try:
        return str(template) % error.get("ctx", {})
    except (KeyError, TypeError, ValueError):
        return str(_FALLBACK)


def _field_name(loc: Sequence[Any], source: str, body_params: frozenset[str]) -> str:
    """`("body", "payload", "hire_date")` -> "hire_date"; `("query", "limit")` -> "limit"."""
    parts = list(loc)
    if parts and parts[0] == source:
        parts = parts[1:]
    if source == "body" and parts and parts[0] in body_params:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "__all__"


def validation_failure(errors: Iterable[dict[str, Any]], *, body_params: Iterable[str] = ("payload",)) -> QualiflowError:
    """Schema validation errors as our error: field messages, and `core.reason_required` when the
    reason a regulated change needs is what is missing."""
    body_params = frozenset(body_params)
    fields: dict[str, list[str]] = {}
    reason_missing = False
    for error in errors:
        loc = error.get("loc") or ()
        source = str(loc[0]) if loc else "body"
        name = _field_name(loc, source, body_params)
        fields.setdefault(name, []).append(_message(error))
        reason_missing |= name == "reason" and error.get("type") in _REASON_ABSENT
    if reason_missing:
        return ValidationFailed(
            _("A reason is required for changes to this record."), fields=fields, code=CoreErrorCode.REASON_REQUIRED
        )
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


@contextlib.contextmanager
def api_field_names(renames: Mapping[str, str]) -> Iterator[None]:
    """Field errors raised by services name model fields (`site`); report them under the names the
    caller sent (`site_id`)."""
    try:
        yield
    except ValidationFailed as exc:
        exc.details["fields"] = {renames.get(name, name): messages for name, messages in exc.fields.items()}
        raise
