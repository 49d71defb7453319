"""Verification split over seq ranges (what `audit verify --workers N` runs in N processes) finds exactly
what one sequential pass finds: the same first break, the same count, whichever range or seam it sits in."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import DEFAULT_DB_ALIAS, connection

from qualiflow.audit import selectors
from qualiflow.audit.domain.chain import GENESIS_HASH
from qualiflow.audit.models import AuditEntry
from qualiflow.people import services as people_services


@pytest.fixture
def trail(make_employee):
    employees = [make_employee(employee_number=f"E-PAR{i}") for i in range(6)]
    for i, employee in enumerate(employees):
        people_services.employee_update(employee=employee, data={"phone": f"1380000000{i}"}, reason="phone")
    return employees


def _split_verify(parts: int, page_size: int = 2) -> selectors.ChainReport:
    """The parallel algorithm with its ranges run one after another in this process (the test transaction
    is invisible to other processes)."""
    low, high = AuditEntry.objects.order_by("seq").values_list("seq", flat=True)[0], AuditEntry.objects.order_by("-seq").values_list("seq", flat=True)[0]
    bounds = selectors.range_bounds(low, high, parts)
    results = [selectors.verify_range(DEFAULT_DB_ALIAS, a, b, page_size) for a, b in itertools.pairwise(bounds)]
    return selectors.stitch(bounds, results)


def test_range_bounds_cover_the_chain_without_overlap():
    assert selectors.range_bounds(1, 100, 4) == [None, 25, 50, 75, 100]
    assert selectors.range_bounds(1, 3, 8) == [None, 1, 2, 3]
    assert selectors.range_bounds(-5, 10, 2) == [None, 5, 10]
    assert selectors.range_bounds(1, 1, 2) == [None, 1]


@pytest.mark.parametrize("parts", [2, 3, 5])
def test_an_intact_chain_splits_into_the_same_report(trail, parts):
    report = _split_verify(parts)
    assert report == selectors.chain_verify()
    assert report.intact and report.checked == AuditEntry.objects.count()


def _seams(parts: int) -> list[int]:
    low = AuditEntry.objects.order_by("seq").values_list("seq", flat=True)[0]
    high = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True)[0]
    return [b for b in selectors.range_bounds(low, high, parts)[1:-1]]


@pytest.mark.parametrize("parts", [2, 3])
@pytest.mark.parametrize("where", ["inside", "last_of_range", "first_of_range"])
def test_a_deleted_entry_anywhere_is_found_by_the_split_check(trail, tamper, parts, where):
    seam = _seams(parts)[0]
    target = {"inside": seam - 1, "last_of_range": seam, "first_of_range": seam + 1}[where]
    tamper.delete(target)
    report = _split_verify(parts)
    assert report == selectors.chain_verify()
    assert (report.first_break.seq, report.first_break.problem) == (target, "missing")
    assert report.checked == target - 1


def test_a_whole_deleted_range_is_found(trail, tamper):
    bounds = selectors.range_bounds(1, AuditEntry.objects.count(), 3)
    for seq in range(bounds[1] + 1, bounds[2] + 1):
        tamper.delete(seq)
    report = _split_verify(3)
    assert report == selectors.chain_verify()
    assert (report.first_break.seq, report.first_break.problem) == (bounds[1] + 1, "missing")


@pytest.mark.parametrize("where", ["first_of_range", "inside"])
def test_an_edited_entry_is_found_by_the_split_check(trail, tamper, where):
    seam = _seams(2)[0]
    target = seam + 1 if where == "first_of_range" else seam - 1
    tamper.update(target, reason="rewritten")
    report = _split_verify(2)
    assert report == selectors.chain_verify()
    assert (report.first_break.seq, report.first_break.problem) == (target, "edited")


def test_a_forged_link_at_a_seam_is_found(trail, tamper):
    """A row whose own hash is consistent but which does not link to the row before: only the seam check
    between two ranges can see it."""
    seam = _seams(2)[0]
    row = AuditEntry.objects.get(seq=seam + 1)
    from qualiflow.audit.domain.chain import entry_hash, timestamp_text

    forged_prev = "f" * 64
    forged_hash = entry_hash(
        seq=row.seq, recorded_at=timestamp_text(row.recorded_at), actor_kind=row.actor_kind, actor_id=row.actor_id,
        actor_name=row.actor_name, action=row.action, object_type=row.object_type, object_id=row.object_id,
        object_repr=row.object_repr, changes=row.changes, reason=row.reason, request_id=row.request_id,
        prev_hash=forged_prev,
    )
    tamper.update(row.seq, prev_hash=forged_prev, hash=forged_hash)
    report = _split_verify(2, page_size=100)
    assert report == selectors.chain_verify()
    assert (report.first_break.seq, report.first_break.problem) == (row.seq, "inserted")
    assert report.checked == row.seq - 1


def test_a_row_inserted_before_the_first_is_found_by_the_split_check(trail, tamper):
    tamper.insert(
        seq=0, recorded_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), actor_kind="system", actor_name="qualiflow",
        action="create", object_type="people.employee", object_id="x", changes="{}", prev_hash=GENESIS_HASH,
        hash="a" * 64,
    )
    report = _split_verify(2)
    assert report == selectors.chain_verify()
    assert (report.first_break.seq, report.first_break.problem) == (0, "inserted")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQLite test database lives in this process's memory")
@pytest.mark.django_db(transaction=True)
def test_worker_processes_verify_a_committed_chain(make_employee, monkeypatch):
    """The real thing: forked processes reading committed rows."""
    for i in range(4):
        make_employee(employee_number=f"E-WRK{i}")
    monkeypatch.setattr(selectors, "PARALLEL_MIN_ENTRIES", 0)
    parallel = selectors.chain_verify(workers=3, page_size=2)
    assert parallel == selectors.chain_verify(workers=1)
    assert parallel.intact and parallel.checked == AuditEntry.objects.count()
