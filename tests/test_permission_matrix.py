"""Permission matrix: every role against every page and every API operation, and the line scope.

The expected tables below are written out by hand (from DESIGN.md §5 and the role descriptions), not
computed from `ROLE_PERMISSIONS`: a change to a role, or a page / operation without a row, fails here.

One plant, one user (and API token) per role and the target records are built once for the module inside
an outer transaction; each test runs in a savepoint of it (pytest-django's `db`) and is rolled back.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from qualiflow.accounts import services as account_services
from qualiflow.accounts.models import ApiToken, ESignature, User
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.org import services as org_services
from qualiflow.org.models import Company, Department, Position, ProductionLine, Site, WorkCenter
from qualiflow.people import services as people_services
from qualiflow.people.models import Employee, PositionAssignment
from qualiflow.shell.navigation import DOMAINS

PASSWORD = "Correct-Horse-42"
ANONYMOUS = "anonymous"
ROLES = (
    "system_admin", "hr_admin", "training_coordinator", "production_supervisor", "operator", "qa",
    "maintenance", "auditor", "integration",
)
CALLERS = (*ROLES, ANONYMOUS)


def test_the_matrix_knows_every_role():
    assert set(ROLES) == set(Role.values)


# --------------------------------------------------------------------------------------------------------
# The expected tables
# --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """Who is let through. Everyone else is refused: 403 when signed in (401 / 403 on the API), the login
    redirect for an anonymous page request, 401 for an API call without credentials."""

    allowed: frozenset[str]
    ok: int = 200  # the status an allowed caller gets
    ok_when_signed_in: int | None = None  # when it differs for a signed-in caller (the login page)
    hidden: frozenset[str] = frozenset()  # signed-in callers answered 404: the record is not theirs to see
    refused_on_form: frozenset[str] = frozenset()  # 200, the service's refusal shown on the form
    writes: bool = False  # an allowed call changes regulated data (an audit entry appears)


def expect(allowed, **kwargs) -> Expect:
    return Expect(frozenset(allowed), **{k: frozenset(v) if isinstance(v, set) else v for k, v in kwargs.items()})


# The integration client has no usable password (API tokens only): the login form refuses it, so in the
# UI it is never signed in and is treated as anonymous (see the accounts:login POST row).
UI_SIGNED_IN = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "operator", "qa",
                "maintenance", "auditor"}
UI_ORG_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa",
                  "maintenance", "auditor"}
UI_ORG_MANAGERS = {"system_admin", "hr_admin"}
UI_PEOPLE_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa",
                     "maintenance", "auditor"}
# The line supervisor manages the employees of line A, where the target employee works.
UI_PEOPLE_MANAGERS = {"system_admin", "hr_admin", "production_supervisor"}
UI_SIGNERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa", "maintenance"}
UI_AUDIT_READERS = {"system_admin", "hr_admin", "qa", "auditor"}
UI_AUDIT_EXPORTERS = {"system_admin", "qa", "auditor"}
EVERYONE = set(CALLERS)
# An operator holds no people.view: an employee record (not their own) is a 404, like a record of another line.
NOT_VISIBLE = {"operator"}

# (URL name, method) -> expectation. Org pages are generic over the kind of unit; they are exercised with
# production lines.
UI_TABLE: dict[tuple[str, str], Expect] = {
    ("shell:home", "GET"): expect(UI_SIGNED_IN),
    ("shell:coming", "GET"): expect(UI_SIGNED_IN),
    ("accounts:login", "GET"): expect(EVERYONE, ok_when_signed_in=302),
    # The role is whose credentials are posted (from a fresh, anonymous client); anonymous posts a stranger's.
    ("accounts:login", "POST"): expect(UI_SIGNED_IN, ok=302, refused_on_form={"integration", ANONYMOUS}),
    ("accounts:logout", "POST"): expect(EVERYONE, ok=302),
    ("accounts:language", "POST"): expect(EVERYONE, ok=302),
    ("org:overview", "GET"): expect(UI_ORG_READERS),
    ("org:unit_list", "GET"): expect(UI_ORG_READERS),
    ("org:unit_detail", "GET"): expect(UI_ORG_READERS),
    ("org:unit_create", "GET"): expect(UI_ORG_MANAGERS),
    ("org:unit_create", "POST"): expect(UI_ORG_MANAGERS, ok=302, writes=True),
    ("org:unit_edit", "GET"): expect(UI_ORG_MANAGERS),
    ("org:unit_edit", "POST"): expect(UI_ORG_MANAGERS, ok=302, writes=True),
    ("org:unit_deactivate", "GET"): expect(UI_ORG_MANAGERS),
    ("org:unit_deactivate", "POST"): expect(UI_ORG_MANAGERS, ok=302, writes=True),
    ("people:employee_list", "GET"): expect(UI_PEOPLE_READERS),
    ("people:employee_export", "GET"): expect(UI_PEOPLE_READERS),
    ("people:employee_detail", "GET"): expect(UI_PEOPLE_READERS, hidden=NOT_VISIBLE),
    ("people:employee_create", "GET"): expect(UI_PEOPLE_MANAGERS),
    ("people:employee_create", "POST"): expect(UI_PEOPLE_MANAGERS, ok=302, writes=True),
    ("people:employee_edit", "GET"): expect(UI_PEOPLE_MANAGERS, hidden=NOT_VISIBLE),
    ("people:employee_edit", "POST"): expect(UI_PEOPLE_MANAGERS, ok=302, hidden=NOT_VISIBLE, writes=True),
    ("people:employee_deactivate", "GET"): expect(UI_PEOPLE_MANAGERS, hidden=NOT_VISIBLE),
    ("people:employee_deactivate", "POST"): expect(UI_PEOPLE_MANAGERS, ok=302, hidden=NOT_VISIBLE, writes=True),
    ("people:employee_change_position", "GET"): expect(UI_PEOPLE_MANAGERS, hidden=NOT_VISIBLE),
    ("people:employee_change_position", "POST"): expect(UI_PEOPLE_MANAGERS, ok=302, hidden=NOT_VISIBLE,
                                                        writes=True),
    # The signing service refuses a role without accounts.esign; the page shows that on the form.
    ("people:employee_sign", "POST"): expect(UI_SIGNERS, ok=302, hidden=NOT_VISIBLE, refused_on_form={"auditor"},
                                             writes=True),
    ("audit:entry_list", "GET"): expect(UI_AUDIT_READERS),
    ("audit:entry_export", "GET"): expect(UI_AUDIT_EXPORTERS),
    ("audit:object_history", "GET"): expect(UI_AUDIT_READERS),
    ("audit:verify", "GET"): expect(UI_AUDIT_READERS),
    ("audit:verify", "POST"): expect(UI_AUDIT_READERS),  # re-hashes the chain; writes nothing
    ("audit:trace", "GET"): expect(UI_AUDIT_READERS),
    # The API's own pages: the OpenAPI document and its viewer are public (no data in them); the API root
    # and any unknown path under /api/v1/ are a JSON 404 for every caller.
    ("api-v1:openapi-json", "GET"): expect(EVERYONE),
    ("api-v1:openapi-view", "GET"): expect(EVERYONE),
    ("api-v1:api-root", "GET"): expect(EVERYONE, ok=404),
    ("api/v1/^", "GET"): expect(EVERYONE, ok=404),
}

API_ALL_ROLES = set(ROLES)
API_ORG_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa",
                   "maintenance", "auditor", "integration"}
API_ORG_MANAGERS = {"system_admin", "hr_admin", "integration"}
API_PEOPLE_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa",
                      "maintenance", "auditor", "integration"}
API_PEOPLE_MANAGERS = {"system_admin", "hr_admin", "production_supervisor", "integration"}
API_AUDIT_READERS = {"system_admin", "hr_admin", "qa", "auditor"}
API_TOKEN_MANAGERS = {"system_admin"}

# OpenAPI operationId -> expectation.
API_TABLE: dict[str, Expect] = {
    "me": expect(API_ALL_ROLES),
    "token_issue": expect(API_TOKEN_MANAGERS, ok=201, writes=True),
    "token_list": expect(API_TOKEN_MANAGERS),
    "token_revoke": expect(API_TOKEN_MANAGERS, writes=True),
    "org_company_list": expect(API_ORG_READERS),
    "org_company_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_company_get": expect(API_ORG_READERS),
    "org_company_update": expect(API_ORG_MANAGERS, writes=True),
    "org_company_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_site_list": expect(API_ORG_READERS),
    "org_site_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_site_get": expect(API_ORG_READERS),
    "org_site_update": expect(API_ORG_MANAGERS, writes=True),
    "org_site_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_department_list": expect(API_ORG_READERS),
    "org_department_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_department_get": expect(API_ORG_READERS),
    "org_department_update": expect(API_ORG_MANAGERS, writes=True),
    "org_department_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_productionline_list": expect(API_ORG_READERS),
    "org_productionline_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_productionline_get": expect(API_ORG_READERS),
    "org_productionline_update": expect(API_ORG_MANAGERS, writes=True),
    "org_productionline_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_workcenter_list": expect(API_ORG_READERS),
    "org_workcenter_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_workcenter_get": expect(API_ORG_READERS),
    "org_workcenter_update": expect(API_ORG_MANAGERS, writes=True),
    "org_workcenter_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_position_list": expect(API_ORG_READERS),
    "org_position_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_position_get": expect(API_ORG_READERS),
    "org_position_update": expect(API_ORG_MANAGERS, writes=True),
    "org_position_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "employee_list": expect(API_PEOPLE_READERS),
    "employee_create": expect(API_PEOPLE_MANAGERS, ok=201, writes=True),
    "employee_get": expect(API_PEOPLE_READERS),
    "employee_update": expect(API_PEOPLE_MANAGERS, writes=True),
    "employee_deactivate": expect(API_PEOPLE_MANAGERS, writes=True),
    "employee_change_position": expect(API_PEOPLE_MANAGERS, ok=201, writes=True),
    "employee_positions": expect(API_PEOPLE_READERS),
    "audit_entry_list": expect(API_AUDIT_READERS),
    "audit_verify": expect(API_AUDIT_READERS),
}


# --------------------------------------------------------------------------------------------------------
# Coverage: a page or an operation without a row fails the suite
# --------------------------------------------------------------------------------------------------------

# admin/ is Django's admin (is_staff and model permissions; its audit behaviour is tested in tests/audit);
# i18n/ is Django's stock set_language view, which touches no data. Neither is a Qualiflow page.
SKIPPED_PREFIXES = ("admin/", "i18n/")


def _url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, key) of every URL pattern: key is `namespace:name`, or the route when it has no name."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_patterns(pattern.url_patterns, route, inner)
        else:
            assert isinstance(pattern, URLPattern)
            yield route, f"{namespace}{pattern.name}" if pattern.name else route


def _openapi_operations(client: Client) -> dict[str, tuple[str, str]]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return {
        operation["operationId"]: (method, path)
        for path, methods in response.json()["paths"].items()
        for method, operation in methods.items()
    }


@pytest.fixture(scope="module")
def operations(django_db_setup, django_db_blocker) -> dict[str, tuple[str, str]]:
    with django_db_blocker.unblock():
        return _openapi_operations(Client())


def test_every_api_operation_has_a_row(operations):
    assert sorted(set(operations) - set(API_TABLE)) == [], "API operations without a row in API_TABLE"
    assert sorted(set(API_TABLE) - set(operations)) == [], "rows in API_TABLE for operations that do not exist"


def test_every_url_pattern_has_a_row(operations):
    ui_keys = {name for name, _method in UI_TABLE}
    api_paths = {path for _method, path in operations.values()}
    seen_ui, missing = set(), []
    for route, key in _url_patterns():
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route) in api_paths:
            # An API operation's route: its operations' rows are in API_TABLE (checked above).
            continue
        if key in ui_keys:
            seen_ui.add(key)
        else:
            missing.append((route, key))
    assert missing == [], "URL patterns without a row in UI_TABLE"
    assert sorted(ui_keys - seen_ui) == [], "rows in UI_TABLE for URL patterns that do not exist"


# --------------------------------------------------------------------------------------------------------
# The plant, built once
# --------------------------------------------------------------------------------------------------------

@dataclass
class World:
    company: Company
    site_a: Site
    site_b: Site
    assembly: Department
    moulding: Department
    packaging_b: Department
    line_a: ProductionLine
    line_b: ProductionLine
    line_b2: ProductionLine
    work_center: WorkCenter
    operator_position: Position
    supervisor_position: Position
    employee: Employee  # on line A: the target of every employee row
    outsider: Employee  # on line B: outside the line supervisor's scope
    spare_token: ApiToken  # the target of token_revoke
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def _build_world() -> World:
    create = org_services.org_unit_create
    company = create(model=Company, data={"code": "PM", "name": "矩阵医疗", "name_en": "Matrix Medical"})
    site_a = create(model=Site, data={"code": "PM-SZ", "name": "苏州工厂", "name_en": "Suzhou", "company": company})
    site_b = create(model=Site, data={"code": "PM-CZ", "name": "常州工厂", "name_en": "Changzhou", "company": company})
    assembly = create(model=Department, data={"code": "PM-ASM", "name": "组装车间", "site": site_a})
    moulding = create(model=Department, data={"code": "PM-IM", "name": "注塑车间", "site": site_a})
    packaging_b = create(model=Department, data={"code": "PM-PK", "name": "包装车间", "site": site_b})
    line = ProductionLine
    line_a = create(model=line, data={"code": "PM-LA", "name": "组装线A", "site": site_a, "department": assembly})
    line_b = create(model=line, data={"code": "PM-LB", "name": "组装线B", "site": site_a, "department": assembly})
    line_b2 = create(model=line, data={"code": "PM-LP", "name": "包装线", "site": site_b, "department": packaging_b})
    work_center = create(model=WorkCenter, data={"code": "PM-WC1", "name": "焊接工位", "line": line_a})
    operator_position = create(model=Position, data={"code": "PM-OP", "name": "操作工", "department": assembly})
    supervisor_position = create(model=Position, data={"code": "PM-SUP", "name": "主管", "department": assembly})

    def hire(number: str, on: ProductionLine) -> Employee:
        return people_services.employee_create(data={
            "employee_number": number, "family_name": "王", "given_name": "芳", "hire_date": dt.date(2022, 3, 1),
            "birth_date": dt.date(1990, 1, 2), "site": on.site, "department": on.department, "line": on,
        }, position=supervisor_position, reason="hired")

    employee, outsider = hire("PM-E-A", line_a), hire("PM-E-B", line_b)
    users: dict[str, User] = {}
    tokens: dict[str, str] = {}
    for role in ROLES:
        integration = role == Role.INTEGRATION
        user = account_services.user_create(
            username=f"pm-{role}", password=None if integration else PASSWORD, language="en",
            is_integration=integration,
        )
        if role == Role.PRODUCTION_SUPERVISOR:
            account_services.role_assign(user=user, role=role, scope_kind=ScopeKind.LINE, scope_id=line_a.pk)
        else:
            account_services.role_assign(user=user, role=role)
        users[role] = user
        tokens[role] = account_services.api_token_issue(user=user, name="matrix")[1]
    spare_token, _secret = account_services.api_token_issue(user=users["hr_admin"], name="spare")
    return World(company, site_a, site_b, assembly, moulding, packaging_b, line_a, line_b, line_b2, work_center,
                 operator_position, supervisor_position, employee, outsider, spare_token, users, tokens)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once in an outer transaction; each test's own transaction is a savepoint inside it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def w(world, db) -> World:
    return world


def state() -> dict[str, Any]:
    """Everything a request could have written: the audit trail, the outbox and the regulated records."""
    snapshot: dict[str, Any] = {"audit": AuditEntry.objects.count(), "outbox": OutboxEvent.objects.count()}
    for model in (Employee, PositionAssignment, ESignature, Company, Site, Department, ProductionLine,
                  WorkCenter, Position):
        snapshot[model.__name__] = list(model.objects.order_by("pk").values())
    snapshot["ApiToken"] = list(ApiToken.objects.order_by("pk").values("pk", "user_id", "name", "expires_at",
                                                                        "revoked_at"))
    return snapshot


# --------------------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------------------

def _employee_form(employee: Employee, **overrides) -> dict:
    line = employee.line
    data = {
        "employee_number": employee.employee_number, "family_name": employee.family_name,
        "given_name": employee.given_name, "latin_name": "", "employment_type": employee.employment_type,
        "hire_date": f"{employee.hire_date:%Y-%m-%d}", "birth_date": f"{employee.birth_date:%Y-%m-%d}", "site": line.site_id,
        "department": line.department_id, "line": line.pk, "manager": "", "email": "", "phone": "13800000000",
        "external_refs": "", "reason": "Permission matrix",
    }
    data.update(overrides)
    return data


def _line_form(line: ProductionLine, **overrides) -> dict:
    data = {"code": line.code, "name": "改名的线", "name_en": "", "site": line.site_id,
            "department": line.department_id, "clean_room_class": "", "external_refs": "", "reason": "Matrix"}
    data.update(overrides)
    return data


def ui_request(key: tuple[str, str], w: World) -> tuple[str, dict | None]:
    """The URL (and POST data) that exercises a UI_TABLE row against the plant's records."""
    name, method = key
    line = {"kind": "line", "pk": w.line_b2.pk}
    person = {"pk": w.employee.pk}
    urls: dict[str, str] = {
        # Any domain that is not built yet (its page says what is coming).
        "shell:coming": reverse("shell:coming", kwargs={"key": next(d.key for d in DOMAINS if d.url_name is None)}),
        "org:unit_list": reverse("org:unit_list", kwargs={"kind": "line"}),
        "org:unit_create": reverse("org:unit_create", kwargs={"kind": "line"}),
        "audit:object_history": reverse(
            "audit:object_history", kwargs={"object_type": "people.employee", "object_id": w.employee.pk}),
        "api/v1/^": "/api/v1/no-such-endpoint",
    }
    if name in ("org:unit_detail", "org:unit_edit", "org:unit_deactivate"):
        urls[name] = reverse(name, kwargs=line)
    if name in ("people:employee_detail", "people:employee_edit", "people:employee_deactivate",
                "people:employee_change_position", "people:employee_sign"):
        urls[name] = reverse(name, kwargs=person)
    url = urls.get(name) or reverse(name)
    if method == "GET":
        return url, None
    bodies: dict[str, dict] = {
        "accounts:logout": {},
        "accounts:language": {"language": "zh-hans", "next": "/"},
        "org:unit_create": _line_form(w.line_a, code="PM-NEW", name="新线"),
        "org:unit_edit": _line_form(w.line_b2),
        "org:unit_deactivate": {"reason": "Matrix"},
        "people:employee_create": {
            **_employee_form(w.employee, employee_number="PM-E-NEW"), "position": w.operator_position.pk},
        "people:employee_edit": _employee_form(w.employee),
        "people:employee_deactivate": {"termination_date": "2025-01-01", "reason": "Matrix"},
        "people:employee_change_position": {
            "position": w.operator_position.pk, "start_date": "2025-01-01", "reason": "Matrix"},
        "people:employee_sign": {"meaning": "reviewed", "password": PASSWORD, "reason": ""},
        "audit:verify": {},
    }
    return url, bodies[name]


