"""Document control through the UI, the API and the services: documents and revisions are created with a
reason, audited and announced; bad input and missing permissions write nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from qualiflow.accounts import services as account_services
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.documents import services
from qualiflow.documents.models import Document, DocumentRevision
from qualiflow.integration.models import OutboxEvent
from qualiflow.training import services as training_services
from qualiflow.training.services import catalogue as catalogue_services

T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def _written() -> tuple[int, ...]:
    return Document.objects.count(), DocumentRevision.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count()


@pytest.fixture
def sop(db):
    return services.document_create(
        data={"code": "SOP-EO-001", "title": "环氧乙烷灭菌操作规程", "title_en": "EO sterilisation procedure"},
        reason="document control set-up",
    )


@pytest.fixture
def qa(make_user):
    return make_user(Role.QA, username="qa.li")


class Api:
    """JSON calls to /api/v1 with a bearer token of `user`."""

    def __init__(self, client, user):
        _token, self.token = account_services.api_token_issue(user=user, name="test")
        self.client = client

    def __call__(self, method: str, path: str, body=None, **params):
        kwargs = {"headers": {"Authorization": f"Bearer {self.token}"}}
        if body is not None:
            kwargs.update(data=json.dumps(body, default=str), content_type="application/json")
        if params:
            kwargs["query_params"] = params
        return getattr(self.client, method)(f"/api/v1/documents{path}", **kwargs)


# ---- services ----------------------------------------------------------------------------------------


def test_revisions_are_numbered_in_order_audited_and_announced(sop, qa):
    first = services.revision_create(document=sop, label="A", effective_from=T0, by=qa, reason="first issue")
    second = services.revision_create(
        document=sop, label="B", effective_from=T0 + timedelta(days=30), training_required=True,
        retraining_grace_days=14, summary="New leak test step", by=qa, reason="CAPA-2026-007",
    )
    assert (first.revision, second.revision) == (1, 2)
    assert (second.retraining_grace_days, second.summary, second.training_required) == (14, "New leak test step", True)
    entry = AuditEntry.objects.get(object_type="documents.documentrevision", object_id=str(second.pk))
    assert (entry.action, entry.reason) == ("create", "CAPA-2026-007")
    event = OutboxEvent.objects.get(type="documents.revision.created", subject=f"documents/revision/{second.pk}")
    assert event.data["revision"] == 2 and event.data["label"] == "B" and event.data["retraining_grace_days"] == 14
    assert OutboxEvent.objects.filter(type="documents.document.created", subject=f"documents/document/{sop.pk}").count() == 1


@pytest.mark.parametrize(("label", "effective_from", "field"), [
    ("A", T0 + timedelta(days=60), "label"),                      # label taken
    ("B", T0, "effective_from"),                                   # not after the previous revision
    ("B", datetime(2026, 3, 1), "effective_from"),                 # no time zone
    ("", T0 + timedelta(days=60), "label"),                        # no label
])
def test_bad_revisions_are_refused_and_nothing_is_written(sop, qa, label, effective_from, field):
    services.revision_create(document=sop, label="A", effective_from=T0, reason="first issue")
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        services.revision_create(document=sop, label=label, effective_from=effective_from, by=qa, reason="next")
    assert list(refused.value.fields) == [field]
    assert _written() == before


def test_missing_reason_and_missing_permission_write_nothing(sop, make_user):
    coordinator = make_user(Role.TRAINING_COORDINATOR)
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        services.revision_create(document=sop, label="A", effective_from=T0, reason="  ")
    assert refused.value.code == "core.reason_required"
    with pytest.raises(PermissionDenied):
        services.revision_create(
            document=sop, label="A", effective_from=T0, by=coordinator, reason="x"
        )
    with pytest.raises(ValidationFailed) as taken:
        services.document_create(data={"code": "SOP-EO-001", "title": "dup"}, reason="dup")
    assert taken.value.code == "documents.code_taken"
    assert _written() == before


def test_document_update_changes_only_what_differs(sop, qa):
    before = AuditEntry.objects.count()
    services.document_update(document=sop, data={"title_en": "EO sterilisation procedure"}, by=qa, reason="same")
    assert AuditEntry.objects.count() == before
    services.document_update(document=sop, data={"title_en": "EO steriliser SOP"}, by=qa, reason="naming")
    entry = AuditEntry.objects.filter(object_id=str(sop.pk), action="update").get()
    assert json.loads(entry.changes) == {"title_en": ["EO sterilisation procedure", "EO steriliser SOP"]}
    assert entry.reason == "naming"


# ---- UI ----------------------------------------------------------------------------------------------


def test_ui_create_document_and_add_revision(qa, login):
    client = login(qa)
    assert client.get(reverse("documents:document_create")).status_code == 200
    refused = client.post(reverse("documents:document_create"), {"code": "WI-ASM-010", "title": "滴斗组装作业指导书", "kind": "wi"})
    assert refused.status_code == 200 and "reason" in refused.context["form"].errors
    assert Document.objects.count() == 0

    created = client.post(reverse("documents:document_create"), {
        "code": "WI-ASM-010", "title": "滴斗组装作业指导书", "title_en": "Drip chamber assembly", "kind": "wi",
        "reason": "new work instruction",
    })
    document = Document.objects.get(code="WI-ASM-010")
    assert created.status_code == 302 and created["Location"] == reverse("documents:document_detail", kwargs={"pk": document.pk})
    entry = AuditEntry.objects.get(object_type="documents.document", object_id=str(document.pk))
    assert (entry.reason, entry.actor_name) == ("new work instruction", "qa.li")

    url = reverse("documents:revision_create", kwargs={"pk": document.pk})
    added = client.post(url, {
        "label": "A", "effective_from": "2026-02-01T08:00", "training_required": "on", "retraining_grace_days": "7",
        "summary": "First issue", "reason": "release of WI",
    })
    assert added.status_code == 302, added.context["form"].errors
    revision = DocumentRevision.objects.get(document=document)
    assert (revision.revision, revision.label, revision.effective_from, revision.retraining_grace_days) == (
        1, "A", datetime(2026, 2, 1, 8, 0, tzinfo=UTC), 7)

    earlier = client.post(url, {"label": "B", "effective_from": "2026-01-01T08:00", "retraining_grace_days": "0",
                                "reason": "second"})
    assert earlier.status_code == 200
    assert list(earlier.context["form"].errors) == ["effective_from"]
    assert DocumentRevision.objects.count() == 1

    page = client.get(reverse("documents:document_list"), {"q": "WI-ASM"})
    assert [d.code for d in page.context["page"]] == ["WI-ASM-010"]
    assert page.context["page"][0].current_label == "A"


def test_ui_detail_shows_revisions_and_what_rests_on_the_document(sop, qa, login, eo_qualification_on):
    services.revision_create(document=sop, label="A", effective_from=T0, reason="first")
    services.revision_create(document=sop, label="B", effective_from=datetime(2099, 1, 1, tzinfo=UTC), reason="future")
    page = login(qa).get(reverse("documents:document_detail", kwargs={"pk": sop.pk}))
    assert page.status_code == 200
    detail = page.context["detail"]
    assert [(row.revision.label, row.state) for row in detail.revisions] == [("B", "pending"), ("A", "current")]
    assert [q.code for q in detail.qualifications] == ["Q-EO-OP"]
    assert [c.code for c in detail.courses] == ["C-EO-RU"]
    html = page.content.decode()
    assert "Not yet effective" in html and "Q-EO-OP" in html and "C-EO-RU" in html


@pytest.fixture
def eo_qualification_on(sop):
    qualification = training_services.qualification_create(
        data={"code": "Q-EO-OP", "name": "环氧乙烷灭菌操作资质", "validity_days": 365}, reason="set-up"
    )
    catalogue_services.qualification_documents_set(qualification=qualification, documents=[sop], reason="rests on SOP")
    training_services.course_create(
        data={"code": "C-EO-RU", "name": "SOP阅读", "kind": "read_and_understand", "duration_hours": 1, "document": sop},
        confers=[qualification], reason="set-up",
    )
    return qualification


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AUDITOR])
def test_ui_read_only_roles_see_documents_but_cannot_change_them(sop, make_user, login, role):
    client = login(make_user(role))
    assert client.get(reverse("documents:document_list")).status_code == 200
    detail = client.get(reverse("documents:document_detail", kwargs={"pk": sop.pk}))
    assert detail.status_code == 200 and detail.context["can_manage"] is False
    before = _written()
    assert client.post(reverse("documents:document_create"), {"code": "X", "title": "X", "kind": "sop", "reason": "x"}).status_code == 403
    assert client.post(reverse("documents:revision_create", kwargs={"pk": sop.pk}), {
        "label": "A", "effective_from": "2026-02-01T08:00", "retraining_grace_days": "0", "reason": "x"}).status_code == 403
    assert client.post(reverse("documents:document_edit", kwargs={"pk": sop.pk}), {"title": "Y", "reason": "x"}).status_code == 403
    assert _written() == before


def test_ui_without_documents_permission_is_denied(sop, make_user, login):
    client = login(make_user(Role.INTEGRATION))
    assert client.get(reverse("documents:document_list")).status_code == 403
    assert client.get(reverse("documents:document_detail", kwargs={"pk": sop.pk})).status_code == 403


def test_ui_zh_hans_refusal_is_translated(sop, make_user, login):
    client = login(make_user(Role.QA, language="zh-hans"))
    refused = client.post(reverse("documents:document_create"), {"code": "SOP-EO-001", "title": "重复", "kind": "sop",
                                                                 "reason": "重复"})
    assert refused.context["form"].errors["code"] == ["代码 SOP-EO-001 已被使用。"]
    assert Document.objects.count() == 1


# ---- API ---------------------------------------------------------------------------------------------


def test_api_create_document_add_revision_and_read_it_back(client, qa):
    api = Api(client, qa)
    created = api("post", "", {"code": "SOP-CR-002", "title": "洁净区更衣规程", "kind": "sop", "reason": "new SOP"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["code"], body["revisions"], body["current_revision_id"]) == ("SOP-CR-002", [], None)
    revision = api("post", f"/{body['id']}/revisions", {
        "label": "A", "effective_from": "2026-01-05T08:00:00+08:00", "retraining_grace_days": 10, "reason": "issue",
    })
    assert revision.status_code == 201, revision.content
    assert (revision.json()["revision"], revision.json()["effective_from"]) == (1, "2026-01-05T00:00:00Z")
    fetched = api("get", f"/{body['id']}").json()
    assert fetched["current_revision_id"] == revision.json()["id"]
    assert [r["label"] for r in api("get", f"/{body['id']}/revisions").json()] == ["A"]
    listed = api("get", "", search="CR-002").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]
    patched = api("patch", f"/{body['id']}", {"title_en": "Clean-room gowning", "reason": "English title"})
    assert patched.status_code == 200 and patched.json()["title_en"] == "Clean-room gowning"


def test_api_refusals_write_nothing(client, sop, qa, make_user):
    api = Api(client, qa)
    operator = Api(client, make_user(Role.OPERATOR))
    auditor = Api(client, make_user(Role.AUDITOR))
    before = _written()
    missing = api("post", f"/{sop.pk}/revisions", {"label": "A", "effective_from": "2026-01-05T08:00:00Z"})
    assert missing.status_code == 422 and missing.json()["code"] == "core.reason_required"
    naive = api("post", f"/{sop.pk}/revisions", {"label": "A", "effective_from": "2026-01-05T08:00:00", "reason": "x"})
    assert naive.status_code == 422 and naive.json()["code"] == "documents.revision_invalid"
    assert api("get", "/00000000-0000-0000-0000-000000000000").status_code == 404
    assert operator("get", "").status_code == 200
    denied = operator("post", "", {"code": "X", "title": "X", "reason": "x"})
    assert denied.status_code == 403 and denied.json()["code"] == "core.permission_denied"
    assert auditor("get", f"/{sop.pk}").status_code == 200
    assert auditor("patch", f"/{sop.pk}", {"title": "Y", "reason": "x"}).status_code == 403
    assert _written() == before


def test_api_messages_follow_the_callers_language(client, sop, make_user):
    api = Api(client, make_user(Role.QA, language="zh-hans"))
    refused = api("post", "", {"code": "SOP-EO-001", "title": "重复", "reason": "重复"})
    assert refused.status_code == 422
    assert refused.json()["details"]["fields"]["code"] == ["代码 SOP-EO-001 已被使用。"]
    translation.activate("en")


def test_api_junk_input_never_fails_on_our_side(client, sop, admin_user):
    api = Api(client, admin_user)
    document = client.get("/api/v1/openapi.json").json()
    checked = 0
    for path, methods in document["paths"].items():
        if not path.startswith("/api/v1/documents"):
            continue
        url = path.removeprefix("/api/v1/documents").replace("{document_id}", str(sop.pk))
        for method, operation in methods.items():
            if method not in ("post", "patch"):
                continue
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            properties = document["components"]["schemas"][ref.rsplit("/", 1)[1]].get("properties", {})
            for body in ({}, {"reason": "x"}, {name: None for name in properties}, {name: 12345 for name in properties},
                         {name: "x" * 5000 for name in properties}, {name: {"nested": ["x"]} for name in properties},
                         {**{name: "" for name in properties}, "reason": "x"}):
                response = api(method, url, body)
                assert response.status_code < 500, (method, path, body, response.content)
                if response.status_code >= 400:
                    assert set(response.json()) == {"code", "message", "details"}
                checked += 1
    assert checked == 3 * 7  # document create and update, revision create
