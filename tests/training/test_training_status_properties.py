"""Properties of the computed qualification status (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from qualiflow.training.domain.status import (
    ALLOWED_STATES,
    DocumentRevision,
    Grant,
    PersonFacts,
    Qualification,
    Requirement,
    Revocation,
    State,
    Suspension,
    Training,
    evaluate,
    qualification_status,
    qualification_statuses,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
Q = "q-eo-operator"
DOC = "sop-eo-001"

minutes = st.integers(min_value=0, max_value=60 * 24 * 800)
moments = minutes.map(lambda m: T0 + timedelta(minutes=m))


@st.composite
def grants(draw, qualification_id=Q):
    start = draw(moments)
    length = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=60 * 24 * 400)))
    until = None if length is None else start + timedelta(minutes=length)
    return Grant(id=f"g{draw(st.integers(0, 10**6))}", qualification_id=qualification_id, valid_from=start, valid_until=until)


@st.composite
def person_facts(draw):
    gs = tuple(draw(st.lists(grants(), max_size=4)))
    sus = tuple(
        Suspension(id=f"s{i}", qualification_id=Q, start=s, end=draw(st.one_of(st.none(), moments.filter(lambda e, s=s: e > s))))
        for i, s in enumerate(draw(st.lists(moments, max_size=2)))
    )
    revs = tuple(Revocation(id=f"r{i}", qualification_id=Q, at=m) for i, m in enumerate(draw(st.lists(moments, max_size=2))))
    trainings = tuple(
        Training(document_id=DOC, revision=r, at=m, record_id=f"t{i}")
        for i, (r, m) in enumerate(draw(st.lists(st.tuples(st.integers(1, 4), moments), max_size=3)))
    )
    return PersonFacts("p1", gs, sus, revs, trainings)


@st.composite
def document_revisions(draw):
    revs = draw(st.lists(st.tuples(st.integers(1, 4), moments, st.integers(0, 60 * 24 * 30)), max_size=3, unique_by=lambda t: t[0]))
    return tuple(
        DocumentRevision(DOC, n, f"R{n}", eff, timedelta(minutes=grace)) for n, eff, grace in revs
    )


qualifications = st.builds(
    Qualification,
    id=st.just(Q),
    renewal_lead_time=st.integers(0, 60 * 24 * 90).map(lambda m: timedelta(minutes=m)),
    document_ids=st.sampled_from([(), (DOC,)]),
)


@settings(max_examples=400)
@given(person_facts(), qualifications, document_revisions(), moments)
def test_never_allowed_at_or_after_every_grant_ended(facts, qualification, revisions, at):
    status = qualification_status(person=facts, qualification=qualification, revisions=revisions, at=at)
    if facts.grants and all(g.valid_until is not None and at >= g.valid_until for g in facts.grants):
        assert status.state not in ALLOWED_STATES
    if status.allowed:
        assert status.valid_until is None or at < status.valid_until


@settings(max_examples=300)
@given(person_facts(), qualifications, document_revisions(), moments)
def test_suspension_in_force_overrides_everything_but_revocation(facts, qualification, revisions, at):
    suspended = Suspension(id="s-now", qualification_id=Q, start=at - timedelta(minutes=1), end=None)
    facts = PersonFacts(facts.person_id, facts.grants, (*facts.suspensions, suspended), facts.revocations, facts.trainings)
    status = qualification_status(person=facts, qualification=qualification, revisions=revisions, at=at)
    later_grant = any(g.valid_from > suspended.start for g in facts.grants)
    revoked_after = any(r.at > suspended.start and r.at <= at for r in facts.revocations)
    if not revoked_after or not later_grant:
        assert status.state in {State.SUSPENDED, State.REVOKED}
    assert not status.allowed or revoked_after


@settings(max_examples=300)
@given(person_facts(), qualifications, document_revisions(), moments)
def test_revocation_overrides_every_earlier_grant(facts, qualification, revisions, at):
    revocation = Revocation(id="r-now", qualification_id=Q, at=at)
    earlier = PersonFacts(
        facts.person_id, tuple(g for g in facts.grants if g.valid_from <= at), facts.suspensions,
        (*facts.revocations, revocation), facts.trainings,
    )
    status = qualification_status(person=earlier, qualification=qualification, revisions=revisions, at=at)
    assert status.state == State.REVOKED
    assert not status.allowed


@settings(max_examples=300)
@given(st.integers(1, 3), st.integers(0, 60 * 24 * 30), moments, st.integers(0, 60 * 24 * 60))
def test_newer_effective_revision_past_grace_requires_retraining(trained_revision, grace_minutes, effective, past):
    newer = trained_revision + 1
    revisions = (
        DocumentRevision(DOC, trained_revision, f"R{trained_revision}", T0 - timedelta(days=900)),
        DocumentRevision(DOC, newer, f"R{newer}", effective, timedelta(minutes=grace_minutes)),
    )
    facts = PersonFacts(
        "p1",
        grants=(Grant("g1", Q, T0 - timedelta(days=1000), None),),
        trainings=(Training(DOC, trained_revision, T0 - timedelta(days=899), "t1"),),
    )
    qualification = Qualification(Q, timedelta(0), (DOC,))
    at = effective + timedelta(minutes=grace_minutes + past)
    status = qualification_status(person=facts, qualification=qualification, revisions=revisions, at=at)
    assert status.state == State.RETRAINING_REQUIRED
    # inside the grace period the person is still qualified, with a warning
    if grace_minutes > 0:
        inside = qualification_status(person=facts, qualification=qualification, revisions=revisions,
                                      at=effective + timedelta(minutes=grace_minutes - 1))
        assert inside.state == State.QUALIFIED


@settings(max_examples=300)
@given(person_facts(), qualifications, document_revisions(), moments, st.randoms(use_true_random=False))
def test_status_is_independent_of_fact_order(facts, qualification, revisions, at, rnd):
    def shuffled(items):
        items = list(items)
        rnd.shuffle(items)
        return tuple(items)

    reordered = PersonFacts(
        facts.person_id, shuffled(facts.grants), shuffled(facts.suspensions), shuffled(facts.revocations),
        shuffled(facts.trainings),
    )
    a = qualification_status(person=facts, qualification=qualification, revisions=revisions, at=at)
    b = qualification_status(person=reordered, qualification=qualification, revisions=shuffled(revisions), at=at)
    assert a == b


def test_status_states_on_a_timeline():
    grant = Grant("g1", Q, T0, T0 + timedelta(days=365), ("record:r1",))
    facts = PersonFacts("p1", grants=(grant,))
    q = Qualification(Q, renewal_lead_time=timedelta(days=30))

    def state(at):
        return qualification_status(person=facts, qualification=q, at=at).state

    assert state(T0 - timedelta(seconds=1)) == State.MISSING
    assert state(T0) == State.QUALIFIED
    assert state(T0 + timedelta(days=335)) == State.EXPIRING
    assert state(T0 + timedelta(days=365)) == State.EXPIRED
    status = qualification_status(person=facts, qualification=q, at=T0 + timedelta(days=10))
    assert status.evidence == ("grant:g1", "record:r1")


def test_evaluate_refuses_with_reasons_and_honours_grace_after_assignment():
    q1 = Qualification("q-assembly")
    q2 = Qualification("q-cleanroom")
    facts = PersonFacts("p1", grants=(Grant("g1", "q-assembly", T0, T0 + timedelta(days=100)),))
    at = T0 + timedelta(days=5)
    verdict = evaluate(facts=facts, requirements=[Requirement(q1), Requirement(q2)], at=at)
    assert verdict.allowed is False
    assert [(r.code, r.qualification_id) for r in verdict.reasons] == [("no_grant", "q-cleanroom")]
    assert verdict.evidence == ("grant:g1",)
    in_grace = evaluate(facts=facts, requirements=[Requirement(q1), Requirement(q2, enforced_from=at + timedelta(days=1))], at=at)
    assert in_grace.allowed is True
    assert [r.code for r in in_grace.reasons] == ["requirement_in_grace"]


@settings(max_examples=300)
@given(person_facts(), qualifications, document_revisions(), moments)
def test_trained_on_every_effective_revision_never_requires_retraining(facts, qualification, revisions, at):
    current = [r for r in revisions if r.effective_from <= at]
    trained = tuple(Training(DOC, r.revision, min(r.effective_from, at), f"rt{r.revision}") for r in current)
    facts = PersonFacts(facts.person_id, facts.grants, facts.suspensions, facts.revocations, facts.trainings + trained)
    status = qualification_status(person=facts, qualification=qualification, revisions=revisions, at=at)
    assert status.state != State.RETRAINING_REQUIRED


@settings(max_examples=200)
@given(person_facts(), document_revisions(), moments, st.randoms(use_true_random=False))
def test_verdict_is_independent_of_requirement_order(facts, revisions, at, rnd):
    requirements = [
        Requirement(Qualification(Q, timedelta(days=30), (DOC,))),
        Requirement(Qualification("q-cleanroom"), mandatory=False),
        Requirement(Qualification("q-health"), enforced_from=at + timedelta(days=1)),
    ]
    shuffled = list(requirements)
    rnd.shuffle(shuffled)
    assert evaluate(facts=facts, requirements=requirements, revisions=revisions, at=at) == evaluate(
        facts=facts, requirements=shuffled, revisions=revisions, at=at
    )


@settings(max_examples=200)
@given(person_facts(), document_revisions(), moments)
def test_a_matrix_row_gives_the_status_of_each_qualification(facts, revisions, at):
    other = "q-cleanroom"
    extra = (Grant("g-other", other, T0, T0 + timedelta(days=30)),)
    facts = PersonFacts(facts.person_id, facts.grants + extra, facts.suspensions, facts.revocations, facts.trainings)
    columns = (Qualification(Q, timedelta(days=30), (DOC,)), Qualification(other), Qualification(Q), Qualification("q-none"))
    row = qualification_statuses(person=facts, qualifications=columns, revisions=revisions, at=at)
    assert row == tuple(
        qualification_status(person=facts, qualification=q, revisions=revisions, at=at) for q in columns
    )
