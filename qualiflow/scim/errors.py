"""SCIM refusals: the `scimType` keywords of RFC 7644 §3.12 and one exception carrying status and detail."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ScimType(StrEnum):
    INVALID_FILTER = "invalidFilter"
    TOO_MANY = "tooMany"
    UNIQUENESS = "uniqueness"
    MUTABILITY = "mutability"
    INVALID_SYNTAX = "invalidSyntax"
    INVALID_PATH = "invalidPath"
    NO_TARGET = "noTarget"
    INVALID_VALUE = "invalidValue"
    INVALID_VERSION = "invalidVers"


class ScimError(Exception):
    """A request refused with a SCIM error response; `detail` is usually a lazy translation."""

    def __init__(self, status: int, detail: Any, scim_type: ScimType | None = None) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": str(self.status),
            "detail": str(self.detail),
        }
        if self.scim_type:
            body["scimType"] = str(self.scim_type)
        return body
