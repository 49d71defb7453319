"""Training matrix: exact statuses for a small plant that shows every state, a fixed number of queries,
the XLSX export, the line scope and the API.

`build_report_plant` is shared with the other report tests.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qualiflow.accounts.models import SignatureMeaning
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.accounts.services import esignature_sign
from qualiflow.documents.models import Document, DocumentRevision
from qualiflow.people.models import Employee
from qualiflow.training import services
from qualiflow.training.models import (
    Attendance,
    Course,
    Qualification,
    QualificationDocument,
    QualificationGrant,
    TargetKind,
    TrainingRecord,
    TrainingSession,
)
from qualiflow.training.selectors import reports as selectors
from tests.conftest import PASSWORD

ZONE = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 6, 15)
REASON = "report test set-up"


def local(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=ZONE)


@dataclass
class ReportPlant:
    plant: object
    eo: Qualification  # Q-EO: one year, renewal lead 30 days; required of operators
    cleanroom: Qualification  # Q-CR: never expires; required of operators
    sop: Qualification  # Q-SOP: rests on SOP-ASM-001; required of operators
    release: Qualification  # Q-REL: required of supervisors, 30 days' grace
    document: Document
    course: Course
    people: dict[str, Employee]
    trainer: Employee
    record: TrainingRecord
    session: TrainingSession
    coordinator: object


def _grant(employee, qualification, start, until=None):
    return services.qualification_grant(
        employee=employee, qualification=qualification, valid_from=start, valid_until=until, source="manual",
        reason=REASON,
    )


@pytest.fixture
def report_plant(plant, make_employee, make_user) -> ReportPlant:
    return build_report_plant(plant, make_employee, make_user)


def build_report_plant(plant, make_employee, make_user) -> ReportPlant:
    create = services.qualification_create
    eo = create(data={"code": "Q-EO", "name": "环氧乙烷灭菌操作", "name_en": "EO steriliser operator",
                      "validity_days": 365, "renewal_lead_days": 30}, reason=REASON)
    cleanroom = create(data={"code": "Q-CR", "name": "洁净室行为规范", "name_en": "Clean-room conduct"}, reason=REASON)
    sop = create(data={"code": "Q-SOP", "name": "组装作业资质", "name_en": "Assembly procedure"}, reason=REASON)
    release = create(data={"code": "Q-REL", "name": "放行资质", "name_en": "Lot release"}, reason=REASON)
    document = Document.objects.create(code="SOP-ASM-001", title="输液器组装作业指导书", title_en="Infusion set assembly")
    DocumentRevision.objects.create(document=document, revision=1, label="A", effective_from=local(2025, 1, 1))
    DocumentRevision.objects.create(document=document, revision=2, label="B", effective_from=local(2026, 5, 1),
                                    retraining_grace_days=10)
    QualificationDocument.objects.create(qualification=sop, document=document)
    for qualification in (eo, cleanroom, sop):
        services.requirement_set(qualification=qualification, target_kind=TargetKind.POSITION,
                                 target_id=plant.operator.pk, reason=REASON)
    services.requirement_set(qualification=release, target_kind=TargetKind.POSITION, target_id=plant.supervisor.pk,
                             grace_days=30, reason=REASON)
    course = services.course_create(
        data={"code": "C-EO-101", "name": "环氧乙烷灭菌操作培训", "name_en": "EO sterilisation", "duration_hours": "4"},
        confers=[eo], reason=REASON,
    )

    def person(number, **kwargs):
        kwargs.setdefault("position", plant.operator)
        return make_employee(employee_number=number, hire_date=kwargs.pop("hire_date", dt.date(2022, 3, 1)), **kwargs)

    trainer = person("R00-TRAINER", position=None, family_name="张", given_name="伟")
    people = {
        "qualified": person("R01-QUAL", family_name="王", given_name="芳"),
        "expiring": person("R02-EXPIRING"),
        "expired": person("R03-EXPIRED"),
        "suspended": person("R04-SUSP"),
        "revoked": person("R05-REVOKED"),
        "missing": person("R06-MISSING"),
        "retraining": person("R07-RETRAIN"),
        "supervisor": person("R08-SUP", position=plant.supervisor, hire_date=dt.date(2026, 6, 1)),
        "line_b": person("R09-LINEB", line=plant.line_b),
        "left": person("R10-LEFT"),
        "future": person("R11-FUTURE", hire_date=dt.date(2026, 7, 1)),
    }
    Employee.objects.filter(pk=people["left"].pk).update(termination_date=dt.date(2026, 5, 31), status="terminated")

    _grant(people["qualified"], eo, local(2026, 1, 1), local(2027, 1, 1))
    _grant(people["qualified"], cleanroom, local(2024, 1, 1))
    _grant(people["qualified"], sop, local(2025, 6, 1))
    _grant(people["expiring"], eo, local(2025, 7, 1), local(2026, 7, 1))
    _grant(people["expired"], eo, local(2025, 1, 1), local(2026, 1, 1))
    _grant(people["suspended"], eo, local(2026, 1, 1), local(2027, 1, 1))
    services.qualification_suspend(employee=people["suspended"], qualification=eo, reason="偏差调查中",
                                   start=local(2026, 6, 1))
    _grant(people["revoked"], eo, local(2026, 1, 1), local(2027, 1, 1))
    services.qualification_revoke(employee=people["revoked"], qualification=eo, reason="违反操作规程",
                                  at=local(2026, 5, 1))
    _grant(people["retraining"], sop, local(2025, 6, 1))
    _grant(people["supervisor"], eo, local(2026, 1, 1), local(2027, 1, 1))
    for key, revision, label in (("qualified", 2, "B"), ("retraining", 1, "A")):
        TrainingRecord.objects.create(
            employee=people[key], course=course, completed_at=local(2025, 6, 1) if revision == 1 else local(2026, 5, 5),
            passed=True, document_id=document.pk, document_revision=revision, document_revision_label=label,
        )

    session = TrainingSession.objects.create(
        course=course, starts_at=local(2026, 6, 20, 9), ends_at=local(2026, 6, 20, 12), place="培训室 1",
        line=plant.line_a, trainer=trainer, capacity=12,
    )
    record = TrainingRecord.objects.create(
        employee=people["qualified"], course=course, completed_at=local(2026, 1, 1, 10), passed=True, score=92,
        trainer=trainer, session=session, line=plant.line_a,
    )
    Attendance.objects.create(session=session, employee=people["qualified"], attended=True, record=record)
    Attendance.objects.create(session=session, employee=people["missing"])
    coordinator = make_user(Role.TRAINING_COORDINATOR)
    record.refresh_from_db()  # signed as stored (the score as a decimal, the time in UTC)
    esignature_sign(signer=coordinator, password=PASSWORD, record=record, meaning=SignatureMeaning.PERFORMED)
    return ReportPlant(plant, eo, cleanroom, sop, release, document, course, people, trainer, record, session,
                       coordinator)


EXPECTED = {
    # employee number: states for Q-CR, Q-EO, Q-REL, Q-SOP
    "R00-TRAINER": ("not_required", "not_required", "not_required", "not_required"),
    "R01-QUAL": ("qualified", "qualified", "not_required", "qualified"),
    "R02-EXPIRING": ("missing", "expiring", "not_required", "missing"),
    "R03-EXPIRED": ("missing", "expired", "not_required", "missing"),
    "R04-SUSP": ("missing", "suspended", "not_required", "missing"),
    "R05-REVOKED": ("missing", "revoked", "not_required", "missing"),
    "R06-MISSING": ("missing", "missing", "not_required", "missing"),
    "R07-RETRAIN": ("missing", "missing", "not_required", "retraining_required"),
    "R08-SUP": ("not_required", "qualified", "missing", "not_required"),
    "R09-LINEB": ("missing", "missing", "not_required", "missing"),
}


def _states(matrix) -> dict[str, tuple[str, ...]]:
    return {row.employee.employee_number: tuple(c.state for c in row.cells) for row in matrix.rows}


def test_matrix_computes_every_state_exactly(report_plant, admin_user):
    matrix = selectors.training_matrix(user=admin_user, filters=selectors.MatrixFilters(day=DAY))

    assert [q.code for q in matrix.columns] == ["Q-CR", "Q-EO", "Q-REL", "Q-SOP"]
    assert _states(matrix) == EXPECTED  # the terminated and the not-yet-hired are left out
    assert matrix.at == local(2026, 6, 16) - dt.timedelta(microseconds=1)
    cells = {row.employee.employee_number: row.cells for row in matrix.rows}
    expiring = cells["R02-EXPIRING"][1]
    assert expiring.valid_until == local(2026, 7, 1)
    assert [r.code for r in expiring.reasons] == ["expires_soon"]
    assert "2026-07-01" in expiring.reasons[0].message
    retraining = cells["R07-RETRAIN"][3]
    assert retraining.reasons[0].code == "newer_revision"
    assert "SOP-ASM-001" in retraining.reasons[0].message
    suspended = cells["R04-SUSP"][1]
    assert "偏差调查中" in suspended.reasons[0].message
    # Held but not required: its state shows, flagged as not required.
    assert (cells["R08-SUP"][1].state, cells["R08-SUP"][1].required) == ("qualified", False)
    # Required of the new supervisor, but still in the 30 days' grace after the assignment.
    release = cells["R08-SUP"][2]
    assert release.required and release.in_grace_until == local(2026, 7, 1)
    assert [r.code for r in release.reasons] == ["no_grant", "requirement_in_grace"]


def test_matrix_at_another_day_and_filters(report_plant, admin_user):
    plant = report_plant.plant
    earlier = selectors.training_matrix(user=admin_user, filters=selectors.MatrixFilters(day=dt.date(2026, 4, 1)))
    assert [q.code for q in earlier.columns] == ["Q-CR", "Q-EO", "Q-SOP"]  # no supervisor yet: no Q-REL
    states = _states(earlier)
    assert states["R05-REVOKED"][1] == "qualified"  # revoked only on 1 May
    assert states["R07-RETRAIN"][2] == "qualified"  # revision B not yet in effect
    assert "R10-LEFT" in states and "R08-SUP" not in states  # still employed / not yet hired

    by_position = selectors.training_matrix(
        user=admin_user, filters=selectors.MatrixFilters(day=DAY, position_id=plant.supervisor.pk)
    )
    assert [r.employee.employee_number for r in by_position.rows] == ["R08-SUP"]
    assert [q.code for q in by_position.columns] == ["Q-REL"]

    chosen = selectors.training_matrix(
        user=admin_user,
        filters=selectors.MatrixFilters(day=DAY, line_id=plant.line_b.pk, qualification_ids=(report_plant.eo.pk,)),
    )
    assert _states(chosen) == {"R09-LINEB": ("missing",)}


def test_matrix_query_count_does_not_grow_with_people(plant, eo_operator, admin_user, django_assert_max_num_queries):
    services.requirement_set(qualification=eo_operator, target_kind=TargetKind.POSITION, target_id=plant.operator.pk,
                             reason=REASON)

    def hire(count: int, start: int) -> None:
        people = Employee.objects.bulk_create(
            Employee(employee_number=f"M{start + i:05d}", family_name="李", given_name="明", hire_date=dt.date(2023, 1, 1),
                     site=plant.site_b, department=plant.packaging_b, line=plant.line_b2, position=plant.operator)
            for i in range(count)
        )
        QualificationGrant.objects.bulk_create(
            QualificationGrant(employee=p, qualification=eo_operator, valid_from=local(2026, 1, 1),
                               valid_until=local(2027, 1, 1), source="import")
            for p in people
        )

    filters = selectors.MatrixFilters(day=DAY, line_id=plant.line_b2.pk)
    hire(1, 0)
    selectors.training_matrix(user=admin_user, filters=filters)  # the user's roles are cached from here on
    with CaptureQueriesContext(connection) as one:
        matrix = selectors.training_matrix(user=admin_user, filters=filters)
    assert len(matrix.rows) == 1
    hire(49, 1)
    with django_assert_max_num_queries(len(one.captured_queries)):
        matrix = selectors.training_matrix(user=admin_user, filters=filters)
    assert len(matrix.rows) == 50
    assert {c.state for r in matrix.rows for c in r.cells} == {"qualified"}
    with django_assert_max_num_queries(len(one.captured_queries) + 1):  # + the count of a paged matrix
        selectors.training_matrix(user=admin_user, filters=filters, limit=20, offset=20)


def test_matrix_page_shows_cells_legend_and_links(report_plant, admin_user, login):
    client = login(admin_user)
    response = client.get(reverse("training:matrix"), {"day": "2026-06-15"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="cell st-expiring"' in html
    assert "2026-07-01" in html  # the expiring grant's end, in the cell and its tooltip
    assert 'class="legend"' in html and "Retraining required" in html
    person = report_plant.people["qualified"]
    assert reverse("training:employee_training", kwargs={"pk": person.pk}) in html
    assert "R10-LEFT" not in html
    assert "Missing (in grace)" in html  # the new supervisor's Q-REL
    stale = client.get(reverse("training:matrix"), {"day": "2026-06-15", "page": "7"})  # past the last page
    assert "R01-QUAL" in stale.content.decode()


def test_matrix_export_xlsx(report_plant, admin_user, login):
    client = login(admin_user)
    response = client.get(reverse("training:matrix_export"), {"day": "2026-06-15"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Matrix", "Details", "Legend"]
    sheet = workbook["Matrix"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Employee number", "Name", "Department", "Line", "Position"]
    assert header[5:] == ["Q-CR Clean-room conduct", "Q-EO EO steriliser operator", "Q-REL Lot release",
                          "Q-SOP Assembly procedure"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == set(EXPECTED)
    expiring = rows["R02-EXPIRING"][6]
    assert expiring.value == "Expiring"
    assert expiring.fill.fgColor.rgb == "FFFFE082"
    assert rows["R07-RETRAIN"][8].value == "Retraining required"
    assert rows["R07-RETRAIN"][8].fill.fgColor.rgb == "FFFFB74D"
    assert rows["R01-QUAL"][1].value == "王芳"
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == "A1:I11"
    legend = workbook["Legend"]
    labels = [legend.cell(row=i, column=1).value for i in range(2, 10)]
    assert labels == ["Qualified", "Expiring", "Expired", "Suspended", "Revoked", "Retraining required", "Missing",
                      "Not required"]
    assert legend.cell(row=3, column=1).fill.fgColor.rgb == "FFFFE082"
    details = workbook["Details"]
    assert details.max_row == 1 + len(EXPECTED) * 4


def test_matrix_is_scoped_to_the_supervisors_line(report_plant, make_user, login):
    plant = report_plant.plant
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    matrix = selectors.training_matrix(user=supervisor, filters=selectors.MatrixFilters(day=DAY))
    assert "R09-LINEB" not in _states(matrix)
    assert {row.employee.line_id for row in matrix.rows} == {plant.line_a.pk}

    client = login(supervisor)
    page = client.get(reverse("training:matrix"), {"day": "2026-06-15"}).content.decode()
    assert "R01-QUAL" in page and "R09-LINEB" not in page
    export = openpyxl.load_workbook(io.BytesIO(client.get(reverse("training:matrix_export")).content))
    assert "R09-LINEB" not in [c.value for c in export["Matrix"]["A"]]
    api = client.get("/api/v1/training/matrix", {"day": "2026-06-15"}).json()
    assert "R09-LINEB" not in [item["employee_number"] for item in api["items"]]


def test_operator_is_denied_the_reports(report_plant, make_user, login):
    client = login(make_user(Role.OPERATOR))
    person = report_plant.people["qualified"]
    for url in (reverse("training:matrix"), reverse("training:matrix_export"), reverse("training:traceability"),
                reverse("training:traceability_export"), reverse("training:calendar"),
                reverse("training:calendar_ics"), reverse("training:employee_training", kwargs={"pk": person.pk}),
                reverse("training:passport", kwargs={"pk": person.pk})):
        assert client.get(url).status_code == 403, url
    for url in ("/api/v1/training/matrix", f"/api/v1/training/employees/{person.pk}/status",
                "/api/v1/training/traceability", f"/api/v1/training/employees/{person.pk}/passport.pdf"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["code"] == "core.permission_denied"


def test_matrix_api(report_plant, admin_user, login):
    client = login(admin_user)
    response = client.get("/api/v1/training/matrix", {"day": "2026-06-15", "limit": 3, "offset": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(EXPECTED)
    assert body["time_zone"] == "Asia/Shanghai"
    assert [c["code"] for c in body["columns"]] == ["Q-CR", "Q-EO", "Q-REL", "Q-SOP"]
    assert [i["employee_number"] for i in body["items"]] == ["R01-QUAL", "R02-EXPIRING", "R03-EXPIRED"]
    expiring = body["items"][1]["cells"][1]
    assert expiring["state"] == "expiring"
    assert expiring["required"] is True
    assert expiring["reasons"][0]["code"] == "expires_soon"
    assert expiring["evidence"][0].startswith("grant:")

    chosen = client.get("/api/v1/training/matrix", {
        "day": "2026-06-15", "qualification_id": [str(report_plant.release.pk)],
        "position_id": str(report_plant.plant.supervisor.pk),
    }).json()
    assert chosen["items"][0]["cells"][0]["in_grace_until"] == "2026-06-30T16:00:00Z"

    bad = client.get("/api/v1/training/matrix", {"day": "15.06.2026", "limit": 0})
    assert bad.status_code == 422
    assert set(bad.json()["details"]["fields"]) == {"day", "limit"}


def test_employee_status_api(report_plant, admin_user, login):
    client = login(admin_user)
    person = report_plant.people["retraining"]
    response = client.get(f"/api/v1/training/employees/{person.pk}/status", {"at": "2026-06-15T12:00:00+08:00"})
    assert response.status_code == 200
    body = response.json()
    assert body["allowed"] is False
    states = {q["code"]: q["state"] for q in body["qualifications"]}
    assert states == {"Q-CR": "missing", "Q-EO": "missing", "Q-SOP": "retraining_required"}
    sop = next(q for q in body["qualifications"] if q["code"] == "Q-SOP")
    assert sop["reasons"][0]["code"] == "newer_revision"
    assert sop["reasons"][0]["params"]["revision"] == "B"
    assert any(e.startswith("grant:") for e in sop["evidence"])

    assert client.get("/api/v1/training/employees/00000000-0000-0000-0000-000000000000/status").status_code == 404
    assert client.get("/api/v1/training/employees/not-a-uuid/status").status_code == 422
