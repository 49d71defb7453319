"""Training loop pages: assignments (mine / everyone's), sessions (plan, enrol, attendance, assessments,
practical sign-off, completion signed with the trainer's password), the trainee's own signature on their
records, effectiveness checks to evaluate and a person's certificates. Every write goes through one
service in `services.loop` / `services.certificates`, which decide who may do what."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from qualiflow.accounts.pages import posted, require
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import NotFound, QualiflowError
from qualiflow.core.errors import PermissionDenied as Refused
from qualiflow.org.forms import OrgUnitChoiceField, ServiceForm, reason_field
from qualiflow.org.models import ProductionLine
from qualiflow.org.selectors import org_unit_choices
from qualiflow.people.models import Employee

from ..models import (
    AssessmentKind,
    AssignmentReason,
    AssignmentStatus,
    Course,
    Qualification,
    SessionStatus,
)
from ..selectors import loop as selectors
from ..selectors.reports import employee_for_training, employees_in_scope
from ..services import certificates as certificate_services
from ..services import loop as services
from .catalogue import CodedChoiceField

PAGE_SIZE = 25
YES_NO = (("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No")))


# ---- forms -------------------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def password_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Your password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=gettext_lazy("Signing requires you to enter your password again."),
    )


class EmployeeNumberField(forms.ModelChoiceField):
    """A person entered by employee number, among those the reader may see."""

    widget = forms.TextInput(attrs={"placeholder": gettext_lazy("Employee number")})
    default_error_messages = {"invalid_choice": gettext_lazy("No employee with this number is visible to you.")}

    def __init__(self, **kwargs):
        super().__init__(queryset=Employee.objects.none(), to_field_name="employee_number", **kwargs)


class EmployeeNumbersField(forms.CharField):
    """Several employee numbers, separated by spaces, commas or new lines."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "E00012 E00013"})

    def __init__(self, **kwargs):
        self.queryset = Employee.objects.none()
        super().__init__(**kwargs)

    def clean(self, value):
        numbers = list(dict.fromkeys((value or "").replace(",", " ").split()))
        if not numbers:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        found = {e.employee_number: e for e in self.queryset.filter(employee_number__in=numbers)}
        unknown = [n for n in numbers if n not in found]
        if unknown:
            raise forms.ValidationError(
                _("No employee with these numbers is visible to you: %(numbers)s.") % {"numbers": ", ".join(unknown)}
            )
        return [found[n] for n in numbers]


def _visible_people(user):
    try:
        return employees_in_scope(user)
    except Refused:
        return Employee.objects.none()


class AssignmentFilterForm(forms.Form):
    scope = forms.ChoiceField(
        label=gettext_lazy("Whose"), required=False,
        choices=(("mine", gettext_lazy("Mine")), ("all", gettext_lazy("Everyone I may see"))),
    )
    q = forms.CharField(label=gettext_lazy("Search"), required=False,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("Number, name or course")}))
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=[("", gettext_lazy("All")), *AssignmentStatus.choices])
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), required=False,
                               choices=[("", gettext_lazy("All")), *AssignmentReason.choices])
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)

    def selector_kwargs(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {"mine": data.get("scope") != "all", "search": data.get("q", ""), "status": data.get("status", ""),
                "reason": data.get("reason", ""), "overdue": bool(data.get("overdue"))}


class AssignmentForm(ServiceForm, forms.Form):
    employee = EmployeeNumberField(label=gettext_lazy("Employee"))
    course = CodedChoiceField(label=gettext_lazy("Course"), queryset=Course.objects.none())
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=AssignmentReason.choices)
    due_on = forms.DateField(label=gettext_lazy("Due on"), widget=DateInput())
    qualification = CodedChoiceField(label=gettext_lazy("For qualification"), queryset=Qualification.objects.none(),
                                     required=False)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employee"].queryset = _visible_people(user)
        self.fields["course"].queryset = Course.objects.filter(is_active=True).order_by("code")
        self.fields["qualification"].queryset = Qualification.objects.filter(is_active=True).order_by("code")


