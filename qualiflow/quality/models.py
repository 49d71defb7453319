"""Quality events: deviations, nonconformances, complaints and audit findings. The production gate opens a
deviation for every controlled override; the quality loop (CAPA) extends these records."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualiflow.audit.tracking import AuditedModel
from qualiflow.org.models import Site


class QualityEventKind(models.TextChoices):
    DEVIATION = "deviation", _("Deviation")
    NONCONFORMANCE = "nonconformance", _("Nonconformance")
    COMPLAINT = "complaint", _("Complaint")
    AUDIT_FINDING = "audit_finding", _("Audit finding")


class QualityEventStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("quality event status", "Open")
    CLOSED = "closed", _("Closed")


class QualityEvent(AuditedModel):
    audit_reason_required = True

    number = models.CharField(_("number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=QualityEventKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=QualityEventStatus.choices, default=QualityEventStatus.OPEN)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="quality_events", verbose_name=_("site")
    )
    # The record the event arose from, e.g. "production.operationrun/<id>".
    source_type = models.CharField(_("source type"), max_length=100, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("opened by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # What was found and done; part of the content QA's closing signature is bound to.
    closure_summary = models.TextField(_("closure summary"), blank=True)

    class Meta:
        ordering = ["-opened_at", "-number"]
        verbose_name = _("quality event")
        verbose_name_plural = _("quality events")
        indexes = [models.Index(fields=["source_type", "source_id"], name="quality_event_source_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class QualityEventSequence(models.Model):
    """The last number given per prefix and year. Opening an event locks its row, so concurrent openings
    queue for the next number instead of colliding on it. Bookkeeping, not a regulated record: the events
    carry the numbers and their audit trail."""

    prefix = models.CharField(_("prefix"), max_length=10)
    year = models.PositiveIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("quality event number sequence")
        verbose_name_plural = _("quality event number sequences")
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="quality_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"
