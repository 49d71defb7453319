"""Shared fixtures: a small plant (two sites, two lines), users per role, employees.

Everything runs against the real database configured by DATABASE_URL (SQLite by default, PostgreSQL in CI).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest

from qualiflow.accounts import services as account_services
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.org import services as org_services
from qualiflow.org.models import Company, Department, Position, ProductionLine, Site
from qualiflow.people import services as people_services

PASSWORD = "Correct-Horse-42"
_numbers = itertools.count(1)


@dataclass
class Plant:
    company: Company
    site_a: Site
    site_b: Site
    assembly: Department
    moulding: Department
    packaging_b: Department
    line_a: ProductionLine
    line_b: ProductionLine
    line_b2: ProductionLine
    operator: Position
    supervisor: Position


@pytest.fixture
def plant(db) -> Plant:
    create = org_services.org_unit_create
    company = create(model=Company, data={"code": "QF", "name": "示例医疗器械有限公司", "name_en": "Example Medical"})
    site_a = create(model=Site, data={"code": "SZ", "name": "苏州工厂", "name_en": "Suzhou", "company": company})
    site_b = create(model=Site, data={"code": "CZ", "name": "常州工厂", "name_en": "Changzhou", "company": company})
    assembly = create(model=Department, data={"code": "SZ-ASM", "name": "洁净组装车间", "name_en": "Clean-room assembly", "site": site_a})
    moulding = create(model=Department, data={"code": "SZ-IM", "name": "注塑车间", "name_en": "Injection moulding", "site": site_a})
    packaging_b = create(model=Department, data={"code": "CZ-PK", "name": "包装车间", "name_en": "Packaging", "site": site_b})
    line_a = create(model=ProductionLine, data={"code": "L-A", "name": "输液器组装线A", "name_en": "Infusion set line A", "site": site_a, "department": assembly})
    line_b = create(model=ProductionLine, data={"code": "L-B", "name": "输液器组装线B", "name_en": "Infusion set line B", "site": site_a, "department": assembly})
    line_b2 = create(model=ProductionLine, data={"code": "L-P1", "name": "包装线1", "name_en": "Packaging line 1", "site": site_b, "department": packaging_b})
    operator = create(model=Position, data={"code": "OP-ASM", "name": "组装操作工", "name_en": "Assembly operator", "department": assembly})
    supervisor = create(model=Position, data={"code": "SUP-ASM", "name": "组装主管", "name_en": "Assembly supervisor", "department": assembly})
    return Plant(company, site_a, site_b, assembly, moulding, packaging_b, line_a, line_b, line_b2, operator, supervisor)


@pytest.fixture
def make_employee(plant):
    def make(*, line=None, site=None, department=None, position=None, **data):
        number = data.pop("employee_number", f"E{next(_numbers):05d}")
        line = line if line is not None else plant.line_a
        values = {
            "employee_number": number,
            "family_name": data.pop("family_name", "王"),
            "given_name": data.pop("given_name", "芳"),
            "hire_date": data.pop("hire_date", dt.date(2022, 3, 1)),
            "site": site or line.site,
            "department": department or line.department,
            "line": line,
            **data,
        }
        return people_services.employee_create(data=values, position=position, reason="test hire")

    return make


@pytest.fixture
def make_user(db):
    def make(role: str | None = None, *, scope_kind: str = ScopeKind.GLOBAL, scope_id=None, username: str | None = None, **extra):
        user = account_services.user_create(
            username=username or f"user{next(_numbers)}", password=PASSWORD, language=extra.pop("language", "en"), **extra
        )
        if role is not None:
            account_services.role_assign(user=user, role=role, scope_kind=scope_kind, scope_id=scope_id)
        return user

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.SYSTEM_ADMIN, username="admin")


@pytest.fixture
def login(client):
    def do(user):
        client.force_login(user)
        return client

    return do
