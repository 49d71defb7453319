"""The audit viewer's filter bar."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AuditAction
from .selectors import EntryFilters

_DATE_ONLY = "%Y-%m-%d"
_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", _DATE_ONLY]


class EntryFilterForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Record type"), required=False)
    object_id = forms.CharField(label=_("Record id"), required=False, max_length=64)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("Any")), *AuditAction.choices])

    def __init__(self, data=None, *, object_types: list[str] = ()) -> None:
        super().__init__(data)
        self.fields["object_type"].choices = [("", _("Any")), *((t, t) for t in object_types)]
        # "from" and "to" are the parameter names users see in the address; both are UTC.
        widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        self.fields["from"] = forms.DateTimeField(
            label=_("From (UTC)"), required=False, input_formats=_INPUT_FORMATS, widget=widget
        )
        self.fields["to"] = forms.DateTimeField(
            label=_("Until (UTC)"), required=False, input_formats=_INPUT_FORMATS, widget=widget,
            help_text=_("A date alone includes that whole day."),
        )

    def full_clean(self) -> None:
        with timezone.override(dt.UTC):
            super().full_clean()

    def clean_to(self) -> dt.datetime | None:
        until = self.cleaned_data.get("to")
        raw = (self.data.get("to") or "").strip()
        if until is not None and len(raw) == len("2000-01-01"):
            until += dt.timedelta(days=1)
        return until

    def filters(self) -> EntryFilters:
        """The valid part of the input (an invalid field filters nothing and shows its error)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return EntryFilters(
            object_type=data.get("object_type") or "",
            object_id=(data.get("object_id") or "").strip(),
            actor=(data.get("actor") or "").strip(),
            action=data.get("action") or "",
            since=data.get("from"),
            until=data.get("to"),
        )
