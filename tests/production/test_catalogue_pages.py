"""Catalogue pages: a production supervisor creates products, drafts routing versions, edits their
operations (required qualifications, inspection points as text rows) and approves them with a signature;
operators are turned away; refusals show on the form and write nothing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.production.models import Operation, Product, Routing
from qualiflow.production.services import catalogue
from qualiflow.training.models import Requirement, TargetKind
from tests.conftest import PASSWORD

PRODUCT_FORM = {"code": "EX-1", "name": "延长管", "name_en": "Extension line", "model": "EX-150", "device_class": "II",
                "udi_di": "", "external_refs": ""}


def _written() -> tuple[int, ...]:
    return (AuditEntry.objects.count(), OutboxEvent.objects.count(), ESignature.objects.count(),
            Product.objects.count(), Routing.objects.count(), Operation.objects.count(), Requirement.objects.count())


def _operation_form(work_center, qualifications=(), **extra) -> dict:
    return {"sequence": "40", "name": "贴标", "name_en": "Labelling", "work_center": str(work_center.pk),
            "standard_minutes": "0.30", "equipment_class": "", "work_instruction": "",
            "qualifications": [str(q.pk) for q in qualifications], "inspection_points": "", "external_refs": "",
            "reason": "Labelling step", **extra}


@pytest.fixture
def supervisor_client(login, production_supervisor):
    return login(production_supervisor)


def test_product_create_needs_a_reason_and_is_audited_with_the_user(supervisor_client, production_supervisor, plant):
    url = reverse("production:product_create")
    assert supervisor_client.get(url).status_code == 200
    before = _written()
    refused = supervisor_client.post(url, PRODUCT_FORM)
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"reason": ["This field is required."]}
    assert _written() == before

    created = supervisor_client.post(url, {**PRODUCT_FORM, "reason": "New product launch"})
    product = Product.objects.get(code="EX-1")
    assert created.status_code == 302
    assert created["Location"] == reverse("production:product_detail", kwargs={"pk": product.pk})
    entry = AuditEntry.objects.get(object_type="production.product", object_id=str(product.pk))
    assert (entry.action, entry.reason, entry.actor_name) == ("create", "New product launch",
                                                              production_supervisor.username)

    taken = supervisor_client.post(url, {**PRODUCT_FORM, "reason": "again"})
    assert taken.context["form"].errors == {"code": ["The code EX-1 is already used."]}


def test_product_edit_changes_only_what_changed(supervisor_client, product):
    url = reverse("production:product_edit", kwargs={"pk": product.pk})
    form = supervisor_client.get(url).context["form"]
    data = {name: ("on" if value is True else "" if value in (None, False) else value)
            for name, value in form.initial.items() if name in form.fields}
    saved = supervisor_client.post(url, {**data, "external_refs": "", "model": "IS-20-XL", "reason": "RA rename"})
    assert saved.status_code == 302
    entry = AuditEntry.objects.get(object_id=str(product.pk), action="update")
    assert json.loads(entry.changes) == {"model": ["IS-20-L", "IS-20-XL"]}


def test_product_list_filters_and_swaps_only_the_results(supervisor_client, routing_approved):
    catalogue.product_create(data={"code": "EX-1", "name": "延长管", "device_class": "I"}, reason="new")
    url = reverse("production:product_list")
    page = supervisor_client.get(url)
    assert [p.code for p in page.context["page"]] == ["EX-1", "IS-20"]
    assert "Version 1" in page.content.decode()
    fragment = supervisor_client.get(url, {"device_class": "II"}, headers={"HX-Request": "true"})
    assert [p.code for p in fragment.context["page"]] == ["IS-20"]
    assert b"<html" not in fragment.content


def test_draft_operations_with_qualifications_and_inspection_rows(supervisor_client, production_supervisor, product,
                                                                  work_centers, operation_qualifications):
    created = supervisor_client.post(reverse("production:routing_create", kwargs={"pk": product.pk}),
                                     {"notes": "首版", "reason": "New product"})
    routing = Routing.objects.get(product=product)
    assert created["Location"] == reverse("production:routing_detail", kwargs={"pk": routing.pk})
    assert (routing.version, routing.status) == (1, "draft")

    url = reverse("production:operation_create", kwargs={"pk": routing.pk})
    before = _written()
    bad = supervisor_client.post(url, _operation_form(
        work_centers[0], inspection_points="LBL; Label legible\nLEN; Length; mm; 5; four\nX"))
    assert bad.context["form"].errors == {"inspection_points": [
        "Point 2: the upper limit must be a number.", "Point 3: write code; characteristic; unit; lower; upper."]}
    bad = supervisor_client.post(url, _operation_form(work_centers[0], inspection_points="LEN; Length; mm; 9; 5"))
    assert bad.context["form"].errors == {"inspection_points": ["Point 1: the lower limit is above the upper limit."]}
    assert _written() == before

    added = supervisor_client.post(url, _operation_form(
        work_centers[0], [operation_qualifications[10], operation_qualifications[30]],
        inspection_points="LBL; Label legible\n\nLEN; Length; mm; 149.5; 150.5"))
    assert added.status_code == 302
    operation = routing.operations.get()
    assert operation.inspection_points == [
        {"code": "LBL", "characteristic": "Label legible", "unit": "", "lower": None, "upper": None},
        {"code": "LEN", "characteristic": "Length", "unit": "mm", "lower": 149.5, "upper": 150.5}]
    requirements = Requirement.objects.filter(target_kind=TargetKind.OPERATION, target_id=operation.pk)
    assert sorted(r.qualification.code for r in requirements) == ["Q-ASM", "Q-PK"]
    # The engineer need not manage training: the requirement is still recorded as theirs.
    assert {(e.actor_name, e.reason) for e in AuditEntry.objects.filter(object_type="training.requirement")} == {
        (production_supervisor.username, "Labelling step")}

    edit = reverse("production:operation_edit", kwargs={"pk": operation.pk})
    form = supervisor_client.get(edit).context["form"]
    assert form["inspection_points"].value() == "LBL; Label legible; ; ; \nLEN; Length; mm; 149.5; 150.5"
    saved = supervisor_client.post(edit, _operation_form(work_centers[0], [operation_qualifications[30]],
                                                         inspection_points=form["inspection_points"].value(),
                                                         reason="Assembly check moved"))
    assert saved.status_code == 302
    assert [r.qualification.code for r in Requirement.objects.filter(target_id=operation.pk)] == ["Q-PK"]
    assert OutboxEvent.objects.get(type="production.operation.updated").data["fields"] == ["requirements"]

    removed = supervisor_client.post(reverse("production:operation_remove", kwargs={"pk": operation.pk}),
                                     {"reason": "Not needed"})
    assert removed.status_code == 302 and not routing.operations.exists()


def test_approval_is_signed_with_the_password_and_shown_on_the_routing(supervisor_client, production_supervisor,
                                                                      product, work_centers):
    routing = catalogue.routing_create(product=product, reason="new")
    url = reverse("production:routing_approve", kwargs={"pk": routing.pk})
    empty = supervisor_client.post(url, {"effective_from": "", "password": PASSWORD, "reason": "Validated"})
    assert empty.context["form"].errors == {"__all__": ["A routing needs at least one operation."]}

    catalogue.operation_create(routing=routing, data={"sequence": 10, "name": "装配", "work_center": work_centers[0],
                                                      "standard_minutes": 1}, reason="first")
    before = _written()
    wrong = supervisor_client.post(url, {"effective_from": "", "password": "nope", "reason": "Validated"})
    assert wrong.context["form"].errors == {"password": ["The password is not correct."]}
    assert _written() == before
    past = supervisor_client.post(url, {"effective_from": "2020-01-01T08:00", "password": PASSWORD, "reason": "x"})
    assert past.context["form"].errors == {"effective_from": ["The effective date cannot lie in the past."]}

    approved = supervisor_client.post(url, {"effective_from": "", "password": PASSWORD, "reason": "Validated"})
    assert approved.status_code == 302
    routing.refresh_from_db()
    assert routing.status == "approved"
    detail = supervisor_client.get(reverse("production:routing_detail", kwargs={"pk": routing.pk}))
    (signature,) = detail.context["detail"].signatures
    assert (signature.signature.printed_name, signature.signature.meaning, signature.matches) == (
        production_supervisor.printed_name, "approved", True)
    assert "Record changed since signing" not in detail.content.decode()

    # An approved version sends edits back to the routing; copying makes the next draft.
    operation = routing.operations.get()
    sent_back = supervisor_client.get(reverse("production:operation_edit", kwargs={"pk": operation.pk}))
    assert sent_back["Location"] == reverse("production:routing_detail", kwargs={"pk": routing.pk})
    copied = supervisor_client.post(reverse("production:routing_copy", kwargs={"pk": routing.pk}),
                                    {"notes": "v2", "reason": "Faster line"})
    copy = Routing.objects.get(product=product, version=2)
    assert copied["Location"] == reverse("production:routing_detail", kwargs={"pk": copy.pk})
    assert (copy.status, copy.notes, copy.operations.count()) == ("draft", "v2", 1)

    retired = supervisor_client.post(reverse("production:routing_retire", kwargs={"pk": routing.pk}),
                                     {"reason": "Superseded"})
    assert retired.status_code == 302
    routing.refresh_from_db()
    assert routing.status == "retired"


def _urls(routing) -> list[tuple[str, str]]:
    operation = routing.operations.first()
    product = routing.product
    return [
        ("get", reverse("production:product_list")),
        ("get", reverse("production:product_detail", kwargs={"pk": product.pk})),
        ("post", reverse("production:product_create")),
        ("post", reverse("production:product_edit", kwargs={"pk": product.pk})),
        ("post", reverse("production:routing_create", kwargs={"pk": product.pk})),
        ("get", reverse("production:routing_detail", kwargs={"pk": routing.pk})),
        ("post", reverse("production:routing_copy", kwargs={"pk": routing.pk})),
        ("post", reverse("production:routing_approve", kwargs={"pk": routing.pk})),
        ("post", reverse("production:routing_retire", kwargs={"pk": routing.pk})),
        ("post", reverse("production:operation_create", kwargs={"pk": routing.pk})),
        ("post", reverse("production:operation_edit", kwargs={"pk": operation.pk})),
        ("post", reverse("production:operation_remove", kwargs={"pk": operation.pk})),
    ]


def test_operators_are_turned_away_from_every_catalogue_page(routing_approved, make_user, login):
    client = login(make_user(Role.OPERATOR))
    before = _written()
    for method, url in _urls(routing_approved):
        assert getattr(client, method)(url, {"reason": "try", "password": PASSWORD}).status_code == 403, url
    assert _written() == before


def test_auditors_read_but_do_not_change(routing_approved, make_user, login):
    client = login(make_user(Role.AUDITOR))
    for method, url in _urls(routing_approved):
        expected = 200 if method == "get" else 403
        assert getattr(client, method)(url).status_code == expected, url
    page = client.get(reverse("production:routing_detail", kwargs={"pk": routing_approved.pk})).content.decode()
    assert "Copy into a new version" not in page and "Process validated" in page


def test_pages_speak_chinese(routing_approved, make_user, login):
    client = login(make_user(Role.PRODUCTION_SUPERVISOR, language="zh-hans"))
    response = client.get(reverse("production:routing_detail", kwargs={"pk": routing_approved.pk}))
    assert response.status_code == 200 and response["Content-Language"] == "zh-hans"