class ReasonOnlyForm(ServiceForm, forms.Form):
    reason = reason_field()


class SessionForm(ServiceForm, forms.Form):
    course = CodedChoiceField(label=gettext_lazy("Course"), queryset=Course.objects.none())
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts at"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends at"), widget=DateTimeInput())
    capacity = forms.IntegerField(label=gettext_lazy("Capacity"), min_value=1)
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200, required=False)
    line = OrgUnitChoiceField(label=gettext_lazy("Production line"), queryset=ProductionLine.objects.none(), required=False)
    trainer = EmployeeNumberField(label=gettext_lazy("Trainer"), required=False)
    external_trainer = forms.CharField(label=gettext_lazy("External trainer"), max_length=200, required=False)
    reason = reason_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(is_active=True).order_by("code")
        self.fields["line"].queryset = org_unit_choices(ProductionLine)
        self.fields["trainer"].queryset = _visible_people(user)


class EnrolForm(ServiceForm, forms.Form):
    employees = EmployeeNumbersField(label=gettext_lazy("Employee numbers"))
    reason = reason_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employees"].queryset = _visible_people(user)


class AttendanceForm(ServiceForm, forms.Form):
    attended = forms.ChoiceField(label=gettext_lazy("Attended"), choices=YES_NO, widget=forms.RadioSelect)
    practical_signed_off = forms.BooleanField(label=gettext_lazy("Practical sign-off"), required=False)
    skill_level = forms.TypedChoiceField(
        label=gettext_lazy("Skill level observed"), required=False, coerce=int, empty_value=None,
        choices=[("", "—"), (1, gettext_lazy("1 learning")), (2, gettext_lazy("2 works under supervision")),
                 (3, gettext_lazy("3 works independently")), (4, gettext_lazy("4 trains others"))],
    )
    reason = reason_field()


class AssessmentForm(ServiceForm, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=AssessmentKind.choices)
    score = forms.DecimalField(label=gettext_lazy("Score"), max_digits=7, decimal_places=2)
    reason = reason_field()


class CompleteForm(ServiceForm, forms.Form):
    password = password_field()
    reason = reason_field()


class SignRecordForm(ServiceForm, forms.Form):
    password = password_field()
    reason = forms.CharField(label=gettext_lazy("Comment"), required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class EvaluateForm(ServiceForm, forms.Form):
    effective = forms.ChoiceField(label=gettext_lazy("Was the training effective on the job?"), choices=YES_NO,
                                  widget=forms.RadioSelect)
    comment = forms.CharField(label=gettext_lazy("Evaluation"), widget=forms.Textarea(attrs={"rows": 3}))
    password = password_field()


class CertificateForm(ServiceForm, forms.Form):
    qualification = CodedChoiceField(label=gettext_lazy("Qualification"), queryset=Qualification.objects.none())
    number = forms.CharField(label=gettext_lazy("Certificate number"), max_length=100)
    issuer = forms.CharField(label=gettext_lazy("Issuer"), max_length=200)
    issued_on = forms.DateField(label=gettext_lazy("Issued on"), widget=DateInput())
    expires_on = forms.DateField(label=gettext_lazy("Expires on"), widget=DateInput(), required=False)
    scan = forms.FileField(label=gettext_lazy("Scan"), required=False,
                           help_text=gettext_lazy("A PDF, PNG or JPEG file."))
    reason = reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qualification"].queryset = Qualification.objects.filter(is_active=True).order_by("code")


# ---- helpers -----------------------------------------------------------------------------------------






def _load(getter, **kwargs):
    """A scoped read: not found is a 404, outside the reader's permission a 403."""
    try:
        return getter(**kwargs)
    except NotFound as exc:
        raise Http404 from exc
    except Refused as exc:
        raise PermissionDenied from exc


def _form_page(request, form, *, title: str, section: str, section_url: str, cancel_url: str, **extra):
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": title, "section": section, "section_url": section_url, "cancel_url": cancel_url,
        **extra,
    })


