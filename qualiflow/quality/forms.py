"""Forms for the quality pages. They parse input only; the quality services validate and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualiflow.org.forms import OrgUnitChoiceField, ServiceForm, reason_field
from qualiflow.org.models import Site
from qualiflow.org.selectors import org_unit_choices

from .models import QualityEvent, QualityEventKind, QualityEventStatus
from .selectors import DEFAULT_ORDERING


class EventFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number or title")}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All")), *QualityEventKind.choices], required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All")), *QualityEventStatus.choices], required=False)
    site = OrgUnitChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("All"))
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = org_unit_choices(Site)

    def selector_kwargs(self) -> dict:
        """Filters for `selectors.event_list`; a filter that does not parse is ignored, not an error."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "search": data.get("q", ""),
            "kind": data.get("kind", ""),
            "status": data.get("status", ""),
            "site_id": data["site"].pk if data.get("site") else None,
            "ordering": data.get("sort") or DEFAULT_ORDERING,
        }


def _title_field() -> forms.CharField:
    return forms.CharField(label=_("Title"), max_length=QualityEvent._meta.get_field("title").max_length)


def _description_field() -> forms.CharField:
    return forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 5}))


class EventOpenForm(ServiceForm, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=QualityEventKind.choices)
    title = _title_field()
    description = _description_field()
    site = OrgUnitChoiceField(
        label=_("Site"), queryset=Site.objects.none(), required=False,
        help_text=_("Leave empty for an event that concerns the whole company."),
    )
    reason = reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = org_unit_choices(Site)


class EventEditForm(ServiceForm, forms.Form):
    title = _title_field()
    description = _description_field()
    reason = reason_field()


class EventCloseForm(ServiceForm, forms.Form):
    summary = forms.CharField(
        label=_("Closure summary"), widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What was found, what was done and why the event can be closed."),
    )
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Signing requires you to enter your password again."),
    )
    reason = reason_field()