def _signed_in_client(w: World, role: str) -> Client:
    client = Client()
    if role == ANONYMOUS:
        return client
    if role == Role.INTEGRATION:
        # No usable password, so the login form never gives it a session (the accounts:login POST row
        # proves it): in the UI it is anonymous.
        return client
    client.force_login(w.users[role])
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _login_case(w: World, role: str, rule: Expect) -> None:
    client = Client()
    username = w.users[role].username if role != ANONYMOUS else "nobody-at-all"
    response = client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})
    if role in rule.allowed:
        assert response.status_code == rule.ok
        assert response["Location"] == reverse("shell:home")
        assert client.session["_auth_user_id"] == str(w.users[role].pk)
    else:
        assert role in rule.refused_on_form
        assert response.status_code == 200
        assert response.context["form"].errors
        assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("key", list(UI_TABLE), ids=lambda key: f"{key[0]}-{key[1]}")
def test_ui(key, role, w):
    rule = UI_TABLE[key]
    if key == ("accounts:login", "POST"):
        _login_case(w, role, rule)
        return
    client = _signed_in_client(w, role)
    signed_in = role not in (ANONYMOUS, Role.INTEGRATION)
    url, data = ui_request(key, w)
    before = state()
    response = client.get(url) if data is None else client.post(url, data)
    body = _body(response)
    after = state()
    if role in rule.allowed:
        expected = rule.ok_when_signed_in if signed_in and rule.ok_when_signed_in else rule.ok
        assert response.status_code == expected, body[:2000]
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("accounts:login")) or key[0] == "accounts:logout"
        if rule.writes:
            assert after["audit"] > before["audit"]
        return
    assert after == before, "a refused request wrote something"
    if not signed_in:
        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse(settings.LOGIN_URL)}?next=")
    elif role in rule.hidden:
        assert response.status_code == 404
    elif role in rule.refused_on_form:
        assert response.status_code == 200
        assert response.context["sign_form"].errors == {"__all__": ["You are not allowed to sign records."]}
    else:
        assert response.status_code == 403


