"""Forms of the shop-floor station: what the scanner types, and the track-out."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualiflow.org.forms import ServiceForm

_SCAN = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "inputmode": "text"}


class ScanForm(ServiceForm, forms.Form):
    badge = forms.CharField(label=_("Badge"), max_length=40, widget=forms.TextInput(attrs={**_SCAN, "autofocus": True}))
    work_order = forms.CharField(label=_("Work order / operation"), max_length=60, widget=forms.TextInput(attrs=_SCAN),
                                 help_text=_('Scan the traveller: "WO-0001/20", or the order and then the operation.'))
    sequence = forms.IntegerField(label=_("Operation"), required=False, min_value=0)
    asset_number = forms.CharField(label=_("Equipment"), max_length=40, required=False, widget=forms.TextInput(attrs=_SCAN))


class TrackOutForm(ServiceForm, forms.Form):
    good_quantity = forms.IntegerField(label=_("Good quantity"), min_value=0)
    scrap_quantity = forms.IntegerField(label=_("Scrap quantity"), min_value=0, initial=0)
    finish = forms.BooleanField(label=_("Finish this operation (no more units will come)"), required=False)

    def __init__(self, *args, points: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.points = points
        for point in points:
            lower, upper = point.get("lower"), point.get("upper")
            label = f'{point["code"]} {point.get("characteristic", "")}'.strip()
            if lower is None and upper is None:
                self.fields[f"inspection_{point['code']}"] = forms.ChoiceField(
                    label=label, choices=[("", "—"), ("pass", _("Pass")), ("fail", _("Fail"))])
            else:
                limits = f'{"" if lower is None else lower} … {"" if upper is None else upper} {point.get("unit", "")}'.strip()
                self.fields[f"inspection_{point['code']}"] = forms.CharField(
                    label=label, help_text=limits, widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def inspection_results(self) -> dict[str, str]:
        return {p["code"]: self.cleaned_data.get(f"inspection_{p['code']}", "") for p in self.points}
