"""Turn the demo plan into records: the organisation through the org services, people in bulk (audited in
bulk by the model layer), a login for every role, the training catalogue with two years of history, then
equipment, routings and a year of work orders run through the station (`production_seed`)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from django.db import transaction
from django.utils import translation

from qualiflow.accounts import services as account_services
from qualiflow.accounts.models import User
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.automation import services as automation_services
from qualiflow.core import context
from qualiflow.core.context import Actor
from qualiflow.org import services as org_services
from qualiflow.org.models import Company, Department, OrgUnit, Position, ProductionLine, Site, WorkCenter
from qualiflow.people.models import Employee, EmployeeStatus, PositionAssignment

from . import plan, production_seed, training_seed

DEMO_PASSWORD = "qualiflow-demo"
SEED_ACTOR = Actor(kind="system", id="", name="seed")
SEED_REASON = "Demo plant seed"
# Marks the company as demo data; `--reset` only wipes a database that carries it.
DEMO_MARKER = "qualiflow-demo"
BATCH_SIZE = 2000

U = TypeVar("U", bound=OrgUnit)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    scope_kind: str = ScopeKind.GLOBAL
    scope_code: str = ""  # code of the site or line the role is limited to
    language: str = User.Language.CHINESE


DEMO_LOGINS = (
    DemoLogin("admin", Role.SYSTEM_ADMIN, language=User.Language.ENGLISH),
    DemoLogin("hr", Role.HR_ADMIN),
    DemoLogin("training", Role.TRAINING_COORDINATOR),
    DemoLogin("supervisor.a", Role.PRODUCTION_SUPERVISOR, ScopeKind.LINE, "SZ-ASM-A"),
    DemoLogin("operator", Role.OPERATOR, ScopeKind.LINE, "SZ-ASM-A"),
    DemoLogin("qa", Role.QA),
    DemoLogin("maintenance", Role.MAINTENANCE, ScopeKind.SITE, "SZ"),
    DemoLogin("auditor", Role.AUDITOR, language=User.Language.ENGLISH),
)
INTEGRATION_LOGIN = DemoLogin("integration", Role.INTEGRATION, language=User.Language.ENGLISH)


@dataclass(frozen=True)
class SeedResult:
    employees: int
    api_token: str


@dataclass
class _Org:
    sites: dict[str, Site]
    departments: dict[str, Department]
    lines: dict[str, ProductionLine]
    positions: dict[str, Position]


def is_demo_database() -> bool:
    return Company.objects.filter(external_refs__has_key=DEMO_MARKER).exists()


def seed_plant(
    *, seed: int, employees: int, today: dt.date, progress: Callable[[str], None] = lambda _line: None
) -> SeedResult:
    """Build the whole plant in one transaction: a failed seed leaves nothing behind."""
    people = plan.plan_people(random.Random(seed), employees, today)
    with context.acting(actor=SEED_ACTOR, reason=SEED_REASON), transaction.atomic():
        org = _create_org(seed)
        progress(f"organisation: {len(org.sites)} sites, {len(org.departments)} departments, "
                 f"{len(org.lines)} lines, {len(org.positions)} positions")
        users = _create_logins(people, org)
        token = _issue_integration_token()
        employees = _create_people(people, org, users, progress)
        training_seed.seed_training(
            seed=seed, people=people, employees=employees, org=org, today=today, reason=SEED_REASON, progress=progress,
        )
        production_seed.seed_production(seed=seed, reason=SEED_REASON, password=DEMO_PASSWORD, progress=progress)
        # Active from now: the plant's default rules react to what happens next, not to the seeded history.
        # Named in the plant's language, like the rest of its records.
        with translation.override("zh-hans"):
            rules = automation_services.rules_install_defaults()
        progress(f"automation: {len(rules)} default rules")
    return SeedResult(employees=len(people), api_token=token)


def _create(model: type[U], data: dict[str, Any]) -> U:
    return org_services.org_unit_create(model=model, data=data, reason=SEED_REASON)


def _create_org(seed: int) -> _Org:
    spec = plan.COMPANY
    company = _create(
        Company, {"code": spec.code, "name": spec.name, "name_en": spec.name_en, "external_refs": {DEMO_MARKER: str(seed)}}
    )
    sites = {
        s.code: _create(Site, {"code": s.code, "name": s.name, "name_en": s.name_en, "company": company,
                               "time_zone": s.time_zone, "address": s.address})
        for s in plan.SITES
    }
    departments = {
        d.code: _create(Department, {"code": d.code, "name": d.name, "name_en": d.name_en, "site": sites[d.site]})
        for d in plan.DEPARTMENTS
    }
    lines = {}
    for line in plan.LINES:
        department = departments[line.department]
        lines[line.code] = _create(ProductionLine, {
            "code": line.code, "name": line.name, "name_en": line.name_en, "site": department.site,
            "department": department, "clean_room_class": line.clean_room_class,
        })
        for station in line.work_centers:
            _create(WorkCenter, {"code": f"{line.code}-{station.suffix}", "name": station.name,
                                 "name_en": station.name_en, "line": lines[line.code]})
    positions = {
        p.code: _create(Position, {"code": p.code, "name": p.name, "name_en": p.name_en, "description": p.description})
        for p in plan.POSITIONS
    }
    return _Org(sites, departments, lines, positions)


def _scope_id(login: DemoLogin, org: _Org) -> UUID | None:
    if login.scope_kind == ScopeKind.SITE:
        return org.sites[login.scope_code].pk
    if login.scope_kind == ScopeKind.LINE:
        return org.lines[login.scope_code].pk
    return None


def _create_logins(people: list[plan.PlannedEmployee], org: _Org) -> dict[str, User]:
    linked = {p.login: p for p in people if p.login}
    users = {}
    for login in DEMO_LOGINS:
        person = linked.get(login.username)
        user = account_services.user_create(
            username=login.username, password=DEMO_PASSWORD, language=login.language,
            first_name=person.name.given_name if person else "", last_name=person.name.family_name if person else "",
            email=person.email if person else "",
        )
        account_services.role_assign(user=user, role=login.role, scope_kind=login.scope_kind, scope_id=_scope_id(login, org))
        users[login.username] = user
    return users


def _issue_integration_token() -> str:
    client = account_services.user_create(
        username=INTEGRATION_LOGIN.username, password=None, language=INTEGRATION_LOGIN.language, is_integration=True,
    )
    account_services.role_assign(user=client, role=INTEGRATION_LOGIN.role)
    _token, secret = account_services.api_token_issue(user=client, name="Demo integration")
    return secret


def _create_people(
    people: list[plan.PlannedEmployee], org: _Org, users: dict[str, User], progress: Callable[[str], None]
) -> list[Employee]:
    """Bulk inserts in batches; foreign keys are checked at commit, so managers may come in a later batch.
    Returns the employees in the order of `people`."""
    by_slot = {p.slot: Employee(
        employee_number=p.employee_number,
        family_name=p.name.family_name,
        given_name=p.name.given_name,
        latin_name=p.name.latin_name,
        employment_type=p.employment_type,
        status=EmployeeStatus.TERMINATED if p.termination_date else EmployeeStatus.ACTIVE,
        hire_date=p.hire_date,
        termination_date=p.termination_date,
        birth_date=p.birth_date,
        site=org.sites[p.site],
        department=org.departments[p.department],
        line=org.lines[p.line] if p.line else None,
        position=org.positions[p.position],
        email=p.email,
        phone=p.phone,
        user=users.get(p.login) if p.login else None,
        external_refs={"legacy-hr": p.legacy_hr_key},
    ) for p in people}
    employees = [by_slot[p.slot] for p in people]
    for p, employee in zip(people, employees, strict=True):
        employee.manager = by_slot[p.manager_slot] if p.manager_slot is not None else None
    for start in range(0, len(employees), BATCH_SIZE):
        batch = employees[start:start + BATCH_SIZE]
        Employee.objects.bulk_create(batch)
        progress(f"employees: {start + len(batch)}/{len(employees)}")
    assignments = [
        PositionAssignment(employee=employee, position=org.positions[code], start_date=start, end_date=end)
        for p, employee in zip(people, employees, strict=True)
        for code, start, end in p.history
    ]
    for start in range(0, len(assignments), BATCH_SIZE):
        PositionAssignment.objects.bulk_create(assignments[start:start + BATCH_SIZE])
    progress(f"position assignments: {len(assignments)}")
    return employees


@dataclass(frozen=True)
class LoginRow:
    username: str
    role: str
    scope: str
    employee: str


def demo_login_rows() -> list[LoginRow]:
    """The demo logins as they stand in the database, for the table printed after seeding."""
    usernames = [login.username for login in (*DEMO_LOGINS, INTEGRATION_LOGIN)]
    users = User.objects.filter(username__in=usernames).prefetch_related("role_assignments")
    employees = {e.user_id: e for e in Employee.objects.filter(user__in=users).select_related("position")}
    scope_names = {
        **{s.pk: f"site {s.code} {s.name}" for s in Site.objects.all()},
        **{d.pk: f"department {d.code} {d.name}" for d in Department.objects.all()},
        **{line.pk: f"line {line.code} {line.name}" for line in ProductionLine.objects.all()},
    }
    rows = []
    for user in sorted(users, key=lambda u: usernames.index(u.username)):
        for assignment in user.role_assignments.all():
            employee = employees.get(user.pk)
            rows.append(LoginRow(
                username=user.username,
                role=str(Role(assignment.role).label),
                scope=scope_names.get(assignment.scope_id, "whole company") if assignment.scope_id else "whole company",
                employee=f"{employee.employee_number} {employee.full_name} ({employee.position.name_en})" if employee else "",
            ))
    return rows