# --------------------------------------------------------------------------------------------------------
# API operations
# --------------------------------------------------------------------------------------------------------

class Api:
    """JSON calls to the API, with a bearer token, with the browser session, or with no credentials."""

    def __init__(self, w: World, role: str, auth: str):
        self.client = Client()
        self.headers: dict[str, str] = {}
        if auth == "token":
            self.headers["Authorization"] = f"Bearer {w.tokens[role]}"
        elif auth == "session":
            self.client.force_login(w.users[role])

    def call(self, method: str, path: str, body: dict | None = None, **params):
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=json.dumps(body, default=str), content_type="application/json")
        if params:
            kwargs["query_params"] = params
        return getattr(self.client, method)(path, **kwargs)


ORG_TARGETS = {  # URL segment -> the unit its get / update / deactivate rows act on
    "companies": "company", "sites": "site_b", "departments": "moulding", "lines": "line_b2",
    "work-centers": "work_center", "positions": "supervisor_position",
}


def api_request(operation: str, method: str, path: str, w: World) -> tuple[str, dict | None]:
    """The path (and JSON body) that exercises an API_TABLE row against the plant's records."""
    if path.startswith("/api/v1/org/"):
        slug = path.split("/")[4]
        path = path.replace("{unit_id}", str(getattr(w, ORG_TARGETS[slug]).pk))
    path = path.replace("{employee_id}", str(w.employee.pk)).replace("{token_id}", str(w.spare_token.pk))
    if method in ("get", "delete"):
        return path, None
    org_create = {
        "org_company_create": {"code": "PM-NEW", "name": "新公司"},
        "org_site_create": {"code": "PM-NEW", "name": "新工厂", "company_id": str(w.company.pk)},
        "org_department_create": {"code": "PM-NEW", "name": "新部门", "site_id": str(w.site_a.pk)},
        "org_productionline_create": {"code": "PM-NEW", "name": "新线", "site_id": str(w.site_a.pk),
                                      "department_id": str(w.assembly.pk)},
        "org_workcenter_create": {"code": "PM-NEW", "name": "新工位", "line_id": str(w.line_a.pk)},
        "org_position_create": {"code": "PM-NEW", "name": "新岗位", "department_id": str(w.assembly.pk)},
    }
    if operation in org_create:
        return path, {**org_create[operation], "reason": "Matrix"}
    if operation.startswith("org_") and operation.endswith("_update"):
        return path, {"name": "改名", "reason": "Matrix"}
    if operation.startswith("org_") and operation.endswith("_deactivate"):
        return path, {"reason": "Matrix"}
    bodies = {
        "token_issue": {"username": w.users["operator"].username, "name": "Matrix"},
        "employee_create": {
            "employee_number": "PM-E-NEW", "family_name": "李", "given_name": "娜", "hire_date": "2024-05-06",
            "site_id": str(w.site_a.pk), "department_id": str(w.assembly.pk), "line_id": str(w.line_a.pk),
            "position_id": str(w.operator_position.pk), "reason": "Matrix",
        },
        "employee_update": {"phone": "13800000000", "reason": "Matrix"},
        "employee_deactivate": {"termination_date": "2025-01-01", "reason": "Matrix"},
        "employee_change_position": {
            "position_id": str(w.operator_position.pk), "start_date": "2025-01-01", "reason": "Matrix"},
    }
    return path, bodies[operation]


