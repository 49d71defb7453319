"""Employee pages: list, search, filters, sort, pagination, htmx fragment, create / edit / deactivate /
change position with reasons, scope, XLSX export."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from django.urls import reverse

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.people.models import Employee, PositionAssignment


def numbers(response) -> list[str]:
    return [e.employee_number for e in response.context["page"]]


def form_data(plant, **overrides) -> dict:
    data = {
        "employee_number": "E-NEW", "family_name": "李", "given_name": "娜", "latin_name": "Li Na",
        "employment_type": "staff", "hire_date": "2024-05-06", "birth_date": "", "site": plant.site_a.pk,
        "department": plant.assembly.pk, "line": plant.line_a.pk, "manager": "", "email": "li.na@example.com",
        "phone": "", "position": plant.operator.pk, "external_refs": "", "reason": "New hire, requisition R-17",
    }
    data.update(overrides)
    return data


def written() -> tuple[int, int, int, int]:
    return (Employee.objects.count(), PositionAssignment.objects.count(), AuditEntry.objects.count(),
            OutboxEvent.objects.count())


@pytest.fixture
def hr(make_user):
    return make_user(Role.HR_ADMIN, username="hr")


@pytest.fixture
def staff(plant, make_employee):
    """Three people on two lines of one site and one on the other site."""
    return {
        "a1": make_employee(employee_number="E-A1", family_name="张", given_name="伟", line=plant.line_a,
                            email="zhang.wei@example.com", hire_date=dt.date(2020, 1, 6)),
        "a2": make_employee(employee_number="E-A2", family_name="王", given_name="芳", line=plant.line_a,
                            employment_type="contractor", hire_date=dt.date(2023, 7, 1), position=plant.operator),
        "b1": make_employee(employee_number="E-B1", family_name="刘", given_name="洋", line=plant.line_b,
                            hire_date=dt.date(2021, 2, 1)),
        "p1": make_employee(employee_number="E-P1", family_name="陈", given_name="静", line=plant.line_b2,
                            hire_date=dt.date(2019, 9, 9)),
    }


def test_list_search_filter_and_sort(plant, staff, hr, login):
    client = login(hr)
    url = reverse("people:employee_list")
    assert numbers(client.get(url)) == ["E-A1", "E-A2", "E-B1", "E-P1"]
    assert numbers(client.get(url, {"q": "e-b1"})) == ["E-B1"]
    assert numbers(client.get(url, {"q": "刘"})) == ["E-B1"]
    assert numbers(client.get(url, {"q": "zhang.wei@"})) == ["E-A1"]
    assert numbers(client.get(url, {"site": plant.site_b.pk})) == ["E-P1"]
    assert numbers(client.get(url, {"line": plant.line_a.pk})) == ["E-A1", "E-A2"]
    assert numbers(client.get(url, {"department": plant.assembly.pk, "employment_type": "contractor"})) == ["E-A2"]
    assert numbers(client.get(url, {"position": plant.operator.pk})) == ["E-A2"]
    assert numbers(client.get(url, {"status": "terminated"})) == []
    assert numbers(client.get(url, {"sort": "-hire_date"})) == ["E-A2", "E-B1", "E-A1", "E-P1"]
    assert numbers(client.get(url, {"sort": "hire_date", "site": plant.site_a.pk})) == ["E-A1", "E-B1", "E-A2"]
    # An unknown sort or a malformed filter is ignored rather than failing the page.
    assert numbers(client.get(url, {"sort": "password", "site": "not-a-uuid"})) == ["E-A1", "E-A2", "E-B1", "E-P1"]


def test_sort_links_toggle_and_keep_the_filters(plant, staff, hr, login):
    response = login(hr).get(reverse("people:employee_list"), {"q": "E-A", "sort": "hire_date"})
    hire = next(c for c in response.context["columns"] if c["direction"])
    assert hire["sort"] == "-hire_date"
    assert 'href="?q=E-A&amp;sort=-hire_date"' in response.content.decode()


def test_list_paginates(plant, make_employee, hr, login):
    for n in range(30):
        make_employee(employee_number=f"E-{n:03d}")
    client = login(hr)
    first = client.get(reverse("people:employee_list"))
    assert len(numbers(first)) == 25
    assert first.context["page"].paginator.count == 30
    assert numbers(client.get(reverse("people:employee_list"), {"page": 2})) == [f"E-{n:03d}" for n in range(25, 30)]


def test_htmx_request_gets_the_results_fragment_only(plant, staff, hr, login):
    client = login(hr)
    full = client.get(reverse("people:employee_list"), {"q": "E-B"})
    fragment = client.get(reverse("people:employee_list"), {"q": "E-B"}, headers={"HX-Request": "true"})
    assert "<html" in full.content.decode()
    assert 'hx-get="/people/"' in full.content.decode()
    body = fragment.content.decode()
    assert "<html" not in body
    assert "E-B1" in body and "E-A1" not in body
    assert 'hx-swap-oob="true"' in body
    assert "HX-Request" in fragment["Vary"]


def test_create_with_reason_is_audited_with_actor_and_reason(plant, hr, login):
    client = login(hr)
    response = client.post(reverse("people:employee_create"), form_data(plant, external_refs="sap-hr=00012345"))
    employee = Employee.objects.get(employee_number="E-NEW")
    assert response.status_code == 302
    assert response["Location"] == reverse("people:employee_detail", kwargs={"pk": employee.pk})
    assert (employee.position, employee.external_refs) == (plant.operator, {"sap-hr": "00012345"})
    entry = AuditEntry.objects.get(object_type="people.employee", object_id=str(employee.pk), action="create")
    assert entry.reason == "New hire, requisition R-17"
    assert (entry.actor_kind, entry.actor_id, entry.actor_name) == ("user", str(hr.pk), "hr")
    assert json.loads(entry.changes)["family_name"] == [None, "李"]
    assert list(PositionAssignment.objects.filter(employee=employee).values_list("position__code", "start_date")) == [
        ("OP-ASM", dt.date(2024, 5, 6))]


def test_create_without_reason_writes_nothing(plant, hr, login):
    client = login(hr)
    before = written()
    response = client.post(reverse("people:employee_create"), form_data(plant, reason="   "))
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert written() == before


def test_duplicate_employee_number_is_a_field_error(plant, staff, hr, login):
    client = login(hr)
    before = written()
    response = client.post(reverse("people:employee_create"), form_data(plant, employee_number="E-A1"))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "employee_number": ["Employee number E-A1 is already used by another employee."]}
    assert "Employee number E-A1 is already used by another employee." in response.content.decode()
    assert written() == before


def test_organisation_mismatch_is_a_field_error(plant, hr, login):
    client = login(hr)
    before = written()
    response = client.post(reverse("people:employee_create"), form_data(plant, line=plant.line_b2.pk))
    assert response.context["form"].errors == {"line": ["The production line belongs to another site."]}
    assert written() == before


def test_bad_external_reference_and_unknown_manager_are_refused(plant, hr, login):
    client = login(hr)
    before = written()
    response = client.post(reverse("people:employee_create"), form_data(
        plant, external_refs="sap hr=1", manager="NOBODY"))
    assert response.context["form"].errors == {
        "external_refs": ["Line 1: a system name uses letters, digits and single . _ - between them (at most 40 characters)."],
        "manager": ["No employee with this number is visible to you."],
    }
    assert written() == before


def test_edit_changes_only_what_changed_with_the_reason(plant, staff, hr, login):
    client = login(hr)
    employee = staff["a1"]
    url = reverse("people:employee_edit", kwargs={"pk": employee.pk})
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    assert data["hire_date"] == dt.date(2020, 1, 6)
    data.update({"phone": "+86 512 0000 1111", "manager": "E-P1", "reason": "Phone number from the HR file"})
    response = client.post(url, data)
    assert response.status_code == 302
    employee.refresh_from_db()
    assert (employee.phone, employee.manager) == ("+86 512 0000 1111", staff["p1"])
    entry = AuditEntry.objects.filter(object_type="people.employee", object_id=str(employee.pk)).order_by("-seq").first()
    assert entry.action == "update"
    assert entry.reason == "Phone number from the HR file"
    assert json.loads(entry.changes) == {"phone": ["", "+86 512 0000 1111"], "manager_id": [None, str(staff["p1"].pk)]}


def test_edit_without_reason_writes_nothing(plant, staff, hr, login):
    client = login(hr)
    before = written()
    response = client.post(reverse("people:employee_edit", kwargs={"pk": staff["a1"].pk}),
                           form_data(plant, employee_number="E-A1", family_name="改", reason=""))
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert written() == before
    staff["a1"].refresh_from_db()
    assert staff["a1"].family_name == "张"


def test_deactivate_sets_termination_and_closes_the_position(plant, staff, hr, login):
    client = login(hr)
    employee = staff["a2"]
    url = reverse("people:employee_deactivate", kwargs={"pk": employee.pk})
    before = written()
    too_early = client.post(url, {"termination_date": "2020-01-01", "reason": "Contract ended"})
    assert too_early.context["form"].errors == {
        "termination_date": ["The termination date cannot be before the hire date."]}
    assert written() == before
    response = client.post(url, {"termination_date": "2025-06-30", "reason": "Contract ended"})
    assert response.status_code == 302
    employee.refresh_from_db()
    assert (employee.status, employee.termination_date) == ("terminated", dt.date(2025, 6, 30))
    assert employee.position_assignments.get().end_date == dt.date(2025, 6, 30)
    entry = AuditEntry.objects.filter(object_type="people.employee", object_id=str(employee.pk)).order_by("-seq").first()
    assert entry.reason == "Contract ended"
    assert numbers(client.get(reverse("people:employee_list"), {"status": "terminated"})) == ["E-A2"]


def test_change_position_keeps_both_in_the_history(plant, staff, hr, login):
    client = login(hr)
    employee = staff["a2"]
    url = reverse("people:employee_change_position", kwargs={"pk": employee.pk})
    response = client.post(url, {"position": plant.supervisor.pk, "start_date": "2025-01-01", "reason": "Promotion"})
    assert response.status_code == 302
    assert response["Location"] == reverse("people:employee_detail", kwargs={"pk": employee.pk}) + "?tab=positions"
    history = client.get(response["Location"])
    rows = [(a.position.code, a.start_date, a.end_date) for a in history.context["assignments"]]
    assert rows == [("SUP-ASM", dt.date(2025, 1, 1), None), ("OP-ASM", dt.date(2023, 7, 1), dt.date(2025, 1, 1))]
    html = history.content.decode()
    assert "SUP-ASM Assembly supervisor" in html and "OP-ASM Assembly operator" in html
    before = written()
    refused = client.post(url, {"position": plant.operator.pk, "start_date": "2024-12-01", "reason": "Back"})
    assert refused.context["form"].errors == {
        "start_date": ["The new position must start after the current one (2025-01-01)."]}
    assert written() == before


def test_detail_tabs_render(plant, staff, hr, login):
    client = login(hr)
    url = reverse("people:employee_detail", kwargs={"pk": staff["a2"].pk})
    for tab in ("details", "positions", "signatures", "history"):
        response = client.get(url, {"tab": tab})
        assert response.status_code == 200
        assert response.context["tab"] == tab
    details = client.get(url).content.decode()
    assert "Infusion set line A" in details


def test_history_tab_loads_the_audit_fragment_with_htmx(plant, staff, hr, make_user, login):
    employee = staff["a1"]
    history_url = reverse("audit:object_history", kwargs={"object_type": "people.employee", "object_id": employee.pk})
    detail_url = reverse("people:employee_detail", kwargs={"pk": employee.pk})
    html = login(hr).get(detail_url, {"tab": "history"}).content.decode()
    assert f'hx-get="{history_url}" hx-trigger="load"' in html
    # A line supervisor's role has no audit trail: the tab says so instead of loading a refusal.
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    scoped = login(supervisor).get(detail_url, {"tab": "history"}).content.decode()
    assert history_url not in scoped
    assert "Your role does not include the audit trail." in scoped


def test_line_supervisor_sees_and_edits_only_their_line(plant, staff, make_user, login):
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    client = login(supervisor)
    assert numbers(client.get(reverse("people:employee_list"))) == ["E-A1", "E-A2"]
    other = staff["b1"]
    before = written()
    for name in ("employee_detail", "employee_edit", "employee_deactivate", "employee_change_position"):
        assert client.get(reverse(f"people:{name}", kwargs={"pk": other.pk})).status_code == 404
    assert client.post(reverse("people:employee_edit", kwargs={"pk": other.pk}),
                       form_data(plant, employee_number="E-B1", reason="x")).status_code == 404
    assert client.post(reverse("people:employee_deactivate", kwargs={"pk": other.pk}),
                       {"termination_date": "2025-01-01", "reason": "x"}).status_code == 404
    assert written() == before
    own = client.get(reverse("people:employee_edit", kwargs={"pk": staff["a1"].pk}))
    assert own.status_code == 200
    # Moving someone to a line outside the supervisor's scope is refused by the service, shown on the form.
    moved = client.post(reverse("people:employee_edit", kwargs={"pk": staff["a1"].pk}), form_data(
        plant, employee_number="E-A1", family_name="张", given_name="伟", hire_date="2020-01-06",
        line=plant.line_b.pk, latin_name="", email="zhang.wei@example.com", reason="Moved"))
    assert moved.context["form"].errors == {"__all__": ["You are not allowed to change this employee."]}
    assert written() == before


def test_reader_without_manage_gets_403_on_writes(plant, staff, make_user, login):
    client = login(make_user(Role.QA))
    assert client.get(reverse("people:employee_detail", kwargs={"pk": staff["a1"].pk})).status_code == 200
    assert client.get(reverse("people:employee_create")).status_code == 403
    before = written()
    assert client.post(reverse("people:employee_create"), form_data(plant)).status_code == 403
    assert client.post(reverse("people:employee_edit", kwargs={"pk": staff["a1"].pk}),
                       form_data(plant, reason="x")).status_code == 403
    assert written() == before


def test_operator_cannot_list_people(plant, staff, make_user, login):
    assert login(make_user(Role.OPERATOR)).get(reverse("people:employee_list")).status_code == 403


def test_export_holds_the_filtered_rows_with_translated_headers(plant, staff, hr, login):
    client = login(hr)
    response = client.get(reverse("people:employee_export"), {"site": plant.site_a.pk, "sort": "-employee_number"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("Employee number", "Family name", "Given name", "Name in Latin script",
                           "Employment type", "Status")
    assert [row[0] for row in rows[1:]] == ["E-B1", "E-A2", "E-A1"]
    assert rows[2][4:6] == ("Contractor", "Active")
    assert rows[2][8:12] == ("SZ Suzhou", "SZ-ASM Clean-room assembly", "L-A Infusion set line A", "OP-ASM Assembly operator")


def test_export_is_scoped_and_in_the_users_language(plant, staff, make_user, login):
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk,
                           language="zh-hans")
    response = login(supervisor).get(reverse("people:employee_export"))
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["E-A1", "E-A2"]
    # Chinese readers get the Chinese names of the organisation units.
    assert rows[1][10] == "L-A 输液器组装线A"


def test_birth_date_is_shown_and_editable_only_with_the_sensitive_data_permission(plant, make_user, login, make_employee):
    employee = make_employee(employee_number="E-SENS1", birth_date=dt.date(1990, 5, 17))
    detail = reverse("people:employee_detail", args=[employee.pk])
    edit = reverse("people:employee_edit", args=[employee.pk])
    client = login(make_user(Role.HR_ADMIN))
    assert "1990-05-17" in client.get(detail).content.decode()
    assert "birth_date" in client.get(edit).context["form"].fields
    client = login(make_user(Role.QA))
    assert "1990-05-17" not in client.get(detail).content.decode()
    client = login(make_user(Role.PRODUCTION_SUPERVISOR))
    assert "1990-05-17" not in client.get(detail).content.decode()
    assert "birth_date" not in client.get(edit).context["form"].fields
    # A supervisor can still hire: the form leaves the field out rather than failing on it.
    count = Employee.objects.count()
    created = client.post(reverse("people:employee_create"), {
        "employee_number": "E-SENS2", "family_name": "李", "given_name": "娜", "employment_type": "staff",
        "status": "active", "hire_date": "2024-01-02", "site": plant.site_a.pk, "department": plant.assembly.pk,
        "line": plant.line_a.pk, "reason": "new hire",
    })
    assert created.status_code == 302, created.context["form"].errors
    assert Employee.objects.count() == count + 1
