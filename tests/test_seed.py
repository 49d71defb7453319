"""The demo plant seed: deterministic, complete, audited, and scoped logins for every role."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from qualiflow.accounts.models import ApiToken, RoleAssignment, User
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.accounts.services import api_token_authenticate
from qualiflow.audit.models import AuditEntry
from qualiflow.demo import plan, production_seed, training_plan, training_seed
from qualiflow.demo.names import join_syllables
from qualiflow.documents.models import DocumentRevision
from qualiflow.org.models import Company, Department, Position, ProductionLine, Site, WorkCenter
from qualiflow.people.models import Employee, EmployeeStatus, PositionAssignment
from qualiflow.people.selectors import employees_visible
from qualiflow.training.domain.status import State, qualification_status, qualification_statuses
from qualiflow.training.models import (
    Assessment,
    Certificate,
    Course,
    Curriculum,
    Qualification,
    QualificationGrant,
    QualificationRevocation,
    QualificationSuspension,
    Requirement,
    TrainingAssignment,
    TrainingRecord,
    TrainingSession,
)
from qualiflow.training.selectors import domain_qualifications, facts_for, requirements_for, revisions_for

EMPLOYEES = 120


@pytest.fixture(autouse=True)
def _without_production(monkeypatch):
    """Production, equipment and quality are seeded once and checked in test_seed_production.py; seeded in
    every test here they would only add minutes."""
    monkeypatch.setattr(production_seed, "seed_production", lambda **_kwargs: None)


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed", "--employees", str(EMPLOYEES), *args, stdout=out)
    return out.getvalue()


def _seeded_roster(seed: int) -> list[tuple[str, str, str]]:
    """Seed inside a savepoint that is rolled back, so the next seed starts from an empty database."""
    with transaction.atomic():
        _seed("--seed", str(seed))
        roster = list(Employee.objects.order_by("employee_number").values_list("employee_number", "family_name", "given_name"))
        transaction.set_rollback(True)
    return roster


def _assert_foreign_keys_hold() -> None:
    """Foreign keys are checked at commit and a test never commits: check them now."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_key_check")
            assert cursor.fetchall() == []
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db
def test_same_seed_same_people_and_another_seed_other_people():
    first = _seeded_roster(1)
    again = _seeded_roster(1)
    other = _seeded_roster(2)
    assert len(first) == EMPLOYEES
    assert first == again
    assert {number for number, *_ in other} != {number for number, *_ in first}
    assert [name for _, *name in other] != [name for _, *name in first]
    assert Employee.objects.count() == 0


@pytest.mark.django_db
def test_seed_builds_the_plant_structure():
    _seed()
    _assert_foreign_keys_hold()
    company = Company.objects.get()
    assert company.external_refs == {"qualiflow-demo": "13485"}
    assert {(s.code, s.time_zone) for s in Site.objects.all()} == {("SZ", "Asia/Shanghai"), ("CZ", "Asia/Shanghai")}
    assert set(Department.objects.values_list("code", flat=True)) == {d.code for d in plan.DEPARTMENTS}
    assert Department.objects.get(code="CZ-EO").name == "环氧乙烷灭菌车间"
    line_a = ProductionLine.objects.get(code="SZ-ASM-A")
    assert (line_a.name, line_a.site.code, line_a.department.code, line_a.clean_room_class) == (
        "输液器组装线A", "SZ", "SZ-ASM", "ISO 8 (十万级)")
    assert ProductionLine.objects.count() == 7
    assert WorkCenter.objects.filter(line=line_a).count() == 6
    assert WorkCenter.objects.count() == sum(len(line.work_centers) for line in plan.LINES)
    positions = {p.code: p for p in Position.objects.all()}
    assert set(positions) == {p.code for p in plan.POSITIONS}
    assert all(p.name_en for p in positions.values())
    assert positions["OP-ASM"].name == "组装操作工"


