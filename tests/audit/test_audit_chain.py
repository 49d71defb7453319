"""The hash chain: intact passes; an edited, a deleted and an inserted row are each found and named; the
database itself refuses UPDATE and DELETE on the trail; writer and verifier share one canonical form."""

from __future__ import annotations

import datetime as dt

import pytest
from audit_helpers import last_seq
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualiflow.audit import selectors
from qualiflow.audit.domain.chain import (
    COLUMNS,
    GENESIS_HASH,
    ChainState,
    canonical_text,
    entry_hash,
    timestamp_text,
    verify_rows,
)
from qualiflow.audit.models import AuditEntry
from qualiflow.people import services as people_services


@pytest.fixture
def trail(make_employee):
    """A few employees created and updated: a chain of some entries."""
    employees = [make_employee(employee_number=f"E-CH{i}") for i in range(3)]
    for i, employee in enumerate(employees):
        people_services.employee_update(employee=employee, data={"phone": f"1390000000{i}"}, reason="phone")
    return employees


def test_an_untouched_chain_is_intact(trail):
    report = selectors.chain_verify()
    assert report == selectors.ChainReport(intact=True, checked=AuditEntry.objects.count(), first_break=None)
    assert report.checked == last_seq()


def test_verification_pages_through_the_chain(trail):
    assert selectors.chain_verify(page_size=2) == selectors.chain_verify()


def test_an_edited_entry_is_named(trail, tamper):
    target = AuditEntry.objects.filter(action="update").order_by("seq").first()
    tamper.update(target.seq, changes='{"phone":["","13900000099"]}')
    report = selectors.chain_verify(page_size=3)
    assert not report.intact
    assert (report.first_break.seq, report.first_break.problem) == (target.seq, "edited")
    assert report.checked == target.seq - 1


def test_an_edited_actor_or_time_is_named(trail, tamper):
    first, second = AuditEntry.objects.order_by("seq")[:2]
    tamper.update(second.seq, actor_name="someone-else")
    assert selectors.chain_verify().first_break.seq == second.seq
    tamper.update(first.seq, recorded_at=connection.ops.adapt_datetimefield_value(first.recorded_at + dt.timedelta(seconds=1)))
    assert selectors.chain_verify().first_break.seq == first.seq


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(trail, tamper):
    target = AuditEntry.objects.order_by("seq")[2]
    forged = {c: getattr(target, c) for c in COLUMNS if c not in ("recorded_at", "hash")}
    forged.update(recorded_at=timestamp_text(target.recorded_at), reason="forged reason")
    tamper.update(target.seq, reason="forged reason", hash=entry_hash(**forged))
    report = selectors.chain_verify()
    assert (report.first_break.seq, report.first_break.problem) == (target.seq + 1, "inserted")


def test_a_deleted_entry_is_named(trail, tamper):
    target = AuditEntry.objects.order_by("seq")[3]
    tamper.delete(target.seq)
    report = selectors.chain_verify()
    assert (report.first_break.seq, report.first_break.problem) == (target.seq, "missing")
    assert report.first_break.detail == f"entry {target.seq} is missing"


def test_an_inserted_entry_at_the_end_is_named(trail, tamper):
    tip = AuditEntry.objects.order_by("-seq").first()
    tamper.insert(
        seq=tip.seq + 1, recorded_at=tip.recorded_at, actor_kind="user", actor_name="intruder", action="delete",
        object_type="people.employee", object_id=str(trail[0].pk), changes="{}", prev_hash="f" * 64, hash="e" * 64,
    )
    report = selectors.chain_verify()
    assert (report.first_break.seq, report.first_break.problem) == (tip.seq + 1, "inserted")
    assert report.checked == tip.seq


def test_an_inserted_entry_before_the_first_is_named(trail, tamper):
    tamper.insert(
        seq=0, recorded_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), actor_kind="system", actor_name="qualiflow",
        action="create", object_type="people.employee", object_id="x", changes="{}",
        prev_hash=GENESIS_HASH, hash="a" * 64,
    )
    report = selectors.chain_verify()
    assert (report.first_break.seq, report.first_break.problem) == (0, "inserted")
    assert report.checked == 0


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_auditentry SET reason = 'changed'", "DELETE FROM audit_auditentry"]
)
def test_the_database_refuses_update_and_delete_on_the_trail(trail, statement):
    before = list(AuditEntry.objects.order_by("seq").values_list("seq", "reason", "hash"))
    with pytest.raises(DatabaseError, match="audit records are immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "reason", "hash")) == before


def test_the_orm_cannot_change_an_entry_either(trail):
    entry = AuditEntry.objects.order_by("seq").first()
    with pytest.raises(DatabaseError, match="audit records are immutable"), transaction.atomic():
        AuditEntry.objects.filter(seq=entry.seq).update(reason="changed")
    with pytest.raises(DatabaseError, match="audit records are immutable"), transaction.atomic():
        entry.delete()
    assert AuditEntry.objects.get(seq=entry.seq).reason == entry.reason


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(
    values=st.lists(st.tuples(_text, _text, _text, _text), min_size=1, max_size=5),
    moment=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2200, 1, 1)),
)
def test_rows_the_writer_hashes_verify(values, moment):
    """Writer (`entry_hash`) and verifier (`verify_rows`) agree on any content, the time given either way."""
    rows, prev = [], GENESIS_HASH
    for seq, (name, object_repr, changes, reason) in enumerate(values, start=1):
        fields = {
            "seq": seq, "recorded_at": timestamp_text(moment), "actor_kind": "user", "actor_id": "7",
            "actor_name": name, "action": "update", "object_type": "people.employee", "object_id": "1",
            "object_repr": object_repr, "changes": changes, "reason": reason, "request_id": "r", "prev_hash": prev,
        }
        prev = entry_hash(**fields)
        rows.append((*tuple(fields[c] for c in COLUMNS[:-1]), prev))
    assert verify_rows(rows, ChainState()) is None
    as_datetime = [(row[0], moment.replace(tzinfo=dt.UTC), *row[2:]) for row in rows]
    assert verify_rows(as_datetime, ChainState()) is None
    edited = [*rows[:-1], (*rows[-1][:8], rows[-1][8] + "!", *rows[-1][9:])]
    assert verify_rows(edited, ChainState()).seq == len(rows)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moment=st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(9000, 1, 1), timezones=st.just(dt.UTC))
    | st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)).map(
        lambda m: m.replace(microsecond=0)
    )
)
def test_the_verifier_query_renders_time_exactly_as_the_writer(db, moment):
    """The SQL that spares the verifier a datetime per row gives `timestamp_text` for any stored value."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {selectors.timestamp_text_sql(connection.vendor)} FROM (SELECT %s AS recorded_at) AS stored",
            [connection.ops.adapt_datetimefield_value(moment)],
        )
        assert cursor.fetchone()[0] == timestamp_text(moment)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30),
                       min_size=11, max_size=11),
       seq=st.integers(min_value=-(2**40), max_value=2**62))
def test_the_database_renders_the_canonical_text_exactly_as_the_writer(db, values, seq):
    """The verifier lets the database build each entry's canonical text; it must equal the writer's."""
    moment = dt.datetime(2026, 11, 25, 8, 30, 1, 250, tzinfo=dt.UTC)
    columns = ", ".join(f"%s AS {name}" for name in COLUMNS[:13])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {selectors.canonical_text_sql(connection.vendor)} FROM (SELECT {columns}) AS stored",
            [seq, connection.ops.adapt_datetimefield_value(moment), *values],
        )
        assert cursor.fetchone()[0] == canonical_text(seq, timestamp_text(moment), values)
