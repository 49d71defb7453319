import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead letter")


class OutboxEvent(models.Model):
    """A business fact in CloudEvents 1.0 shape, written in the same transaction as the change it reports."""

    position = models.BigAutoField(primary_key=True)  # delivery order
    id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    specversion = models.CharField(max_length=8, default="1.0")
    type = models.CharField(_("type"), max_length=120, db_index=True)
    source = models.CharField(_("source"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200, db_index=True)
    time = models.DateTimeField(_("time"))
    datacontenttype = models.CharField(max_length=60, default="application/json")
    data = models.JSONField(_("data"), default=dict)
    actor = models.CharField(_("actor"), max_length=200, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)

    class Meta:
        ordering = ["position"]
        indexes = [models.Index(fields=["status", "position"], name="outbox_pending_idx")]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")

    def __str__(self) -> str:
        return f"{self.type} {self.subject}"

    def as_cloudevent(self) -> dict:
        return {
            "specversion": self.specversion,
            "id": str(self.id),
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": self.datacontenttype,
            "data": self.data,
        }
