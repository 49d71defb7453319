"""The form that exports and signs a device history record."""

from django import forms
from django.utils.translation import gettext_lazy as _

from qualiflow.org.forms import ServiceForm


class DhrExportForm(ServiceForm, forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Signing requires you to enter your password again."),
    )
    reason = forms.CharField(
        label=_("Comment"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded with your signature, e.g. the release decision this record supports."),
    )
