"""Catalogue pages: qualifications, courses, curricula and the requirement graph (per position, per
capability, per qualification). Reads need `training.view`, writes `training.manage`; every write states
a reason and goes through one catalogue service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qualiflow.accounts.pages import done, found, posted, require
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import QualiflowError
from qualiflow.documents.models import Document
from qualiflow.org.forms import ReasonForm, ServiceForm, ServiceModelForm, reason_field
from qualiflow.org.models import Position

from .. import services
from ..domain.status import State
from ..models import (
    CAPABILITY_CODE,
    Course,
    CourseKind,
    Curriculum,
    Qualification,
    QualificationKind,
    Requirement,
    TargetKind,
)
from ..selectors import catalogue as selectors
from ..services import catalogue as catalogue_services

PAGE_SIZE = 25
RESULTS_TARGET = "catalogue-results"
STATUS_CHOICES = (("active", gettext_lazy("Active")), ("inactive", gettext_lazy("Inactive")), ("all", gettext_lazy("All")))
STATUS_FILTERS = {"active": True, "inactive": False, "all": None}
STATE_LABELS = {
    State.QUALIFIED: gettext_lazy("Qualified"),
    State.EXPIRING: gettext_lazy("Expiring"),
    State.EXPIRED: gettext_lazy("Expired"),
    State.RETRAINING_REQUIRED: gettext_lazy("Retraining required"),
    State.SUSPENDED: gettext_lazy("Suspended"),
    State.REVOKED: gettext_lazy("Revoked"),
    State.MISSING: gettext_lazy("Not yet valid"),
}
# Node categories of the requirement graph, in the order the legend shows them.
GRAPH_CATEGORIES = (
    (TargetKind.POSITION, gettext_lazy("Position")),
    (TargetKind.OPERATION, gettext_lazy("Production operation")),
    (TargetKind.EQUIPMENT_CLASS, gettext_lazy("Equipment class")),
    (TargetKind.CAPABILITY, gettext_lazy("Capability")),
    ("qualification", gettext_lazy("Qualification")),
    ("course", gettext_lazy("Course")),
)


# ---- forms -------------------------------------------------------------------------------------------


def _coded_name(obj) -> str:
    return f"{obj.code} {obj.display_name(get_language() or 'en')}"


class CodedChoiceField(forms.ModelChoiceField):
    """"code name" with the name in the reader's language."""

    def label_from_instance(self, obj) -> str:
        return _coded_name(obj)


class CodedMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return _coded_name(obj)


def _in_use_or_current(model, current_ids=()):
    """Active records, plus those already linked (so an edit never silently drops an inactive link)."""
    return model.objects.filter(Q(is_active=True) | Q(pk__in=list(current_ids))).order_by("code")


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("Code or name")}),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=STATUS_CHOICES, required=False)

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", gettext_lazy("All")), *kinds]

    def selector_kwargs(self) -> dict:
        """A filter that does not parse is ignored, not an error."""
        self.is_valid()
        data = self.cleaned_data
        return {"search": data.get("q", ""), "kind": data.get("kind", ""),
                "active": STATUS_FILTERS[data.get("status") or "active"]}


QUALIFICATION_FORM_FIELDS = [
    "code", "name", "name_en", "kind", "validity_days", "renewal_lead_days", "requires_practical_signoff",
    "min_skill_level", "description",
]


