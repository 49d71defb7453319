"""Every write path leaves exact field-level audit entries: services, the shell (plain ORM), bulk
queryset operations including cascades, and the admin (tested in test_audit_admin.py)."""

from __future__ import annotations

import datetime as dt

from audit_helpers import changes_of, entries_for, last_seq

from qualiflow.accounts.models import RoleAssignment, User
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.core import context
from qualiflow.org import services as org_services
from qualiflow.org.models import Company, ProductionLine
from qualiflow.people import services as people_services
from qualiflow.people.models import Employee, PositionAssignment

SHELL = context.Actor(kind="shell", id="", name="root@plant-srv")


def _created_values(employee: Employee) -> dict:
    return {
        "employee_number": employee.employee_number, "family_name": "李", "given_name": "娜", "latin_name": "Li Na",
        "employment_type": "staff", "status": "active", "hire_date": "2023-04-03", "termination_date": None,
        "birth_date": None, "site_id": str(employee.site_id), "department_id": str(employee.department_id),
        "line_id": str(employee.line_id), "position_id": None, "manager_id": None, "email": "", "phone": "",
        "user_id": None, "external_refs": {"sap-hr": "00012345"},
    }


def test_service_create_records_every_field_with_reason_and_actor(make_employee, make_user):
    hr = make_user(Role.HR_ADMIN)
    with context.acting(actor=context.user_actor(hr), request_id="req-create-1"):
        employee = make_employee(
            employee_number="E-CREATE", family_name="李", given_name="娜", latin_name="Li Na",
            hire_date=dt.date(2023, 4, 3), external_refs={"sap-hr": "00012345"},
        )
    [entry] = entries_for(employee)
    assert entry.action == "create"
    assert changes_of(entry) == {k: [None, v] for k, v in _created_values(employee).items()}
    assert (entry.actor_kind, entry.actor_id, entry.actor_name) == ("user", str(hr.pk), hr.username)
    assert entry.reason == "test hire"
    assert entry.request_id == "req-create-1"
    assert entry.object_repr == "E-CREATE 李娜"


def test_service_update_records_only_changed_fields(make_employee, make_user, plant):
    hr = make_user(Role.HR_ADMIN)
    employee = make_employee(employee_number="E-UPD", phone="")
    with context.acting(actor=context.user_actor(hr)):
        people_services.employee_update(
            employee=employee, data={"phone": "13800138000", "given_name": "芳芳", "line": plant.line_b},
            by=hr, reason="Name corrected per ID card",
        )
    update = entries_for(employee)[-1]
    assert update.action == "update"
    assert changes_of(update) == {
        "phone": ["", "13800138000"],
        "given_name": ["芳", "芳芳"],
        "line_id": [str(plant.line_a.pk), str(plant.line_b.pk)],
    }
    assert update.reason == "Name corrected per ID card"
    assert update.actor_name == hr.username


def test_service_deactivate_records_status_and_termination_date(make_employee):
    employee = make_employee(employee_number="E-OUT")
    people_services.employee_deactivate(employee=employee, termination_date=dt.date(2024, 6, 30), reason="Resigned")
    update = entries_for(employee)[-1]
    assert changes_of(update) == {"status": ["active", "terminated"], "termination_date": [None, "2024-06-30"]}
    assert update.reason == "Resigned"


def test_service_delete_records_the_last_values(plant):
    line = org_services.org_unit_create(
        model=ProductionLine,
        data={"code": "L-X", "name": "临时线", "site": plant.site_a, "department": plant.assembly},
    )
    line_id = line.pk
    org_services.org_unit_delete(unit=line, reason="Created by mistake")
    delete = entries_for(object_type="org.productionline", object_id=line_id)[-1]
    assert delete.action == "delete"
    assert delete.reason == "Created by mistake"
    assert changes_of(delete) == {
        "code": ["L-X", None], "name": ["临时线", None], "name_en": ["", None], "is_active": [True, None],
        "site_id": [str(plant.site_a.pk), None], "department_id": [str(plant.assembly.pk), None],
        "clean_room_class": ["", None], "external_refs": [{}, None],
    }
    assert not ProductionLine.objects.filter(pk=line_id).exists()


def test_shell_save_and_delete_are_attributed_to_the_shell_actor(db):
    with context.acting(actor=SHELL, reason="data fix ticket 42"):
        company = Company(code="SH", name="壳公司")
        company.save()
        company.name_en = "Shell Co"
        company.save()
        company.save()  # nothing changed: no entry
        company_id = company.pk
        company.delete()
    create, update, delete = entries_for(object_type="org.company", object_id=company_id)
    assert [e.action for e in (create, update, delete)] == ["create", "update", "delete"]
    assert {(e.actor_kind, e.actor_name, e.reason) for e in (create, update, delete)} == {
        ("shell", "root@plant-srv", "data fix ticket 42")
    }
    assert changes_of(update) == {"name_en": ["", "Shell Co"]}
    assert changes_of(delete)["name_en"] == ["Shell Co", None]


