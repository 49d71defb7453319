"""Products, versioned routings and their operations, work orders and what was done on them.

A work order copies its routing's operations (with their requirements and inspection points) at release,
so a later routing change never rewrites what an order was made to. Every track-in stores the gate's
decision and the exact evidence it rested on with the run, in the same transaction; refusals are kept too.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualiflow.audit.tracking import AuditedModel
from qualiflow.documents.models import Document
from qualiflow.equipment.models import Equipment, EquipmentClass
from qualiflow.org.models import ProductionLine, WorkCenter
from qualiflow.people.models import Employee
from qualiflow.quality.models import QualityEvent


class DeviceClass(models.TextChoices):
    I = "I", _("Class I")  # noqa: E741 - the regulatory class is called I
    II = "II", _("Class II")
    III = "III", _("Class III")


class Product(AuditedModel):
    audit_reason_required = True

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    model = models.CharField(_("model"), max_length=120, blank=True)
    device_class = models.CharField(_("device class"), max_length=3, choices=DeviceClass.choices)
    udi_di = models.CharField(_("UDI-DI"), max_length=60, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class RoutingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", pgettext_lazy("routing status", "Approved")
    RETIRED = "retired", _("Retired")


class Routing(AuditedModel):
    """工艺路线: one version of how a product is made. Only approved versions (signed) make work orders;
    the one in effect at a moment is the approved version with the latest effective date up to then."""

    audit_reason_required = True

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="routings", verbose_name=_("product"))
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=RoutingStatus.choices, default=RoutingStatus.DRAFT)
    effective_from = models.DateTimeField(_("effective from"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["product", "-version"]
        verbose_name = _("routing")
        verbose_name_plural = _("routings")
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="routing_version_unique",
                                    violation_error_message=_("This product already has this routing version.")),
            models.CheckConstraint(
                condition=Q(status=RoutingStatus.DRAFT) | Q(effective_from__isnull=False, approved_at__isnull=False),
                name="routing_approved_has_dates",
                violation_error_message=_("An approved routing has its approval and effective dates."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} v{self.version}"


class Operation(AuditedModel):
    """工序: a step of a routing. Its required qualifications are requirements (training) targeting it."""

    audit_reason_required = True

    routing = models.ForeignKey(Routing, on_delete=models.PROTECT, related_name="operations", verbose_name=_("routing"))
    sequence = models.PositiveIntegerField(_("sequence"))
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.PROTECT, related_name="operations", verbose_name=_("work center")
    )
    standard_minutes = models.DecimalField(_("standard time (minutes per unit)"), max_digits=9, decimal_places=2)
    equipment_class = models.ForeignKey(
        EquipmentClass, on_delete=models.PROTECT, null=True, blank=True, related_name="operations",
        verbose_name=_("required equipment class"),
    )
    work_instruction = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="operations",
        verbose_name=_("work instruction"),
        help_text=_("Operators must be trained on its revision in effect when they track in."),
    )
    # In-process inspection points: [{"code", "characteristic", "unit", "lower", "upper"}]; no limits means a
    # pass / fail check.
    inspection_points = models.JSONField(_("inspection points"), default=list, blank=True)

    class Meta:
        ordering = ["routing", "sequence"]
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        constraints = [
            models.UniqueConstraint(fields=["routing", "sequence"], name="operation_sequence_unique",
                                    violation_error_message=_("This routing already has an operation with this sequence.")),
            models.CheckConstraint(condition=Q(standard_minutes__gte=0), name="operation_standard_time_not_negative",
                                   violation_error_message=_("The standard time cannot be negative.")),
        ]

    def __str__(self) -> str:
        return f"{self.sequence} {self.name}"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class WorkOrderStatus(models.TextChoices):
    CREATED = "created", _("Created")
    RELEASED = "released", _("Released")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class WorkOrder(AuditedModel):
    """工单: make `quantity` of a product by a routing version on a line, as one lot or as serial numbers."""

    audit_reason_required = True

    number = models.CharField(_("number"), max_length=40, unique=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("product"))
    routing = models.ForeignKey(Routing, on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("routing"))
    line = models.ForeignKey(ProductionLine, on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("line"))
    quantity = models.PositiveIntegerField(_("quantity"))
    lot_number = models.CharField(_("lot number"), max_length=60, blank=True)
    serial_numbers = models.JSONField(_("serial numbers"), default=list, blank=True)
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    status = models.CharField(_("status"), max_length=20, choices=WorkOrderStatus.choices, default=WorkOrderStatus.CREATED)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Shortfalls of currently qualified people found at release: [{"sequence", "needed", "qualified"}].
    release_warnings = models.JSONField(_("release warnings"), default=list, blank=True)

    class Meta:
        ordering = ["-planned_start", "-number"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [models.Index(fields=["status", "line"], name="work_order_status_line_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="work_order_quantity_positive",
                                   violation_error_message=_("The quantity is at least 1.")),
            models.CheckConstraint(condition=Q(planned_end__gte=F("planned_start")), name="work_order_planned_window",
                                   violation_error_message=_("The planned end cannot be before the planned start.")),
        ]

    def __str__(self) -> str:
        return self.number


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class WorkOrderOperation(AuditedModel):
    """An operation of one work order, copied from the routing at release with what it requires."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="steps", verbose_name=_("work order"))
    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="+", verbose_name=_("operation"))
    sequence = models.PositiveIntegerField(_("sequence"))
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    work_center = models.ForeignKey(WorkCenter, on_delete=models.PROTECT, related_name="+", verbose_name=_("work center"))
    standard_minutes = models.DecimalField(_("standard time (minutes per unit)"), max_digits=9, decimal_places=2)
    equipment_class = models.ForeignKey(
        EquipmentClass, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("required equipment class"),
    )
    work_instruction = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("work instruction")
    )
    # Copied at release: [{"qualification_id", "code", "mandatory"}] and the inspection points.
    requirements = models.JSONField(_("required qualifications"), default=list, blank=True)
    inspection_points = models.JSONField(_("inspection points"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    good_quantity = models.PositiveIntegerField(_("good quantity"), default=0)
    scrap_quantity = models.PositiveIntegerField(_("scrap quantity"), default=0)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["work_order", "sequence"]
        verbose_name = _("work order operation")
        verbose_name_plural = _("work order operations")
        constraints = [
            models.UniqueConstraint(fields=["work_order", "sequence"], name="work_order_operation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id}/{self.sequence}"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class OperationRun(AuditedModel):
    """One operator's track-in / track-out at a work-order operation, with the gate's decision and evidence
    frozen as they were at track-in."""

    step = models.ForeignKey(WorkOrderOperation, on_delete=models.PROTECT, related_name="runs", verbose_name=_("operation"))
    operator = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="operation_runs", verbose_name=_("operator"))
    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, null=True, blank=True, related_name="operation_runs", verbose_name=_("equipment")
    )
    tracked_in_at = models.DateTimeField(_("tracked in at"))
    tracked_out_at = models.DateTimeField(_("tracked out at"), null=True, blank=True)
    good_quantity = models.PositiveIntegerField(_("good quantity"), null=True, blank=True)
    scrap_quantity = models.PositiveIntegerField(_("scrap quantity"), null=True, blank=True)
    # [{"code", "value", "passed"}], one per inspection point of the operation.
    inspection_results = models.JSONField(_("inspection results"), default=list, blank=True)
    # The gate's decision as stored at track-in: allowed, reasons, and what it rested on.
    decision = models.JSONField(_("gate decision"))
    overridden = models.BooleanField(_("overridden"), default=False)
    override_reason = models.TextField(_("override reason"), blank=True)
    deviation = models.ForeignKey(
        QualityEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("deviation")
    )
    station = models.CharField(_("station"), max_length=100, blank=True)
    tracked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["tracked_in_at"]
        verbose_name = _("operation run")
        verbose_name_plural = _("operation runs")
        indexes = [
            models.Index(fields=["equipment", "tracked_in_at"], name="run_equipment_time_idx"),
            models.Index(fields=["operator", "tracked_out_at"], name="run_operator_open_idx"),
        ]
        constraints = [
            # One open run per operator and operation: tracking in twice is refused, also under a race.
            models.UniqueConstraint(fields=["step", "operator"], condition=Q(tracked_out_at__isnull=True),
                                    name="run_one_open_per_operator"),
        ]

    def __str__(self) -> str:
        return f"{self.step_id} {self.operator_id} {self.tracked_in_at:%Y-%m-%d %H:%M}"


class GateRefusal(AuditedModel):
    """A refused track-in: who, where, when and why, with the evidence the gate saw. A supervisor and QA
    may override it (both sign); the run it then lets through points back here."""

    step = models.ForeignKey(WorkOrderOperation, on_delete=models.PROTECT, related_name="refusals", verbose_name=_("operation"))
    operator = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="gate_refusals", verbose_name=_("operator"))
    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("equipment")
    )
    at = models.DateTimeField(_("refused at"))
    decision = models.JSONField(_("gate decision"))
    station = models.CharField(_("station"), max_length=100, blank=True)
    run = models.OneToOneField(
        OperationRun, on_delete=models.PROTECT, null=True, blank=True, related_name="refusal",
        verbose_name=_("overriding run"),
    )

    class Meta:
        ordering = ["-at"]
        verbose_name = _("gate refusal")
        verbose_name_plural = _("gate refusals")

    def __str__(self) -> str:
        return f"{self.step_id} {self.operator_id} {self.at:%Y-%m-%d %H:%M}"


class DhrExport(AuditedModel):
    """器械历史记录: a device history record as exported and signed; `content` is exactly what was hashed."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="dhr_exports", verbose_name=_("work order"))
    exported_at = models.DateTimeField(_("exported at"))
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("exported by")
    )
    content = models.JSONField(_("content"))
    content_hash = models.CharField(_("content hash (SHA-256)"), max_length=64)

    class Meta:
        ordering = ["-exported_at"]
        verbose_name = _("device history record export")
        verbose_name_plural = _("device history record exports")

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.exported_at:%Y-%m-%d %H:%M}"
