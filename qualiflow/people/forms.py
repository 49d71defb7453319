"""Forms for the employee pages. They parse input only; the people services validate and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import SignatureMeaning
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.org.forms import OrgUnitChoiceField, ServiceForm, ServiceModelForm, org_formfield, reason_field
from qualiflow.org.models import Department, Position, ProductionLine, Site
from qualiflow.org.selectors import org_unit_choices

from .models import Employee, EmployeeStatus, EmploymentType
from .selectors import employees_visible
from .services import EDITABLE_FIELDS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class EmployeeFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number, name or e-mail")}),
    )
    site = OrgUnitChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("All"))
    department = OrgUnitChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False, empty_label=_("All")
    )
    line = OrgUnitChoiceField(
        label=_("Line"), queryset=ProductionLine.objects.none(), required=False, empty_label=_("All")
    )
    position = OrgUnitChoiceField(
        label=_("Position"), queryset=Position.objects.none(), required=False, empty_label=_("All")
    )
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All")), *EmployeeStatus.choices], required=False)
    employment_type = forms.ChoiceField(
        label=_("Employment type"), choices=[("", _("All")), *EmploymentType.choices], required=False
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, model in (("site", Site), ("department", Department), ("line", ProductionLine),
                            ("position", Position)):
            self.fields[name].queryset = org_unit_choices(model)

    def selector_kwargs(self) -> dict:
        """Filters for `selectors.employee_list`; a filter that does not parse is ignored, not an error."""
        self.is_valid()
        data = self.cleaned_data
        units = {f"{name}_id": data[name].pk if data.get(name) else None
                 for name in ("site", "department", "line", "position")}
        return {
            "search": data.get("q", ""),
            **units,
            "status": data.get("status", ""),
            "employment_type": data.get("employment_type", ""),
            "sort": data.get("sort") or "employee_number",
        }


class ManagerField(forms.ModelChoiceField):
    """The manager, entered by employee number: a select would be unusable with thousands of people."""

    widget = forms.TextInput(attrs={"placeholder": _("Employee number")})
    default_error_messages = {"invalid_choice": _("No employee with this number is visible to you.")}

    def __init__(self, **kwargs):
        super().__init__(queryset=Employee.objects.none(), to_field_name="employee_number", **kwargs)


class EmployeeForm(ServiceModelForm):
    manager = ManagerField(label=_("Manager"), required=False)
    reason = reason_field()

    class Meta:
        model = Employee
        # The login is linked from account administration, not from the HR form.
        fields = [name for name in EDITABLE_FIELDS if name not in ("external_refs", "user")]
        formfield_callback = org_formfield
        widgets = {"hire_date": DateInput(), "birth_date": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Sensitive personal data is neither shown nor editable without the permission to see it.
        if not has_perm(user, Perm.PEOPLE_VIEW_SENSITIVE, self.instance if self.instance.pk else None):
            del self.fields["birth_date"]
        current_manager = self.instance.manager if self.instance.manager_id else None
        visible = employees_visible(user).exclude(status=EmployeeStatus.TERMINATED)
        if current_manager is not None:
            visible = visible | Employee.objects.filter(pk=current_manager.pk)
            self.initial["manager"] = current_manager
        self.fields["manager"].queryset = visible


class EmployeeCreateForm(EmployeeForm):
    position = OrgUnitChoiceField(
        label=_("Position"), queryset=Position.objects.none(), required=False,
        help_text=_("Starts on the hire date; later changes go through “Change position”."),
    )
    field_order = [*EmployeeForm.Meta.fields, "position", "external_refs", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].queryset = org_unit_choices(Position)


class EmployeeDeactivateForm(ServiceForm, forms.Form):
    termination_date = forms.DateField(label=_("Termination date"), widget=DateInput())
    reason = reason_field()


class ChangePositionForm(ServiceForm, forms.Form):
    position = OrgUnitChoiceField(label=_("New position"), queryset=Position.objects.none())
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    reason = reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].queryset = org_unit_choices(Position)


class SignForm(ServiceForm, forms.Form):
    meaning = forms.ChoiceField(label=_("Meaning"), choices=SignatureMeaning.choices)
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Signing requires you to enter your password again."),
    )
    reason = forms.CharField(
        label=_("Comment"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
