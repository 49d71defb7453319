"""Import pages: the batch list, uploading a file (its dry run follows at once), the preview with its
errors, committing (in the background, with a progress bar), rolling back, the error report downloads, and
the source systems with their column and value mappings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qualiflow.accounts.pages import done, found, posted, require
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import QualiflowError

from . import report, selectors, services
from .forms import ColumnMappingForm, RollbackForm, SourceForm, UploadForm, ValueMappingForm
from .kinds import SPECS
from .models import BatchStatus, ImportKind

PAGE_SIZE = 25
PREVIEW_ERRORS = 100


def _detail_url(batch) -> str:
    return reverse("imports:batch_detail", kwargs={"pk": batch.pk})


@login_required
@require_GET
def batch_list(request):
    require(request, Perm.INTEGRATION_VIEW)
    page = Paginator(selectors.batch_list(status=request.GET.get("status") or None), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "imports/batch_list.html", {
        "page": page, "statuses": BatchStatus.choices, "status": request.GET.get("status", ""),
        "can_import": has_perm(request.user, Perm.INTEGRATION_IMPORT),
    })


@login_required
@require_http_methods(["GET", "POST"])
def batch_upload(request):
    require(request, Perm.INTEGRATION_IMPORT)
    form = UploadForm(posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.batch_upload(kind=data["kind"], source=data["source"], file=data["file"],
                                          file_name=data["file"].name, by=request.user)
            batch = services.batch_validate(batch=batch, by=request.user)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Dry run finished: nothing has been written yet."))
            return redirect(_detail_url(batch))
    return render(request, "imports/upload.html", {
        "form": form, "fields": {kind.label: SPECS[kind.value] for kind in ImportKind}})


def _batch(request, pk):
    require(request, Perm.INTEGRATION_VIEW)
    return found(selectors.batch_get, batch_id=pk)


@login_required
@require_GET
def batch_detail(request, pk):
    batch = _batch(request, pk)
    return render(request, "imports/batch_detail.html", {
        "batch": batch, "errors": selectors.batch_errors(batch=batch)[:PREVIEW_ERRORS],
        "progress": selectors.batch_progress(batch=batch), "rollback_form": RollbackForm(),
        "can_import": has_perm(request.user, Perm.INTEGRATION_IMPORT), "shown": PREVIEW_ERRORS,
    })


@login_required
@require_GET
def batch_progress(request, pk):
    """The progress bar alone, polled by htmx while the batch is queued or committing."""
    batch = _batch(request, pk)
    response = render(request, "imports/_progress.html", {"batch": batch, "progress": selectors.batch_progress(batch=batch)})
    if batch.status not in (BatchStatus.QUEUED, BatchStatus.COMMITTING):
        # Finished: reload the page once, so counts, errors and buttons show the outcome.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def batch_commit(request, pk):
    batch = _batch(request, pk)
    require(request, Perm.INTEGRATION_IMPORT)
    try:
        services.batch_queue(batch=batch, by=request.user)
    except QualiflowError as exc:
        messages.error(request, str(exc.message))
        return redirect(_detail_url(batch))
    return done(request, _("The import is queued and will be committed in the background."), _detail_url(batch))


@login_required
@require_http_methods(["GET", "POST"])
def batch_rollback(request, pk):
    batch = _batch(request, pk)
    require(request, Perm.INTEGRATION_IMPORT)
    form = RollbackForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.batch_rollback(batch=batch, reason=form.cleaned_data["reason"], by=request.user)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("The import was rolled back completely."), _detail_url(batch))
    return render(request, "imports/rollback.html", {"batch": batch, "form": form}, status=422 if form.errors else 200)


@login_required
@require_GET
def batch_errors_csv(request, pk):
    batch = _batch(request, pk)
    response = HttpResponse(report.errors_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return response


@login_required
@require_GET
def batch_errors_xlsx(request, pk):
    batch = _batch(request, pk)
    response = HttpResponse(report.errors_xlsx(batch), content_type=report.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.xlsx"'
    return response


# ---- source systems and mappings ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def source_list(request):
    require(request, Perm.INTEGRATION_VIEW)
    form = SourceForm(posted(request))
    if request.method == "POST":
        require(request, Perm.INTEGRATION_IMPORT)
        if form.is_valid():
            try:
                source = services.source_system_create(by=request.user, **form.cleaned_data)
            except QualiflowError as exc:
                form.add_service_error(exc)
            else:
                return done(request, _("Source system %(code)s created.") % {"code": source.code},
                            reverse("imports:source_detail", kwargs={"pk": source.pk}))
    return render(request, "imports/source_list.html", {
        "sources": selectors.source_list(), "form": form, "can_import": has_perm(request.user, Perm.INTEGRATION_IMPORT)})


def _source_page(request, source, *, column_forms=None, value_form=None, status=200):
    saved = {m.kind: m.columns for m in selectors.column_mappings(source=source)}
    forms = column_forms or {}
    for kind in ImportKind:
        forms.setdefault(kind.value, ColumnMappingForm(kind=kind.value, initial_columns=saved.get(kind.value)))
    return render(request, "imports/source_detail.html", {
        "source": source, "column_forms": [(ImportKind(k).label, k, f) for k, f in forms.items()],
        "value_mappings": selectors.value_mappings(source=source), "value_form": value_form or ValueMappingForm(),
        "can_import": has_perm(request.user, Perm.INTEGRATION_IMPORT),
    }, status=status)


def _source(request, pk):
    require(request, Perm.INTEGRATION_VIEW)
    return found(selectors.source_get, source_id=pk)


@login_required
@require_GET
def source_detail(request, pk):
    return _source_page(request, _source(request, pk))


@login_required
@require_POST
def column_mapping_edit(request, pk, kind):
    source = _source(request, pk)
    require(request, Perm.INTEGRATION_IMPORT)
    if kind not in ImportKind.values:
        return HttpResponse(status=404)
    form = ColumnMappingForm(request.POST, kind=kind)
    if form.is_valid():
        try:
            services.column_mapping_set(source=source, kind=kind, columns=form.columns(), by=request.user)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Column mapping saved."), reverse("imports:source_detail", kwargs={"pk": source.pk}))
    return _source_page(request, source, column_forms={kind: form}, status=422)


@login_required
@require_POST
def value_mapping_add(request, pk):
    source = _source(request, pk)
    require(request, Perm.INTEGRATION_IMPORT)
    form = ValueMappingForm(request.POST)
    if form.is_valid():
        try:
            services.value_mapping_set(source=source, by=request.user, **form.cleaned_data)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Value mapping saved."), reverse("imports:source_detail", kwargs={"pk": source.pk}))
    return _source_page(request, source, value_form=form, status=422)


@login_required
@require_POST
def value_mapping_delete(request, pk, mapping_pk):
    source = _source(request, pk)
    require(request, Perm.INTEGRATION_IMPORT)
    mapping = found(selectors.value_mapping_get, source=source, mapping_id=mapping_pk)
    services.value_mapping_remove(mapping=mapping, by=request.user)
    return done(request, _("Value mapping removed."), reverse("imports:source_detail", kwargs={"pk": source.pk}))
