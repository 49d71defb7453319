"""Forms of the work-order pages; the services validate, these only parse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualiflow.org.forms import ReasonForm, ServiceForm, reason_field
from qualiflow.org.models import ProductionLine

from ..models import Product, Routing, RoutingStatus, WorkOrderStatus
from ..selectors.orders import ORDERINGS


class WorkOrderFilterForm(forms.Form):
    search = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *WorkOrderStatus.choices])
    line = forms.ModelChoiceField(label=_("Line"), required=False, queryset=ProductionLine.objects.filter(is_active=True))
    ordering = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("-planned_start", _("Planned start, latest first")), ("planned_start", _("Planned start")),
        ("number", _("Number")), ("status", _("Status"))])

    def selector_kwargs(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        ordering = data.get("ordering") or "-planned_start"
        return {"search": data.get("search") or "", "status": data.get("status") or "",
                "line_id": data["line"].pk if data.get("line") else None,
                "ordering": ordering if ordering in ORDERINGS else "-planned_start"}


class WorkOrderForm(ServiceForm, forms.Form):
    number = forms.CharField(label=_("Number"), max_length=40)
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.filter(is_active=True))
    routing = forms.ModelChoiceField(
        label=_("Routing"), required=False, queryset=Routing.objects.filter(status=RoutingStatus.APPROVED).select_related("product"),
        help_text=_("Leave empty for the product's routing in effect at the planned start."))
    line = forms.ModelChoiceField(label=_("Line"), queryset=ProductionLine.objects.filter(is_active=True))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    lot_number = forms.CharField(label=_("Lot number"), max_length=60, required=False)
    serial_numbers = forms.CharField(label=_("Serial numbers"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                     help_text=_("One per line, one per unit; or give a lot number."))
    planned_start = forms.DateTimeField(label=_("Planned start"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    planned_end = forms.DateTimeField(label=_("Planned end"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = reason_field()

    def serials(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("serial_numbers", "").splitlines() if line.strip()]


class WorkOrderActionForm(ReasonForm):
    pass


class OverrideForm(ServiceForm, forms.Form):
    """The supervisor signs as the signed-in user; QA signs at the same station with their own credentials."""

    supervisor_password = forms.CharField(label=_("Your password (supervisor)"), widget=forms.PasswordInput(render_value=False))
    qa_username = forms.CharField(label=_("QA user name"), max_length=150)
    qa_password = forms.CharField(label=_("QA password"), widget=forms.PasswordInput(render_value=False))
    reason = reason_field(help_text=_("Why the work may proceed; it is recorded on the run and opens a deviation."))
