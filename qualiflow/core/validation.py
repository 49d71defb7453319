"""Shared mechanics of write services: model validation to field errors, required reasons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import CoreErrorCode, ValidationFailed


def full_clean(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """Run Django's model validation; raise `ValidationFailed` with per-field messages."""
    try:
        instance.full_clean(exclude=list(exclude) if exclude else None)
    except DjangoValidationError as exc:
        fields = {("__all__" if k == NON_FIELD_ERRORS else k): list(v) for k, v in exc.message_dict.items()}
        raise ValidationFailed(_("Please correct the errors below."), fields=fields) from exc


def require_reason(model: type[models.Model], reason: str | None) -> str:
    """Regulated records change only with a stated reason (21 CFR 11.10(e), GMP data integrity)."""
    reason = (reason or "").strip()
    if getattr(model, "audit_reason_required", False) and not reason:
        raise ValidationFailed(
            _("A reason is required for changes to this record."),
            fields={"reason": [_("State why this change is made.")]},
            code=CoreErrorCode.REASON_REQUIRED,
        )
    return reason


def assign(instance: models.Model, data: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """Copy allowed fields from `data` onto `instance`; refuse unknown fields. Returns what was set."""
    allowed = set(allowed)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            _("Unknown fields."), fields={name: [_("This field cannot be set here.")] for name in unknown}
        )
    for name, value in data.items():
        setattr(instance, name, value)
    return dict(data)