def _api_callers() -> list[tuple[str, str]]:
    """(role, auth): every role with its API token; the people also through their browser session (the
    integration client has none); anonymous with no credentials."""
    callers = [(role, "token") for role in ROLES]
    callers += [(role, "session") for role in ROLES if role != Role.INTEGRATION]
    return [*callers, (ANONYMOUS, "none")]


@pytest.mark.parametrize(("role", "auth"), _api_callers(), ids=lambda value: value)
@pytest.mark.parametrize("operation", list(API_TABLE))
def test_api(operation, role, auth, w, operations):
    rule = API_TABLE[operation]
    method, template = operations[operation]
    path, body = api_request(operation, method, template, w)
    api = Api(w, role, auth)
    before = state()
    response = api.call(method, path, body)
    after = state()
    assert response["Content-Type"].startswith("application/json")
    if role in rule.allowed:
        assert response.status_code == rule.ok, response.content[:2000]
        if rule.writes:
            assert after["audit"] > before["audit"]
        return
    assert response.status_code == (401 if role == ANONYMOUS else 403), response.content[:2000]
    expected_code = "core.authentication_required" if role == ANONYMOUS else "core.permission_denied"
    assert response.json()["code"] == expected_code
    assert after == before, "a refused request wrote something"


# --------------------------------------------------------------------------------------------------------
# Scope: a production supervisor of line A, against line A's employee and line B's
# --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScopeCase:
    method: str
    url_name: str  # UI URL name, or the API path under /api/v1 with {id}
    target: str  # "employee" (line A) or "outsider" (line B)
    status: int
    data: str | None = None  # which body to send
    writes: bool = False


