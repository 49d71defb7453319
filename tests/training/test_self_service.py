"""Everyone may see their own qualifications and training passport, without any training permission;
anyone else's stay refused."""

from __future__ import annotations

from django.urls import reverse

from qualiflow.accounts.roles import Role
from qualiflow.people import services as people_services


def _operator_with_record(make_user, make_employee, number: str):
    user = make_user(Role.OPERATOR)
    employee = make_employee(employee_number=number)
    people_services.employee_update(employee=employee, data={"user": user}, reason="link the login")
    return user, employee


def test_an_operator_sees_their_own_qualifications_and_passport_and_no_one_elses(make_user, make_employee, login, client):
    user, own = _operator_with_record(make_user, make_employee, "E-SELF1")
    other = make_employee(employee_number="E-SELF2")
    login(user)
    page = client.get(reverse("training:employee_training", args=[own.pk]))
    assert page.status_code == 200
    assert "E-SELF1" in page.content.decode()
    passport = client.get(reverse("training:passport", args=[own.pk]))
    assert passport.status_code == 200
    assert passport.content.startswith(b"%PDF")
    status = client.get(f"/api/v1/training/employees/{own.pk}/status")
    assert status.status_code == 200
    assert status.json()["employee_number"] == "E-SELF1"

    assert client.get(reverse("training:employee_training", args=[other.pk])).status_code == 403
    assert client.get(reverse("training:passport", args=[other.pk])).status_code == 403
    refused = client.get(f"/api/v1/training/employees/{other.pk}/status")
    assert refused.status_code == 403
    assert refused.json()["code"] == "core.permission_denied"
    assert client.get(reverse("training:matrix")).status_code == 403


def test_the_training_entry_leads_an_operator_to_their_own_records(make_user, make_employee, login, client):
    user, own = _operator_with_record(make_user, make_employee, "E-SELF3")
    login(user)
    page = client.get(reverse("training:my_records")).content.decode()
    assert reverse("training:employee_training", args=[own.pk]) in page
    home = client.get("/").content.decode()
    assert f'href="{reverse("training:my_records")}"' in home
    assert reverse("training:matrix") not in home


def test_the_training_address_leads_each_reader_to_their_start(make_user, make_employee, login, client):
    user, _ = _operator_with_record(make_user, make_employee, "E-SELF4")
    login(user)
    assert client.get("/training/")["Location"] == reverse("training:my_records")
    login(make_user(Role.TRAINING_COORDINATOR))
    assert client.get("/training/")["Location"] == reverse("training:matrix")
