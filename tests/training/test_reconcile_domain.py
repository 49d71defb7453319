"""The reconciler's rule, without a database."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from qualiflow.training.domain import reconcile as rules
from qualiflow.training.domain import status as domain

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
Q = domain.Qualification("q1", renewal_lead_time=dt.timedelta(days=30), document_ids=("d1",))
COURSES = {"q1": (rules.CourseOption("c-class"), rules.CourseOption("c-read", "d1"))}


def situation(*, grants=(), trainings=(), revisions=(), hired=AT - dt.timedelta(days=3), started=None,
              required=True, open_assignments=(), enforced_from=None) -> rules.Situation:
    facts = domain.PersonFacts("p1", tuple(grants), trainings=tuple(trainings))
    status = domain.qualification_status(person=facts, qualification=Q, revisions=revisions, at=AT)
    requirements = (rules.AppliedRequirement(Q, enforced_from),) if required else ()
    return rules.Situation("p1", hired, started if started is not None else hired, requirements, (status,),
                           tuple(open_assignments))


def test_new_hire_holding_nothing_is_onboarded_by_the_end_of_the_grace():
    plan = rules.reconcile(situation(enforced_from=AT + dt.timedelta(days=11)), courses=COURSES, at=AT)
    [new] = plan.create
    assert (new.reason, new.course_id, new.source_key, new.due) == (
        rules.AssignmentReason.ONBOARDING, "c-class", "req:q1", AT + dt.timedelta(days=11))


def test_position_change_and_ad_hoc():
    moved = situation(hired=AT - dt.timedelta(days=900), started=AT - dt.timedelta(days=2))
    assert rules.reconcile(moved, courses=COURSES, at=AT).create[0].reason == rules.AssignmentReason.POSITION_CHANGE
    old_hand = situation(hired=AT - dt.timedelta(days=900))
    assert rules.reconcile(old_hand, courses=COURSES, at=AT).create[0].reason == rules.AssignmentReason.AD_HOC


def test_expiring_and_expired_are_renewed():
    until = AT + dt.timedelta(days=10)
    expiring = situation(grants=[domain.Grant("g1", "q1", AT - dt.timedelta(days=300), until)])
    [new] = rules.reconcile(expiring, courses=COURSES, at=AT).create
    assert (new.reason, new.due) == (rules.AssignmentReason.RENEWAL, until)
    expired = situation(grants=[domain.Grant("g1", "q1", AT - dt.timedelta(days=400), AT - dt.timedelta(days=1))])
    [new] = rules.reconcile(expired, courses=COURSES, at=AT).create
    assert (new.reason, new.due) == (rules.AssignmentReason.RENEWAL, AT)


def test_newer_revision_assigns_the_course_on_that_document():
    grant = domain.Grant("g1", "q1", AT - dt.timedelta(days=100))
    revision = domain.DocumentRevision("d1", 2, "B", AT - dt.timedelta(days=1), dt.timedelta(days=14))
    trained = domain.Training("d1", 1, AT - dt.timedelta(days=100))
    [new] = rules.reconcile(situation(grants=[grant], trainings=[trained], revisions=[revision]),
                            courses=COURSES, at=AT).create
    assert (new.reason, new.course_id, new.document_id, new.revision_label, new.due) == (
        rules.AssignmentReason.DOCUMENT_REVISION, "c-read", "d1", "B", AT + dt.timedelta(days=13))


def test_covered_qualified_and_no_course():
    covering = rules.OpenAssignment("a1", "c-x", "q1", "capa:7", "capa")
    plan = rules.reconcile(situation(open_assignments=[covering]), courses=COURSES, at=AT)
    assert plan == rules.Plan()
    qualified = situation(grants=[domain.Grant("g1", "q1", AT - dt.timedelta(days=1))])
    assert rules.reconcile(qualified, courses=COURSES, at=AT) == rules.Plan()
    assert rules.reconcile(situation(), courses={}, at=AT).without_course == ("q1",)


def test_retires_its_own_when_not_required_or_qualified_and_leaves_others():
    own = rules.OpenAssignment("a1", "c-class", "q1", "req:q1", "onboarding")
    manual = rules.OpenAssignment("a2", "c-class", "q1", "", "ad_hoc")
    plan = rules.reconcile(situation(required=False, open_assignments=[own, manual]), courses=COURSES, at=AT)
    assert plan.retire == (rules.Retirement("a1", "p1", "q1", rules.RetireBecause.NOT_REQUIRED),)
    qualified = situation(grants=[domain.Grant("g1", "q1", AT - dt.timedelta(days=1))], open_assignments=[own])
    assert rules.reconcile(qualified, courses=COURSES, at=AT).retire[0].because == rules.RetireBecause.QUALIFIED


def test_suspension_does_not_settle_an_assignment():
    own = rules.OpenAssignment("a1", "c-class", "q1", "req:q1", "onboarding")
    facts = domain.PersonFacts("p1", (domain.Grant("g1", "q1", AT - dt.timedelta(days=5)),),
                               (domain.Suspension("s1", "q1", AT - dt.timedelta(days=1)),))
    status = domain.qualification_status(person=facts, qualification=Q, at=AT)
    state = rules.Situation("p1", AT - dt.timedelta(days=5), None, (rules.AppliedRequirement(Q),), (status,), (own,))
    assert rules.reconcile(state, courses=COURSES, at=AT) == rules.Plan(unchanged=1)


@given(days_left=st.integers(-500, 500), hired_days_ago=st.integers(0, 2000), grace=st.integers(0, 60))
def test_applying_the_plan_makes_the_next_plan_empty(days_left, hired_days_ago, grace):
    hired = AT - dt.timedelta(days=hired_days_ago)
    grants = [domain.Grant("g1", "q1", AT - dt.timedelta(days=700), AT + dt.timedelta(days=days_left))]
    first = situation(grants=grants, hired=hired, enforced_from=hired + dt.timedelta(days=grace))
    plan = rules.reconcile(first, courses=COURSES, at=AT)
    created = tuple(rules.OpenAssignment(f"n{i}", n.course_id, n.qualification_id, n.source_key, n.reason.value)
                    for i, n in enumerate(plan.create))
    kept = tuple(a for a in first.open_assignments if a.id not in {r.assignment_id for r in plan.retire})
    second = rules.reconcile(
        rules.Situation(first.person_id, first.hired_at, first.position_started_at, first.requirements,
                        first.statuses, kept + created),
        courses=COURSES, at=AT,
    )
    assert (second.create, second.retire) == ((), ())
