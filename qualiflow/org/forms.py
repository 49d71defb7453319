"""Forms for the organisation pages, and the form pieces the people pages share: organisation-unit
pickers named in the reader's language, the external references editor, the reason field and the
mapping of service refusals onto form fields."""

from __future__ import annotations

import re
from functools import cache

from django import forms
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qualiflow.core.errors import QualiflowError

from .models import OrgUnit
from .selectors import org_unit_choices
from .services import EDITABLE_FIELDS

SYSTEM_NAME = re.compile(r"^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$")
SYSTEM_MAX_LENGTH = 40
KEY_MAX_LENGTH = 100


def local_name(unit: OrgUnit | None) -> str:
    if unit is None:
        return ""
    return f"{unit.code} {unit.display_name(get_language() or 'en')}"


class OrgUnitChoiceField(forms.ModelChoiceField):
    """Shows "code name" with the name in the reader's language (name_en for English readers)."""

    def label_from_instance(self, obj: OrgUnit) -> str:
        return local_name(obj)


class ExternalRefsField(forms.CharField):
    """External references as one "system=key" per line, e.g. `sap-hr=00012345`; cleans to a dict."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "sap-hr=00012345"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("External references"))
        kwargs.setdefault("help_text", _("One per line: system=key, e.g. sap-hr=00012345."))
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{system}={key}" for system, key in sorted(value.items()))
        return value

    def to_python(self, value) -> dict[str, str]:
        if isinstance(value, dict):
            return value
        refs: dict[str, str] = {}
        errors = []
        for number, raw in enumerate((value or "").splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            system, sep, key = (part.strip() for part in line.partition("="))
            if not sep or not system or not key:
                errors.append(_("Line %(number)s: write system=key.") % {"number": number})
            elif not SYSTEM_NAME.match(system) or len(system) > SYSTEM_MAX_LENGTH:
                errors.append(
                    _("Line %(number)s: a system name uses letters, digits and single . _ - between them "
                      "(at most %(max)s characters).") % {"number": number, "max": SYSTEM_MAX_LENGTH}
                )
            elif len(key) > KEY_MAX_LENGTH:
                errors.append(
                    _("Line %(number)s: a key has at most %(max)s characters.") % {"number": number, "max": KEY_MAX_LENGTH}
                )
            elif system in refs:
                errors.append(_("Line %(number)s: %(system)s is given twice.") % {"number": number, "system": system})
            else:
                refs[system] = key
        if errors:
            raise forms.ValidationError(errors)
        return refs

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(initial or {}) != self.to_python(data)
        except forms.ValidationError:
            return True


def reason_field(**kwargs) -> forms.CharField:
    return forms.CharField(
        label=kwargs.pop("label", _("Reason for the change")),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=kwargs.pop("help_text", _("Recorded in the audit trail with your name and the time.")),
        **kwargs,
    )


class ServiceForm(forms.BaseForm):
    """A form whose data goes to a write service: the service validates the record (once, inside its
    transaction) and its refusals come back here as field errors."""

    def add_service_error(self, exc: QualiflowError) -> None:
        fields = exc.details.get("fields") or {}
        if not fields:
            self.add_error(None, str(exc.message))
            return
        for name, messages in fields.items():
            target = name if name in self.fields else None
            label = "" if target or name == "__all__" else f"{name}: "
            for message in messages:
                self.add_error(target, f"{label}{message}")


def org_formfield(db_field: models.Field, **kwargs) -> forms.Field | None:
    if isinstance(db_field, models.ForeignKey) and issubclass(db_field.related_model, OrgUnit):
        kwargs["form_class"] = OrgUnitChoiceField
    if isinstance(db_field, models.TextField):
        kwargs["widget"] = forms.Textarea(attrs={"rows": 3})
    return db_field.formfield(**kwargs)


class ServiceModelForm(ServiceForm, forms.ModelForm):
    """A model form over a record's editable fields plus its external references."""

    external_refs = ExternalRefsField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, OrgUnitChoiceField):
                field.queryset = org_unit_choices(field.queryset.model, include_id=self.initial.get(name))
        if self.instance.pk:
            self.initial.setdefault("external_refs", self.instance.external_refs)

    def _post_clean(self):
        # No model validation here: the service runs it, so the UI, the API and imports refuse the same
        # input with the same messages, and a duplicate number reads the same everywhere.
        pass

    def service_data(self) -> dict:
        """The record's fields as the service takes them: all for a new record, the changed ones otherwise."""
        editable = [name for name in (*self._meta.fields, "external_refs") if name in self.fields]
        names = editable if self.instance._state.adding else [n for n in self.changed_data if n in editable]
        return {name: self.cleaned_data[name] for name in names}


class OrgUnitFormBase(ServiceModelForm):
    reason = reason_field()


@cache
def org_unit_form(model: type[OrgUnit]) -> type[OrgUnitFormBase]:
    fields = [name for name in EDITABLE_FIELDS[model] if name != "external_refs"]
    return forms.modelform_factory(model, form=OrgUnitFormBase, fields=fields, formfield_callback=org_formfield)


class ReasonForm(ServiceForm, forms.Form):
    reason = reason_field()
