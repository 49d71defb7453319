"""Automation rules, what each did with each event (firings), and the engine's place in the outbox.

A rule is configuration that acts on regulated records (it assigns training, suspends qualifications), so
it is audited like one; a rule that suspends qualifications runs only while it carries the approval
signature of someone who may manage training, and any edit voids that approval.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import ESignature
from qualiflow.audit.tracking import AuditedModel
from qualiflow.integration.models import OutboxEvent


def _always() -> dict:
    return {"all": []}


class AutomationRule(AuditedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    # Shell-style event type patterns, e.g. ["training.qualification.expiring", "quality.event.*"].
    triggers = models.JSONField(_("trigger events"), default=list)
    condition = models.JSONField(_("condition"), default=_always)
    actions = models.JSONField(_("actions"), default=list)
    is_active = models.BooleanField(_("active"), default=False)
    # A rule acts on events from the moment it was last activated, not on the history before it.
    active_since = models.DateTimeField(_("active since"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )
    approval = models.ForeignKey(
        ESignature, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("approval"),
    )
    # The plant default a rule was installed as ("" for rules written here); installing again finds it.
    default_key = models.CharField(_("default rule"), max_length=60, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        constraints = [
            models.UniqueConstraint(fields=["default_key"], condition=~Q(default_key=""), name="automation_default_once"),
        ]

    def __str__(self) -> str:
        return self.name


class FiringOutcome(models.TextChoices):
    MATCHED = "matched", _("Matched")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class RuleFiring(models.Model):
    """A rule meeting an event: whether its condition held and what each action did. One per rule and
    event, so the engine processing an event again (at least once) repeats nothing."""

    id = models.BigAutoField(primary_key=True)
    rule = models.ForeignKey(AutomationRule, on_delete=models.PROTECT, related_name="firings", verbose_name=_("rule"))
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="+", verbose_name=_("event"))
    fired_at = models.DateTimeField(_("fired at"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=FiringOutcome.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    # Per action: {"type", "status": done | nothing | failed | pending, "message", ...what was done}.
    results = models.JSONField(_("action results"), default=list)
    # HTTP calls still to make: they are made after the firing is committed, never under its lock.
    pending = models.BooleanField(_("calls pending"), default=False)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("rule firing")
        verbose_name_plural = _("rule firings")
        constraints = [models.UniqueConstraint(fields=["rule", "event"], name="automation_firing_once")]
        indexes = [
            models.Index(fields=["pending", "lease_until"], name="automation_firing_pending_idx"),
            models.Index(fields=["outcome", "id"], name="automation_firing_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.event_id}: {self.outcome}"


class EngineCursor(models.Model):
    """How far the engine has read the outbox. `scanned` is the highest position processed; `gaps` are the
    lower positions not yet seen ({position: first noticed}), which on PostgreSQL can be transactions still
    open when later ones committed. The row is locked while a batch is processed: several workers take
    turns and each event is seen once."""

    name = models.CharField(primary_key=True, max_length=40)
    scanned = models.BigIntegerField(_("scanned up to"), default=0)
    gaps = models.JSONField(_("gaps"), default=dict)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("automation engine cursor")
        verbose_name_plural = _("automation engine cursors")

    def __str__(self) -> str:
        return f"{self.name}: {self.scanned}"
