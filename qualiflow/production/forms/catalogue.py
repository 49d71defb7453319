"""Forms for the catalogue pages. They parse input only; the catalogue services validate and decide, and
their refusals come back onto the fields."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qualiflow.documents.models import Document
from qualiflow.equipment.models import EquipmentClass
from qualiflow.org.forms import ServiceForm, ServiceModelForm, org_formfield, reason_field
from qualiflow.training.models import Qualification, Requirement
from qualiflow.training.services.catalogue import RequirementItem

from ..models import DeviceClass, Operation, Product
from ..services.catalogue import INSPECTION_POINT_KEYS

STATUS_CHOICES = (("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All")))
STATUS_FILTERS = {"active": True, "inactive": False, "all": None}
PRODUCT_FORM_FIELDS = ["code", "name", "name_en", "model", "device_class", "udi_di"]
OPERATION_FORM_FIELDS = [
    "sequence", "name", "name_en", "work_center", "standard_minutes", "equipment_class", "work_instruction",
]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CodedChoiceField(forms.ModelChoiceField):
    """"code name" with the name in the reader's language."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.display_name(get_language() or 'en')}"


class CodedMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.display_name(get_language() or 'en')}"


def _in_use_or_current(model, current_ids=()):
    """Records in use, plus those already chosen (so an edit never silently drops one that went out of use)."""
    return model.objects.filter(Q(is_active=True) | Q(pk__in=[pk for pk in current_ids if pk])).order_by("code")


class ProductFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Code, name, model or UDI-DI")}),
    )
    device_class = forms.ChoiceField(label=_("Device class"), choices=[("", _("All")), *DeviceClass.choices],
                                     required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)

    def selector_kwargs(self) -> dict:
        """Filters for `selectors.product_list`; a filter that does not parse is ignored, not an error."""
        self.is_valid()
        data = self.cleaned_data
        return {"search": data.get("q", ""), "device_class": data.get("device_class", ""),
                "active": STATUS_FILTERS[data.get("status") or "active"]}


class ProductForm(ServiceModelForm):
    reason = reason_field()

    class Meta:
        model = Product
        # A new product is in use; taking it out of use is an edit.
        fields = PRODUCT_FORM_FIELDS


class ProductEditForm(ProductForm):
    class Meta(ProductForm.Meta):
        fields = [*PRODUCT_FORM_FIELDS, "is_active"]


class RoutingForm(ServiceForm, forms.Form):
    """A new routing version, empty or copied from another one."""

    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("What this version is for or changes."))
    reason = reason_field()


class RoutingApproveForm(ServiceForm, forms.Form):
    effective_from = forms.DateTimeField(
        label=_("Effective from"), required=False, widget=DateTimeInput(),
        help_text=_("Leave empty to put it in effect now. It cannot lie in the past."),
    )
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Signing requires you to enter your password again."),
    )
    reason = reason_field(label=_("Reason for the approval"))


class InspectionPointsField(forms.CharField):
    """Inspection points as one "code; characteristic; unit; lower; upper" per line (unit and limits may be
    left empty: no limits is a pass / fail check); cleans to the list of points the service takes."""

    widget = forms.Textarea(attrs={"rows": 4, "placeholder": "SEAL; 封口强度 Seal strength; N; 10; 25"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("In-process inspection points"))
        kwargs.setdefault("help_text", _(
            "One point per line: code; characteristic; unit; lower limit; upper limit. Leave both limits "
            "empty for a pass / fail check."))
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(
                "; ".join("" if point.get(key) is None else str(point.get(key)) for key in INSPECTION_POINT_KEYS)
                for point in value
            )
        return value

    def to_python(self, value) -> list[dict[str, Any]]:
        if isinstance(value, list):
            return value
        points, errors = [], []
        lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
        for number, line in enumerate(lines, start=1):
            parts = [part.strip() for part in line.split(";")]
            if len(parts) < 2 or len(parts) > len(INSPECTION_POINT_KEYS):
                errors.append(_("Point %(number)s: write code; characteristic; unit; lower; upper.") % {"number": number})
                continue
            parts += [""] * (len(INSPECTION_POINT_KEYS) - len(parts))
            point: dict[str, Any] = dict(zip(INSPECTION_POINT_KEYS[:3], parts[:3], strict=True))
            for key, text in zip(INSPECTION_POINT_KEYS[3:], parts[3:], strict=True):
                try:
                    point[key] = Decimal(text) if text else None
                except InvalidOperation:
                    errors.append(_("Point %(number)s: the %(limit)s limit must be a number.") % {
                        "number": number, "limit": _("lower") if key == "lower" else _("upper")})
            points.append(point)
        if errors:
            raise forms.ValidationError(errors)
        return points

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(self.prepare_value(initial or [])) != self.to_python(data)
        except forms.ValidationError:
            return True


class OperationForm(ServiceModelForm):
    qualifications = CodedMultipleChoiceField(
        label=_("Required qualifications"), queryset=Qualification.objects.none(), required=False,
        help_text=_("Operators must hold each of these to track in."),
    )
    inspection_points = InspectionPointsField()
    reason = reason_field()

    class Meta:
        model = Operation
        fields = OPERATION_FORM_FIELDS
        field_classes = {"equipment_class": CodedChoiceField, "work_instruction": CodedChoiceField}
        formfield_callback = org_formfield

    field_order = [*OPERATION_FORM_FIELDS, "qualifications", "inspection_points", "external_refs", "reason"]

    def __init__(self, *args, requirements: list[Requirement] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.requirements = {r.qualification_id: r for r in requirements}
        instance = self.instance
        self.fields["equipment_class"].queryset = _in_use_or_current(EquipmentClass, [instance.equipment_class_id])
        self.fields["work_instruction"].queryset = _in_use_or_current(Document, [instance.work_instruction_id])
        self.fields["qualifications"].queryset = _in_use_or_current(Qualification, list(self.requirements))
        self.fields["standard_minutes"].min_value = Decimal(0)
        self.initial["qualifications"] = list(self.requirements)
        self.initial["inspection_points"] = instance.inspection_points if instance.pk else []

    def service_data(self) -> dict:
        data = super().service_data()
        if self.instance._state.adding or "inspection_points" in self.changed_data:
            data["inspection_points"] = self.cleaned_data["inspection_points"]
        return data

    def requirement_items(self) -> list[RequirementItem] | None:
        """What the operation requires, or None when the choice did not change; qualifications already
        required keep how they are required (mandatory, grace period)."""
        if not self.instance._state.adding and "qualifications" not in self.changed_data:
            return None
        items = []
        for qualification in self.cleaned_data["qualifications"]:
            current = self.requirements.get(qualification.pk)
            items.append(RequirementItem(qualification, current.mandatory, current.grace_days) if current
                         else RequirementItem(qualification))
        return items
