from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualiflow.org.forms import ServiceForm

from .kinds import SPECS
from .models import ImportKind, SourceSystem

# A million-row CSV export is about 60 MiB; larger files are split at the source.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class UploadForm(ServiceForm, forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    source = forms.ModelChoiceField(label=_("Source system"), queryset=SourceSystem.objects.order_by("code"),
                                    help_text=_("Its saved column and value mappings are applied."))
    file = forms.FileField(label=_("File"), help_text=_("CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) or XLSX."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(limit)s MiB.") % {
                "limit": MAX_UPLOAD_BYTES // (1024 * 1024)})
        return upload


class RollbackForm(ServiceForm, forms.Form):
    reason = forms.CharField(label=_("Why is the import rolled back?"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Recorded in the audit trail of every row put back."))


class SourceForm(ServiceForm, forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40,
                           help_text=_("The key under which records keep their references in this system, e.g. sap-hr."))
    name = forms.CharField(label=_("Name"), max_length=200)


class ColumnMappingForm(ServiceForm, forms.Form):
    """One text box per field of the kind: the source column header that feeds it."""

    def __init__(self, *args, kind: str, initial_columns: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, prefix=kind, **kwargs)
        spec = SPECS[kind]
        for field in spec.fields:
            self.fields[field.name] = forms.CharField(
                label=field.name, required=False, max_length=200,
                initial=(initial_columns or {}).get(field.name, ""),
                help_text=_("required") if field.required else "",
            )

    def columns(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if value}


class ValueMappingForm(ServiceForm, forms.Form):
    field = forms.ChoiceField(label=_("Field"), choices=())
    legacy_value = forms.CharField(label=_("Legacy value"), max_length=200)
    value = forms.CharField(label=_("Qualiflow value"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = sorted({f.name for spec in SPECS.values() for f in spec.fields})
        self.fields["field"].choices = [(n, n) for n in names]
