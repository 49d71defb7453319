"""The Django admin: registered models, evidence read-only, and admin writes audited with the admin user
as actor (and the reason a regulated record needs)."""

from __future__ import annotations

import pytest
from audit_helpers import changes_of, entries_for
from django.contrib import admin
from django.urls import reverse

from qualiflow.accounts.models import ApiToken, ESignature, RoleAssignment, User
from qualiflow.audit.models import AuditEntry, DatabaseChange
from qualiflow.integration.models import OutboxEvent
from qualiflow.org.models import Company, Department, Position, ProductionLine, Site, WorkCenter
from qualiflow.people.models import Employee, PositionAssignment

READ_ONLY = (AuditEntry, DatabaseChange, OutboxEvent, ESignature)


@pytest.fixture
def superuser(make_user):
    user = make_user(None, username="root.admin")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def _form_data(response) -> dict:
    """What the admin change form would post back unchanged (fields plus inline management forms)."""
    data = {}
    for field in response.context["adminform"].form:
        value = field.value()
        data[field.html_name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for form in formset.forms:
            for field in form:
                value = field.value()
                data[field.html_name] = "" if value is None else value
    return {k: v for k, v in data.items() if v is not False}


def test_every_model_is_registered():
    registered = set(admin.site._registry)
    assert {
        User, RoleAssignment, ApiToken, ESignature, Company, Site, Department, ProductionLine, WorkCenter, Position,
        Employee, PositionAssignment, AuditEntry, DatabaseChange, OutboxEvent,
    } <= registered


@pytest.mark.parametrize("model", READ_ONLY)
def test_evidence_is_read_only_even_for_a_superuser(rf, superuser, model):
    request = rf.get("/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_admin_pages_render(make_employee, superuser, login):
    employee = make_employee(employee_number="E-ADM")
    client = login(superuser)
    for model in (Employee, Company, User, AuditEntry, OutboxEvent, DatabaseChange, ESignature, ApiToken, RoleAssignment):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url, {"q": "E-ADM"}).status_code == 200, url
    entry = entries_for(employee)[0]
    assert client.get(reverse("admin:audit_auditentry_change", args=[entry.seq])).status_code == 200


def test_admin_change_is_audited_with_the_admin_as_actor(plant, superuser, login):
    client = login(superuser)
    url = reverse("admin:org_site_change", args=[plant.site_a.pk])
    data = _form_data(client.get(url))
    data["name_en"] = "Suzhou plant"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    update = entries_for(plant.site_a)[-1]
    assert update.action == "update"
    assert changes_of(update) == {"name_en": ["Suzhou", "Suzhou plant"]}
    assert (update.actor_kind, update.actor_id, update.actor_name) == ("user", str(superuser.pk), "root.admin")
    assert update.request_id


def test_admin_change_of_a_regulated_record_needs_a_reason(make_employee, superuser, login):
    employee = make_employee(employee_number="E-ADM2", phone="")
    client = login(superuser)
    url = reverse("admin:people_employee_change", args=[employee.pk])
    data = _form_data(client.get(url))
    data["phone"] = "13911112222"
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "audit_reason" in refused.context["adminform"].form.errors
    assert [e.action for e in entries_for(employee)] == ["create"]
    employee.refresh_from_db()
    assert employee.phone == ""

    data["audit_reason"] = "Phone number from HR ticket 77"
    assert client.post(url, data).status_code == 302
    update = entries_for(employee)[-1]
    assert changes_of(update) == {"phone": ["", "13911112222"]}
    assert (update.actor_name, update.reason) == ("root.admin", "Phone number from HR ticket 77")


def test_regulated_records_are_not_deleted_in_the_admin(make_employee, superuser, login):
    employee = make_employee(employee_number="E-ADM3")
    client = login(superuser)
    assert client.get(reverse("admin:people_employee_delete", args=[employee.pk])).status_code == 403
    assert Employee.objects.filter(pk=employee.pk).exists()


def test_admin_delete_is_audited(superuser, login, db):
    company = Company.objects.create(code="DEL", name="待删除公司")
    client = login(superuser)
    response = client.post(reverse("admin:org_company_delete", args=[company.pk]), {"post": "yes"})
    assert response.status_code == 302
    delete = entries_for(company)[-1]
    assert (delete.action, delete.actor_name) == ("delete", "root.admin")
    assert changes_of(delete)["code"] == ["DEL", None]
