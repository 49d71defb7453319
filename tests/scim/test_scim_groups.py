"""SCIM Groups over HTTP: members are provisioned users; a group mapped to a role grants it."""

from __future__ import annotations

import pytest
from scim_helpers import GROUP, PATCH, Scim, integration_token, user_body

from qualiflow.accounts.models import RoleAssignment
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.scim.models import ScimGroup, ScimGroupMembership


@pytest.fixture
def scim(client, plant):
    _idp, secret = integration_token()
    return Scim(client, secret)


@pytest.fixture
def people(scim):
    ids = []
    for n, name in enumerate(("wang.fang", "li.lei"), start=1):
        response = scim.send("post", "Users", user_body(name, number=f"S{n:04d}"))
        ids.append(response.json()["id"])
    return ids


def _group(name: str, members: list[str]) -> dict:
    return {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}


def test_create_group_with_members(scim, people):
    response = scim.send("post", "Groups", _group("QA team", people[:1]))

    assert response.status_code == 201, response.json()
    group = ScimGroup.objects.get()
    body = response.json()
    assert body["id"] == str(group.pk)
    assert body["members"] == [{"value": people[0], "$ref": f"http://testserver/scim/v2/Users/{people[0]}",
                                "type": "User"}]
    assert str(group.memberships.get().user_id) == people[0]
    assert AuditEntry.objects.filter(object_type="scim.scimgroupmembership", action="create",
                                     actor_name="idp").count() == 1
    assert OutboxEvent.objects.filter(type="scim.group.created").count() == 1
    user = scim.get(f"Users/{people[0]}").json()
    assert [g["display"] for g in user["groups"]] == ["QA team"]


def test_duplicate_display_name_and_unknown_member_are_refused(scim, people):
    scim.send("post", "Groups", _group("QA team", []))

    taken = scim.send("post", "Groups", _group("qa TEAM", []))
    unknown = scim.send("post", "Groups", _group("Other", ["00000000-0000-0000-0000-000000000000"]))

    assert (taken.status_code, taken.json()["scimType"]) == (409, "uniqueness")
    assert (unknown.status_code, unknown.json()["scimType"]) == (400, "invalidValue")
    assert list(ScimGroup.objects.values_list("display_name", flat=True)) == ["QA team"]


def test_patch_members_add_and_remove_by_filter(scim, people):
    group_id = scim.send("post", "Groups", _group("Line A", people[:1])).json()["id"]

    added = scim.send("patch", f"Groups/{group_id}", {"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": people[1]}]}]})
    assert added.status_code == 200, added.json()
    assert [m["value"] for m in added.json()["members"]] == people

    removed = scim.send("patch", f"Groups/{group_id}", {"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{people[0]}"]'}]})
    assert removed.status_code == 200, removed.json()
    assert [str(u) for u in ScimGroupMembership.objects.values_list("user_id", flat=True)] == [people[1]]


def test_list_filter_put_and_delete(scim, people):
    group_id = scim.send("post", "Groups", _group("Line A", people)).json()["id"]
    scim.send("post", "Groups", _group("Line B", []))

    found = scim.get("Groups", filter=f'members.value eq "{people[1]}"').json()["Resources"]
    assert [g["displayName"] for g in found] == ["Line A"]
    assert [g["displayName"] for g in scim.get("Groups", filter='displayName sw "line"').json()["Resources"]] == [
        "Line A", "Line B"]

    replaced = scim.send("put", f"Groups/{group_id}", _group("Line A1", people[1:]))
    assert replaced.status_code == 200, replaced.json()
    assert ScimGroup.objects.get(pk=group_id).display_name == "Line A1"
    assert ScimGroupMembership.objects.filter(group_id=group_id).count() == 1

    assert scim.delete(f"Groups/{group_id}").status_code == 204
    assert scim.get(f"Groups/{group_id}").status_code == 404
    assert not ScimGroupMembership.objects.filter(group_id=group_id).exists()


def test_mapped_group_grants_and_revokes_its_role(scim, people, settings):
    settings.QUALIFLOW_SCIM_GROUP_ROLES = {"Qualiflow QA": Role.QA}
    group_id = scim.send("post", "Groups", _group("Qualiflow QA", people[:1])).json()["id"]

    assert [str(a.user_id) for a in RoleAssignment.objects.filter(role=Role.QA)] == [people[0]]

    scim.send("patch", f"Groups/{group_id}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "members", "value": [{"value": people[1]}]}]})
    assert [str(a.user_id) for a in RoleAssignment.objects.filter(role=Role.QA)] == [people[1]]
    assert OutboxEvent.objects.filter(type="scim.role.revoked").count() == 1

    scim.delete(f"Users/{people[1]}")
    assert not RoleAssignment.objects.filter(role=Role.QA).exists()
