"""Qualification status, computed — never stored.

`qualification_status` answers, for one person, one qualification and one moment: qualified, expiring,
expired, suspended, revoked, retraining required or missing — with the reasons and the evidence it rested
on. `evaluate` applies it to a set of requirements and gives the verdict every gated action stores.

Pure: plain frozen dataclasses in, plain frozen dataclasses out; no Django, no clock, no I/O. The order
in which facts were recorded never matters: every rule below is a function of the set of facts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class State(StrEnum):
    QUALIFIED = "qualified"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    RETRAINING_REQUIRED = "retraining_required"
    MISSING = "missing"


# States in which the person may do the work.
ALLOWED_STATES = frozenset({State.QUALIFIED, State.EXPIRING})


class Reason(StrEnum):
    NO_GRANT = "no_grant"
    EXPIRED = "expired"
    EXPIRES_SOON = "expires_soon"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    NEWER_REVISION = "newer_revision"
    NEWER_REVISION_IN_GRACE = "newer_revision_in_grace"
    REQUIREMENT_IN_GRACE = "requirement_in_grace"
    CAPABILITY_NOT_CONFIGURED = "capability_not_configured"
    VALID = "valid"


@dataclass(frozen=True)
class Grant:
    """The person holds the qualification from `valid_from` until `valid_until` (exclusive; None = no expiry)."""

    id: str
    qualification_id: str
    valid_from: datetime
    valid_until: datetime | None = None
    evidence: tuple[str, ...] = ()  # training record ids, assessment ids, certificate numbers


@dataclass(frozen=True)
class Suspension:
    id: str
    qualification_id: str
    start: datetime
    end: datetime | None = None  # None: until lifted
    reason: str = ""


@dataclass(frozen=True)
class Revocation:
    """Withdraws every grant of the qualification made before `at`; only a new grant re-qualifies."""

    id: str
    qualification_id: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class Training:
    """The person was trained on `revision` of a controlled document at `at`. Only the first training on
    each revision matters (see `qualification_status`)."""

    document_id: str
    revision: int
    at: datetime
    record_id: str = ""


@dataclass(frozen=True)
class DocumentRevision:
    document_id: str
    revision: int
    label: str
    effective_from: datetime
    retraining_grace: timedelta = timedelta(0)


@dataclass(frozen=True)
class Qualification:
    id: str
    renewal_lead_time: timedelta = timedelta(0)
    document_ids: tuple[str, ...] = ()  # SOPs / WIs a holder must be trained on, at their effective revision


@dataclass(frozen=True)
class PersonFacts:
    person_id: str
    grants: tuple[Grant, ...] = ()
    suspensions: tuple[Suspension, ...] = ()
    revocations: tuple[Revocation, ...] = ()
    trainings: tuple[Training, ...] = ()


@dataclass(frozen=True)
class Finding:
    code: Reason
    qualification_id: str
    params: tuple[tuple[str, str], ...] = ()  # for the message in the reader's language

    def param(self, name: str) -> str | None:
        return dict(self.params).get(name)


@dataclass(frozen=True)
class QualificationStatus:
    qualification_id: str
    state: State
    findings: tuple[Finding, ...]
    evidence: tuple[str, ...] = ()
    valid_until: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.state in ALLOWED_STATES


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _latest_effective(revisions: Iterable[DocumentRevision], document_id: str, at: datetime) -> DocumentRevision | None:
    candidates = [r for r in revisions if r.document_id == document_id and r.effective_from <= at]
    return max(candidates, key=lambda r: (r.revision, r.effective_from)) if candidates else None


def qualification_status(
    *, person: PersonFacts, qualification: Qualification, revisions: Iterable[DocumentRevision] = (), at: datetime
) -> QualificationStatus:
    qid = qualification.id
    finding = lambda code, **p: Finding(code, qid, tuple(sorted((k, str(v)) for k, v in p.items())))  # noqa: E731

    revoked_at = max((r.at for r in person.revocations if r.qualification_id == qid and r.at <= at), default=None)
    grants = [
        g for g in person.grants
        if g.qualification_id == qid and g.valid_from <= at and (revoked_at is None or g.valid_from > revoked_at)
    ]
    if revoked_at is not None and not grants:
        revocation = min(
            (r for r in person.revocations if r.qualification_id == qid and r.at == revoked_at), key=lambda r: r.id
        )
        return QualificationStatus(qid, State.REVOKED, (finding(Reason.REVOKED, at=_iso(revoked_at), reason=revocation.reason),),
                                   (f"revocation:{revocation.id}",))

    suspensions = sorted(
        (s for s in person.suspensions
         if s.qualification_id == qid and s.start <= at and (s.end is None or at < s.end)
         and (revoked_at is None or s.start > revoked_at)),
        key=lambda s: (s.start, s.id),
    )
    if suspensions:
        s = suspensions[0]
        return QualificationStatus(qid, State.SUSPENDED, (finding(Reason.SUSPENDED, since=_iso(s.start), reason=s.reason),),
                                   tuple(f"suspension:{x.id}" for x in suspensions))

    if not grants:
        return QualificationStatus(qid, State.MISSING, (finding(Reason.NO_GRANT),))

    active = [g for g in grants if g.valid_until is None or at < g.valid_until]
    if not active:
        last = max(grants, key=lambda g: (g.valid_until, g.id))
        return QualificationStatus(qid, State.EXPIRED, (finding(Reason.EXPIRED, at=_iso(last.valid_until)),),
                                   (f"grant:{last.id}", *last.evidence), last.valid_until)

    # The grant that lasts longest decides; ties broken by id so the answer never depends on fact order.
    best = max(active, key=lambda g: (g.valid_until is None, g.valid_until or g.valid_from, g.id))
    evidence = [f"grant:{best.id}", *best.evidence]
    findings: list[Finding] = []

    revisions = tuple(revisions)
    retraining = []
    for document_id in sorted(qualification.document_ids):
        current = _latest_effective(revisions, document_id, at)
        if current is None:
            continue
        trained = [t for t in person.trainings if t.document_id == document_id and t.at <= at]
        trained_revision = max((t.revision for t in trained), default=None)
        if trained_revision is not None and trained_revision >= current.revision:
            # The first training on the revision is the evidence: later ones add nothing, so a reader may
            # keep only the first record per revision and get the same answer at every moment.
            record = min((t for t in trained if t.revision == trained_revision), key=lambda t: (t.at, t.record_id))
            evidence.append(f"document:{document_id}@{trained_revision}" + (f" record:{record.record_id}" if record.record_id else ""))
            continue
        due = current.effective_from + current.retraining_grace
        params = {"document": document_id, "revision": current.label, "due": _iso(due)}
        if at >= due:
            retraining.append(finding(Reason.NEWER_REVISION, **params))
        else:
            findings.append(finding(Reason.NEWER_REVISION_IN_GRACE, **params))
    if retraining:
        return QualificationStatus(qid, State.RETRAINING_REQUIRED, tuple(retraining + findings), tuple(evidence), best.valid_until)

    if best.valid_until is not None and at >= best.valid_until - qualification.renewal_lead_time:
        findings.insert(0, finding(Reason.EXPIRES_SOON, at=_iso(best.valid_until)))
        return QualificationStatus(qid, State.EXPIRING, tuple(findings), tuple(evidence), best.valid_until)
    findings.insert(0, finding(Reason.VALID, until=_iso(best.valid_until) if best.valid_until else ""))
    return QualificationStatus(qid, State.QUALIFIED, tuple(findings), tuple(evidence), best.valid_until)


@functools.lru_cache(maxsize=4096)
def _missing(qualification_id: str) -> QualificationStatus:
    """The status of a qualification the person has no fact about: statuses are immutable, so a matrix
    shares one per qualification instead of computing it in every empty cell."""
    return QualificationStatus(qualification_id, State.MISSING, (Finding(Reason.NO_GRANT, qualification_id),))


def qualification_statuses(
    *, person: PersonFacts, qualifications: Iterable[Qualification], revisions: Iterable[DocumentRevision] = (),
    at: datetime,
) -> tuple[QualificationStatus, ...]:
    """`qualification_status` for each qualification, in order: one row of a training matrix.

    Same answers, in one pass over the person's facts: each qualification is judged on its own facts and
    its documents' revisions only, so a row costs what the person holds, not columns times all their facts.
    """
    grants: dict[str, list[Grant]] = {}
    suspensions: dict[str, list[Suspension]] = {}
    revocations: dict[str, list[Revocation]] = {}
    trainings: dict[str, list[Training]] = {}
    by_document: dict[str, list[DocumentRevision]] = {}
    for grant in person.grants:
        grants.setdefault(grant.qualification_id, []).append(grant)
    for suspension in person.suspensions:
        suspensions.setdefault(suspension.qualification_id, []).append(suspension)
    for revocation in person.revocations:
        revocations.setdefault(revocation.qualification_id, []).append(revocation)
    for training in person.trainings:
        trainings.setdefault(training.document_id, []).append(training)
    for revision in revisions:
        by_document.setdefault(revision.document_id, []).append(revision)
    statuses = []
    for qualification in qualifications:
        qid = qualification.id
        if qid not in grants and qid not in suspensions and qid not in revocations:
            statuses.append(_missing(qid))
            continue
        documents = qualification.document_ids
        own = PersonFacts(
            person.person_id, tuple(grants.get(qid, ())), tuple(suspensions.get(qid, ())),
            tuple(revocations.get(qid, ())), tuple(t for d in documents for t in trainings.get(d, ())),
        )
        statuses.append(qualification_status(
            person=own, qualification=qualification, revisions=[r for d in documents for r in by_document.get(d, ())],
            at=at,
        ))
    return tuple(statuses)


@dataclass(frozen=True)
class Requirement:
    """A qualification a position, operation, equipment class or capability requires.

    `enforced_from`: the end of the grace period after the person was assigned (None: enforced at once).
    """

    qualification: Qualification
    mandatory: bool = True
    enforced_from: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    statuses: tuple[QualificationStatus, ...]
    reasons: tuple[Finding, ...] = field(default=())
    evidence: tuple[str, ...] = field(default=())
    expiring: tuple[str, ...] = field(default=())  # qualification ids allowed now but within their lead time


def evaluate(
    *, facts: PersonFacts, requirements: Iterable[Requirement], revisions: Iterable[DocumentRevision] = (), at: datetime
) -> Verdict:
    """The one decision every gated action calls: may this person do it now, and on what evidence?"""
    revisions = tuple(revisions)
    allowed = True
    statuses, reasons, evidence, expiring = [], [], [], []
    for requirement in sorted(requirements, key=lambda r: r.qualification.id):
        status = qualification_status(person=facts, qualification=requirement.qualification, revisions=revisions, at=at)
        statuses.append(status)
        evidence.extend(status.evidence)
        if status.state == State.EXPIRING:
            expiring.append(status.qualification_id)
        if status.allowed:
            continue
        if not requirement.mandatory:
            continue
        if requirement.enforced_from is not None and at < requirement.enforced_from:
            reasons.append(Finding(Reason.REQUIREMENT_IN_GRACE, status.qualification_id,
                                   (("until", _iso(requirement.enforced_from)),)))
            continue
        allowed = False
        reasons.extend(status.findings)
    return Verdict(allowed, tuple(statuses), tuple(reasons), tuple(evidence), tuple(expiring))


def evaluate_capability(
    *, capability: str, facts: PersonFacts, requirements: Iterable[Requirement],
    revisions: Iterable[DocumentRevision] = (), at: datetime,
) -> Verdict:
    """`evaluate` for a named capability, denying by default: a capability no qualification is attached to
    is refused — a misspelt or unconfigured gate must not open to everyone."""
    requirements = tuple(requirements)
    if not requirements:
        return Verdict(False, (), (Finding(Reason.CAPABILITY_NOT_CONFIGURED, "", (("capability", capability),)),))
    return evaluate(facts=facts, requirements=requirements, revisions=revisions, at=at)
