"""Writes for identity and access: users, roles, API tokens, e-signatures."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow import audit
from qualiflow.audit.tracking import object_type as object_type_of
from qualiflow.audit.tracking import snapshot
from qualiflow.core.errors import CoreErrorCode, PermissionDenied, ValidationFailed
from qualiflow.integration import events

from .errors import AccountsErrorCode
from .models import ApiToken, ESignature, Notification, RoleAssignment, SignatureMeaning, User
from .permissions import forget, has_perm
from .roles import Perm, Role, ScopeKind

logger = logging.getLogger(__name__)


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    language: str = User.Language.CHINESE,
    is_integration: bool = False,
    validate: bool = True,
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(
            _("This username is already taken."),
            fields={"username": [_("This username is already taken.")]},
            code=AccountsErrorCode.USERNAME_TAKEN,
        )
    user = User(
        username=username, first_name=first_name, last_name=last_name, email=email,
        language=language, is_integration=is_integration,
    )
    if password and validate:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed(_("The password is too weak."), fields={"password": list(exc.messages)}) from exc
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    events.emit("accounts.user.created", f"user/{user.pk}", {"username": user.username})
    return user


@transaction.atomic
def role_assign(*, user: User, role: str, scope_kind: str = ScopeKind.GLOBAL, scope_id: UUID | None = None) -> RoleAssignment:
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), fields={"role": [_("Unknown role.")]}, code=AccountsErrorCode.ROLE_INVALID)
    if (scope_kind == ScopeKind.GLOBAL) != (scope_id is None):
        raise ValidationFailed(
            _("A site, department or line scope needs the object it is limited to; the whole company needs none."),
            fields={"scope_id": [_("Scope object does not match the scope kind.")]},
            code=AccountsErrorCode.ROLE_INVALID,
        )
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=role, scope_kind=scope_kind, scope_id=scope_id
    )
    forget(user)
    events.emit(
        "accounts.role.assigned",
        f"user/{user.pk}",
        {"role": role, "scope_kind": scope_kind, "scope_id": str(scope_id) if scope_id else None},
    )
    return assignment


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_issue(
    *, user: User, name: str, expires_at: datetime | None = None, by=None
) -> tuple[ApiToken, str]:
    """Create a token; the clear text is returned once and never stored."""
    if by is not None and not has_perm(by, Perm.ACCOUNTS_MANAGE):
        raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to manage API tokens."))
    errors: dict[str, list] = {}
    if not name.strip():
        errors["name"] = [_("Give the token a name that says what uses it.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if not user.is_active:
        errors["username"] = [_("This user is inactive.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    prefix = secrets.token_hex(4)
    secret = f"qf_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=prefix, token_hash=_token_digest(secret), expires_at=expires_at
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by=None) -> ApiToken:
    """Stop a token working from now on; the row stays as evidence of who could call the API when."""
    if by is not None and not has_perm(by, Perm.ACCOUNTS_MANAGE):
        raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to manage API tokens."))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind a bearer token, or None. Constant-time comparison of the stored hash."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "qf":
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.token_hash, _token_digest(raw)):
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def content_hash(record: models.Model) -> str:
    """SHA-256 of a record's business content (the fields the audit trail tracks)."""
    payload = json.dumps(
        {"type": object_type_of(type(record)), "id": str(record.pk), "fields": snapshot(record)},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def esignature_sign(*, signer: User, password: str, record: models.Model, meaning: str, reason: str = "") -> ESignature:
    """Sign `record` after re-authentication. A wrong password is refused and the attempt is audited."""
    if meaning not in SignatureMeaning.values:
        raise ValidationFailed(
            _("Unknown signature meaning."), fields={"meaning": [_("Unknown signature meaning.")]},
            code=AccountsErrorCode.SIGNATURE_MEANING_INVALID,
        )
    if not has_perm(signer, Perm.ESIGN):
        raise PermissionDenied(AccountsErrorCode.SIGNATURE_NOT_ALLOWED, _("You are not allowed to sign records."))
    if not signer.check_password(password):
        with transaction.atomic():
            audit.record(
                action="sign_failed", object_type=object_type_of(type(record)), object_id=str(record.pk),
                object_repr=str(record), changes={"meaning": [None, meaning]},
                reason=str(_("Signature refused: wrong password.")),
            )
        raise PermissionDenied(
            AccountsErrorCode.SIGNATURE_PASSWORD_INVALID,
            _("The password is not correct; the record was not signed."),
            details={"fields": {"password": [_("The password is not correct.")]}},
        )
    with transaction.atomic():
        signature = ESignature.objects.create(
            signer=signer,
            printed_name=signer.printed_name,
            meaning=meaning,
            signed_at=timezone.now(),
            object_type=object_type_of(type(record)),
            object_id=str(record.pk),
            content_hash=content_hash(record),
            reason=reason,
        )
        audit.record(
            action="sign", object_type=signature.object_type, object_id=signature.object_id, object_repr=str(record),
            changes={"meaning": [None, meaning], "printed_name": [None, signature.printed_name],
                     "content_hash": [None, signature.content_hash]},
            reason=reason,
        )
        events.emit(
            "accounts.signature.signed", f"{signature.object_type}/{signature.object_id}",
            {"signature_id": str(signature.pk), "meaning": meaning, "signer": signer.username},
        )
    return signature


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    if language not in User.Language.values:
        raise ValidationFailed(_("Unknown language."), fields={"language": [_("Unknown language.")]})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language", "updated_at"])
    return user


def _mail_notification(notification_id, recipient_email: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, None, [recipient_email])
    except Exception:
        # The in-app notification stands; a mail server outage must not undo the change that caused it.
        logger.exception("e-mail for notification %s could not be sent", notification_id)
        return
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())


def notification_send(
    *, recipient: User, kind: str, subject: str, body: str = "", url: str = "", dedupe_key: str = "",
    email: bool = True,
) -> Notification | None:
    """An in-app message to `recipient`, mirrored by e-mail after commit when they have an address.

    Subject and body are given in the recipient's language (render them under
    `translation.override(recipient.language)`). With a `dedupe_key` the message is sent once per recipient:
    a repeat returns None and sends nothing.
    """
    if not recipient.is_active:
        return None
    if dedupe_key and Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, subject=subject[:200], body=body, url=url[:300], dedupe_key=dedupe_key
            )
    except IntegrityError:
        return None  # sent meanwhile by a concurrent run
    if email and recipient.email:
        transaction.on_commit(functools.partial(
            _mail_notification, notification.pk, recipient.email, notification.subject, _mail_body(body, url)
        ))
    return notification


def _mail_body(body: str, url: str) -> str:
    if not url:
        return body
    link = url if url.startswith("http") else f"{settings.QUALIFLOW_BASE_URL.rstrip('/')}{url}"
    return f"{body}\n\n{link}" if body else link


@transaction.atomic
def notifications_mark_read(*, user: User, notification_ids: list[UUID] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when no ids are given); returns how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
