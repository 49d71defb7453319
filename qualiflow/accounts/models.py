import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.tracking import AuditedModel, AuditedQuerySet

from .roles import Role, ScopeKind


class UserManager(DjangoUserManager.from_queryset(AuditedQuerySet)):
    pass


class User(AbstractUser, AuditedModel):
    """A login. People are linked from their Employee record (people depend on accounts, not the reverse)."""

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        CHINESE = "zh-hans", "简体中文"

    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.CHINESE)
    is_integration = models.BooleanField(
        _("integration client"), default=False, help_text=_("A system account that signs in with API tokens only.")
    )

    audit_masked_fields = ("password",)
    audit_ignored_fields = ("last_login",)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.printed_name

    @property
    def printed_name(self) -> str:
        full = f"{self.last_name}{self.first_name}".strip() if self.language == "zh-hans" else self.get_full_name()
        return full or self.username


class RoleAssignment(AuditedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    scope_kind = models.CharField(_("scope"), max_length=20, choices=ScopeKind.choices, default=ScopeKind.GLOBAL)
    # The site, department or line the role is limited to (org records; kept as an id to respect the
    # import direction accounts <- org).
    scope_id = models.UUIDField(_("scope object"), null=True, blank=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "scope_kind", "scope_id"], name="uniq_role_assignment"),
            models.CheckConstraint(
                condition=models.Q(scope_kind="global", scope_id__isnull=True)
                | (~models.Q(scope_kind="global") & models.Q(scope_id__isnull=False)),
                name="role_scope_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.username}: {self.get_role_display()} ({self.get_scope_kind_display()})"


class ApiToken(AuditedModel):
    """A bearer token for integration clients; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    audit_masked_fields = ("token_hash",)
    audit_ignored_fields = ("last_used_at",)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SignatureMeaning(models.TextChoices):
    AUTHORED = "authored", _("Authored")
    REVIEWED = "reviewed", _("Reviewed")
    APPROVED = "approved", _("Approved")
    PERFORMED = "performed", _("Performed")
    VERIFIED = "verified", _("Verified")


class ESignature(models.Model):
    """An electronic signature (21 CFR Part 11 §11.50/§11.70): who, printed name, when (UTC), meaning,
    bound to the SHA-256 of the signed record's content at signing time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("signer"))
    printed_name = models.CharField(_("printed name"), max_length=150)
    meaning = models.CharField(_("meaning"), max_length=20, choices=SignatureMeaning.choices)
    signed_at = models.DateTimeField(_("signed at (UTC)"))
    object_type = models.CharField(_("record type"), max_length=100)
    object_id = models.CharField(_("record id"), max_length=64)
    content_hash = models.CharField(_("content hash"), max_length=64)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["signed_at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="esig_object_idx")]
        verbose_name = _("electronic signature")
        verbose_name_plural = _("electronic signatures")

    def __str__(self) -> str:
        return f"{self.printed_name} — {self.get_meaning_display()}"


class Notification(models.Model):
    """An in-app message to a user (mirrored by e-mail where the user has an address). Not regulated:
    the facts it reports are audited where they happen."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient"))
    kind = models.CharField(_("kind"), max_length=60)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # Makes a repeated job run send nothing twice, e.g. "expiring:<grant id>:<recipient>".
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="notification_dedupe_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.subject