UI_SCOPE = {
    "detail-own": ScopeCase("GET", "people:employee_detail", "employee", 200),
    "edit-own": ScopeCase("GET", "people:employee_edit", "employee", 200),
    "deactivate-own": ScopeCase("GET", "people:employee_deactivate", "employee", 200),
    "position-own": ScopeCase("GET", "people:employee_change_position", "employee", 200),
    "save-own": ScopeCase("POST", "people:employee_edit", "employee", 302, "edit", writes=True),
    "detail-other-line": ScopeCase("GET", "people:employee_detail", "outsider", 404),
    "edit-other-line": ScopeCase("GET", "people:employee_edit", "outsider", 404),
    "deactivate-other-line": ScopeCase("GET", "people:employee_deactivate", "outsider", 404),
    "position-other-line": ScopeCase("GET", "people:employee_change_position", "outsider", 404),
    "save-other-line": ScopeCase("POST", "people:employee_edit", "outsider", 404, "edit"),
    "deactivate-post-other-line": ScopeCase("POST", "people:employee_deactivate", "outsider", 404, "deactivate"),
    "position-post-other-line": ScopeCase("POST", "people:employee_change_position", "outsider", 404, "position"),
    "sign-other-line": ScopeCase("POST", "people:employee_sign", "outsider", 404, "sign"),
    # Moving one's own employee to line B, or hiring onto line B: the service refuses, the form says so.
    "move-own-to-other-line": ScopeCase("POST", "people:employee_edit", "employee", 200, "move"),
    "hire-onto-other-line": ScopeCase("POST", "people:employee_create", "", 200, "hire"),
}


