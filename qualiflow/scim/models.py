from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.tracking import AuditedModel


class ScimGroup(AuditedModel):
    """A group an identity provider pushes. Its members are logins; a group named in
    `QUALIFLOW_SCIM_GROUP_ROLES` gives its members that Qualiflow role."""

    display_name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("SCIM group")
        verbose_name_plural = _("SCIM groups")

    def __str__(self) -> str:
        return self.display_name


class ScimGroupMembership(AuditedModel):
    """One login in one group; a row of its own so that joining and leaving are audited."""

    group = models.ForeignKey(ScimGroup, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("group"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_memberships", verbose_name=_("user")
    )

    class Meta:
        ordering = ["group", "created_at"]
        verbose_name = _("SCIM group membership")
        verbose_name_plural = _("SCIM group memberships")
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="scim_membership_unique")]

    def __str__(self) -> str:
        return f"{self.group.display_name}: {self.user.username}"


class ScimAccount(AuditedModel):
    """What a SCIM client said about a login that Qualiflow's records have no place for: whether the one
    e-mail address and phone number it keeps were sent as primary (echoed back as sent)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_account", verbose_name=_("user")
    )
    email_primary = models.BooleanField(_("e-mail sent as primary"), null=True, blank=True)
    phone_primary = models.BooleanField(_("phone number sent as primary"), null=True, blank=True)

    class Meta:
        verbose_name = _("SCIM account")
        verbose_name_plural = _("SCIM accounts")

    def __str__(self) -> str:
        return self.user.username
