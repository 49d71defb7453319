"""Fixtures for the automation tests: an operator with a user account and a manager, a course conferring a
qualification the operator holds, QA and supervisors scoped to site A, line A and line B."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone, translation

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.integration import events
from qualiflow.training import services as training


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def emit():
    def do(type: str, subject: str, data: dict):
        with transaction.atomic():
            return events.emit(type, subject, data)

    return do


@pytest.fixture
def eo(db):
    return training.qualification_create(
        data={"code": "EO-OP", "name": "环氧乙烷灭菌操作", "name_en": "EO sterilisation", "validity_days": 365,
              "renewal_lead_days": 30}, reason="catalogue set-up")


@pytest.fixture
def eo_course(eo):
    return training.course_create(data={"code": "C-EO", "name": "灭菌操作培训", "duration_hours": 4}, confers=[eo],
                                  reason="catalogue set-up")


@pytest.fixture
def people(make_employee, make_user, plant):
    manager_user = make_user(username="mgr.zhang")
    manager = make_employee(family_name="张", given_name="经理", user=manager_user)
    operator_user = make_user(Role.OPERATOR, username="op.wang", email="wang@example.com")
    operator = make_employee(family_name="王", given_name="芳", manager=manager, user=operator_user)
    return operator, manager


@pytest.fixture
def grant(people, eo):
    operator, _manager = people
    return training.qualification_grant(employee=operator, qualification=eo, source="manual", reason="course passed",
                                        valid_from=timezone.now() - dt.timedelta(days=340))


@pytest.fixture
def qa_a(make_user, plant):
    return make_user(Role.QA, scope_kind=ScopeKind.SITE, scope_id=plant.site_a.pk, username="qa.site_a")


@pytest.fixture
def qa_b(make_user, plant):
    return make_user(Role.QA, scope_kind=ScopeKind.SITE, scope_id=plant.site_b.pk, username="qa.site_b")


@pytest.fixture
def supervisors(make_user, plant):
    return (make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk, username="sup.a"),
            make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_b.pk, username="sup.b"))


@pytest.fixture
def manager_user(make_user):
    return make_user(Role.SYSTEM_ADMIN, username="it.admin")