def _ui_scope_body(case: ScopeCase, w: World, target: Employee | None) -> dict:
    return {
        "edit": lambda: _employee_form(target),
        "move": lambda: _employee_form(target, line=w.line_b.pk),
        "hire": lambda: {**_employee_form(w.outsider, employee_number="PM-E-NEW"), "position": ""},
        "deactivate": lambda: {"termination_date": "2025-01-01", "reason": "Matrix"},
        "position": lambda: {"position": w.operator_position.pk, "start_date": "2025-01-01", "reason": "Matrix"},
        "sign": lambda: {"meaning": "reviewed", "password": PASSWORD, "reason": ""},
    }[case.data]()


@pytest.mark.parametrize("name", list(UI_SCOPE))
def test_ui_line_scope(name, w):
    case = UI_SCOPE[name]
    client = _signed_in_client(w, Role.PRODUCTION_SUPERVISOR)
    target = getattr(w, case.target) if case.target else None
    url = reverse(case.url_name, kwargs={"pk": target.pk} if target else None)
    before = state()
    response = client.get(url) if case.method == "GET" else client.post(url, _ui_scope_body(case, w, target))
    assert response.status_code == case.status
    if case.writes:
        assert state()["audit"] > before["audit"]
        return
    assert state() == before
    if case.data in ("move", "hire"):
        assert response.context["form"].errors == {"__all__": ["You are not allowed to change this employee."]}


