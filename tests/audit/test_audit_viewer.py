"""The audit viewer: filters, CSV export (and its own entry), the per-record history fragment, chain
verification and the database-level trace page; 403 without the permission."""

from __future__ import annotations

import csv
import io
import json

import pytest
from audit_helpers import changes_of, entries_for
from django.db import connection
from django.urls import reverse

from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.core import context
from qualiflow.people import services as people_services


@pytest.fixture
def history(make_employee, make_user):
    hr = make_user(Role.HR_ADMIN, username="hr.zhang")
    wang = make_employee(employee_number="E-V1", family_name="王", given_name="芳")
    li = make_employee(employee_number="E-V2", family_name="李", given_name="娜")
    with context.acting(actor=context.user_actor(hr), request_id="req-viewer"):
        people_services.employee_update(employee=wang, data={"phone": "13800000001"}, by=hr, reason="新电话")
    return wang, li, hr


def _seqs(response) -> list[int]:
    return [row.entry.seq for row in response.context["rows"]]


def test_list_shows_field_level_changes_reason_request_and_hash(history, make_user, login):
    wang, _li, _hr = history
    client = login(make_user(Role.AUDITOR))
    response = client.get(reverse("audit:entry_list"))
    assert response.status_code == 200
    update = entries_for(wang)[-1]
    assert _seqs(response) == list(AuditEntry.objects.order_by("-seq").values_list("seq", flat=True))
    [row] = [r for r in response.context["rows"] if r.entry.seq == update.seq]
    assert [(c.label, c.old, c.new) for c in row.changes] == [("Phone", "", "13800000001")]
    html = response.content.decode()
    assert "新电话" in html and "req-viewer" in html and update.hash[:12] in html
    assert "13800000001" in html


def test_filters_by_record_actor_action_and_time(history, make_user, login):
    wang, li, _hr = history
    client = login(make_user(Role.AUDITOR))
    url = reverse("audit:entry_list")
    by_object = client.get(url, {"object_type": "people.employee", "object_id": str(wang.pk)})
    assert _seqs(by_object) == [e.seq for e in reversed(entries_for(wang))]
    by_actor = client.get(url, {"actor": "hr.zh"})
    assert _seqs(by_actor) == [entries_for(wang)[-1].seq]
    by_action = client.get(url, {"action": "update", "object_type": "people.employee"})
    assert _seqs(by_action) == [entries_for(wang)[-1].seq]
    first = entries_for(li)[0]
    since = first.recorded_at.strftime("%Y-%m-%dT%H:%M:%S")
    from_li = client.get(url, {"from": since})
    assert set(_seqs(from_li)) >= {first.seq}
    assert all(row.entry.recorded_at >= first.recorded_at.replace(microsecond=0) for row in from_li.context["rows"])
    assert _seqs(client.get(url, {"to": "2000-01-01"})) == []
    day = first.recorded_at.strftime("%Y-%m-%d")
    assert len(_seqs(client.get(url, {"from": day, "to": day}))) == AuditEntry.objects.count()


def test_an_invalid_filter_shows_its_error_and_filters_nothing(history, make_user, login):
    client = login(make_user(Role.AUDITOR))
    response = client.get(reverse("audit:entry_list"), {"from": "yesterday"})
    assert response.status_code == 200
    assert response.context["form"].errors["from"] == ["Enter a valid date/time."]
    assert len(_seqs(response)) == AuditEntry.objects.count()


def test_list_paginates(history, make_user, login, monkeypatch):
    from qualiflow.audit import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = login(make_user(Role.AUDITOR))
    page_two = client.get(reverse("audit:entry_list"), {"page": 2})
    newest_first = list(AuditEntry.objects.order_by("-seq").values_list("seq", flat=True))
    assert _seqs(page_two) == newest_first[2:4]


def test_csv_export_has_bom_header_rows_and_is_itself_audited(history, make_user, login):
    wang, _li, _hr = history
    auditor = make_user(Role.AUDITOR, username="auditor.chen")
    client = login(auditor)
    expected = [e.seq for e in reversed(entries_for(wang))]
    response = client.get(reverse("audit:entry_export"), {"object_type": "people.employee", "object_id": str(wang.pk)})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-trail-')
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [
        "Sequence", "Time (UTC)", "Actor type", "Actor id", "Actor", "Action", "Object type", "Object id", "Object",
        "Changes", "Reason", "Request id", "Previous hash", "Hash",
    ]
    assert [int(r[0]) for r in rows[1:]] == expected
    update = entries_for(wang)[-1]
    assert rows[1] == [
        str(update.seq), update.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "user", update.actor_id, "hr.zhang",
        "update", "people.employee", str(wang.pk), "E-V1 王芳", '{"phone":["","13800000001"]}', "新电话", "req-viewer",
        update.prev_hash, update.hash,
    ]
    export = AuditEntry.objects.order_by("-seq").first()
    assert (export.action, export.actor_name, export.object_type) == ("export", "auditor.chen", "audit.auditentry")
    assert changes_of(export) == {
        "filters": [None, {"object_type": "people.employee", "object_id": str(wang.pk)}],
        "entries": [None, len(expected)],
    }


