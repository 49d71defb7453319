"""A person's training page and training passport (PDF): content, CJK font, footer hash, scope."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.training.selectors import reports as selectors
from tests.training.test_reports_matrix import build_report_plant


@pytest.fixture
def report_plant(plant, make_employee, make_user):
    return build_report_plant(plant, make_employee, make_user)


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _fonts(content: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_passport_pdf_shows_the_person_their_training_and_a_content_hash(report_plant, admin_user, login):
    person = report_plant.people["qualified"]
    response = login(admin_user).get(reverse("training:passport", kwargs={"pk": person.pk}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    if os.environ.get("QUALIFLOW_KEEP_PASSPORT"):
        with open(os.environ["QUALIFLOW_KEEP_PASSPORT"], "wb") as kept:
            kept.write(response.content)
    text = _pdf_text(response.content)
    assert "R01-QUAL" in text
    assert "C-EO-101" in text  # the course of every training record
    assert "SOP-ASM-001" in text  # the document revision trained on
    assert "培训室" in text  # the session's place
    assert "王芳" in text  # the Chinese name, in a CJK font
    assert any("CJK" in name for name in _fonts(response.content))
    passport = selectors.training_passport(user=admin_user, employee_id=person.pk)
    assert re.sub(r"\s", "", passport.content_hash) in re.sub(r"\s", "", text)
    assert "UTC" in text


def test_passport_hash_depends_on_content_not_on_time(report_plant, admin_user):
    person = report_plant.people["qualified"]
    first = selectors.training_passport(user=admin_user, employee_id=person.pk)
    again = selectors.training_passport(user=admin_user, employee_id=person.pk)
    assert first.content_hash == again.content_hash
    assert [line.qualification.code for line in first.status.lines] == ["Q-CR", "Q-EO", "Q-SOP"]
    assert len(first.records) == 2
    signed = next(r for r in first.records if r.record.pk == report_plant.record.pk)
    assert [(s.signature.meaning, s.matches) for s in signed.signatures] == [("performed", True)]

    report_plant.record.score = 95
    report_plant.record.save()
    changed = selectors.training_passport(user=admin_user, employee_id=person.pk)
    assert changed.content_hash != first.content_hash
    signed = next(r for r in changed.records if r.record.pk == report_plant.record.pk)
    assert [s.matches for s in signed.signatures] == [False]  # the record changed after signing


def test_passport_api_returns_the_pdf(report_plant, admin_user, login):
    person = report_plant.people["retraining"]
    response = login(admin_user).get(f"/api/v1/training/employees/{person.pk}/passport.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "R07-RETRAIN" in _pdf_text(response.content)


@pytest.mark.parametrize("number,status", [("R01-QUAL", 200), ("R09-LINEB", 403)])
def test_passport_and_training_page_are_scoped_to_the_supervisors_line(report_plant, make_user, login, number, status):
    plant = report_plant.plant
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    person = next(p for p in report_plant.people.values() if p.employee_number == number)
    client = login(supervisor)
    assert client.get(reverse("training:passport", kwargs={"pk": person.pk})).status_code == status
    assert client.get(reverse("training:employee_training", kwargs={"pk": person.pk})).status_code == status
    api = client.get(f"/api/v1/training/employees/{person.pk}/status")
    assert api.status_code == status
    if status == 403:
        assert api.json()["code"] == "training.out_of_scope"


def test_employee_training_page(report_plant, admin_user, login):
    person = report_plant.people["qualified"]
    response = login(admin_user).get(reverse("training:employee_training", kwargs={"pk": person.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("training:passport", kwargs={"pk": person.pk}) in html
    assert "Q-EO" in html and "Q-SOP" in html
    assert "C-EO-101" in html and "SOP-ASM-001 B" in html
    assert "st-qualified" in html
    missing = report_plant.people["missing"]
    html = login(admin_user).get(reverse("training:employee_training", kwargs={"pk": missing.pk})).content.decode()
    assert "Does not meet every mandatory requirement" in html
    assert "Never granted." in html


def test_unknown_employee_is_not_found(report_plant, admin_user, login):
    client = login(admin_user)
    unknown = "00000000-0000-0000-0000-000000000000"
    assert client.get(reverse("training:passport", kwargs={"pk": unknown})).status_code == 404
    assert client.get(f"/api/v1/training/employees/{unknown}/passport.pdf").status_code == 404
