"""Quality event services: numbering per kind and year (also under a race), open / update / close rules,
the e-signed closure, refusals that write nothing, and the events announced."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, connections
from quality_helpers import PASSWORD, T0

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.integration.models import OutboxEvent
from qualiflow.quality import services
from qualiflow.quality.models import QualityEvent, QualityEventSequence


def _written() -> tuple[int, ...]:
    return (QualityEvent.objects.count(), ESignature.objects.count(), AuditEntry.objects.count(),
            OutboxEvent.objects.count())


def _open(kind: str = "deviation", **kwargs) -> QualityEvent:
    return services.quality_event_open(**{"kind": kind, "title": "t", "reason": "r", **kwargs})


# ---- numbering ---------------------------------------------------------------------------------------


def test_numbers_run_per_kind_and_year(plant):
    numbers = [
        _open("deviation", at=T0).number,
        _open("deviation", at=T0).number,
        _open("nonconformance", at=T0).number,
        _open("complaint", at=T0).number,
        _open("audit_finding", at=T0).number,
        _open("deviation", at=datetime(2027, 1, 3, tzinfo=UTC)).number,
        _open("deviation", at=T0).number,
    ]
    assert numbers == ["DEV-2026-0001", "DEV-2026-0002", "NCR-2026-0001", "CMP-2026-0001", "AUD-2026-0001",
                       "DEV-2027-0001", "DEV-2026-0003"]


def test_the_year_is_the_sites_year(plant):
    # 16:30 UTC on 31 December is 00:30 on 1 January in Suzhou (UTC+8).
    new_year_eve = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert _open(site=plant.site_a, at=new_year_eve).number == "DEV-2027-0001"
    assert _open(at=new_year_eve).number == "DEV-2026-0001"


def test_numbers_past_9999_keep_counting(plant):
    _open(at=T0)
    QualityEventSequence.objects.filter(prefix="DEV", year=2026).update(last=9999)
    assert _open(at=T0).number == "DEV-2026-10000"
    # A sequence started afresh reads 10000 as higher than 9999.
    QualityEvent.objects.filter(number="DEV-2026-0001").update(number="DEV-2026-9999")
    QualityEventSequence.objects.all().delete()
    assert _open(at=T0).number == "DEV-2026-10001"


def test_a_new_sequence_continues_after_numbers_already_given(plant):
    """Events opened before the sequence row existed (e.g. imported) are not numbered twice."""
    _open(at=T0)
    _open(at=T0)
    QualityEventSequence.objects.all().delete()
    assert _open(at=T0).number == "DEV-2026-0003"
    assert QualityEventSequence.objects.get(prefix="DEV", year=2026).last == 3


def test_a_refused_opening_uses_up_no_number(plant, make_user):
    _open(at=T0)
    with pytest.raises(PermissionDenied):
        _open(at=T0, by=make_user(Role.OPERATOR))
    with pytest.raises(ValidationFailed):
        _open(at=T0, title="")
    assert _open(at=T0).number == "DEV-2026-0002"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises write transactions (BEGIN "
                    "IMMEDIATE), and its in-memory test database cannot be shared between threads")
@pytest.mark.django_db(transaction=True)
def test_concurrent_opens_get_distinct_consecutive_numbers(plant):
    workers = 6
    barrier = threading.Barrier(workers)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def open_one(i: int) -> None:
        try:
            barrier.wait()
            numbers.append(_open(at=T0, title=f"parallel {i}").number)
        except BaseException as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [f"DEV-2026-{i:04d}" for i in range(1, workers + 1)]


# ---- open --------------------------------------------------------------------------------------------


def test_open_is_audited_with_its_reason_and_announced(deviation, qa, plant):
    assert (deviation.number, deviation.status, deviation.opened_by, deviation.opened_at, deviation.site) == (
        "DEV-2026-0001", "open", qa, T0, plant.site_a)
    entry = AuditEntry.objects.get(object_type="quality.qualityevent", object_id=str(deviation.pk))
    assert (entry.action, entry.reason) == ("create", "found at batch review")
    event = OutboxEvent.objects.get(type="quality.event.opened")
    assert event.subject == f"quality/event/{deviation.pk}"
    assert event.data == {"number": "DEV-2026-0001", "kind": "deviation", "title": "灭菌柜温度记录缺失",
                          "status": "open", "site_id": str(plant.site_a.pk), "source_type": "", "source_id": ""}


def test_the_system_opens_a_deviation_for_a_source_record(plant):
    """How the production gate's override calls it: no user, the run as the source."""
    run_id = "7d4ad1f6-5a8e-4a8e-9d55-3a0f3a1f0c11"
    event = services.quality_event_open(
        kind="deviation", title="Override of a refused track-in", site=plant.site_a,
        source_type="production.operationrun", source_id=run_id, reason="controlled override",
    )
    assert (event.opened_by, event.source_type, event.source_id) == (None, "production.operationrun", run_id)
    assert OutboxEvent.objects.get(type="quality.event.opened").actor == "system:qualiflow"


@pytest.mark.parametrize(("kwargs", "field", "code"), [
    ({"kind": "recall"}, "kind", "quality.event_invalid"),
    ({"title": "  "}, "title", "core.validation"),
    ({"title": "x" * 201}, "title", "core.validation"),
    ({"source_type": "production.operationrun"}, "source_id", "quality.event_invalid"),
    ({"source_id": "42"}, "source_type", "quality.event_invalid"),
    ({"at": datetime(2026, 3, 2, 8, 0)}, "opened_at", "quality.event_invalid"),
])
def test_bad_input_is_refused_and_nothing_is_written(plant, qa, kwargs, field, code):
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        _open(**{"by": qa, **kwargs})
    assert (list(refused.value.fields), refused.value.code) == ([field], code)
    assert _written() == before


