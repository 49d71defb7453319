"""E-signatures on the employee record: sign with the password, refuse a wrong one, show a changed record."""

from __future__ import annotations

from django.urls import reverse

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.people import services as people_services
from tests.conftest import PASSWORD


def _sign(client, employee, password: str):
    return client.post(reverse("people:employee_sign", kwargs={"pk": employee.pk}), {
        "meaning": "reviewed", "password": password, "reason": "Annual HR file review",
    })


def test_right_password_signs_and_the_tab_shows_it_valid(plant, make_employee, make_user, login):
    employee = make_employee(employee_number="E-SIG")
    signer = make_user(Role.HR_ADMIN, username="signer", first_name="Mei", last_name="Zhou")
    client = login(signer)
    response = _sign(client, employee, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("people:employee_detail", kwargs={"pk": employee.pk}) + "?tab=signatures"
    signature = ESignature.objects.get()
    assert (signature.signer, signature.printed_name, signature.meaning, signature.reason) == (
        signer, "Mei Zhou", "reviewed", "Annual HR file review")
    assert signature.object_id == str(employee.pk)
    tab = client.get(response["Location"])
    assert [item.matches for item in tab.context["signatures"]] == [True]
    html = tab.content.decode()
    assert "Mei Zhou" in html and "Reviewed" in html and "Valid" in html
    assert f"{signature.signed_at:%Y-%m-%d %H:%M:%S} UTC" in html


def test_wrong_password_is_a_form_error_and_signs_nothing(plant, make_employee, make_user, login):
    employee = make_employee(employee_number="E-SIG")
    client = login(make_user(Role.HR_ADMIN))
    response = _sign(client, employee, "not-the-password")
    assert response.status_code == 200
    assert response.context["sign_form"].errors == {"password": ["The password is not correct."]}
    assert ESignature.objects.count() == 0
    assert AuditEntry.objects.filter(action="sign_failed", object_id=str(employee.pk)).count() == 1


def test_missing_password_signs_nothing(plant, make_employee, make_user, login):
    employee = make_employee(employee_number="E-SIG")
    client = login(make_user(Role.HR_ADMIN))
    response = _sign(client, employee, "")
    assert response.context["sign_form"].errors == {"password": ["This field is required."]}
    assert ESignature.objects.count() == 0


def test_an_edit_after_signing_shows_record_changed(plant, make_employee, make_user, login):
    employee = make_employee(employee_number="E-SIG")
    client = login(make_user(Role.HR_ADMIN))
    assert _sign(client, employee, PASSWORD).status_code == 302
    people_services.employee_update(employee=employee, data={"phone": "123"}, reason="New phone")
    tab = client.get(reverse("people:employee_detail", kwargs={"pk": employee.pk}), {"tab": "signatures"})
    assert [item.matches for item in tab.context["signatures"]] == [False]
    assert "Record changed since signing" in tab.content.decode()


def test_a_user_without_the_signing_permission_gets_no_form(plant, make_employee, make_user, login):
    employee = make_employee(employee_number="E-SIG")
    client = login(make_user(Role.AUDITOR))
    tab = client.get(reverse("people:employee_detail", kwargs={"pk": employee.pk}), {"tab": "signatures"})
    assert reverse("people:employee_sign", kwargs={"pk": employee.pk}) not in tab.content.decode()
    response = _sign(client, employee, PASSWORD)
    assert response.context["sign_form"].errors == {"__all__": ["You are not allowed to sign records."]}
    assert ESignature.objects.count() == 0
