from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.tracking import object_type as object_type_of
from qualiflow.core.errors import CoreErrorCode, NotFound, ValidationFailed

from .models import ApiToken, ESignature, RoleAssignment, User
from .permissions import has_perm
from .roles import ALL_PERMISSIONS
from .services import content_hash


@dataclass(frozen=True)
class SignatureView:
    signature: ESignature
    matches: bool  # False once the record changed after signing


def signatures_for(record: models.Model) -> list[SignatureView]:
    current = content_hash(record)
    return [
        SignatureView(sig, sig.content_hash == current)
        for sig in ESignature.objects.filter(object_type=object_type_of(type(record)), object_id=str(record.pk)).select_related("signer")
    ]


@dataclass(frozen=True)
class AccessSummary:
    roles: list[RoleAssignment]
    permissions: list[str]  # held somewhere (possibly only within a scope)


def access_summary(user: User) -> AccessSummary:
    return AccessSummary(
        roles=list(user.role_assignments.order_by("role", "scope_kind")),
        permissions=sorted(perm for perm in ALL_PERMISSIONS if has_perm(user, perm)),
    )


def api_token_list(*, username: str = "") -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user").order_by("-created_at")
    return tokens.filter(user__username__iexact=username) if username else tokens


def api_token_get(*, token_id) -> ApiToken:
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if token is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("API token not found."))
    return token


def user_get(*, username: str) -> User:
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        raise ValidationFailed(_("No such user."), fields={"username": [_("No such user.")]})
    return user