def test_missing_reason_and_missing_permission_write_nothing(plant, make_user, qa_site_b):
    outsiders = [make_user(role) for role in (Role.OPERATOR, Role.PRODUCTION_SUPERVISOR, Role.AUDITOR)]
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        _open(reason="  ")
    assert refused.value.code == "core.reason_required"
    for outsider in outsiders:
        with pytest.raises(PermissionDenied) as denied:
            _open(by=outsider, site=plant.site_a)
        assert denied.value.code == "quality.out_of_scope"
    # QA scoped to Changzhou can open there, not in Suzhou nor company-wide.
    for site in (plant.site_a, None):
        with pytest.raises(PermissionDenied):
            _open(by=qa_site_b, site=site)
    assert _written() == before
    assert _open(by=qa_site_b, site=plant.site_b).site == plant.site_b


# ---- update ------------------------------------------------------------------------------------------


def test_update_changes_only_what_differs(deviation, qa):
    before = _written()
    assert services.quality_event_update(event=deviation, title="灭菌柜温度记录缺失 ", by=qa, reason="same") == deviation
    assert _written() == before
    services.quality_event_update(event=deviation, description="Recorder paper ran out; cycle 42 only.", by=qa,
                                  reason="clarified scope")
    entry = AuditEntry.objects.get(object_id=str(deviation.pk), action="update")
    assert json.loads(entry.changes) == {
        "description": ["Chart recorder paper ran out during cycle 42.", "Recorder paper ran out; cycle 42 only."]}
    assert entry.reason == "clarified scope"
    event = OutboxEvent.objects.get(type="quality.event.updated")
    assert event.data["fields"] == ["description"]


def test_update_refusals_write_nothing(deviation, make_user, qa_site_b, qa):
    operator = make_user(Role.OPERATOR)
    before = _written()
    with pytest.raises(PermissionDenied):
        services.quality_event_update(event=deviation, title="x", by=operator, reason="x")
    with pytest.raises(PermissionDenied):
        services.quality_event_update(event=deviation, title="x", by=qa_site_b, reason="x")
    with pytest.raises(ValidationFailed) as blank:
        services.quality_event_update(event=deviation, title=" ", by=qa, reason="x")
    assert list(blank.value.fields) == ["title"]
    with pytest.raises(ValidationFailed) as no_reason:
        services.quality_event_update(event=deviation, title="y", by=qa, reason="")
    assert no_reason.value.code == "core.reason_required"
    assert _written() == before


# ---- close -------------------------------------------------------------------------------------------


def test_qa_closes_with_an_approved_signature_bound_to_the_closed_record(deviation, qa):
    closed = services.quality_event_close(
        event=deviation, signer=qa, password=PASSWORD, summary="Paper replaced; cycle 42 re-run and released.",
        reason="investigation complete",
    )
    closed.refresh_from_db()
    assert (closed.status, closed.closure_summary) == ("closed", "Paper replaced; cycle 42 re-run and released.")
    assert closed.closed_at is not None
    signature = ESignature.objects.get(object_type="quality.qualityevent", object_id=str(deviation.pk))
    assert (signature.signer, signature.meaning, signature.reason) == (qa, "approved", "investigation complete")
    from qualiflow.accounts.services import content_hash

    assert signature.content_hash == content_hash(closed)
    entry = AuditEntry.objects.get(object_id=str(deviation.pk), action="update")
    assert json.loads(entry.changes)["status"] == ["open", "closed"]
    assert entry.reason == "investigation complete"
    event = OutboxEvent.objects.get(type="quality.event.closed")
    assert (event.data["number"], event.data["status"], event.data["signature_id"], event.data["signer"]) == (
        "DEV-2026-0001", "closed", str(signature.pk), "qa.li")

    # Closed is final: no edit, no second closure.
    before = _written()
    with pytest.raises(ValidationFailed) as edit:
        services.quality_event_update(event=closed, title="later", by=qa, reason="x")
    with pytest.raises(ValidationFailed) as again:
        services.quality_event_close(event=closed, signer=qa, password=PASSWORD, summary="again", reason="x")
    assert edit.value.code == again.value.code == "quality.event_closed"
    assert _written() == before


def test_a_wrong_password_closes_nothing(deviation, qa):
    before = _written()
    with pytest.raises(PermissionDenied) as refused:
        services.quality_event_close(event=deviation, signer=qa, password="wrong", summary="done", reason="done")
    assert refused.value.code == "accounts.signature_password_invalid"
    assert _written() == before
    deviation.refresh_from_db()
    assert (deviation.status, deviation.closed_at, deviation.closure_summary) == ("open", None, "")


def test_closing_needs_quality_approval_a_summary_and_a_reason(deviation, make_user, qa_site_b, qa):
    supervisor = make_user(Role.PRODUCTION_SUPERVISOR)
    before = _written()
    for signer in (supervisor, qa_site_b):
        with pytest.raises(PermissionDenied) as denied:
            services.quality_event_close(event=deviation, signer=signer, password=PASSWORD, summary="s", reason="r")
        assert denied.value.code == "quality.out_of_scope"
    with pytest.raises(ValidationFailed) as no_summary:
        services.quality_event_close(event=deviation, signer=qa, password=PASSWORD, summary=" ", reason="r")
    assert list(no_summary.value.fields) == ["summary"]
    with pytest.raises(ValidationFailed) as no_reason:
        services.quality_event_close(event=deviation, signer=qa, password=PASSWORD, summary="s", reason="")
    assert no_reason.value.code == "core.reason_required"
    assert _written() == before
