import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.tracking import AuditedModel


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value}, code="invalid")


class OrgUnit(AuditedModel):
    """Shared shape of organisation records: a code unique in its kind, a Chinese and an English name."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class Company(OrgUnit):
    class Meta(OrgUnit.Meta):
        verbose_name = _("company")
        verbose_name_plural = _("companies")


class Site(OrgUnit):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="sites", verbose_name=_("company"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone])
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta(OrgUnit.Meta):
        verbose_name = _("site")
        verbose_name_plural = _("sites")


class Department(OrgUnit):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="departments", verbose_name=_("site"))
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent department")
    )

    class Meta(OrgUnit.Meta):
        verbose_name = _("department")
        verbose_name_plural = _("departments")


class ProductionLine(OrgUnit):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="lines", verbose_name=_("site"))
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="lines", verbose_name=_("department")
    )
    clean_room_class = models.CharField(
        _("clean-room class"), max_length=40, blank=True, help_text=_("e.g. ISO 8 / 100,000")
    )

    class Meta(OrgUnit.Meta):
        verbose_name = _("production line")
        verbose_name_plural = _("production lines")


class WorkCenter(OrgUnit):
    line = models.ForeignKey(ProductionLine, on_delete=models.PROTECT, related_name="work_centers", verbose_name=_("line"))

    class Meta(OrgUnit.Meta):
        verbose_name = _("work center")
        verbose_name_plural = _("work centers")


class Position(OrgUnit):
    """岗位: a job a person is assigned to; requirements (qualifications) attach here."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="positions", verbose_name=_("department")
    )
    description = models.TextField(_("description"), blank=True)

    class Meta(OrgUnit.Meta):
        verbose_name = _("position")
        verbose_name_plural = _("positions")
