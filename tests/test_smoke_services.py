import json

from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.people.models import Employee


def test_employee_create_writes_audit_entry_and_event(make_employee):
    employee = make_employee(employee_number="E-SMOKE")
    entry = AuditEntry.objects.filter(object_type="people.employee", object_id=str(employee.pk)).get()
    assert entry.action == "create"
    assert entry.reason == "test hire"
    assert json.loads(entry.changes)["employee_number"] == [None, "E-SMOKE"]
    event = OutboxEvent.objects.get(type="people.employee.created", subject=f"people/employee/{employee.pk}")
    assert event.data["employee_number"] == "E-SMOKE"
    assert Employee.objects.count() == 1