def test_shell_save_of_a_freshly_constructed_instance_diffs_against_the_database(make_employee):
    employee = make_employee(employee_number="E-RAW", email="")
    detached = Employee(**{f.attname: getattr(employee, f.attname) for f in Employee._meta.concrete_fields})
    detached._state.adding = False
    detached.email = "wang.fang@example.com"
    with context.acting(actor=SHELL):
        detached.save()
    assert changes_of(entries_for(employee)[-1]) == {"email": ["", "wang.fang@example.com"]}


def test_queryset_update_records_each_changed_row(make_employee, plant):
    first = make_employee(employee_number="E-Q1")
    second = make_employee(employee_number="E-Q2")
    already = make_employee(employee_number="E-Q3")
    Employee.objects.filter(pk=already.pk).update(status="on_leave")
    other_line = make_employee(employee_number="E-Q4", line=plant.line_b)
    before = last_seq()
    with context.acting(actor=SHELL, reason="plant shutdown"):
        count = Employee.objects.filter(line=plant.line_a).update(status="on_leave")
    assert count == 3
    new = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    assert sorted(e.object_id for e in new) == sorted([str(first.pk), str(second.pk)])
    assert {e.changes for e in new} == {'{"status":["active","on_leave"]}'}
    assert {(e.action, e.reason) for e in new} == {("update", "plant shutdown")}
    assert [e.action for e in entries_for(already)] == ["create", "update"]
    assert entries_for(other_line)[-1].action == "create"


def test_queryset_delete_records_the_cascade(make_employee, plant):
    employee = make_employee(employee_number="E-DEL", position=plant.operator)
    assignment = PositionAssignment.objects.get(employee=employee)
    with context.acting(actor=SHELL):
        Employee.objects.filter(pk=employee.pk).delete()
    [employee_delete] = [e for e in entries_for(employee) if e.action == "delete"]
    [assignment_delete] = [e for e in entries_for(assignment) if e.action == "delete"]
    assert changes_of(employee_delete)["employee_number"] == ["E-DEL", None]
    assert changes_of(assignment_delete) == {
        "employee_id": [str(employee.pk), None], "position_id": [str(plant.operator.pk), None],
        "start_date": ["2022-03-01", None], "end_date": [None, None], "external_refs": [{}, None],
    }
    assert not PositionAssignment.objects.filter(pk=assignment.pk).exists()


def test_deleting_a_user_records_cascaded_deletes_and_set_null_updates(make_employee, make_user):
    user = make_user(Role.OPERATOR)
    employee = make_employee(employee_number="E-USR", user=user)
    role = RoleAssignment.objects.get(user=user)
    with context.acting(actor=SHELL, reason="account closed"):
        User.objects.filter(pk=user.pk).delete()
    assert [e.action for e in entries_for(user)][-1] == "delete"
    assert [e.action for e in entries_for(role)][-1] == "delete"
    unlinked = entries_for(employee)[-1]
    assert (unlinked.action, unlinked.reason) == ("update", "account closed")
    assert changes_of(unlinked) == {"user_id": [str(user.pk), None]}
    employee.refresh_from_db()
    assert employee.user_id is None


def test_bulk_create_records_every_object(db):
    with context.acting(actor=SHELL, reason="import"):
        created = Company.objects.bulk_create(
            [Company(code="B1", name="甲公司"), Company(code="B2", name="乙公司", name_en="Yi")]
        )
    for company, name, name_en in zip(created, ["甲公司", "乙公司"], ["", "Yi"], strict=True):
        [entry] = entries_for(company)
        assert entry.action == "create"
        assert changes_of(entry) == {
            "code": [None, company.code], "name": [None, name], "name_en": [None, name_en],
            "is_active": [None, True], "external_refs": [None, {}],
        }


def test_bulk_update_records_old_and_new_values_of_changed_rows(make_employee):
    first = make_employee(employee_number="E-B1", phone="111")
    second = make_employee(employee_number="E-B2", phone="222")
    unchanged = make_employee(employee_number="E-B3", phone="333")
    first.phone, second.phone = "1110", "2220"
    with context.acting(actor=SHELL, reason="phone renumbering"):
        Employee.objects.bulk_update([first, second, unchanged], ["phone"])
    assert [(e.action, changes_of(e)) for e in entries_for(first)[1:]] == [("update", {"phone": ["111", "1110"]})]
    assert [(e.action, changes_of(e)) for e in entries_for(second)[1:]] == [("update", {"phone": ["222", "2220"]})]
    assert entries_for(second)[-1].reason == "phone renumbering"
    assert [e.action for e in entries_for(unchanged)] == ["create"]


def test_masked_fields_never_reach_the_trail_in_clear(make_user):
    user = make_user(None, username="masked")
    [create] = entries_for(user)
    assert changes_of(create)["password"] == [None, "***"]
    user.set_password("Another-Secret-99")
    user.save()
    assert changes_of(entries_for(user)[-1]) == {"password": ["***", "***"]}