def test_ui_line_scope_lists_only_the_line(w):
    client = _signed_in_client(w, Role.PRODUCTION_SUPERVISOR)
    listed = [e.employee_number for e in client.get(reverse("people:employee_list")).context["page"]]
    assert listed == ["PM-E-A"]
    export = client.get(reverse("people:employee_export"))
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == ["PM-E-A"]


API_SCOPE = {
    "get-own": ScopeCase("get", "/employees/{id}", "employee", 200),
    "positions-own": ScopeCase("get", "/employees/{id}/positions", "employee", 200),
    "update-own": ScopeCase("patch", "/employees/{id}", "employee", 200, "update", writes=True),
    "get-other-line": ScopeCase("get", "/employees/{id}", "outsider", 404),
    "positions-other-line": ScopeCase("get", "/employees/{id}/positions", "outsider", 404),
    "update-other-line": ScopeCase("patch", "/employees/{id}", "outsider", 404, "update"),
    "deactivate-other-line": ScopeCase("post", "/employees/{id}/deactivate", "outsider", 404, "deactivate"),
    "position-other-line": ScopeCase("post", "/employees/{id}/position", "outsider", 404, "position"),
    # Out-of-scope destinations are refused by the service: 403 with the people app's code.
    "move-own-to-other-line": ScopeCase("patch", "/employees/{id}", "employee", 403, "move"),
    "hire-onto-other-line": ScopeCase("post", "/employees", "", 403, "hire"),
}