@pytest.mark.django_db
def test_every_employee_is_complete_and_has_a_position_history():
    _seed()
    employees = list(Employee.objects.select_related("position", "manager__position", "line"))
    assert len(employees) == EMPLOYEES
    history = {}
    for assignment in PositionAssignment.objects.order_by("start_date"):
        history.setdefault(assignment.employee_id, []).append(assignment)
    legacy_keys = set()
    for employee in employees:
        assert re.fullmatch(r"20\d{7}", employee.employee_number)
        assert employee.employee_number.startswith(str(employee.hire_date.year))
        assert employee.family_name and 1 <= len(employee.given_name) <= 2
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z']+", employee.latin_name)
        assert re.fullmatch(r"1\d{10}", employee.phone)
        legacy_keys.add(employee.external_refs["legacy-hr"])
        assignments = history[employee.pk]
        assert assignments[0].start_date == employee.hire_date
        assert assignments[-1].position_id == employee.position_id
        for earlier, later in itertools.pairwise(assignments):
            assert earlier.end_date == later.start_date
        if employee.status == EmployeeStatus.TERMINATED:
            assert assignments[-1].end_date == employee.termination_date
        else:
            assert employee.termination_date is None
            assert assignments[-1].end_date is None
        if employee.position.code in plan.OPERATOR_POSITIONS:
            assert employee.manager.position.code == "TL"
            assert employee.manager.line_id == employee.line_id
    assert len(legacy_keys) == EMPLOYEES
    assert any(len(assignments) > 1 for assignments in history.values())
    assert Employee.objects.filter(status=EmployeeStatus.TERMINATED).exists()
    assert Employee.objects.filter(position__code="SUP", line__code="SZ-ASM-A").count() == 1
    assert Employee.objects.filter(manager__isnull=True).count() == len([u for u in plan.UNITS if u.line is None])
    assert Employee.objects.exclude(employment_type="staff").exists()
    assert Employee.objects.filter(hire_date__lt=dt.date.today() - dt.timedelta(days=8 * 365)).exists()


@pytest.mark.django_db
def test_demo_logins_cover_every_role_with_scopes():
    output = _seed()
    line_a = ProductionLine.objects.get(code="SZ-ASM-A")
    suzhou = Site.objects.get(code="SZ")
    assert set(RoleAssignment.objects.values_list("user__username", "role", "scope_kind", "scope_id")) == {
        ("admin", Role.SYSTEM_ADMIN, ScopeKind.GLOBAL, None),
        ("hr", Role.HR_ADMIN, ScopeKind.GLOBAL, None),
        ("training", Role.TRAINING_COORDINATOR, ScopeKind.GLOBAL, None),
        ("supervisor.a", Role.PRODUCTION_SUPERVISOR, ScopeKind.LINE, line_a.pk),
        ("operator", Role.OPERATOR, ScopeKind.LINE, line_a.pk),
        ("qa", Role.QA, ScopeKind.GLOBAL, None),
        ("maintenance", Role.MAINTENANCE, ScopeKind.SITE, suzhou.pk),
        ("auditor", Role.AUDITOR, ScopeKind.GLOBAL, None),
        ("integration", Role.INTEGRATION, ScopeKind.GLOBAL, None),
    }
    for user in User.objects.exclude(username="integration"):
        assert user.password.startswith("argon2$")
        assert user.check_password("qualiflow-demo")
    linked = dict(Employee.objects.filter(user__isnull=False).values_list("user__username", "position__code"))
    assert linked == {"hr": "HR-MGR", "training": "TRN", "supervisor.a": "SUP", "operator": "OP-ASM",
                      "qa": "QA-ENG", "maintenance": "MT-TECH"}
    supervisor = User.objects.get(username="supervisor.a")
    assert supervisor.last_name + supervisor.first_name == supervisor.employee.full_name
    visible = employees_visible(supervisor)
    assert visible.count() == Employee.objects.filter(line=line_a).count() < EMPLOYEES
    assert set(visible.values_list("line_id", flat=True)) == {line_a.pk}

    client = User.objects.get(username="integration")
    assert client.is_integration and not client.has_usable_password()
    token = re.search(r"API token of 'integration'.*: (qf_\S+)", output).group(1)
    assert ApiToken.objects.get().user == client
    assert api_token_authenticate(token) == client
    for username in ("admin", "hr", "training", "supervisor.a", "operator", "qa", "maintenance", "auditor"):
        assert re.search(rf"^{re.escape(username)}\s", output, re.MULTILINE)
    assert "qualiflow-demo" in output


