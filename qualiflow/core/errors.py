"""One exception type for refused operations; each app defines its own code enum.

Views and the API turn a `QualiflowError` into a form error or `{"code", "message", "details"}`, so a
refusal reads the same in every channel and in the user's language.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class CoreErrorCode(StrEnum):
    VALIDATION = "core.validation"
    NOT_FOUND = "core.not_found"
    PERMISSION_DENIED = "core.permission_denied"
    AUTHENTICATION_REQUIRED = "core.authentication_required"
    REASON_REQUIRED = "core.reason_required"
    CONFLICT = "core.conflict"


class QualiflowError(Exception):
    status = 400

    def __init__(self, code: StrEnum | str, message: Any, *, details: dict[str, Any] | None = None):
        super().__init__(str(message))
        self.code = str(code)
        self.message = message  # often a lazy translation: rendered in the reader's language
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "details": _render(self.details)}


class ValidationFailed(QualiflowError):
    """Input refused; `details` maps field names to lists of messages."""

    status = 422

    def __init__(self, message: Any, *, fields: dict[str, list[Any]] | None = None, code: StrEnum | str = CoreErrorCode.VALIDATION):
        super().__init__(code, message, details={"fields": fields or {}})

    @property
    def fields(self) -> dict[str, list[Any]]:
        return self.details["fields"]


class NotFound(QualiflowError):
    status = 404


class PermissionDenied(QualiflowError):
    status = 403


class Conflict(QualiflowError):
    status = 409


def _render(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _render(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_render(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