def _api_scope_body(case: ScopeCase, w: World) -> dict:
    return {
        "update": {"phone": "13800000000", "reason": "Matrix"},
        "move": {"line_id": str(w.line_b.pk), "reason": "Matrix"},
        "hire": {"employee_number": "PM-E-NEW", "family_name": "李", "given_name": "娜", "hire_date": "2024-05-06",
                 "site_id": str(w.site_a.pk), "department_id": str(w.assembly.pk), "line_id": str(w.line_b.pk),
                 "reason": "Matrix"},
        "deactivate": {"termination_date": "2025-01-01", "reason": "Matrix"},
        "position": {"position_id": str(w.operator_position.pk), "start_date": "2025-01-01", "reason": "Matrix"},
    }[case.data]


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("name", list(API_SCOPE))
def test_api_line_scope(name, auth, w):
    case = API_SCOPE[name]
    api = Api(w, Role.PRODUCTION_SUPERVISOR, auth)
    target = getattr(w, case.target) if case.target else None
    path = "/api/v1" + case.url_name.replace("{id}", str(target.pk) if target else "")
    before = state()
    response = api.call(case.method, path, _api_scope_body(case, w) if case.data else None)
    assert response.status_code == case.status, response.content[:2000]
    if case.writes:
        assert state()["audit"] > before["audit"]
        return
    assert state() == before
    if case.status == 404:
        assert response.json()["code"] == "core.not_found"
    elif case.status == 403:
        assert response.json()["code"] == "people.out_of_scope"


@pytest.mark.parametrize("auth", ["token", "session"])
def test_api_line_scope_lists_only_the_line(auth, w):
    api = Api(w, Role.PRODUCTION_SUPERVISOR, auth)
    listed = api.call("get", "/api/v1/employees").json()["items"]
    assert [e["employee_number"] for e in listed] == ["PM-E-A"]
    # Filtering by line B does not reveal it either.
    by_line = api.call("get", "/api/v1/employees", line_id=str(w.line_b.pk)).json()["items"]
    assert by_line == []
