"""Organisation pages: overview, generic list/detail/create/edit/deactivate per kind, permissions."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.org import services as org_services
from qualiflow.org.models import Position, ProductionLine, Site

KINDS = ("company", "site", "department", "line", "workcenter", "position")


def test_overview_shows_the_structure(plant, make_user, login):
    client = login(make_user(Role.QA))
    response = client.get(reverse("org:overview"))
    assert response.status_code == 200
    html = response.content.decode()
    for unit in (plant.company, plant.site_a, plant.site_b, plant.assembly, plant.line_a, plant.line_b2, plant.operator):
        assert unit.code in html
    # An English reader sees the English names of the units.
    assert "Infusion set line A" in html


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_list_and_create_pages(kind, plant, admin_user, login):
    client = login(admin_user)
    assert client.get(reverse("org:unit_list", kwargs={"kind": kind})).status_code == 200
    assert client.get(reverse("org:unit_create", kwargs={"kind": kind})).status_code == 200


def test_unknown_kind_is_404(admin_user, login):
    assert login(admin_user).get("/org/planet/").status_code == 404


def test_list_search_and_status_filter(plant, admin_user, login):
    client = login(admin_user)
    org_services.org_unit_deactivate(unit=plant.line_b2)
    url = reverse("org:unit_list", kwargs={"kind": "line"})
    codes = lambda response: [unit.code for unit, _parents in response.context["rows"]]  # noqa: E731
    assert codes(client.get(url)) == ["L-A", "L-B"]
    assert codes(client.get(url, {"q": "line B"})) == ["L-B"]
    assert codes(client.get(url, {"status": "inactive"})) == ["L-P1"]
    assert codes(client.get(url, {"status": "all"})) == ["L-A", "L-B", "L-P1"]


def test_list_paginates(plant, admin_user, login):
    for n in range(30):
        org_services.org_unit_create(model=Position, data={"code": f"P-{n:02d}", "name": f"岗位{n}"})
    client = login(admin_user)
    url = reverse("org:unit_list", kwargs={"kind": "position"})
    first = client.get(url)
    assert len(first.context["rows"]) == 25
    assert first.context["page"].paginator.count == 32
    second = client.get(url, {"page": 2})
    assert [unit.code for unit, _ in second.context["rows"]] == ["P-24", "P-25", "P-26", "P-27", "P-28", "P-29", "SUP-ASM"]


def test_create_with_reason_and_external_refs_is_audited(plant, admin_user, login):
    client = login(admin_user)
    response = client.post(reverse("org:unit_create", kwargs={"kind": "line"}), {
        "code": "L-C", "name": "输液器组装线C", "name_en": "Infusion set line C", "site": plant.site_a.pk,
        "department": plant.assembly.pk, "clean_room_class": "ISO 8",
        "external_refs": "mes=LINE-C\n\nsap-pp = 4711\n", "reason": "New line for the 2026 volume",
    })
    line = ProductionLine.objects.get(code="L-C")
    assert response.status_code == 302
    assert response["Location"] == reverse("org:unit_detail", kwargs={"kind": "line", "pk": line.pk})
    assert line.external_refs == {"mes": "LINE-C", "sap-pp": "4711"}
    entry = AuditEntry.objects.get(object_type="org.productionline", object_id=str(line.pk))
    assert entry.action == "create"
    assert entry.reason == "New line for the 2026 volume"
    assert (entry.actor_kind, entry.actor_id, entry.actor_name) == ("user", str(admin_user.pk), "admin")
    detail = client.get(response["Location"]).content.decode()
    assert "mes=LINE-C" in detail
    history_url = reverse("audit:object_history", kwargs={"object_type": "org.productionline", "object_id": line.pk})
    assert f'hx-get="{history_url}"' in detail


def test_create_refuses_bad_input_and_writes_nothing(plant, admin_user, login):
    client = login(admin_user)
    before = (ProductionLine.objects.count(), AuditEntry.objects.count())
    response = client.post(reverse("org:unit_create", kwargs={"kind": "line"}), {
        "code": "L-A", "name": "重复", "site": plant.site_b.pk, "department": plant.assembly.pk,
        "external_refs": "mes LINE-C\nmes=1\nmes=2", "reason": "",
    })
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["external_refs"] == ["Line 1: write system=key.", "Line 3: mes is given twice."]
    assert errors["reason"] == ["This field is required."]
    assert (ProductionLine.objects.count(), AuditEntry.objects.count()) == before


def test_service_refusal_becomes_a_field_error(plant, admin_user, login):
    """The department of another site is refused by the service; the form shows it on the field."""
    client = login(admin_user)
    before = (ProductionLine.objects.count(), AuditEntry.objects.count())
    response = client.post(reverse("org:unit_create", kwargs={"kind": "line"}), {
        "code": "L-X", "name": "线", "site": plant.site_b.pk, "department": plant.assembly.pk, "reason": "test",
    })
    assert response.status_code == 200
    assert response.context["form"].errors["department"] == ["The department belongs to another site."]
    assert (ProductionLine.objects.count(), AuditEntry.objects.count()) == before


def test_duplicate_code_is_a_field_error(plant, admin_user, login):
    client = login(admin_user)
    count = AuditEntry.objects.count()
    response = client.post(reverse("org:unit_create", kwargs={"kind": "site"}), {
        "code": "SZ", "name": "又一个", "company": plant.company.pk, "time_zone": "Asia/Shanghai", "reason": "test",
    })
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["code"]
    assert Site.objects.filter(code="SZ").count() == 1
    assert AuditEntry.objects.count() == count


def test_edit_writes_only_the_changed_fields(plant, admin_user, login):
    client = login(admin_user)
    url = reverse("org:unit_edit", kwargs={"kind": "site", "pk": plant.site_b.pk})
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"name_en": "Changzhou plant", "external_refs": "sap=CZ01", "reason": "Official name"})
    response = client.post(url, data)
    assert response.status_code == 302
    plant.site_b.refresh_from_db()
    assert (plant.site_b.name_en, plant.site_b.external_refs) == ("Changzhou plant", {"sap": "CZ01"})
    entry = AuditEntry.objects.filter(object_type="org.site", object_id=str(plant.site_b.pk)).order_by("-seq").first()
    assert entry.action == "update"
    assert entry.reason == "Official name"
    assert json.loads(entry.changes) == {"name_en": ["Changzhou", "Changzhou plant"], "external_refs": [{}, {"sap": "CZ01"}]}


def test_deactivate_needs_a_reason(plant, admin_user, login):
    client = login(admin_user)
    url = reverse("org:unit_deactivate", kwargs={"kind": "line", "pk": plant.line_b.pk})
    count = AuditEntry.objects.count()
    refused = client.post(url, {"reason": "  "})
    assert refused.context["form"].errors["reason"] == ["This field is required."]
    assert AuditEntry.objects.count() == count
    response = client.post(url, {"reason": "Line dismantled"})
    assert response.status_code == 302
    plant.line_b.refresh_from_db()
    assert plant.line_b.is_active is False
    entry = AuditEntry.objects.get(seq=count + 1)
    assert (entry.action, entry.object_id, entry.reason) == ("update", str(plant.line_b.pk), "Line dismantled")


def test_operator_is_refused_org_pages_and_writes(plant, make_user, login):
    client = login(make_user(Role.OPERATOR))
    before = (ProductionLine.objects.count(), AuditEntry.objects.count())
    line_kwargs = {"kind": "line", "pk": plant.line_a.pk}
    assert client.get(reverse("org:overview")).status_code == 403
    assert client.get(reverse("org:unit_create", kwargs={"kind": "line"})).status_code == 403
    assert client.post(reverse("org:unit_create", kwargs={"kind": "line"}), {
        "code": "L-Z", "name": "线", "site": plant.site_a.pk, "department": plant.assembly.pk, "reason": "x",
    }).status_code == 403
    assert client.post(reverse("org:unit_edit", kwargs=line_kwargs), {"code": "L-A", "name": "改", "reason": "x"}).status_code == 403
    assert client.post(reverse("org:unit_deactivate", kwargs=line_kwargs), {"reason": "x"}).status_code == 403
    assert (ProductionLine.objects.count(), AuditEntry.objects.count()) == before
    plant.line_a.refresh_from_db()
    assert (plant.line_a.name, plant.line_a.is_active) == ("输液器组装线A", True)


def test_reader_without_manage_sees_but_cannot_write(plant, make_user, login):
    client = login(make_user(Role.QA))
    detail = client.get(reverse("org:unit_detail", kwargs={"kind": "line", "pk": plant.line_a.pk}))
    assert detail.status_code == 200
    assert reverse("org:unit_edit", kwargs={"kind": "line", "pk": plant.line_a.pk}) not in detail.content.decode()
    assert client.get(reverse("org:unit_edit", kwargs={"kind": "line", "pk": plant.line_a.pk})).status_code == 403


def test_anonymous_is_sent_to_sign_in(plant, client):
    response = client.get(reverse("org:overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
