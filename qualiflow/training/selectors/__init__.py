"""Reads for qualification decisions: the facts about people, the requirements of a target, and the one
capability check every other module calls.

The facts for any number of people load in a fixed number of queries (one per kind of fact, as plain
tuples rather than model instances), so one track-in and a plant-wide matrix take the same path.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from qualiflow.org.models import Position
from qualiflow.people.models import Employee, PositionAssignment

from ..domain import status as domain
from ..models import (
    Qualification,
    QualificationGrant,
    QualificationRevocation,
    QualificationSuspension,
    Requirement,
    TargetKind,
    TrainingRecord,
)

# Ids per statement when people are given as a list: below SQLite's default limit of 32,766 bound
# parameters and PostgreSQL's 65,535. Larger populations should be passed as the queryset that selected
# them, which becomes a subquery and keeps the query count fixed for any size.
IDS_PER_QUERY = 10_000

People = QuerySet[Employee] | Iterable[UUID | str | Employee]


def domain_qualification(qualification: Qualification) -> domain.Qualification:
    return domain.Qualification(
        id=str(qualification.pk), renewal_lead_time=dt.timedelta(days=qualification.renewal_lead_days)
    )


def grant_evidence(evidence: Any, certificate_number: str) -> tuple[str, ...]:
    """The grant's evidence as the references a verdict stores: training records, assessments, certificate."""
    refs: list[str] = []
    if isinstance(evidence, dict):
        for key, prefix in (("training_record_ids", "record"), ("assessment_ids", "assessment")):
            values = evidence.get(key)
            if isinstance(values, list):
                refs.extend(f"{prefix}:{value}" for value in sorted(map(str, values)))
    if certificate_number:
        refs.append(f"certificate:{certificate_number}")
    return tuple(refs)


def facts_for(people: People, *, qualification_ids: Iterable[UUID | str] | None = None) -> dict[UUID, domain.PersonFacts]:
    """The grants, suspensions, revocations and document trainings of every person, keyed by employee id.

    `people`: employee ids or instances (one query per kind of fact for up to `IDS_PER_QUERY` people), or a
    queryset of employees (always one query per kind of fact, plus one for the ids). `qualification_ids`
    limits grants, suspensions and revocations to those qualifications.
    """
    # Filters for `employee_id__in`: one subquery for a queryset, id lists of bounded size otherwise.
    batches: list[Any]
    if isinstance(people, QuerySet):
        employee_ids = list(people.values_list("pk", flat=True))
        batches = [people.values("pk")] if employee_ids else []
    else:
        employee_ids = list(dict.fromkeys(p.pk if isinstance(p, Model) else UUID(str(p)) for p in people))
        batches = [employee_ids[i:i + IDS_PER_QUERY] for i in range(0, len(employee_ids), IDS_PER_QUERY)]
    limit = {} if qualification_ids is None else {"qualification_id__in": [UUID(str(q)) for q in qualification_ids]}

    def rows(model, *fields: str, **filters: Any) -> list[tuple]:
        found: list[tuple] = []
        for batch in batches:
            found.extend(model.objects.filter(employee_id__in=batch, **filters).values_list("employee_id", *fields))
        return found

    grants: dict[UUID, list] = {pk: [] for pk in employee_ids}
    suspensions: dict[UUID, list] = {pk: [] for pk in employee_ids}
    revocations: dict[UUID, list] = {pk: [] for pk in employee_ids}
    trainings: dict[UUID, list] = {pk: [] for pk in employee_ids}
    for employee_id, pk, qid, valid_from, valid_until, evidence, certificate in rows(
        QualificationGrant, "pk", "qualification_id", "valid_from", "valid_until", "evidence", "certificate_number",
        **limit,
    ):
        grants[employee_id].append(
            domain.Grant(str(pk), str(qid), valid_from, valid_until, grant_evidence(evidence, certificate))
        )
    for employee_id, pk, qid, start, end, reason in rows(
        QualificationSuspension, "pk", "qualification_id", "start", "end", "reason", **limit
    ):
        suspensions[employee_id].append(domain.Suspension(str(pk), str(qid), start, end, reason))
    for employee_id, pk, qid, at, reason in rows(QualificationRevocation, "pk", "qualification_id", "at", "reason", **limit):
        revocations[employee_id].append(domain.Revocation(str(pk), str(qid), at, reason))
    # Only passed trainings count as having been trained on a document revision.
    for employee_id, pk, document_id, revision, completed_at in rows(
        TrainingRecord, "pk", "document_id", "document_revision", "completed_at", passed=True, document_id__isnull=False
    ):
        trainings[employee_id].append(domain.Training(str(document_id), revision, completed_at, str(pk)))
    return {
        pk: domain.PersonFacts(
            str(pk), tuple(grants[pk]), tuple(suspensions[pk]), tuple(revocations[pk]), tuple(trainings[pk])
        )
        for pk in employee_ids
    }


