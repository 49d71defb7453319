import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """UUID key, timestamps and external references (source system -> key) for 1:1 mapping to other systems."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    external_refs = models.JSONField(
        _("external references"),
        default=dict,
        blank=True,
        help_text=_("Keys of this record in other systems, e.g. {\"sap-hr\": \"00012345\"}."),
    )

    class Meta:
        abstract = True


class JobRun(models.Model):
    """A daily job claimed for one day: the unique (job, day) row lets several workers run the same
    schedule while each job runs once per day."""

    job = models.CharField(_("job"), max_length=100)
    day = models.DateField(_("day (UTC)"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), null=True)
    output = models.TextField(_("output"), blank=True)

    class Meta:
        ordering = ["-day", "job"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        constraints = [models.UniqueConstraint(fields=["job", "day"], name="jobrun_once_per_day")]

    def __str__(self) -> str:
        return f"{self.job} {self.day}"