@pytest.mark.django_db
def test_seeded_rows_are_audited_and_the_chain_verifies():
    _seed()
    creates = AuditEntry.objects.filter(action="create")
    for model, object_type in ((Employee, "people.employee"), (PositionAssignment, "people.positionassignment"),
                               (ProductionLine, "org.productionline"), (User, "accounts.user")):
        ids = {str(pk) for pk in model.objects.values_list("pk", flat=True)}
        assert sorted(creates.filter(object_type=object_type).values_list("object_id", flat=True)) == sorted(ids)
    employee_entries = creates.filter(object_type="people.employee")
    assert set(employee_entries.values_list("actor_kind", "actor_name", "reason")) == {("system", "seed", "Demo plant seed")}
    entry = employee_entries.get(object_id=str(Employee.objects.get(user__username="hr").pk))
    assert '"family_name":[null,' in entry.changes
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().strip() == f"audit chain intact: {AuditEntry.objects.count()} entries"


@pytest.mark.django_db
def test_if_empty_leaves_a_populated_database_alone_and_a_plain_seed_refuses():
    _seed()
    counts = (Employee.objects.count(), AuditEntry.objects.count(), User.objects.count())
    output = _seed("--if-empty")
    assert "not seeded again" in output
    assert "supervisor.a" in output
    with pytest.raises(CommandError, match="already holds employees"):
        _seed()
    assert (Employee.objects.count(), AuditEntry.objects.count(), User.objects.count()) == counts


