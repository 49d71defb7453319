"""Legacy data import (数据迁移): source systems with their saved column and value mappings, import batches
with their row errors, and the ledger of every row a batch created or changed, from which a batch is
rolled back completely."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.tracking import AuditedModel
from qualiflow.core.models import BaseModel


class ImportKind(models.TextChoices):
    EMPLOYEES = "employees", _("Employees")
    POSITIONS = "positions", _("Positions")
    TRAINING_RECORDS = "training_records", _("Training records")
    CERTIFICATES = "certificates", _("Certificates")
    QUALIFICATION_GRANTS = "qualification_grants", _("Qualification grants")


class SourceSystem(AuditedModel):
    """A legacy system files come from; its code is the key under which records keep their external references."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("source system")
        verbose_name_plural = _("source systems")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ColumnMapping(AuditedModel):
    """Which source column header feeds which Qualiflow field, for one kind of file from one system."""

    source_system = models.ForeignKey(
        SourceSystem, on_delete=models.CASCADE, related_name="column_mappings", verbose_name=_("source system")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=ImportKind.choices)
    columns = models.JSONField(_("columns"), default=dict, blank=True, help_text=_("Qualiflow field → source column header."))

    class Meta:
        ordering = ["source_system", "kind"]
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        constraints = [
            models.UniqueConstraint(fields=["source_system", "kind"], name="column_mapping_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source_system_id} {self.kind}"


class ValueMapping(AuditedModel):
    """A legacy value of a field (e.g. status code "3") and the Qualiflow value it stands for ("terminated")."""

    source_system = models.ForeignKey(
        SourceSystem, on_delete=models.CASCADE, related_name="value_mappings", verbose_name=_("source system")
    )
    field = models.CharField(_("field"), max_length=60)
    legacy_value = models.CharField(_("legacy value"), max_length=200)
    value = models.CharField(_("Qualiflow value"), max_length=200, blank=True)

    class Meta:
        ordering = ["source_system", "field", "legacy_value"]
        verbose_name = _("value mapping")
        verbose_name_plural = _("value mappings")
        constraints = [
            models.UniqueConstraint(fields=["source_system", "field", "legacy_value"], name="value_mapping_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.legacy_value} → {self.value}"


class BatchStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATED = "validated", _("Validated")
    QUEUED = "queued", _("Queued")
    COMMITTING = "committing", _("Committing")
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Failed")
    ROLLED_BACK = "rolled_back", _("Rolled back")


def batch_upload_to(instance: "ImportBatch", filename: str) -> str:
    return f"imports/{instance.pk}/{filename}"


class ImportBatch(BaseModel):
    """One file imported once: its dry-run preview, then its commit, and perhaps its rollback.

    Not itself an audited record: what it changes is audited, naming the batch in the reason."""

    kind = models.CharField(_("kind"), max_length=30, choices=ImportKind.choices)
    source_system = models.ForeignKey(
        SourceSystem, on_delete=models.PROTECT, related_name="batches", verbose_name=_("source system")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file = models.FileField(_("file"), upload_to=batch_upload_to, max_length=300)
    encoding = models.CharField(_("encoding detected"), max_length=40, blank=True)
    # The mappings in force at upload, so the commit reads the file exactly as the preview did.
    column_mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    value_mapping = models.JSONField(_("value mapping"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=BatchStatus.choices, default=BatchStatus.UPLOADED)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    progress_done = models.PositiveIntegerField(_("rows done"), default=0)
    progress_total = models.PositiveIntegerField(_("rows to do"), default=0)
    preview = models.JSONField(_("dry-run preview"), default=dict, blank=True)
    failure = models.TextField(_("why it failed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("uploaded by"),
    )
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("committed by"),
    )
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    rolled_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("rolled back by"),
    )
    rolled_back_at = models.DateTimeField(_("rolled back at"), null=True, blank=True)
    rollback_reason = models.TextField(_("rollback reason"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        indexes = [models.Index(fields=["status", "created_at"], name="import_batch_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class ImportRowError(models.Model):
    """Why a row (or, without a row number, the whole file) cannot be imported."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="row_errors", verbose_name=_("batch"))
    row_number = models.PositiveIntegerField(_("row"), null=True, blank=True)
    column = models.CharField(_("column"), max_length=200, blank=True)
    code = models.CharField(_("code"), max_length=40)
    message = models.TextField(_("message"))

    class Meta:
        ordering = ["batch", "row_number", "id"]
        verbose_name = _("import row error")
        verbose_name_plural = _("import row errors")

    def __str__(self) -> str:
        return f"{self.row_number}: {self.message}"


class ChangeAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")


class ImportChange(models.Model):
    """The ledger: rows of `model` a batch created, or updated with their values before, in the order
    written. One entry covers a chunk of rows, so the ledger costs a handful of inserts per thousand rows."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes", verbose_name=_("batch"))
    model = models.CharField(_("model"), max_length=100)
    action = models.CharField(_("action"), max_length=10, choices=ChangeAction.choices)
    object_ids = models.JSONField(_("object ids"), default=list)
    # For updates: object id -> {field attname: value before}.
    previous = models.JSONField(_("previous values"), default=dict, blank=True)

    class Meta:
        ordering = ["batch", "id"]
        verbose_name = _("import change")
        verbose_name_plural = _("import changes")

    def __str__(self) -> str:
        return f"{self.batch_id} {self.action} {len(self.object_ids)} {self.model}"


class ImportProgress(models.Model):
    """Live progress of a committing batch, written on its own connection outside the batch's transaction
    so a progress bar can read it while the commit runs (PostgreSQL; SQLite keeps it in a side file)."""

    batch_id = models.UUIDField(_("batch"), unique=True)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    total = models.PositiveIntegerField(_("rows to do"), default=0)

    class Meta:
        verbose_name = _("import progress")
        verbose_name_plural = _("import progress")

    def __str__(self) -> str:
        return f"{self.batch_id} {self.done}/{self.total}"
