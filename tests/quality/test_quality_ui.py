"""Quality pages: QA opens, edits, closes (signing) and exports events; read-only and outside roles are
refused; every refusal writes nothing."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from quality_helpers import PASSWORD, T0

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.integration.models import OutboxEvent
from qualiflow.quality import services
from qualiflow.quality.models import QualityEvent


def _written() -> tuple[int, ...]:
    return (QualityEvent.objects.count(), ESignature.objects.count(), AuditEntry.objects.count(),
            OutboxEvent.objects.count())


def _urls(event: QualityEvent) -> dict[str, str]:
    return {name: reverse(f"quality:{name}", kwargs={"pk": event.pk}) for name in ("event_detail", "event_edit", "event_close")}


def test_qa_opens_edits_and_closes_an_event_through_the_pages(plant, qa, login):
    client = login(qa)
    assert client.get(reverse("quality:event_create")).status_code == 200
    refused = client.post(reverse("quality:event_create"), {"kind": "nonconformance", "title": "毛刺超标"})
    assert refused.status_code == 200 and list(refused.context["form"].errors) == ["reason"]
    assert QualityEvent.objects.count() == 0

    opened = client.post(reverse("quality:event_create"), {
        "kind": "nonconformance", "title": "毛刺超标", "description": "Burrs on 12 of 50 drip chambers.",
        "site": str(plant.site_a.pk), "reason": "incoming inspection",
    })
    event = QualityEvent.objects.get()
    assert opened.status_code == 302 and opened["Location"] == reverse("quality:event_detail", kwargs={"pk": event.pk})
    assert (event.number[:9], event.kind, event.site, event.opened_by) == ("NCR-2026-", "nonconformance", plant.site_a, qa)
    entry = AuditEntry.objects.get(object_type="quality.qualityevent", object_id=str(event.pk))
    assert (entry.action, entry.reason, entry.actor_name) == ("create", "incoming inspection", "qa.li")

    urls = _urls(event)
    page = client.get(urls["event_detail"])
    assert page.status_code == 200 and (page.context["can_manage"], page.context["can_close"]) == (True, True)
    assert event.number in page.content.decode()

    edited = client.post(urls["event_edit"], {"title": "滴斗毛刺超标", "description": event.description,
                                              "reason": "more precise"})
    assert edited.status_code == 302
    event.refresh_from_db()
    assert event.title == "滴斗毛刺超标"

    wrong = client.post(urls["event_close"], {"summary": "Mould cavity 3 polished.", "password": "wrong",
                                              "reason": "done"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["password"] == ["The password is not correct."]
    event.refresh_from_db()
    assert event.status == "open" and ESignature.objects.count() == 0

    closed = client.post(urls["event_close"], {"summary": "Mould cavity 3 polished.", "password": PASSWORD,
                                               "reason": "effective"})
    assert closed.status_code == 302
    event.refresh_from_db()
    assert (event.status, event.closure_summary) == ("closed", "Mould cavity 3 polished.")
    page = client.get(urls["event_detail"])
    [signature] = page.context["detail"].signatures
    assert (signature.signature.meaning, signature.signature.signer, signature.matches) == ("approved", qa, True)
    html = page.content.decode()
    assert "Valid" in html and "Close and sign" not in html

    before = _written()
    again = client.post(urls["event_edit"], {"title": "late", "reason": "x"})
    assert again.status_code == 200
    assert again.context["form"].non_field_errors() == ["A closed quality event cannot be changed."]
    assert _written() == before


def test_the_list_filters_searches_and_exports(plant, qa, login):
    services.quality_event_open(kind="deviation", title="温度偏差", site=plant.site_a, reason="r", at=T0)
    services.quality_event_open(kind="complaint", title="Customer: leaking connector", site=plant.site_b, reason="r",
                                at=T0)
    services.quality_event_open(kind="deviation", title="Humidity excursion", site=plant.site_b, reason="r", at=T0)
    client = login(qa)
    page = client.get(reverse("quality:event_list"), {"kind": "deviation", "sort": "number"})
    assert [e.number for e in page.context["page"]] == ["DEV-2026-0001", "DEV-2026-0002"]
    page = client.get(reverse("quality:event_list"), {"q": "leaking"})
    assert [e.number for e in page.context["page"]] == ["CMP-2026-0001"]
    page = client.get(reverse("quality:event_list"), {"site": str(plant.site_b.pk), "sort": "-number"})
    assert [e.number for e in page.context["page"]] == ["DEV-2026-0002", "CMP-2026-0001"]
    fragment = client.get(reverse("quality:event_list"), {"q": "DEV"}, headers={"HX-Request": "true"})
    assert fragment.templates[0].name == "quality/_event_results.html"

    export = client.get(reverse("quality:event_export"), {"kind": "deviation", "sort": "number"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Number", "Kind", "Title", "Status")
    assert [row[:4] for row in rows[1:]] == [("DEV-2026-0001", "Deviation", "温度偏差", "Open"),
                                            ("DEV-2026-0002", "Deviation", "Humidity excursion", "Open")]


def test_a_site_scoped_reader_sees_only_their_sites_events(plant, qa_site_b, login, deviation):
    services.quality_event_open(kind="deviation", title="CZ", site=plant.site_b, reason="r", at=T0)
    client = login(qa_site_b)
    page = client.get(reverse("quality:event_list"))
    assert [e.title for e in page.context["page"]] == ["CZ"]
    assert client.get(_urls(deviation)["event_detail"]).status_code == 404


def test_the_source_link_never_breaks_the_page(plant, qa, login):
    event = services.quality_event_open(
        kind="deviation", title="Override", site=plant.site_a, source_type="production.operationrun",
        source_id="7d4ad1f6-5a8e-4a8e-9d55-3a0f3a1f0c11", reason="controlled override",
    )
    page = login(qa).get(_urls(event)["event_detail"])
    assert page.status_code == 200 and "production.operationrun" in page.content.decode()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.INTEGRATION])
def test_roles_without_quality_access_are_refused(deviation, make_user, login, role):
    client = login(make_user(role))
    urls = _urls(deviation)
    before = _written()
    for url in (reverse("quality:event_list"), reverse("quality:event_export"), reverse("quality:event_create"),
                *urls.values()):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("quality:event_create"), {"kind": "deviation", "title": "x", "reason": "x"}).status_code == 403
    assert client.post(urls["event_edit"], {"title": "x", "reason": "x"}).status_code == 403
    assert client.post(urls["event_close"], {"summary": "x", "password": "Correct-Horse-42", "reason": "x"}).status_code == 403
    assert _written() == before


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PRODUCTION_SUPERVISOR])
def test_read_only_roles_see_events_but_cannot_change_them(deviation, make_user, login, role):
    client = login(make_user(role))
    urls = _urls(deviation)
    assert client.get(reverse("quality:event_list")).status_code == 200
    detail = client.get(urls["event_detail"])
    assert detail.status_code == 200 and (detail.context["can_manage"], detail.context["can_close"]) == (False, False)
    before = _written()
    assert client.post(reverse("quality:event_create"), {"kind": "deviation", "title": "x", "reason": "x"}).status_code == 403
    assert client.post(urls["event_edit"], {"title": "x", "reason": "x"}).status_code == 403
    assert client.post(urls["event_close"], {"summary": "x", "password": "Correct-Horse-42", "reason": "x"}).status_code == 403
    assert _written() == before
