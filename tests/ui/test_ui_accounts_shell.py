"""Sign-in auditing and lockout, the language switch, the zh-Hans UI and the home page figures."""

from __future__ import annotations

import json

from django.urls import reverse

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.people.models import Employee
from tests.conftest import PASSWORD


def _login(client, username: str, password: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_successful_login_is_audited(make_user, client):
    user = make_user(Role.QA, username="qa.li")
    count = AuditEntry.objects.count()
    response = _login(client, "qa.li", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    entry = AuditEntry.objects.get(seq=count + 1)
    assert (entry.action, entry.object_type, entry.object_id, entry.object_repr) == (
        "login", "accounts.user", str(user.pk), "qa.li")
    assert (entry.actor_kind, entry.actor_id, entry.actor_name) == ("user", str(user.pk), "qa.li")
    assert json.loads(entry.changes) == {"remote_addr": [None, "127.0.0.1"]}
    assert AuditEntry.objects.count() == count + 1


def test_failed_login_is_audited_with_the_attempted_username(make_user, client):
    make_user(Role.QA, username="qa.li")
    count = AuditEntry.objects.count()
    response = _login(client, "qa.li", "wrong-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get(seq=count + 1)
    assert (entry.action, entry.object_type, entry.object_id) == ("login_failed", "accounts.user", "qa.li")
    assert (entry.actor_kind, entry.actor_name) == ("anonymous", "anonymous")
    assert AuditEntry.objects.count() == count + 1


def test_five_failures_lock_the_account_and_every_attempt_is_audited(make_user, client):
    make_user(Role.QA, username="qa.li")
    for _attempt in range(5):
        _login(client, "qa.li", "wrong-password")
    locked = _login(client, "qa.li", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="login_failed", object_id="qa.li").count() == 6
    assert not AuditEntry.objects.filter(action="login").exists()


def test_logout_is_audited(make_user, client):
    user = make_user(Role.QA, username="qa.li")
    _login(client, "qa.li", PASSWORD)
    client.post(reverse("accounts:logout"))
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id, entry.actor_id) == ("logout", str(user.pk), str(user.pk))


def test_language_switch_sets_the_user_language_and_the_ui_renders_in_chinese(plant, make_user, login):
    user = make_user(Role.HR_ADMIN)
    client = login(user)
    response = client.post(reverse("accounts:language"), {"language": "zh-hans", "next": "/people/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "zh-hans"
    for url in ("/", reverse("org:overview"), reverse("people:employee_list"), reverse("people:employee_create")):
        page = client.get(url)
        assert page.status_code == 200
        assert '<html lang="zh-hans">' in page.content.decode()
    # Form errors come in the reader's language, and nothing is written.
    count = Employee.objects.count()
    refused = client.post(reverse("people:employee_create"), {})
    assert refused.context["form"].errors["reason"] == ["这个字段是必填项。"]
    assert Employee.objects.count() == count
    # Organisation units are named in Chinese for a Chinese reader.
    assert "输液器组装线A" in client.get(reverse("people:employee_create")).content.decode()


def test_home_shows_the_figures_the_user_may_see(plant, make_employee, make_user, login):
    make_employee(employee_number="E-A1", line=plant.line_a)
    make_employee(employee_number="E-B1", line=plant.line_b)
    make_employee(employee_number="E-P1", line=plant.line_b2)
    hr = login(make_user(Role.HR_ADMIN)).get("/")
    figures = hr.context["figures"]
    assert figures.visible == 3
    assert [(row.site.code, row.active) for row in figures.active_by_site] == [("CZ", 1), ("SZ", 2)]

    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    scoped = login(supervisor).get("/").context["figures"]
    assert (scoped.visible, [(row.site.code, row.active) for row in scoped.active_by_site]) == (1, [("SZ", 1)])


def test_home_shows_no_people_figures_without_people_view(plant, make_employee, make_user, login):
    make_employee(employee_number="E-A1")
    response = login(make_user(Role.OPERATOR)).get("/")
    assert response.status_code == 200
    assert response.context["figures"] is None


def test_navigation_marks_only_the_current_domain(plant, make_user, login):
    response = login(make_user(Role.HR_ADMIN)).get(reverse("org:unit_list", kwargs={"kind": "line"}))
    assert [item["key"] for item in response.context["nav_domains"] if item["active"]] == ["org"]


def test_refusals_render_in_the_layout(plant, make_employee, make_user, login):
    employee = make_employee(line=plant.line_b)
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR, scope_kind=ScopeKind.LINE, scope_id=plant.line_a.pk)
    client = login(supervisor)
    missing = client.get(reverse("people:employee_detail", kwargs={"pk": employee.pk}))
    assert missing.status_code == 404
    assert "holds nothing you may see" in missing.content.decode()
    refused = client.get(reverse("org:unit_create", kwargs={"kind": "line"}))
    assert refused.status_code == 403
    assert "Your role does not allow this." in refused.content.decode()


def test_an_integration_client_gets_no_session_even_with_a_password(client, make_user):
    make_user(Role.INTEGRATION, username="erp.bridge", is_integration=True)
    refused = _login(client, "erp.bridge", PASSWORD)
    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("people:employee_list")).status_code == 302