class QualificationForm(ServiceModelForm):
    reason = reason_field()

    class Meta:
        model = Qualification
        fields = QUALIFICATION_FORM_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class QualificationEditForm(QualificationForm):
    documents = CodedMultipleChoiceField(
        label=gettext_lazy("Controlled documents"), queryset=Document.objects.none(), required=False,
        help_text=gettext_lazy("Holders must be trained on the effective revision of each."),
    )

    class Meta(QualificationForm.Meta):
        fields = [*QUALIFICATION_FORM_FIELDS, "is_active"]

    field_order = [*QUALIFICATION_FORM_FIELDS, "is_active", "documents", "external_refs", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = list(self.instance.documents.values_list("pk", flat=True))
        self.fields["documents"].queryset = _in_use_or_current(Document, current)
        self.initial["documents"] = current

    def documents_if_changed(self):
        return self.cleaned_data["documents"] if "documents" in self.changed_data else None


COURSE_FORM_FIELDS = [
    "code", "name", "name_en", "kind", "duration_hours", "max_score", "pass_mark", "e_learning_url", "document",
    "effectiveness_check_days", "trainer_qualification",
]


def _course_formfield(db_field, **kwargs):
    # Links typed without a scheme are taken as https (Django 6's default, without its deprecation warning).
    if isinstance(db_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return db_field.formfield(**kwargs)


class CourseForm(ServiceModelForm):
    confers = CodedMultipleChoiceField(
        label=gettext_lazy("Qualifications conferred"), queryset=Qualification.objects.none(), required=False,
        help_text=gettext_lazy("Passing the course grants each of these."),
    )
    reason = reason_field()

    class Meta:
        model = Course
        fields = COURSE_FORM_FIELDS
        field_classes = {"document": CodedChoiceField, "trainer_qualification": CodedChoiceField}
        formfield_callback = _course_formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        confers = list(self.instance.confers.values_list("pk", flat=True)) if self.instance.pk else []
        trainer = [self.instance.trainer_qualification_id] if self.instance.trainer_qualification_id else []
        self.fields["confers"].queryset = _in_use_or_current(Qualification, confers)
        self.fields["trainer_qualification"].queryset = _in_use_or_current(Qualification, trainer)
        self.fields["document"].queryset = _in_use_or_current(Document, [self.instance.document_id] if self.instance.document_id else [])
        if self.instance.pk:
            self.initial["confers"] = confers

    def confers_if_changed(self):
        return self.cleaned_data["confers"] if "confers" in self.changed_data else None


class CourseEditForm(CourseForm):
    class Meta(CourseForm.Meta):
        fields = [*COURSE_FORM_FIELDS, "is_active"]


class CurriculumForm(ServiceModelForm):
    courses = CodedMultipleChoiceField(label=gettext_lazy("Courses"), queryset=Course.objects.none(), required=False)
    reason = reason_field()

    class Meta:
        model = Curriculum
        fields = ["code", "name", "name_en", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = list(self.instance.courses.values_list("pk", flat=True)) if self.instance.pk else []
        self.fields["courses"].queryset = _in_use_or_current(Course, current)
        if self.instance.pk:
            self.initial["courses"] = current

    def courses_if_changed(self):
        return self.cleaned_data["courses"] if "courses" in self.changed_data else None


class RequirementForm(ServiceForm, forms.Form):
    """Add a requirement, or change one: the same qualification again updates mandatory and grace."""

    qualification = CodedChoiceField(label=gettext_lazy("Qualification"), queryset=Qualification.objects.none())
    mandatory = forms.BooleanField(label=gettext_lazy("Mandatory"), required=False, initial=True)
    grace_days = forms.IntegerField(
        label=gettext_lazy("Grace period (days)"), min_value=0, initial=0,
        help_text=gettext_lazy("Days after assignment before the requirement is enforced."),
    )
    reason = reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qualification"].queryset = Qualification.objects.filter(is_active=True).order_by("code")


class CapabilityRequirementForm(RequirementForm):
    capability = forms.CharField(
        label=gettext_lazy("Capability"), max_length=60, validators=[CAPABILITY_CODE],
        help_text=gettext_lazy("A code such as release_lot or perform_calibration."),
    )
    field_order = ["capability", "qualification", "mandatory", "grace_days", "reason"]


class RequirementChangeForm(ServiceForm, forms.Form):
    mandatory = forms.BooleanField(label=gettext_lazy("Mandatory"), required=False)
    grace_days = forms.IntegerField(label=gettext_lazy("Grace period (days)"), min_value=0)
    reason = reason_field()


# ---- helpers -----------------------------------------------------------------------------------------






def _get(request, getter, **kwargs):
    require(request, Perm.TRAINING_VIEW)
    return found(getter, **kwargs)


def _list_page(request, *, queryset, form, template: str, results_template: str, extra: dict):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    # htmx swaps only the results; a history restore or a plain request gets the whole page.
    fragment = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")
    context = {
        "form": form, "page": page, "fragment": fragment, "hx_target": f"#{RESULTS_TARGET}",
        "results_id": RESULTS_TARGET, "can_manage": has_perm(request.user, Perm.TRAINING_MANAGE), **extra,
    }
    response = render(request, results_template if fragment else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _graph(*, qualifications, requirements=(), courses_by_qualification=None, positions=None) -> dict:
    """ECharts graph data: requirement targets → qualification ← conferring courses."""
    categories = [str(label) for _key, label in GRAPH_CATEGORIES]
    category_of = {key: index for index, (key, _label) in enumerate(GRAPH_CATEGORIES)}
    nodes: dict[str, dict] = {}
    links: list[dict] = []

    def node(node_id: str, name: str, category: str, url: str = "") -> str:
        nodes.setdefault(node_id, {"id": node_id, "name": name, "category": category_of[category], "url": url})
        return node_id

    for qualification in qualifications:
        node(f"q:{qualification.pk}", qualification.code, "qualification",
             reverse("training:qualification_detail", kwargs={"pk": qualification.pk}))
    for row in requirements:
        requirement = row.requirement
        url = ""
        if row.position is not None:
            url = reverse("training:position_requirements", kwargs={"pk": row.position.pk})
        elif requirement.target_kind == TargetKind.CAPABILITY:
            url = reverse("training:capability_requirements")
        source = node(f"{requirement.target_kind}:{requirement.target_id or requirement.capability}",
                      row.target_label, requirement.target_kind, url)
        links.append({"source": source, "target": f"q:{requirement.qualification_id}",
                      "lineStyle": {"type": "solid" if requirement.mandatory else "dashed"}})
    for qualification_id, courses in (courses_by_qualification or {}).items():
        for course in courses:
            source = node(f"c:{course.pk}", course.code, "course",
                          reverse("training:course_detail", kwargs={"pk": course.pk}))
            links.append({"source": source, "target": f"q:{qualification_id}"})
    for position in positions or ():
        node(f"{TargetKind.POSITION}:{position.pk}", _coded_name(position), TargetKind.POSITION)
    return {"categories": [{"name": name} for name in categories], "nodes": list(nodes.values()), "links": links}




# ---- qualifications ----------------------------------------------------------------------------------


def _qualification_url(qualification: Qualification) -> str:
    return reverse("training:qualification_detail", kwargs={"pk": qualification.pk})


@login_required
def qualification_list(request):
    require(request, Perm.TRAINING_VIEW)
    form = CatalogueFilterForm(request.GET, kinds=QualificationKind.choices)
    return _list_page(
        request, queryset=selectors.qualification_list(**form.selector_kwargs()), form=form,
        template="training/catalogue/qualification_list.html",
        results_template="training/catalogue/_qualification_results.html",
        extra={"list_url": reverse("training:qualification_list")},
    )


@login_required
def qualification_detail(request, pk):
    qualification = _get(request, selectors.qualification_get, qualification_id=pk)
    detail = selectors.qualification_detail(user=request.user, qualification=qualification)
    graph = _graph(
        qualifications=[qualification], requirements=detail.requirements,
        courses_by_qualification={qualification.pk: detail.conferring_courses},
    )
    return render(request, "training/catalogue/qualification_detail.html", {
        "qualification": qualification,
        "detail": detail,
        "holder_states": [(STATE_LABELS[state], detail.holders.by_state[state])
                          for state in STATE_LABELS if state in detail.holders.by_state],
        "graph": graph,
        "can_manage": has_perm(request.user, Perm.TRAINING_MANAGE),
        "can_view_documents": has_perm(request.user, Perm.DOCUMENTS_VIEW),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
@require_http_methods(["GET", "POST"])
def qualification_create(request):
    require(request, Perm.TRAINING_MANAGE)
    form = QualificationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            qualification = services.qualification_create(
                data=form.service_data(), by=request.user, reason=form.cleaned_data["reason"]
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Qualification %(code)s created.") % {"code": qualification.code},
                         _qualification_url(qualification))
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": _("New qualification"), "cancel_url": reverse("training:qualification_list"),
        "section": _("Qualifications"), "section_url": reverse("training:qualification_list"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def qualification_edit(request, pk):
    qualification = _get(request, selectors.qualification_get, qualification_id=pk)
    require(request, Perm.TRAINING_MANAGE)
    form = QualificationEditForm(posted(request), instance=qualification)
    if request.method == "POST" and form.is_valid():
        data, documents = form.service_data(), form.documents_if_changed()
        if not data and documents is None:
            messages.info(request, _("Nothing was changed."))
            return redirect(_qualification_url(qualification))
        try:
            qualification = catalogue_services.qualification_update(
                qualification=qualification, data=data, documents=documents, by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Qualification %(code)s saved.") % {"code": qualification.code},
                         _qualification_url(qualification))
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": _("Edit %(code)s") % {"code": qualification.code}, "record": qualification,
        "cancel_url": _qualification_url(qualification),
        "section": _("Qualifications"), "section_url": reverse("training:qualification_list"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def qualification_deactivate(request, pk):
    qualification = _get(request, selectors.qualification_get, qualification_id=pk)
    require(request, Perm.TRAINING_MANAGE)
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            catalogue_services.qualification_deactivate(
                qualification=qualification, by=request.user, reason=form.cleaned_data["reason"]
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Qualification %(code)s deactivated.") % {"code": qualification.code},
                         _qualification_url(qualification))
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": _("Deactivate %(code)s") % {"code": qualification.code}, "record": qualification,
        "cancel_url": _qualification_url(qualification), "submit": _("Deactivate"), "danger": True,
        "intro": _("It will no longer be granted, conferred or required; grants already made stay on record."),
        "section": _("Qualifications"), "section_url": reverse("training:qualification_list"),
    })


# ---- courses -----------------------------------------------------------------------------------------


def _course_url(course: Course) -> str:
    return reverse("training:course_detail", kwargs={"pk": course.pk})


@login_required
def course_list(request):
    require(request, Perm.TRAINING_VIEW)
    form = CatalogueFilterForm(request.GET, kinds=CourseKind.choices)
    return _list_page(
        request, queryset=selectors.course_list(**form.selector_kwargs()), form=form,
        template="training/catalogue/course_list.html",
        results_template="training/catalogue/_course_results.html",
        extra={"list_url": reverse("training:course_list")},
    )


@login_required
def course_detail(request, pk):
    course = _get(request, selectors.course_get, course_id=pk)
    return render(request, "training/catalogue/course_detail.html", {
        "course": course,
        "curricula": course.curricula.order_by("code"),
        "can_manage": has_perm(request.user, Perm.TRAINING_MANAGE),
        "can_view_documents": has_perm(request.user, Perm.DOCUMENTS_VIEW),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
@require_http_methods(["GET", "POST"])
def course_create(request):
    require(request, Perm.TRAINING_MANAGE)
    form = CourseForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_create(
                data=form.service_data(), confers=form.cleaned_data["confers"], by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Course %(code)s created.") % {"code": course.code}, _course_url(course))
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": _("New course"), "cancel_url": reverse("training:course_list"),
        "section": _("Courses"), "section_url": reverse("training:course_list"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def course_edit(request, pk):
    course = _get(request, selectors.course_get, course_id=pk)
    require(request, Perm.TRAINING_MANAGE)
    form = CourseEditForm(posted(request), instance=course)
    if request.method == "POST" and form.is_valid():
        data, confers = form.service_data(), form.confers_if_changed()
        if not data and confers is None:
            messages.info(request, _("Nothing was changed."))
            return redirect(_course_url(course))
        try:
            course = catalogue_services.course_update(
                course=course, data=data, confers=confers, by=request.user, reason=form.cleaned_data["reason"]
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Course %(code)s saved.") % {"code": course.code}, _course_url(course))
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": _("Edit %(code)s") % {"code": course.code}, "record": course,
        "cancel_url": _course_url(course), "section": _("Courses"), "section_url": reverse("training:course_list"),
    })


# ---- curricula ---------------------------------------------------------------------------------------


@login_required
def curriculum_list(request):
    require(request, Perm.TRAINING_VIEW)
    status = request.GET.get("status", "active")
    search = request.GET.get("q", "")
    curricula = selectors.curriculum_list(search=search, active=STATUS_FILTERS.get(status, True))
    return render(request, "training/catalogue/curriculum_list.html", {
        "curricula": curricula, "search": search, "status": status if status in STATUS_FILTERS else "active",
        "can_manage": has_perm(request.user, Perm.TRAINING_MANAGE),
    })


@login_required
@require_http_methods(["GET", "POST"])
def curriculum_create(request):
    require(request, Perm.TRAINING_MANAGE)
    form = CurriculumForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            curriculum = catalogue_services.curriculum_create(
                data=form.service_data(), courses=form.cleaned_data["courses"], by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Curriculum %(code)s created.") % {"code": curriculum.code},
                         reverse("training:curriculum_list"))
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": _("New curriculum"), "cancel_url": reverse("training:curriculum_list"),
        "section": _("Curricula"), "section_url": reverse("training:curriculum_list"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def curriculum_edit(request, pk):
    curriculum = _get(request, selectors.curriculum_get, curriculum_id=pk)
    require(request, Perm.TRAINING_MANAGE)
    form = CurriculumForm(posted(request), instance=curriculum)
    if request.method == "POST" and form.is_valid():
        data, courses = form.service_data(), form.courses_if_changed()
        if not data and courses is None:
            messages.info(request, _("Nothing was changed."))
            return redirect("training:curriculum_list")
        try:
            curriculum = catalogue_services.curriculum_update(
                curriculum=curriculum, data=data, courses=courses, by=request.user, reason=form.cleaned_data["reason"]
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Curriculum %(code)s saved.") % {"code": curriculum.code},
                         reverse("training:curriculum_list"))
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": _("Edit %(code)s") % {"code": curriculum.code}, "record": curriculum,
        "cancel_url": reverse("training:curriculum_list"),
        "section": _("Curricula"), "section_url": reverse("training:curriculum_list"),
    })


# ---- requirements ------------------------------------------------------------------------------------


@login_required
def requirement_overview(request):
    require(request, Perm.TRAINING_VIEW)
    return render(request, "training/catalogue/requirement_overview.html", {
        "positions": selectors.position_overview(),
        "capabilities": selectors.capability_overview(),
    })


def _position_url(position: Position) -> str:
    return reverse("training:position_requirements", kwargs={"pk": position.pk})


@login_required
@require_http_methods(["GET", "POST"])
def position_requirements(request, pk):
    position = _get(request, selectors.position_get, position_id=pk)
    form = None
    if has_perm(request.user, Perm.TRAINING_MANAGE):
        form = RequirementForm(posted(request))
    elif request.method == "POST":
        raise PermissionDenied
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.requirement_set(
                qualification=data["qualification"], target_kind=TargetKind.POSITION, target_id=position.pk,
                mandatory=data["mandatory"], grace_days=data["grace_days"], by=request.user, reason=data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Requirement of %(code)s saved.") % {"code": data["qualification"].code},
                         _position_url(position))
    target = selectors.target_requirements(target_kind=TargetKind.POSITION, target_id=position.pk)
    rows = [selectors.RequirementRow(r, _coded_name(position), position) for r in target.requirements]
    return render(request, "training/catalogue/position_requirements.html", {
        "position": position,
        "target": target,
        "rows": [{"requirement": r, "courses": target.courses_by_qualification.get(r.qualification_id, [])}
                 for r in target.requirements],
        "can_manage": form is not None,
        "graph": _graph(
            qualifications=[r.qualification for r in target.requirements], requirements=rows,
            courses_by_qualification=target.courses_by_qualification, positions=[position],
        ),
        "form": form,
    })


@login_required
@require_http_methods(["GET", "POST"])
def capability_requirements(request):
    require(request, Perm.TRAINING_VIEW)
    form = None
    if has_perm(request.user, Perm.TRAINING_MANAGE):
        form = CapabilityRequirementForm(posted(request))
    elif request.method == "POST":
        raise PermissionDenied
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.requirement_set(
                qualification=data["qualification"], target_kind=TargetKind.CAPABILITY, capability=data["capability"],
                mandatory=data["mandatory"], grace_days=data["grace_days"], by=request.user, reason=data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Requirement of %(code)s saved.") % {"code": data["qualification"].code},
                         reverse("training:capability_requirements"))
    return render(request, "training/catalogue/capability_requirements.html", {
        "capabilities": selectors.capability_overview(), "form": form,
    })


def _requirement_return_url(requirement: Requirement) -> str:
    if requirement.target_kind == TargetKind.POSITION:
        return reverse("training:position_requirements", kwargs={"pk": requirement.target_id})
    if requirement.target_kind == TargetKind.CAPABILITY:
        return reverse("training:capability_requirements")
    return _qualification_url(requirement.qualification)


def _requirement_title(requirement: Requirement) -> str:
    row = selectors.target_rows([requirement])[0]
    return f"{requirement.get_target_kind_display()} {row.target_label} → {requirement.qualification.code}"


@login_required
@require_http_methods(["GET", "POST"])
def requirement_edit(request, pk):
    requirement = _get(request, selectors.requirement_get, requirement_id=pk)
    require(request, Perm.TRAINING_MANAGE)
    form = RequirementChangeForm(
        posted(request), initial={"mandatory": requirement.mandatory, "grace_days": requirement.grace_days}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.requirement_set(
                qualification=requirement.qualification, target_kind=requirement.target_kind,
                target_id=requirement.target_id, capability=requirement.capability, mandatory=data["mandatory"],
                grace_days=data["grace_days"], by=request.user, reason=data["reason"],
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Requirement of %(code)s saved.") % {"code": requirement.qualification.code},
                         _requirement_return_url(requirement))
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": _("Change requirement"), "intro": _requirement_title(requirement),
        "cancel_url": _requirement_return_url(requirement),
        "section": _("Requirements"), "section_url": reverse("training:requirement_overview"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def requirement_remove(request, pk):
    requirement = _get(request, selectors.requirement_get, requirement_id=pk)
    require(request, Perm.TRAINING_MANAGE)
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        back = _requirement_return_url(requirement)
        try:
            catalogue_services.requirement_remove(
                requirement=requirement, by=request.user, reason=form.cleaned_data["reason"]
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Requirement of %(code)s removed.") % {"code": requirement.qualification.code}, back)
    return render(request, "training/catalogue/form.html", {
        "form": form, "title": _("Remove requirement"), "intro": _requirement_title(requirement),
        "cancel_url": _requirement_return_url(requirement), "submit": _("Remove"), "danger": True,
        "section": _("Requirements"), "section_url": reverse("training:requirement_overview"),
    })


urlpatterns = [
    path("qualifications/", qualification_list, name="qualification_list"),
    path("qualifications/new/", qualification_create, name="qualification_create"),
    path("qualifications/<uuid:pk>/", qualification_detail, name="qualification_detail"),
    path("qualifications/<uuid:pk>/edit/", qualification_edit, name="qualification_edit"),
    path("qualifications/<uuid:pk>/deactivate/", qualification_deactivate, name="qualification_deactivate"),
    path("courses/", course_list, name="course_list"),
    path("courses/new/", course_create, name="course_create"),
    path("courses/<uuid:pk>/", course_detail, name="course_detail"),
    path("courses/<uuid:pk>/edit/", course_edit, name="course_edit"),
    path("curricula/", curriculum_list, name="curriculum_list"),
    path("curricula/new/", curriculum_create, name="curriculum_create"),
    path("curricula/<uuid:pk>/edit/", curriculum_edit, name="curriculum_edit"),
    path("requirements/", requirement_overview, name="requirement_overview"),
    path("requirements/positions/<uuid:pk>/", position_requirements, name="position_requirements"),
    path("requirements/capabilities/", capability_requirements, name="capability_requirements"),
    path("requirements/<uuid:pk>/edit/", requirement_edit, name="requirement_edit"),
    path("requirements/<uuid:pk>/remove/", requirement_remove, name="requirement_remove"),
]
