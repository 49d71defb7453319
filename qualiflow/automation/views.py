"""Automation pages: the rules, a rule with its definition, approval and latest firings, the forms to
write, activate (e-signed where it suspends qualifications) and deactivate one, the dry run against a
stored event, the firing log, and an event with everything it triggered."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qualiflow.accounts.pages import done, found, posted, require
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import NotFound, QualiflowError

from . import selectors, services
from .forms import ActivateForm, FiringFilterForm, RuleForm, TestForm
from .models import AutomationRule

PAGE_SIZE = 50


def _rule(request, pk, perm: str = Perm.INTEGRATION_VIEW) -> AutomationRule:
    require(request, perm)
    return found(selectors.rule_get, rule_id=pk)


def _detail_url(rule: AutomationRule) -> str:
    return reverse("automation:rule_detail", kwargs={"pk": rule.pk})


def _pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


@login_required
@require_GET
def rule_list(request):
    require(request, Perm.INTEGRATION_VIEW)
    return render(request, "automation/rule_list.html", {
        "rules": selectors.rule_list(search=request.GET.get("q", "").strip()),
        "can_manage": has_perm(request.user, Perm.INTEGRATION_MANAGE),
    })


@login_required
@require_GET
def rule_detail(request, pk):
    rule = _rule(request, pk)
    return render(request, "automation/rule_detail.html", {
        "rule": rule, "condition": _pretty(rule.condition), "actions": _pretty(rule.actions),
        "needs_signature": services.needs_signature(rule),
        "firings": selectors.firing_list(rule_id=rule.pk)[:20],
        "candidates": selectors.events_for(rule, limit=10),
        "test_form": TestForm(),
        "can_manage": has_perm(request.user, Perm.INTEGRATION_MANAGE),
    })


def _form_page(request, form: RuleForm, *, title: str, rule: AutomationRule | None = None):
    return render(request, "automation/rule_form.html", {
        "form": form, "title": title, "rule": rule,
        "back": _detail_url(rule) if rule is not None else reverse("automation:rule_list"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request):
    require(request, Perm.INTEGRATION_MANAGE)
    form = RuleForm(posted(request), initial={"condition": _pretty({"all": []})})
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.rule_create(data=form.service_data(), by=request.user)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Rule %(name)s saved; it acts on events once activated.") % {"name": rule.name},
                        _detail_url(rule))
    return _form_page(request, form, title=_("New automation rule"))


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk):
    rule = _rule(request, pk, Perm.INTEGRATION_MANAGE)
    form = RuleForm.for_rule(rule, posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.rule_update(rule=rule, data=form.service_data(), by=request.user)
        except QualiflowError as exc:
            form.add_service_error(exc)
        else:
            return done(request, _("Rule %(name)s saved.") % {"name": rule.name}, _detail_url(rule))
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": rule.name}, rule=rule)


@login_required
@require_http_methods(["GET", "POST"])
def rule_activate(request, pk):
    rule = _rule(request, pk, Perm.INTEGRATION_MANAGE)
    signed = services.needs_signature(rule)
    form = ActivateForm(posted(request)) if signed else None
    error = ""
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            rule = services.rule_activate(rule=rule, by=request.user,
                                          password=form.cleaned_data["password"] if form else None,
                                          reason=form.cleaned_data["reason"] if form else "")
        except QualiflowError as exc:
            if form is None:
                error = str(exc.message)
            else:
                form.add_service_error(exc)
        else:
            return done(request, _("Rule %(name)s is active.") % {"name": rule.name}, _detail_url(rule))
    return render(request, "automation/rule_activate.html", {"rule": rule, "form": form, "error": error})


@login_required
@require_POST
def rule_deactivate(request, pk):
    rule = _rule(request, pk, Perm.INTEGRATION_MANAGE)
    rule = services.rule_deactivate(rule=rule, by=request.user)
    return done(request, _("Rule %(name)s is inactive.") % {"name": rule.name}, _detail_url(rule))


@login_required
@require_GET
def rule_test(request, pk):
    """The dry run: what the rule would do with a stored event. Writes nothing."""
    rule = _rule(request, pk)
    form = TestForm(request.GET)
    result = event = None
    if form.is_valid():
        try:
            event = selectors.event_get(event_id=form.cleaned_data["event"])
        except NotFound as exc:
            form.add_error("event", str(exc.message))
        else:
            result = selectors.rule_test(rule=rule, event=event)
    fragment = request.headers.get("HX-Request") == "true"
    return render(request, "automation/_test_result.html" if fragment else "automation/rule_test.html", {
        "rule": rule, "form": form, "event": event, "result": result,
        "event_data": _pretty(event.as_cloudevent()) if event else "",
    })


@login_required
@require_GET
def firing_list(request):
    require(request, Perm.INTEGRATION_VIEW)
    form = FiringFilterForm(request.GET)
    page = Paginator(selectors.firing_list(**form.selector_kwargs()), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "automation/firing_list.html", {"form": form, "page": page})


@login_required
@require_GET
def event_detail(request, event_id):
    """One event: its data and every firing it caused (traceability from the event)."""
    require(request, Perm.INTEGRATION_VIEW)
    event = found(selectors.event_get, event_id=event_id)
    return render(request, "automation/event_detail.html", {
        "event": event, "event_data": _pretty(event.as_cloudevent()),
        "firings": selectors.firing_list(event_id=event.id),
    })