def test_csv_export_neutralises_spreadsheet_formulas(make_employee, make_user, login):
    make_employee(employee_number="=HYPERLINK(\"x\")")
    client = login(make_user(Role.AUDITOR))
    body = b"".join(client.get(reverse("audit:entry_export"), {"action": "create"}).streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body


def test_history_is_a_fragment_for_htmx_and_a_page_otherwise(history, make_user, login):
    wang, _li, _hr = history
    client = login(make_user(Role.HR_ADMIN))
    url = reverse("audit:object_history", kwargs={"object_type": "people.employee", "object_id": wang.pk})
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert [row.entry.seq for row in fragment.context["rows"]] == [e.seq for e in reversed(entries_for(wang))]
    assert "<html" not in fragment.content.decode()
    assert "13800000001" in fragment.content.decode()
    page = client.get(url)
    assert page.status_code == 200
    assert "<html" in page.content.decode() and "E-V1 王芳" in page.content.decode()


def test_times_show_in_utc_and_the_users_site_zone(history, make_user, make_employee, login):
    user = make_user(Role.AUDITOR)
    make_employee(employee_number="E-TZ", user=user)
    response = login(user).get(reverse("audit:entry_list"))
    assert response.context["site_time_zone"].key == "Asia/Shanghai"
    entry = AuditEntry.objects.order_by("-seq").first()
    html = response.content.decode()
    assert entry.recorded_at.strftime("%Y-%m-%d %H:%M:%S UTC") in html
    assert "CST" in html


def test_verify_page_runs_the_check(history, make_user, login, tamper):
    client = login(make_user(Role.AUDITOR))
    url = reverse("audit:verify")
    assert client.get(url).context["report"] is None
    intact = client.post(url)
    assert intact.context["report"].intact
    assert f"The audit chain is intact: {AuditEntry.objects.count()} entries verified." in intact.content.decode()
    target = AuditEntry.objects.order_by("seq")[1]
    tamper.update(target.seq, reason="rewritten")
    broken = client.post(url)
    assert broken.context["report"].first_break.seq == target.seq
    assert f"Entry {target.seq} was changed after it was written" in broken.content.decode()


def test_trace_page(history, make_user, login):
    response = login(make_user(Role.AUDITOR)).get(reverse("audit:trace"))
    assert response.status_code == 200
    assert response.context["supported"] is (connection.vendor == "postgresql")
    if connection.vendor == "sqlite":
        assert "This installation runs on SQLite" in response.content.decode()


def _all_urls(wang) -> list[str]:
    return [
        reverse("audit:entry_list"), reverse("audit:entry_export"), reverse("audit:verify"), reverse("audit:trace"),
        reverse("audit:object_history", kwargs={"object_type": "people.employee", "object_id": wang.pk}),
    ]


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.PRODUCTION_SUPERVISOR, Role.TRAINING_COORDINATOR, None])
def test_roles_without_audit_view_get_403_everywhere(history, make_user, login, role):
    wang, _li, _hr = history
    client = login(make_user(role))
    count = AuditEntry.objects.count()
    for url in _all_urls(wang):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("audit:verify")).status_code == 403
    assert AuditEntry.objects.count() == count


def test_viewing_without_export_permission_cannot_export(history, make_user, login):
    client = login(make_user(Role.HR_ADMIN))
    count = AuditEntry.objects.count()
    assert client.get(reverse("audit:entry_list")).context["can_export"] is False
    assert client.get(reverse("audit:entry_export")).status_code == 403
    assert AuditEntry.objects.count() == count


def test_anonymous_users_are_sent_to_sign_in(history, client):
    wang, _li, _hr = history
    for url in _all_urls(wang):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url


def test_export_entry_renders_in_the_list(history, make_user, login):
    client = login(make_user(Role.AUDITOR))
    b"".join(client.get(reverse("audit:entry_export")).streaming_content)
    response = client.get(reverse("audit:entry_list"), {"action": "export"})
    [row] = response.context["rows"]
    assert [(c.label, c.new) for c in row.changes] == [("entries", str(AuditEntry.objects.count() - 1)), ("filters", json.dumps({}))]
