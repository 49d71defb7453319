from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.tracking import AuditedModel
from qualiflow.org.models import Department, Position, ProductionLine, Site


class EmploymentType(models.TextChoices):
    STAFF = "staff", _("Staff")
    CONTRACTOR = "contractor", _("Contractor")
    TEMPORARY = "temporary", _("Temporary")
    INTERN = "intern", _("Intern")


class EmployeeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ON_LEAVE = "on_leave", _("On leave")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


class Employee(AuditedModel):
    """员工: the HR master record every qualification, run and signature traces back to."""

    audit_reason_required = True

    employee_number = models.CharField(_("employee number"), max_length=40, unique=True)
    family_name = models.CharField(_("family name"), max_length=60)
    given_name = models.CharField(_("given name"), max_length=60)
    latin_name = models.CharField(_("name in Latin script"), max_length=120, blank=True)
    employment_type = models.CharField(
        _("employment type"), max_length=20, choices=EmploymentType.choices, default=EmploymentType.STAFF
    )
    status = models.CharField(_("status"), max_length=20, choices=EmployeeStatus.choices, default=EmployeeStatus.ACTIVE)
    hire_date = models.DateField(_("hire date"))
    termination_date = models.DateField(_("termination date"), null=True, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="employees", verbose_name=_("site"))
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="employees", verbose_name=_("department")
    )
    line = models.ForeignKey(
        ProductionLine, on_delete=models.PROTECT, null=True, blank=True, related_name="employees",
        verbose_name=_("production line"),
    )
    position = models.ForeignKey(
        Position, on_delete=models.PROTECT, null=True, blank=True, related_name="holders",
        verbose_name=_("current position"),
    )
    manager = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reports", verbose_name=_("manager")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="employee",
        verbose_name=_("login"),
    )

    class Meta:
        ordering = ["employee_number"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        indexes = [
            models.Index(fields=["site", "status"], name="employee_site_status_idx"),
            models.Index(fields=["department"], name="employee_department_idx"),
            models.Index(fields=["family_name", "given_name"], name="employee_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(termination_date__isnull=True) | Q(termination_date__gte=models.F("hire_date")),
                name="employee_terminated_after_hire",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_number} {self.full_name}"

    @property
    def full_name(self) -> str:
        return f"{self.family_name}{self.given_name}"

    @property
    def is_active(self) -> bool:
        return self.status in (EmployeeStatus.ACTIVE, EmployeeStatus.ON_LEAVE)


class PositionAssignment(AuditedModel):
    """A person held a position from `start_date` up to (not including) `end_date`."""

    audit_reason_required = True

    employee = models.ForeignKey(
        Employee, on_delete=models.CASCADE, related_name="position_assignments", verbose_name=_("employee")
    )
    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("position"))
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["employee", "-start_date"]
        verbose_name = _("position assignment")
        verbose_name_plural = _("position assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=models.F("start_date")),
                name="position_assignment_dates",
            ),
            models.UniqueConstraint(
                fields=["employee"], condition=Q(end_date__isnull=True), name="one_open_position_assignment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee.employee_number} → {self.position.code} ({self.start_date} - {self.end_date or ''})"
