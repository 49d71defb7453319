"""Forms for the equipment pages. They parse input only; the equipment services validate and decide."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qualiflow.org.forms import OrgUnitChoiceField, ServiceForm, ServiceModelForm, org_formfield, reason_field
from qualiflow.org.models import ProductionLine, Site
from qualiflow.org.selectors import org_unit_choices
from qualiflow.people.models import Employee, EmployeeStatus
from qualiflow.people.selectors import employees_visible
from qualiflow.training.models import Qualification

from . import selectors
from .models import Equipment, EquipmentClass, EquipmentPlan, EquipmentStatus, PlanKind, RecordResult
from .services import CLASS_FIELDS, EQUIPMENT_FIELDS, PLAN_EDITABLE_FIELDS, PLAN_FIELDS

AVAILABILITY_CHOICES = (("", _("All")), ("available", _("Available")), ("blocked", _("Blocked")))
SORT_CHOICES = (
    ("asset_number", _("Asset number")), ("name", _("Name")), ("equipment_class__code", _("Class")),
    ("site__code", _("Site")), ("line__code", _("Line")), ("status", _("Status")),
)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CodedChoiceField(forms.ModelChoiceField):
    """"code name" with the name in the reader's language."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.display_name(get_language() or 'en')}"


def _active_or(model, include_id=None):
    q = Q(is_active=True)
    if include_id:
        q |= Q(pk=include_id)
    return model.objects.filter(q).order_by("code")


class EquipmentFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Asset number, name or serial number")}),
    )
    site = OrgUnitChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("All"))
    line = OrgUnitChoiceField(label=_("Line"), queryset=ProductionLine.objects.none(), required=False,
                              empty_label=_("All"))
    equipment_class = CodedChoiceField(label=_("Class"), queryset=EquipmentClass.objects.none(), required=False,
                                       empty_label=_("All"))
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All")), *EquipmentStatus.choices], required=False)
    availability = forms.ChoiceField(label=_("Availability"), choices=AVAILABILITY_CHOICES, required=False)
    due_within = forms.IntegerField(
        label=_("Calibration due within (days)"), required=False, min_value=0, max_value=3650,
    )
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORT_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = org_unit_choices(Site)
        self.fields["line"].queryset = org_unit_choices(ProductionLine)
        self.fields["equipment_class"].queryset = EquipmentClass.objects.filter(is_active=True).order_by("code")

    def selector_kwargs(self) -> dict:
        """Filters for `selectors.equipment_list`; a filter that does not parse is ignored, not an error."""
        self.is_valid()
        value = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        pk = lambda obj: obj.pk if obj is not None else None  # noqa: E731
        availability = value.get("availability") or ""
        return {
            "search": value.get("q") or "",
            "site_id": pk(value.get("site")),
            "line_id": pk(value.get("line")),
            "class_id": pk(value.get("equipment_class")),
            "status": value.get("status") or "",
            "blocked": {"blocked": True, "available": False}.get(availability),
            "due_within_days": value.get("due_within"),
            "ordering": value.get("sort") or "asset_number",
        }


class EquipmentClassForm(ServiceModelForm):
    reason = reason_field()

    class Meta:
        model = EquipmentClass
        # A new class is in use; taking it out of use is an edit.
        fields = [name for name in CLASS_FIELDS if name not in ("external_refs", "is_active")]


class EquipmentClassEditForm(EquipmentClassForm):
    class Meta(EquipmentClassForm.Meta):
        fields = [name for name in CLASS_FIELDS if name != "external_refs"]


class EquipmentForm(ServiceModelForm):
    equipment_class = CodedChoiceField(label=_("Equipment class"), queryset=EquipmentClass.objects.none())
    reason = reason_field()

    class Meta:
        model = Equipment
        fields = [name for name in EQUIPMENT_FIELDS if name != "external_refs"]
        formfield_callback = org_formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["equipment_class"].queryset = _active_or(EquipmentClass, self.instance.equipment_class_id)


class PlanForm(ServiceModelForm):
    qualification = CodedChoiceField(
        label=_("Technician qualification"), queryset=Qualification.objects.none(), required=False,
        help_text=_("Technicians must hold it when the work starts; an external laboratory needs none."),
    )
    first_due = forms.DateTimeField(label=_("First due"), widget=DateTimeInput(),
                                    help_text=_("When the first occurrence is due."))
    reason = reason_field()

    class Meta:
        model = EquipmentPlan
        fields = [name for name in PLAN_FIELDS if name not in ("external_refs", "is_active")]
        formfield_callback = org_formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qualification"].queryset = _active_or(Qualification, self.instance.qualification_id)


class PlanEditForm(PlanForm):
    class Meta(PlanForm.Meta):
        fields = [name for name in PLAN_EDITABLE_FIELDS if name != "external_refs"]


class TechnicianField(forms.ModelChoiceField):
    """The technician, entered by employee number: a select would be unusable with thousands of people."""

    widget = forms.TextInput(attrs={"placeholder": _("Employee number"), "autocomplete": "off"})
    default_error_messages = {"invalid_choice": _("No active employee with this number is visible to you.")}

    def __init__(self, **kwargs):
        super().__init__(queryset=Employee.objects.none(), to_field_name="employee_number", **kwargs)


class RecordStartForm(ServiceForm, forms.Form):
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=EquipmentPlan.objects.none(), required=False,
                                  empty_label=_("Unplanned work"))
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("As the plan")), *PlanKind.choices], required=False)
    performed_by = TechnicianField(label=_("Performed by (technician)"), required=False)
    external_lab = forms.CharField(label=_("External laboratory"), max_length=200, required=False,
                                   help_text=_("Instead of a technician, when a laboratory does the work."))
    started_at = forms.DateTimeField(label=_("Started at"), widget=DateTimeInput(), required=False,
                                     help_text=_("Empty: now."))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = reason_field()

    def __init__(self, *args, equipment: Equipment, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = selectors.plans_for(equipment).filter(is_active=True)
        self.fields["plan"].label_from_instance = lambda plan: f"{plan.get_kind_display()} · {plan.title}"
        self.fields["performed_by"].queryset = employees_visible(user).filter(
            status__in=(EmployeeStatus.ACTIVE, EmployeeStatus.ON_LEAVE)
        )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("plan", "kind", "performed_by", "external_lab", "started_at", "notes")}


class RecordCompleteForm(ServiceForm, forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=RecordResult.choices, widget=forms.RadioSelect)
    completed_at = forms.DateTimeField(label=_("Completed at"), widget=DateTimeInput(), required=False,
                                       help_text=_("Empty: now."))
    as_found = forms.CharField(label=_("As found"), max_length=400, required=False,
                               help_text=_("Readings before any adjustment."))
    as_left = forms.CharField(label=_("As left"), max_length=400, required=False,
                              help_text=_("Readings after adjustment."))
    certificate_number = forms.CharField(label=_("Certificate number"), max_length=100, required=False)
    certificate_file = forms.FileField(label=_("Certificate scan"), required=False,
                                       help_text=_("PDF, PNG or JPEG."))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = reason_field()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("result", "completed_at", "as_found", "as_left", "certificate_number",
                                              "certificate_file", "notes")}
