"""Traceability ("who was trained when, how, by whom, for which line, on what") and the session calendar."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.training.models import TrainingRecord, TrainingSession
from qualiflow.training.selectors import reports as selectors
from tests.training.test_reports_matrix import build_report_plant, local


@pytest.fixture
def report_plant(plant, make_employee, make_user):
    return build_report_plant(plant, make_employee, make_user)


@pytest.fixture
def traced(report_plant):
    """One more record: a failed training on line B, in March."""
    plant = report_plant.plant
    TrainingRecord.objects.create(
        employee=report_plant.people["line_b"], course=report_plant.course, completed_at=local(2026, 3, 2, 14),
        passed=False, score=40, trainer=report_plant.trainer, line=plant.line_b,
    )
    return report_plant


def _numbers(records) -> list[tuple[str, str]]:
    return [(r.employee.employee_number, r.completed_at.astimezone(local(2026, 1, 1).tzinfo).date().isoformat())
            for r in records]


def test_traceability_filters(traced, admin_user):
    plant = traced.plant

    def find(**filters):
        return _numbers(selectors.traceability(user=admin_user, filters=selectors.TraceFilters(**filters)))

    everything = find()
    assert everything == [("R01-QUAL", "2026-05-05"), ("R09-LINEB", "2026-03-02"), ("R01-QUAL", "2026-01-01"),
                          ("R07-RETRAIN", "2025-06-01")]
    assert find(passed=False) == [("R09-LINEB", "2026-03-02")]
    assert find(trainer_id=traced.trainer.pk) == [("R09-LINEB", "2026-03-02"), ("R01-QUAL", "2026-01-01")]
    assert find(trainer="张") == find(trainer_id=traced.trainer.pk)
    assert find(line_id=plant.line_a.pk) == [("R01-QUAL", "2026-01-01")]  # the session's line counts too
    assert find(line_id=plant.line_b.pk) == [("R09-LINEB", "2026-03-02")]
    assert find(document_id=traced.document.pk) == [("R01-QUAL", "2026-05-05"), ("R07-RETRAIN", "2025-06-01")]
    assert find(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 2)) == [
        ("R09-LINEB", "2026-03-02"), ("R01-QUAL", "2026-01-01")]
    assert find(employee="R07") == [("R07-RETRAIN", "2025-06-01")]
    assert find(employee_id=traced.people["qualified"].pk, passed=True) == [
        ("R01-QUAL", "2026-05-05"), ("R01-QUAL", "2026-01-01")]
    assert find(course_id=traced.course.pk) == everything
    assert find(qualification_id=traced.eo.pk) == everything  # C-EO-101 confers Q-EO
    assert find(qualification_id=traced.sop.pk) == []


def test_traceability_refuses_a_period_that_ends_before_it_starts(traced, admin_user, login):
    client = login(admin_user)
    response = client.get(reverse("training:traceability"), {"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert response.status_code == 200
    assert "The start of the period must not be after its end." in response.content.decode()
    api = client.get("/api/v1/training/traceability", {"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert api.status_code == 422
    assert api.json()["code"] == "training.report_filter_invalid"
    assert client.get(reverse("training:traceability_export"),
                      {"date_from": "2026-03-01", "date_to": "2026-02-01"}).status_code == 400


def test_traceability_page_and_export(traced, admin_user, login):
    client = login(admin_user)
    page = client.get(reverse("training:traceability"), {"line": str(traced.plant.line_a.pk)})
    assert page.status_code == 200
    html = page.content.decode()
    assert "培训室 1" in html and "R00-TRAINER" in html and "2026-01-01 10:00" in html
    assert "R09-LINEB" not in html

    export = client.get(reverse("training:traceability_export"), {"passed": "yes"})
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Completed at (site time)", "Employee number", "Name", "Course code"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [r[1] for r in rows] == ["R01-QUAL", "R01-QUAL", "R07-RETRAIN"]
    session_row = rows[1]
    assert session_row[0] == dt.datetime(2026, 1, 1, 10, 0)  # Shanghai time, as the site reads it
    assert session_row[3] == "C-EO-101"
    assert session_row[7] == "L-A Infusion set line A"
    assert session_row[9] == "培训室 1"
    assert "Performed" in session_row[12]
    assert rows[0][8] == "SOP-ASM-001 B"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")


def test_traceability_api(traced, admin_user, login):
    client = login(admin_user)
    response = client.get("/api/v1/training/traceability", {"course_id": str(traced.course.pk), "limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    first, second = body["items"]
    assert (first["employee_number"], first["document_code"], first["document_revision_label"]) == (
        "R01-QUAL", "SOP-ASM-001", "B")
    assert (second["employee_number"], second["passed"], second["trainer_name"]) == ("R09-LINEB", False, "张伟")
    assert second["line_code"] == "L-B"
    session = client.get("/api/v1/training/traceability", {"line_id": str(traced.plant.line_a.pk)}).json()["items"]
    assert [(s["session_place"], s["line_code"], [x["meaning"] for x in s["signatures"]]) for s in session] == [
        ("培训室 1", "L-A", ["performed"])]


def test_traceability_is_scoped(traced, make_user):
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=traced.plant.line_a.pk)
    seen = _numbers(selectors.traceability(user=supervisor, filters=selectors.TraceFilters()))
    assert "R09-LINEB" not in {number for number, _ in seen}
    assert len(seen) == 3


def test_calendar_shows_a_session_in_its_month(report_plant, admin_user, login):
    client = login(admin_user)
    june = client.get(reverse("training:calendar"), {"month": "2026-06"})
    assert june.status_code == 200
    html = june.content.decode()
    assert "C-EO-101" in html and "培训室 1" in html
    assert "2/12" in html  # enrolled of capacity
    assert "month=2026-05" in html and "month=2026-07" in html  # previous / next month
    assert html.count('<span class="session"') == 1
    july = client.get(reverse("training:calendar"), {"month": "2026-07"}).content.decode()
    assert '<span class="session"' not in july and "No sessions in this month." in july
    other_line = client.get(reverse("training:calendar"),
                            {"month": "2026-06", "line": str(report_plant.plant.line_b.pk)}).content.decode()
    assert '<span class="session"' not in other_line


def test_calendar_month_is_counted_in_the_site_time_zone(report_plant, admin_user):
    # 1 July 07:00 in Shanghai is still 30 June in UTC: the session belongs to July.
    TrainingSession.objects.create(course=report_plant.course, starts_at=local(2026, 7, 1, 7),
                                   ends_at=local(2026, 7, 1, 9), capacity=5)
    month = selectors.session_calendar(user=admin_user, year=2026, month=7, filters=selectors.CalendarFilters())
    assert [s.starts_at for s in month.sessions] == [local(2026, 7, 1, 7)]
    first_day = next(day for week in month.weeks for day in week if day.day == dt.date(2026, 7, 1))
    assert len(first_day.sessions) == 1
    assert month.weeks[0][0].day == dt.date(2026, 6, 29)  # weeks start on Monday


def test_calendar_ics(report_plant, admin_user, login):
    response = login(admin_user).get(reverse("training:calendar_ics"), {"month": "2026-06"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 1
    assert "DTSTART:20260620T010000Z" in text and "DTEND:20260620T040000Z" in text
    assert f"UID:{report_plant.session.pk}@" in text
    assert "LOCATION:培训室 1" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_calendar_is_scoped(report_plant, make_user):
    plant = report_plant.plant
    TrainingSession.objects.create(course=report_plant.course, starts_at=local(2026, 6, 22, 9),
                                   ends_at=local(2026, 6, 22, 10), line=plant.line_b2, capacity=5)
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    month = selectors.session_calendar(user=supervisor, year=2026, month=6, filters=selectors.CalendarFilters())
    assert [s.line_id for s in month.sessions] == [plant.line_a.pk]
