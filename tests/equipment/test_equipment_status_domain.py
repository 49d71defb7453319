"""Equipment availability, without a database: the blocks, the warnings, the evidence, and that only
facts known at the moment asked count, in whatever order they are given."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from qualiflow.equipment.domain.status import (
    Asset,
    Block,
    Finding,
    Plan,
    Record,
    Warning,
    availability,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
CAL = Plan("p-cal", "calibration", 30 * DAY, T0 + 10 * DAY)
MNT = Plan("p-mnt", "maintenance", 90 * DAY, T0 + 20 * DAY)


def rec(id, kind="calibration", *, plan=CAL, start, end=None, result=None, cert=""):
    done = start + end if end is not None else None
    return Record(id, plan.id if plan else None, kind, T0 + start, T0 + done if done is not None else None,
                  result if result is not None else ("pass" if done is not None else ""), cert)


def asset(*records, status="in_service", plans=(CAL, MNT)):
    return Asset("eq1", status, tuple(plans), tuple(records))


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_new_asset_is_available_until_its_first_calibration_falls_due():
    before = availability(asset(), T0 + 9 * DAY)
    assert before.available and before.reasons == ()
    assert before.calibration_due == T0 + 10 * DAY
    assert before.warnings == (Finding("calibration_due_soon", (("due", (T0 + 10 * DAY).isoformat()), ("plan", "p-cal"))),)
    assert (before.calibration_record_id, before.calibrated_at, before.evidence) == (None, None, ())

    due = availability(asset(), T0 + 10 * DAY)
    assert not due.available
    assert due.reasons == (Finding(Block.CALIBRATION_OVERDUE, (("due", (T0 + 10 * DAY).isoformat()), ("plan", "p-cal"))),)


def test_passing_calibration_moves_the_due_date_and_is_the_evidence():
    passed = rec("r1", start=5 * DAY, end=DAY, cert="CNAS-001")
    state = availability(asset(passed), T0 + 20 * DAY)
    assert state.available
    assert state.calibration_due == T0 + 36 * DAY
    assert (state.calibration_record_id, state.calibration_certificate, state.calibrated_at) == ("r1", "CNAS-001", T0 + 6 * DAY)
    assert state.evidence == ("calibration:r1", "certificate:CNAS-001")
    # Maintenance falling due only warns.
    assert codes(state.warnings) == [Warning.MAINTENANCE_OVERDUE]
    assert codes(availability(asset(passed), T0 + 36 * DAY).reasons) == [Block.CALIBRATION_OVERDUE]
    assert codes(availability(asset(passed), T0 + 30 * DAY).warnings) == [Warning.MAINTENANCE_OVERDUE, Warning.CALIBRATION_DUE_SOON]
    assert codes(availability(asset(passed), T0 + 30 * DAY, lead=DAY).warnings) == [Warning.MAINTENANCE_OVERDUE]


def test_failed_calibration_blocks_until_a_later_one_passes():
    good = rec("r1", start=DAY, end=DAY)
    bad = rec("r2", start=5 * DAY, end=DAY, result="fail")
    fixed = rec("r3", start=7 * DAY, end=DAY, cert="C-3")
    state = availability(asset(good, bad), T0 + 6 * DAY)
    assert state.reasons == (Finding(Block.CALIBRATION_FAILED, (("at", (T0 + 6 * DAY).isoformat()), ("plan", "p-cal"), ("record", "r2"))),)
    # The failure does not move the due date, and the last pass stays the last evidence.
    assert (state.calibration_record_id, state.calibration_due) == ("r1", T0 + 32 * DAY)
    assert availability(asset(good, bad, fixed), T0 + 8 * DAY).available
    assert not availability(asset(good, bad, fixed), T0 + 7 * DAY + DAY / 2).available  # r3 not completed yet


def test_a_pass_on_one_plan_does_not_clear_a_failure_on_another():
    other = Plan("p-cal2", "calibration", 30 * DAY, T0 + 10 * DAY)
    bad = rec("r1", start=DAY, end=DAY, result="fail")
    passed_elsewhere = rec("r2", plan=other, start=3 * DAY, end=DAY)
    state = availability(asset(bad, passed_elsewhere, plans=(CAL, other)), T0 + 5 * DAY)
    assert codes(state.reasons) == [Block.CALIBRATION_FAILED]
    assert state.evidence == ("calibration:r2",)


def test_unplanned_calibration_failure_blocks_and_records_of_inactive_plans_do_not():
    retired_plan = Plan("p-old", "calibration", 30 * DAY, T0, active=False)
    adhoc = rec("r1", plan=None, start=DAY, end=DAY, result="fail")
    old = rec("r2", plan=retired_plan, start=DAY, end=DAY, result="fail")
    assert codes(availability(asset(adhoc, plans=()), T0 + 3 * DAY).reasons) == [Block.CALIBRATION_FAILED]
    state = availability(asset(old, plans=(retired_plan,)), T0 + 3 * DAY)
    assert state.available and state.calibration_due is None


def test_fail_and_pass_completed_at_the_same_moment_block():
    both = (rec("a", start=DAY, end=DAY), rec("b", start=DAY, end=DAY, result="fail"))
    assert codes(availability(asset(*both), T0 + 3 * DAY).reasons) == [Block.CALIBRATION_FAILED]


def test_open_maintenance_blocks_until_completed():
    work = rec("m1", "maintenance", plan=MNT, start=2 * DAY, end=DAY)
    assert availability(asset(work), T0 + DAY).available  # not started yet
    state = availability(asset(work), T0 + 2 * DAY)
    assert state.reasons == (Finding(Block.MAINTENANCE_OPEN, (("record", "m1"), ("since", (T0 + 2 * DAY).isoformat()))),)
    assert availability(asset(work), T0 + 3 * DAY).available
    never_closed = rec("m2", "maintenance", plan=None, start=DAY)
    assert codes(availability(asset(never_closed), T0 + 5 * DAY).reasons) == [Block.MAINTENANCE_OPEN]


def test_status_blocks_first():
    state = availability(asset(status="out_of_service"), T0 + 11 * DAY)
    assert codes(state.reasons) == [Block.OUT_OF_SERVICE, Block.CALIBRATION_OVERDUE]
    assert codes(availability(asset(status="retired"), T0).reasons) == [Block.RETIRED]


def test_facts_after_the_moment_are_ignored():
    later_fail = rec("r1", start=20 * DAY, end=DAY, result="fail")
    later_pass = rec("r2", start=DAY, end=9 * DAY)  # completes at day 10, when the plan is due
    assert availability(asset(later_fail), T0 + 5 * DAY).available
    assert codes(availability(asset(later_pass), T0 + 10 * DAY - dt.timedelta(seconds=1)).reasons) == []
    assert availability(asset(later_pass), T0 + 10 * DAY).available


moments = st.integers(min_value=0, max_value=120).map(lambda d: d * DAY)
kinds = st.sampled_from(["calibration", "maintenance"])


@st.composite
def records(draw):
    kind = draw(kinds)
    plan = draw(st.sampled_from([None, CAL if kind == "calibration" else MNT]))
    start = draw(moments)
    end = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=10).map(lambda d: d * DAY)))
    result = draw(st.sampled_from(["pass", "fail"])) if end is not None else ""
    number = draw(st.sampled_from(["", "C-1", "C-2"]))
    return rec(f"r{draw(st.integers(0, 10_000))}", kind, plan=plan, start=start, end=end, result=result, cert=number)


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=8, unique_by=lambda r: r.id), moments, st.randoms(use_true_random=False))
def test_answer_does_not_depend_on_fact_order(facts, at, rnd: random.Random):
    shuffled = list(facts)
    rnd.shuffle(shuffled)
    plans = [CAL, MNT]
    rnd.shuffle(plans)
    first = availability(Asset("eq1", "in_service", (CAL, MNT), tuple(facts)), T0 + at)
    second = availability(Asset("eq1", "in_service", tuple(plans), tuple(shuffled)), T0 + at)
    assert first == second


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=8, unique_by=lambda r: r.id), moments, records())
def test_a_fact_from_after_the_moment_changes_nothing(facts, at, extra):
    later = Record(extra.id + "-later", extra.plan_id, extra.kind, T0 + at + DAY, extra.completed_at and T0 + at + 2 * DAY,
                   extra.result, extra.certificate_number)
    base = availability(Asset("eq1", "in_service", (CAL, MNT), tuple(facts)), T0 + at)
    assert availability(Asset("eq1", "in_service", (CAL, MNT), (*facts, later)), T0 + at) == base


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=8, unique_by=lambda r: r.id), moments)
def test_available_exactly_when_there_is_no_reason(facts, at):
    state = availability(Asset("eq1", "in_service", (CAL, MNT), tuple(facts)), T0 + at)
    assert state.available == (state.reasons == ())
    assert all(f.code in set(Block) for f in state.reasons)
    assert all(f.code in set(Warning) for f in state.warnings)
