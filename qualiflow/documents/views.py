"""Document control pages: the list of controlled documents, a document with its revisions and what rests
on it, and the forms to create a document, edit it and add a revision (each with a reason)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qualiflow.accounts.pages import posted, require
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import NotFound, QualiflowError

from . import selectors, services
from .forms import DocumentEditForm, DocumentFilterForm, DocumentForm, RevisionForm
from .models import Document

PAGE_SIZE = 25
RESULTS_TARGET = "document-results"






def _document(request, pk) -> Document:
    require(request, Perm.DOCUMENTS_VIEW)
    try:
        return selectors.document_get(document_id=pk)
    except NotFound as exc:
        raise Http404 from exc


def _detail_url(document: Document) -> str:
    return reverse("documents:document_detail", kwargs={"pk": document.pk})


@login_required
def document_list(request):
    require(request, Perm.DOCUMENTS_VIEW)
    form = DocumentFilterForm(request.GET)
    documents = selectors.document_list(**form.selector_kwargs())
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    # htmx swaps only the results; a history restore or a plain request gets the whole page.
    fragment = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")
    context = {
        "form": form,
        "page": page,
        "fragment": fragment,
        "hx_target": f"#{RESULTS_TARGET}",
        "results_id": RESULTS_TARGET,
        "can_manage": has_perm(request.user, Perm.DOCUMENTS_MANAGE),
    }
    response = render(request, "documents/_document_results.html" if fragment else "documents/document_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def document_detail(request, pk):
    document = _document(request, pk)
    return render(request, "documents/document_detail.html", {
        "detail": selectors.document_detail(document=document),
        "document": document,
        "can_manage": has_perm(request.user, Perm.DOCUMENTS_MANAGE),
        "can_view_training": has_perm(request.user, Perm.TRAINING_VIEW),
        "can_view_history": has_perm(request.user, Perm.AUDIT_VIEW),
    })


@login_required
@require_http_methods(["GET", "POST"])
def document_create(request):
    require(request, Perm.DOCUMENTS_MANAGE)
    form = DocumentForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            document = services.document_create(
                data=form.service_data(), by=request.user, reason=form.cleaned_data["reason"]
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Document %(code)s created.") % {"code": document.code})
            return redirect(_detail_url(document))
    return render(request, "documents/document_form.html", {"form": form, "document": None})


@login_required
@require_http_methods(["GET", "POST"])
def document_edit(request, pk):
    document = _document(request, pk)
    require(request, Perm.DOCUMENTS_MANAGE)
    form = DocumentEditForm(posted(request), instance=document)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect(_detail_url(document))
        try:
            document = services.document_update(
                document=document, data=data, by=request.user, reason=form.cleaned_data["reason"]
            )
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Document %(code)s saved.") % {"code": document.code})
            return redirect(_detail_url(document))
    return render(request, "documents/document_form.html", {"form": form, "document": document})


@login_required
@require_http_methods(["GET", "POST"])
def revision_create(request, pk):
    document = _document(request, pk)
    require(request, Perm.DOCUMENTS_MANAGE)
    form = RevisionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        try:
            revision = services.revision_create(document=document, **data, by=request.user, reason=reason)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Revision %(label)s of %(code)s added.") % {
                "label": revision.label, "code": document.code})
            return redirect(_detail_url(document))
    return render(request, "documents/revision_form.html", {"form": form, "document": document})
