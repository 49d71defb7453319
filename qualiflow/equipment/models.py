"""Equipment classes and assets, their maintenance and calibration plans, and the records of the work done.

Whether an asset may be used is computed (`equipment/domain/status.py`) from its status, plans and records
at the moment asked, never stored: an overdue calibration blocks the asset the minute it falls due.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.tracking import AuditedModel
from qualiflow.org.models import ProductionLine, Site, WorkCenter
from qualiflow.people.models import Employee
from qualiflow.training.models import Qualification


class EquipmentClass(AuditedModel):
    """A kind of equipment (e.g. "EO steriliser"); operations and qualification requirements name it."""

    audit_reason_required = True

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("equipment class")
        verbose_name_plural = _("equipment classes")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class EquipmentStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")
    RETIRED = "retired", _("Retired")


class Equipment(AuditedModel):
    audit_reason_required = True

    asset_number = models.CharField(_("asset number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    equipment_class = models.ForeignKey(
        EquipmentClass, on_delete=models.PROTECT, related_name="assets", verbose_name=_("equipment class")
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="equipment", verbose_name=_("site"))
    line = models.ForeignKey(
        ProductionLine, on_delete=models.PROTECT, null=True, blank=True, related_name="equipment",
        verbose_name=_("production line"),
    )
    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.PROTECT, null=True, blank=True, related_name="equipment",
        verbose_name=_("work center"),
    )
    status = models.CharField(_("status"), max_length=20, choices=EquipmentStatus.choices, default=EquipmentStatus.IN_SERVICE)
    manufacturer = models.CharField(_("manufacturer"), max_length=120, blank=True)
    model_number = models.CharField(_("model"), max_length=120, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=120, blank=True)

    class Meta:
        ordering = ["asset_number"]
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")

    def __str__(self) -> str:
        return f"{self.asset_number} {self.name}"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class PlanKind(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    CALIBRATION = "calibration", _("Calibration")


class EquipmentPlan(AuditedModel):
    """A recurring maintenance or calibration of one asset: what to do, how often, within what tolerance,
    and the qualification the technician must hold."""

    audit_reason_required = True

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="plans", verbose_name=_("equipment"))
    kind = models.CharField(_("kind"), max_length=20, choices=PlanKind.choices)
    title = models.CharField(_("title"), max_length=200)
    interval_days = models.PositiveIntegerField(_("interval (days)"))
    tasks = models.TextField(_("tasks"), blank=True)
    tolerance = models.CharField(_("tolerance"), max_length=200, blank=True, help_text=_("e.g. ±0.5 °C"))
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, null=True, blank=True, related_name="equipment_plans",
        verbose_name=_("technician qualification"),
    )
    first_due = models.DateTimeField(_("first due"), help_text=_("When the first occurrence is due."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["equipment", "kind", "title"]
        verbose_name = _("maintenance / calibration plan")
        verbose_name_plural = _("maintenance / calibration plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_days__gte=1), name="equipment_plan_interval_positive",
                violation_error_message=_("The interval is at least one day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.kind} {self.title}"


class RecordResult(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


class EquipmentRecord(AuditedModel):
    """Maintenance or calibration done on an asset. Open (not completed) maintenance blocks the asset; a
    failed calibration blocks it until a later one passes."""

    audit_reason_required = True

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="records", verbose_name=_("equipment"))
    plan = models.ForeignKey(
        EquipmentPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="records", verbose_name=_("plan")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PlanKind.choices)
    performed_by = models.ForeignKey(
        Employee, on_delete=models.PROTECT, null=True, blank=True, related_name="equipment_records",
        verbose_name=_("performed by"),
    )
    external_lab = models.CharField(_("external laboratory"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("started at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=RecordResult.choices, blank=True)
    as_found = models.CharField(_("as found"), max_length=400, blank=True)
    as_left = models.CharField(_("as left"), max_length=400, blank=True)
    certificate_number = models.CharField(_("certificate number"), max_length=100, blank=True)
    certificate_file = models.FileField(_("certificate scan"), upload_to="equipment/certificates/%Y/", blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The technician's qualification verdict, as it was when the record was made.
    qualification_evidence = models.JSONField(_("qualification evidence"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("maintenance / calibration record")
        verbose_name_plural = _("maintenance / calibration records")
        indexes = [models.Index(fields=["equipment", "kind", "completed_at"], name="equipment_record_lookup_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True, result="") | Q(completed_at__isnull=False) & ~Q(result=""),
                name="equipment_record_result_when_completed",
                violation_error_message=_("A completed record has a result; an open one has none."),
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(completed_at__gte=models.F("started_at")),
                name="equipment_record_completed_after_start",
                violation_error_message=_("The work cannot be completed before it started."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.kind} {self.started_at:%Y-%m-%d}"
