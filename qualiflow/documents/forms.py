"""Forms for the document pages. They parse input only; the document services validate and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualiflow.org.forms import ServiceForm, ServiceModelForm, reason_field

from .models import Document, DocumentKind
from .services import DOCUMENT_FIELDS

STATUS_CHOICES = (("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All")))
STATUS_FILTERS = {"active": True, "inactive": False, "all": None}


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DocumentFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Code or title")}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All")), *DocumentKind.choices], required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)

    def selector_kwargs(self) -> dict:
        """Filters for `selectors.document_list`; a filter that does not parse is ignored, not an error."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "search": data.get("q", ""),
            "kind": data.get("kind", ""),
            "active": STATUS_FILTERS[data.get("status") or "active"],
        }


class DocumentForm(ServiceModelForm):
    reason = reason_field()

    class Meta:
        model = Document
        # A new document is in use; taking it out of use is an edit.
        fields = [name for name in DOCUMENT_FIELDS if name not in ("external_refs", "is_active")]


class DocumentEditForm(DocumentForm):
    class Meta(DocumentForm.Meta):
        fields = [name for name in DOCUMENT_FIELDS if name != "external_refs"]


class RevisionForm(ServiceForm, forms.Form):
    label = forms.CharField(
        label=_("Revision label"), max_length=40, help_text=_("As printed on the document, e.g. \"C\" or \"2.1\".")
    )
    effective_from = forms.DateTimeField(label=_("Effective from"), widget=DateTimeInput())
    training_required = forms.BooleanField(
        label=_("Training required"), required=False, initial=True,
        help_text=_("Holders of qualifications resting on this document must retrain on this revision."),
    )
    retraining_grace_days = forms.IntegerField(
        label=_("Retraining grace (days)"), min_value=0, initial=0,
        help_text=_("Days after the effective date during which holders trained on an older revision stay qualified."),
    )
    summary = forms.CharField(
        label=_("Summary of changes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = reason_field()