def _session_url(session) -> str:
    return reverse("training:session_detail", kwargs={"pk": session.pk})


# ---- assignments -------------------------------------------------------------------------------------


@login_required
def assignment_list(request):
    form = AssignmentFilterForm(request.GET)
    filters = form.selector_kwargs()
    if not filters["mine"]:
        require(request, Perm.TRAINING_VIEW)
    assignments = _load(selectors.assignment_list, user=request.user, **filters)
    return render(request, "training/loop/assignment_list.html", {
        "form": form, "page": Paginator(assignments, PAGE_SIZE).get_page(request.GET.get("page")),
        "mine": filters["mine"], "today": timezone.localdate(),
        "can_manage": has_perm(request.user, Perm.TRAINING_MANAGE),
    })


@login_required
@require_http_methods(["GET", "POST"])
def assignment_create(request):
    require(request, Perm.TRAINING_MANAGE)
    form = AssignmentForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment = services.assignment_create(
                employee=data["employee"], course=data["course"], reason=data["reason"], due_on=data["due_on"],
                qualification=data["qualification"], note=data["note"], by=request.user,
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("%(course)s assigned to %(employee)s.") % {
                "course": assignment.course.code, "employee": assignment.employee.full_name})
            return redirect(reverse("training:assignment_list") + "?scope=all")
    return _form_page(request, form, title=_("New assignment"), section=_("Assignments"),
                      section_url=reverse("training:assignment_list"), cancel_url=reverse("training:assignment_list"))


