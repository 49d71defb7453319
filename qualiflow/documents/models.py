"""Controlled documents (SOP / WI / form) and their revisions. A revision that becomes effective with
`training_required` makes everyone whose qualifications rest on the document retrain within its grace."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qualiflow.audit.tracking import AuditedModel


class DocumentKind(models.TextChoices):
    SOP = "sop", _("Standard operating procedure")
    WORK_INSTRUCTION = "wi", _("Work instruction")
    FORM = "form", _("Form")
    POLICY = "policy", _("Policy")


class Document(AuditedModel):
    audit_reason_required = True

    code = models.CharField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DocumentKind.choices, default=DocumentKind.SOP)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def display_name(self, language: str) -> str:
        return self.title_en if language == "en" and self.title_en else self.title


class DocumentRevision(AuditedModel):
    audit_reason_required = True

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="revisions", verbose_name=_("document"))
    revision = models.PositiveIntegerField(_("revision number"))
    label = models.CharField(_("revision label"), max_length=40, help_text=_("As printed on the document, e.g. \"C\" or \"2.1\"."))
    effective_from = models.DateTimeField(_("effective from"))
    training_required = models.BooleanField(_("training required"), default=True)
    retraining_grace_days = models.PositiveIntegerField(
        _("retraining grace (days)"), default=0,
        help_text=_("Days after the effective date during which holders trained on an older revision stay qualified."),
    )
    summary = models.TextField(_("summary of changes"), blank=True)

    class Meta:
        ordering = ["document", "-revision"]
        verbose_name = _("document revision")
        verbose_name_plural = _("document revisions")
        constraints = [
            models.UniqueConstraint(
                fields=["document", "revision"], name="document_revision_unique",
                violation_error_message=_("This document already has this revision number."),
            ),
            models.CheckConstraint(
                condition=Q(revision__gte=1), name="document_revision_positive",
                violation_error_message=_("The revision number starts at 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} rev {self.label}"
