"""PostgreSQL: a raw-SQL write to a regulated table leaves a database-level trace; the application's own
writes (which carry an audit entry) leave none.

The trace trigger is deferred to commit. Inside the test transaction `SET CONSTRAINTS ALL IMMEDIATE` fires
it; and since the fixtures' application writes marked this one transaction as audited, the mark is reset
first, as it would be in a separate, later transaction."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from qualiflow.accounts.roles import Role
from qualiflow.audit.models import DatabaseChange
from qualiflow.people import services as people_services

pytestmark = pytest.mark.postgres_only


def _fire_pending_traces() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _start_outside_the_application() -> None:
    """Settle the fixtures' own (application) writes, then carry on as a fresh transaction would."""
    _fire_pending_traces()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SELECT set_config('qualiflow.audited', '', true)")


def test_raw_sql_update_leaves_a_trace_with_old_and_new_values(postgres_only, make_employee):
    employee = make_employee(employee_number="E-RAW", phone="13800000000")
    _start_outside_the_application()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE people_employee SET phone = %s WHERE id = %s", ["13999999999", employee.pk])
    _fire_pending_traces()
    [change] = DatabaseChange.objects.all()
    assert (change.table_name, change.operation, change.row_id) == ("people_employee", "UPDATE", str(employee.pk))
    assert (change.old_row["phone"], change.new_row["phone"]) == ("13800000000", "13999999999")
    assert change.old_row["employee_number"] == change.new_row["employee_number"] == "E-RAW"
    assert change.database_user == "postgres"

    out = io.StringIO()
    call_command("audit", "trace", stdout=out)
    assert f"UPDATE people_employee {employee.pk} by postgres@" in out.getvalue()
    assert '"phone": "13800000000"' in out.getvalue() and '"phone": "13999999999"' in out.getvalue()


def test_raw_sql_delete_leaves_a_trace(postgres_only, plant):
    _start_outside_the_application()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM org_workcenter")  # nothing to delete: no trace
        cursor.execute("UPDATE org_company SET name_en = name_en")
    _fire_pending_traces()
    [change] = DatabaseChange.objects.all()
    assert (change.table_name, change.operation) == ("org_company", "UPDATE")


def test_an_application_write_leaves_no_trace(postgres_only, make_employee):
    employee = make_employee(employee_number="E-APP")
    _start_outside_the_application()
    people_services.employee_update(employee=employee, data={"phone": "13700000000"}, reason="new phone")
    _fire_pending_traces()
    assert DatabaseChange.objects.count() == 0


def test_the_trace_page_lists_raw_changes(postgres_only, make_employee, make_user, login):
    employee = make_employee(employee_number="E-PAGE")
    client = login(make_user(Role.AUDITOR))
    _start_outside_the_application()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE people_employee SET email = 'x@example.com' WHERE id = %s", [employee.pk])
    _fire_pending_traces()
    response = client.get(reverse("audit:trace"))
    [(change, old_row, new_row)] = response.context["changes"]
    assert change.row_id == str(employee.pk)
    assert '"email": ""' in old_row and '"email": "x@example.com"' in new_row