@login_required
@require_http_methods(["GET", "POST"])
def assignment_cancel(request, pk):
    require(request, Perm.TRAINING_MANAGE)
    assignment = _load(selectors.assignment_get, user=request.user, assignment_id=pk)
    form = ReasonOnlyForm(posted(request))
    back = reverse("training:assignment_list") + "?scope=all"
    if request.method == "POST" and form.is_valid():
        try:
            services.assignment_cancel(assignment=assignment, by=request.user, reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Assignment cancelled."))
            return redirect(back)
    return _form_page(
        request, form, title=_("Cancel assignment"), section=_("Assignments"), section_url=back, cancel_url=back,
        intro=f"{assignment.employee.employee_number} {assignment.employee.full_name} · {assignment.course}",
        submit=_("Cancel assignment"), danger=True,
    )


# ---- sessions ----------------------------------------------------------------------------------------


@login_required
def session_list(request):
    upcoming = request.GET.get("when", "upcoming") != "all"
    status = request.GET.get("status", "")
    sessions = _load(selectors.session_list, user=request.user, upcoming=upcoming,
                     status=status if status in SessionStatus.values else "")
    return render(request, "training/loop/session_list.html", {
        "page": Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page")), "upcoming": upcoming,
        "status": status, "statuses": SessionStatus.choices,
        "can_manage": has_perm(request.user, Perm.TRAINING_MANAGE),
    })


@login_required
@require_http_methods(["GET", "POST"])
def session_create(request):
    require(request, Perm.TRAINING_MANAGE)
    form = SessionForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        try:
            session = services.session_schedule(**data, by=request.user, reason=reason)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Session of %(course)s planned.") % {"course": session.course.code})
            return redirect(_session_url(session))
    return _form_page(request, form, title=_("New session"), section=_("Sessions"),
                      section_url=reverse("training:session_list"), cancel_url=reverse("training:session_list"))


def _render_session(request, session, *, enrol_form=None, complete_form=None, status=200):
    is_trainer = session.trainer is not None and session.trainer.user_id == request.user.pk
    planned = session.status == SessionStatus.PLANNED
    can_manage = has_perm(request.user, Perm.TRAINING_MANAGE)
    return render(request, "training/loop/session_detail.html", {
        "session": session,
        "attendances": list(session.attendances.all()),
        "planned": planned,
        "can_manage": can_manage and planned,
        "can_complete": planned and (is_trainer or (session.trainer is None and can_manage)),
        "enrol_form": enrol_form or EnrolForm(user=request.user),
        "complete_form": complete_form or CompleteForm(),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    }, status=status)


@login_required
def session_detail(request, pk):
    return _render_session(request, _load(selectors.session_get, user=request.user, session_id=pk))


@login_required
@require_POST
def session_enrol(request, pk):
    require(request, Perm.TRAINING_MANAGE)
    session = _load(selectors.session_get, user=request.user, session_id=pk)
    form = EnrolForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.session_enrol(session=session, employees=form.cleaned_data["employees"], by=request.user,
                                   reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Enrolled."))
            return redirect(_session_url(session))
    return _render_session(request, session, enrol_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def attendance_edit(request, pk, attendance_pk):
    """One trainee's attendance, practical sign-off, skill level and assessment scores."""
    require(request, Perm.TRAINING_MANAGE)
    session = _load(selectors.session_get, user=request.user, session_id=pk)
    attendance = _load(selectors.attendance_get, session=session, attendance_id=attendance_pk)
    action = request.POST.get("action") if request.method == "POST" else None
    attendance_form = AttendanceForm(request.POST if action == "attendance" else None, initial={
        "attended": {True: "yes", False: "no"}.get(attendance.attended), "skill_level": attendance.skill_level,
        "practical_signed_off": attendance.practical_signed_off}, prefix="attendance")
    assessment_form = AssessmentForm(request.POST if action == "assessment" else None, prefix="assessment")
    if action == "attendance" and attendance_form.is_valid():
        data = attendance_form.cleaned_data
        try:
            services.attendance_record(
                attendance=attendance, attended=data["attended"] == "yes",
                practical_signed_off=data["practical_signed_off"], skill_level=data["skill_level"], by=request.user,
                reason=data["reason"],
            )
        except QualiflowError as exc:
            attendance_form.add_service_error(exc)
        else:
            messages.success(request, _("Attendance of %(employee)s saved.") % {"employee": attendance.employee.full_name})
            return redirect(_session_url(session))
    if action == "assessment" and assessment_form.is_valid():
        data = assessment_form.cleaned_data
        try:
            services.assessment_record(attendance=attendance, kind=data["kind"], score=data["score"], by=request.user,
                                       reason=data["reason"])
        except QualiflowError as exc:
            assessment_form.add_service_error(exc)
        else:
            messages.success(request, _("Assessment of %(employee)s saved.") % {"employee": attendance.employee.full_name})
            return redirect(_session_url(session))
    return render(request, "training/loop/attendance.html", {
        "session": session, "attendance": attendance, "attendance_form": attendance_form,
        "assessment_form": assessment_form, "assessments": attendance.assessments.order_by("assessed_at"),
        "scored": session.course.pass_mark is not None,
    })


@login_required
@require_POST
def session_complete(request, pk):
    """Close the session, signed by the signed-in trainer (or, without one, a training manager)."""
    session = _load(selectors.session_get, user=request.user, session_id=pk)
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            records = services.session_complete(
                session=session, by=request.user, reason=form.cleaned_data["reason"], signer=request.user,
                password=form.cleaned_data["password"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Session completed: %(passed)s of %(total)s passed.") % {
                "passed": sum(r.passed for r in records), "total": len(records)})
            return redirect(_session_url(session))
    return _render_session(request, _load(selectors.session_get, user=request.user, session_id=pk), complete_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def session_cancel(request, pk):
    require(request, Perm.TRAINING_MANAGE)
    session = _load(selectors.session_get, user=request.user, session_id=pk)
    form = ReasonOnlyForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.session_cancel(session=session, by=request.user, reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Session cancelled."))
            return redirect(_session_url(session))
    return _form_page(request, form, title=_("Cancel session"), section=_("Sessions"),
                      section_url=reverse("training:session_list"), cancel_url=_session_url(session),
                      intro=str(session.course), submit=_("Cancel session"), danger=True)


# ---- the trainee's signature ---------------------------------------------------------------------------


@login_required
def my_records(request):
    return render(request, "training/loop/my_records.html", {"records": selectors.my_records(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def record_sign(request, pk):
    record = _load(selectors.my_record_get, user=request.user, record_id=pk)
    form = SignRecordForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.record_sign_trainee(record=record, signer=request.user, password=form.cleaned_data["password"],
                                         reason=form.cleaned_data["reason"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("You signed your training record."))
            return redirect("training:my_records")
    return _form_page(
        request, form, title=_("Sign my training record"), section=_("My training records"),
        section_url=reverse("training:my_records"), cancel_url=reverse("training:my_records"),
        intro=_("By signing you confirm this record is true: %(course)s, completed %(date)s, %(result)s.") % {
            "course": record.course, "date": timezone.localtime(record.completed_at).strftime("%Y-%m-%d"),
            "result": _("passed") if record.passed else _("not passed")},
        submit=_("Sign"),
    )


# ---- effectiveness -----------------------------------------------------------------------------------


@login_required
def effectiveness_list(request):
    return render(request, "training/loop/effectiveness_list.html", {
        "checks": _load(selectors.effectiveness_checks_to_evaluate, user=request.user), "today": timezone.localdate(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def effectiveness_evaluate(request, pk):
    check = _load(selectors.effectiveness_check_get, user=request.user, check_id=pk)
    form = EvaluateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.effectiveness_evaluate(check=check, effective=data["effective"] == "yes", comment=data["comment"],
                                            by=request.user, password=data["password"])
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Evaluation signed."))
            return redirect("training:effectiveness_list")
    record = check.record
    return _form_page(
        request, form, title=_("Evaluate training effectiveness"), section=_("Effectiveness checks"),
        section_url=reverse("training:effectiveness_list"), cancel_url=reverse("training:effectiveness_list"),
        intro=f"{record.employee.employee_number} {record.employee.full_name} · {record.course} · "
              f"{timezone.localtime(record.completed_at):%Y-%m-%d}",
        submit=_("Sign evaluation"),
    )


# ---- certificates ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def certificate_upload(request, employee_pk):
    employee = _load(employee_for_training, user=request.user, employee_id=employee_pk)
    if not has_perm(request.user, Perm.TRAINING_MANAGE, employee):
        raise PermissionDenied
    form = CertificateForm(posted(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        try:
            certificate = certificate_services.certificate_record(employee=employee, **data, by=request.user, reason=reason)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Certificate %(number)s recorded.") % {"number": certificate.number})
            return redirect("training:certificate_upload", employee_pk=employee.pk)
    return render(request, "training/loop/certificates.html", {
        "employee": employee, "form": form, "certificates": selectors.certificates_of(employee),
    })


urlpatterns = [
    path("assignments/", assignment_list, name="assignment_list"),
    path("assignments/new/", assignment_create, name="assignment_create"),
    path("assignments/<uuid:pk>/cancel/", assignment_cancel, name="assignment_cancel"),
    path("sessions/", session_list, name="session_list"),
    path("sessions/new/", session_create, name="session_create"),
    path("sessions/<uuid:pk>/", session_detail, name="session_detail"),
    path("sessions/<uuid:pk>/enrol/", session_enrol, name="session_enrol"),
    path("sessions/<uuid:pk>/attendances/<uuid:attendance_pk>/", attendance_edit, name="attendance_edit"),
    path("sessions/<uuid:pk>/complete/", session_complete, name="session_complete"),
    path("sessions/<uuid:pk>/cancel/", session_cancel, name="session_cancel"),
    path("my-records/", my_records, name="my_records"),
    path("my-records/<uuid:pk>/sign/", record_sign, name="record_sign"),
    path("effectiveness/", effectiveness_list, name="effectiveness_list"),
    path("effectiveness/<uuid:pk>/evaluate/", effectiveness_evaluate, name="effectiveness_evaluate"),
    path("people/<uuid:employee_pk>/certificates/", certificate_upload, name="certificate_upload"),
]