@pytest.mark.django_db
def test_reset_refuses_a_database_other_than_the_default_sqlite_file():
    with pytest.raises(CommandError, match="only deletes the default SQLite database"):
        _seed("--reset")
    assert (Employee.objects.count(), AuditEntry.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_seed_refuses_a_head_count_below_the_minimum_staffing():
    with pytest.raises(CommandError, match=f"at least {plan.minimum_headcount()} employees"):
        call_command("seed", "--employees", str(plan.minimum_headcount() - 1), stdout=StringIO())
    assert Employee.objects.count() == 0


def test_unit_sizes_add_up_to_the_head_count():
    for total in (plan.minimum_headcount(), 120, 300, 100_000):
        sizes = plan.unit_sizes(total)
        assert sum(sizes) == total
        assert all(size >= 1 for size in sizes)


def test_plan_numbers_people_by_hire_date():
    people = plan.plan_people(random.Random(5), 300, dt.date(2026, 1, 15))
    assert [p.hire_date for p in people] == sorted(p.hire_date for p in people)
    assert len({p.employee_number for p in people}) == 300
    assert {p.login for p in people if p.login} == set(plan.LINKED_LOGINS)
    assert all(p.termination_date is None for p in people if p.login)


def test_pinyin_given_names_mark_syllable_boundaries():
    assert join_syllables(["yong", "an"]) == "Yong'an"
    assert join_syllables(["xiao", "ming"]) == "Xiaoming"
    assert join_syllables(["wei"]) == "Wei"


def _training_snapshot() -> dict[str, list[tuple]]:
    """The seeded training data by natural keys (ids are random UUIDs and not part of the seed)."""
    return {
        "grants": sorted(QualificationGrant.objects.values_list(
            "employee__employee_number", "qualification__code", "valid_from", "valid_until", "source",
            "certificate_number", "issuer")),
        "records": sorted(TrainingRecord.objects.values_list(
            "employee__employee_number", "course__code", "completed_at", "passed", "score", "document_revision_label",
            "trainer__employee_number"), key=str),
        "sessions": sorted(TrainingSession.objects.values_list(
            "course__code", "starts_at", "trainer__employee_number", "external_trainer", "capacity"), key=str),
        "assignments": sorted(TrainingAssignment.objects.values_list(
            "employee__employee_number", "course__code", "reason", "due_on", "source_key")),
        "suspensions": sorted(QualificationSuspension.objects.values_list("employee__employee_number", "start")),
        "revocations": sorted(QualificationRevocation.objects.values_list("employee__employee_number", "at")),
    }


def _seeded_training(seed: int) -> dict[str, list[tuple]]:
    with transaction.atomic():
        _seed("--seed", str(seed))
        snapshot = _training_snapshot()
        transaction.set_rollback(True)
    return snapshot


@pytest.mark.django_db
def test_same_seed_same_training_history_and_another_seed_another():
    first = _seeded_training(7)
    assert first == _seeded_training(7)
    other = _seeded_training(8)
    assert other["grants"] != first["grants"]
    assert all(first[kind] for kind in first)


def _demo_matrix(at) -> Counter:
    """Every active employee and each qualification their position requires, as the status function sees it."""
    required: dict = {}
    for position_id, qualification_id in Requirement.objects.filter(target_kind="position").values_list(
        "target_id", "qualification_id"
    ):
        required.setdefault(position_id, []).append(qualification_id)
    qualifications = domain_qualifications({q for ids in required.values() for q in ids})
    revisions = revisions_for(list(qualifications))
    people = Employee.objects.filter(status=EmployeeStatus.ACTIVE)
    positions = dict(people.values_list("pk", "position_id"))
    states = Counter()
    for pk, facts in facts_for(people).items():
        columns = [qualifications[q] for q in required.get(positions[pk], [])]
        states.update(s.state for s in qualification_statuses(person=facts, qualifications=columns, revisions=revisions, at=at))
    return states


@pytest.mark.django_db
def test_the_demo_matrix_shows_every_status():
    output = _seed()
    assert re.search(r"training history: \d+ sessions, \d+ training records", output)
    states = _demo_matrix(timezone.now())
    assert set(states) == set(State)
    assert states[State.QUALIFIED] > sum(n for state, n in states.items() if state != State.QUALIFIED)
    assert states[State.SUSPENDED] == states[State.REVOKED] == 1


@pytest.mark.django_db
def test_the_demo_catalogue_and_history_hold_together():
    _seed()
    _assert_foreign_keys_hold()
    assert Qualification.objects.count() == len(training_plan.QUALIFICATIONS) >= 30
    assert set(Qualification.objects.values_list("kind", flat=True)) == {
        "internal", "external_certificate", "health_certificate"}
    assert set(Course.objects.values_list("kind", flat=True)) == {
        "classroom", "on_the_job", "e_learning", "read_and_understand", "external"}
    assert Curriculum.objects.count() == len(training_plan.CURRICULA)
    for capability in ("release_lot", "perform_calibration", "approve_capa", "sign_dhr"):
        assert requirements_for(capability=capability)
    # Every session's trainer held the course's trainer qualification when it started.
    sessions = list(TrainingSession.objects.filter(trainer__isnull=False).select_related("course"))
    trainer_facts = facts_for({s.trainer_id for s in sessions})
    trainer_qualifications = domain_qualifications({s.course.trainer_qualification_id for s in sessions})
    for session in sessions:
        status = qualification_status(
            person=trainer_facts[session.trainer_id],
            qualification=trainer_qualifications[session.course.trainer_qualification_id], at=session.starts_at,
        )
        assert status.allowed, (session.course.code, session.starts_at)
    assert not TrainingRecord.objects.filter(trainer=F("employee")).exists()
    # Passed assessments reach the pass mark, failed ones do not; failed records grant nothing.
    assert not Assessment.objects.filter(passed=True, score__lt=F("pass_mark")).exists()
    assert not Assessment.objects.filter(passed=False, score__gte=F("pass_mark")).exists()
    assert Assessment.objects.filter(passed=False).exists()
    # Certificates: numbered, issued, each with its grant; special-equipment licences and health certificates.
    certificates = Certificate.objects.select_related("grant", "qualification")
    assert {c.qualification.code for c in certificates} >= {"Q-SE-R1", "Q-HEALTH"}
    for certificate in certificates:
        assert certificate.grant.certificate_number == certificate.number and certificate.issuer
    # The new revisions of the gowning and EO procedures were read by most holders within their grace.
    revision_c = DocumentRevision.objects.get(document__code="SOP-EO-001", label="C")
    assert TrainingRecord.objects.filter(document_id=revision_c.document_id, document_revision=revision_c.revision,
                                         course__code="C-EO-RU").exists()
    assert TrainingAssignment.objects.filter(status="open", reason="document_revision").exists()
    assert AuditEntry.objects.filter(object_type="training.trainingrecord").count() == TrainingRecord.objects.count()


@pytest.mark.django_db
def test_training_history_is_skipped_above_the_limit(monkeypatch):
    monkeypatch.setattr(training_seed, "HISTORY_LIMIT", EMPLOYEES - 1)
    output = _seed()
    assert "training history: skipped above" in output
    assert Qualification.objects.exists() and requirements_for(capability="release_lot")
    assert not TrainingRecord.objects.exists() and not QualificationGrant.objects.exists()