def _merge(requirements: Iterable[domain.Requirement]) -> list[domain.Requirement]:
    """One requirement per qualification: mandatory if any target makes it so, enforced from the earliest date."""
    merged: dict[str, domain.Requirement] = {}
    for requirement in requirements:
        qid = requirement.qualification.id
        seen = merged.get(qid)
        if seen is None:
            merged[qid] = requirement
            continue
        mandatory = seen.mandatory or requirement.mandatory
        enforced = [r.enforced_from for r in (seen, requirement) if r.mandatory or not mandatory]
        enforced_from = None if None in enforced else min(enforced)
        merged[qid] = domain.Requirement(seen.qualification, mandatory, enforced_from)
    return [merged[qid] for qid in sorted(merged)]


def requirements_for(
    *,
    position_id: UUID | None = None,
    operation_id: UUID | None = None,
    equipment_class_id: UUID | None = None,
    capability: str | None = None,
    assigned_at: dt.datetime | None = None,
) -> list[domain.Requirement]:
    """The qualifications the given targets require, as domain requirements, in one query.

    `assigned_at`: when the person was assigned to the target; each requirement's grace period runs from
    there (`enforced_from = assigned_at + grace_days`). Without it requirements are enforced at once.
    Requirements of qualifications taken out of use no longer gate anything.
    """
    targets = [
        (kind, value)
        for kind, value in ((TargetKind.POSITION, position_id), (TargetKind.OPERATION, operation_id),
                            (TargetKind.EQUIPMENT_CLASS, equipment_class_id))
        if value is not None
    ]
    q = Q(pk__in=[])
    for kind, value in targets:
        q |= Q(target_kind=kind, target_id=value)
    if capability:
        q |= Q(target_kind=TargetKind.CAPABILITY, capability=capability)
    rows = Requirement.objects.filter(q, qualification__is_active=True).values_list(
        "qualification_id", "qualification__renewal_lead_days", "mandatory", "grace_days"
    )
    return _merge(
        domain.Requirement(
            domain.Qualification(str(qid), dt.timedelta(days=lead_days)),
            mandatory,
            assigned_at + dt.timedelta(days=grace_days) if assigned_at is not None and grace_days else None,
        )
        for qid, lead_days, mandatory, grace_days in rows
    )


def status_of(
    employee: Employee, qualification: Qualification, at: dt.datetime | None = None,
    *, revisions: Iterable[domain.DocumentRevision] = (),
) -> domain.QualificationStatus:
    """Where `employee` stands with `qualification` at `at` (default: now), with reasons and evidence."""
    at = timezone.now() if at is None else at
    facts = facts_for([employee.pk], qualification_ids=[qualification.pk])[employee.pk]
    return domain.qualification_status(
        person=facts, qualification=domain_qualification(qualification), revisions=revisions, at=at
    )


def _position_assigned_at(employee: Employee, position: Position, at: dt.datetime) -> dt.datetime | None:
    """Start of the employee's assignment to `position` covering `at` (local midnight at their site, in UTC)."""
    rows = PositionAssignment.objects.filter(employee_id=employee.pk, position_id=position.pk).values_list(
        "start_date", "end_date", "employee__site__time_zone"
    )
    for start_date, end_date, time_zone in rows:
        local = zoneinfo.ZoneInfo(time_zone)
        day = at.astimezone(local).date()
        if start_date <= day and (end_date is None or day < end_date):
            return dt.datetime.combine(start_date, dt.time.min, tzinfo=local).astimezone(dt.UTC)
    return None


def can(
    employee: Employee,
    requirement_or_capability: str | Position | domain.Requirement | Sequence[domain.Requirement],
    at: dt.datetime | None = None,
    *,
    revisions: Iterable[domain.DocumentRevision] = (),
) -> domain.Verdict:
    """May `employee` do it at `at` (default: now)? The one check every gated action calls.

    `requirement_or_capability`: a capability code ("release_lot": refused when no qualification is
    attached to it), a Position (the grace period runs from the employee's assignment to it), or domain
    requirements (e.g. an operation's, resolved by the caller).
    """
    at = timezone.now() if at is None else at
    if isinstance(requirement_or_capability, str):
        requirements = requirements_for(capability=requirement_or_capability)
        qualification_ids = [r.qualification.id for r in requirements]
        facts = facts_for([employee.pk], qualification_ids=qualification_ids)[employee.pk]
        return domain.evaluate_capability(
            capability=requirement_or_capability, facts=facts, requirements=requirements, revisions=revisions, at=at
        )
    if isinstance(requirement_or_capability, Position):
        requirements = requirements_for(
            position_id=requirement_or_capability.pk,
            assigned_at=_position_assigned_at(employee, requirement_or_capability, at),
        )
    elif isinstance(requirement_or_capability, domain.Requirement):
        requirements = [requirement_or_capability]
    else:
        requirements = list(requirement_or_capability)
    facts = facts_for([employee.pk], qualification_ids=[r.qualification.id for r in requirements])[employee.pk]
    return domain.evaluate(facts=facts, requirements=requirements, revisions=revisions, at=at)
