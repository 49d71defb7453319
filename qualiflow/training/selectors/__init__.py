"""Reads for qualification decisions: the facts about people, the requirements of a target, and the one
capability check every other module calls.

The facts for any number of people load in a fixed number of queries (one statement for every kind of
fact, read as plain rows rather than model instances), so one track-in and a plant-wide matrix take the
same path; the document revisions they are judged against take one more.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Model, Q, QuerySet, UUIDField
from django.utils import timezone

from qualiflow.documents.models import Document, DocumentRevision
from qualiflow.org.models import Position
from qualiflow.people.models import Employee, PositionAssignment

from ..domain import status as domain
from ..models import (
    Qualification,
    QualificationDocument,
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
    """The qualification as the status function takes it, with the controlled documents it rests on."""
    return domain_qualifications([qualification.pk])[qualification.pk]


def domain_qualifications(qualification_ids: Iterable[UUID | str]) -> dict[UUID, domain.Qualification]:
    """`domain_qualification` for many qualifications in one query, keyed by id (unknown ids are left out)."""
    rows = Qualification.objects.filter(pk__in=_uuids(qualification_ids)).values_list(
        "pk", "renewal_lead_days", "documents"
    )
    return _qualifications_from(rows)


def _qualifications_from(rows: Iterable[tuple[UUID, int, UUID | None]]) -> dict[UUID, domain.Qualification]:
    """Rows of (qualification id, renewal lead days, document id or None), one per linked document."""
    lead_days: dict[UUID, int] = {}
    documents: dict[UUID, set[str]] = {}
    for qid, lead, document_id in rows:
        lead_days[qid] = lead
        found = documents.setdefault(qid, set())
        if document_id is not None:
            found.add(str(document_id))
    return {
        qid: domain.Qualification(str(qid), dt.timedelta(days=lead_days[qid]), tuple(sorted(documents[qid])))
        for qid in lead_days
    }


def revisions_for(qualification_ids: Iterable[UUID | str]) -> list[domain.DocumentRevision]:
    """The revisions that require retraining of every active document the qualifications rest on, in one
    query (plain SQL, as for `facts_for`). Revisions marked as needing no training (a typo fixed) never make
    anyone retrain; a withdrawn document has no revision in effect."""
    qualification_params = [_uuid_param(q) for q in _uuids(qualification_ids)]
    if not qualification_params:
        return []
    revisions, (document, revision, label, effective_from, grace, training_required) = _table(
        DocumentRevision, "document", "revision", "label", "effective_from", "retraining_grace_days", "training_required"
    )
    documents, (document_pk, is_active) = _table(Document, "id", "is_active")
    links, (link_document, link_qualification) = _table(QualificationDocument, "document", "qualification")
    sql = (
        f"SELECT {_as_text(f'r.{document}')}, r.{revision}, r.{label}, {_as_text(f'r.{effective_from}')}, r.{grace} "
        f"FROM {revisions} r "
        f"JOIN {documents} d ON d.{document_pk} = r.{document} "
        f"WHERE r.{training_required} = %s AND d.{is_active} = %s AND r.{document} IN "
        f"(SELECT {link_document} FROM {links} WHERE {link_qualification} IN ({_marks(qualification_params)}))"
    )
    decode = _Columns()
    with connection.cursor() as cursor:
        cursor.execute(sql, [True, True, *qualification_params])
        return [
            domain.DocumentRevision(decode.id(document_id), number, text, decode.moment(effective), dt.timedelta(days=days))
            for document_id, number, text, effective, days in cursor.fetchall()
        ]


def _uuids(values: Iterable[UUID | str]) -> list[UUID]:
    return [value if isinstance(value, UUID) else UUID(str(value)) for value in values]


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


def _hex_uuid(value: str) -> str:
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


class _Columns:
    """Decodes the raw values of the fact queries. The facts are read with plain SQL rather than querysets:
    building a queryset and running Django's per-value converters cost several times the query itself,
    and the same path serves a 2 ms gate check and a plant-wide matrix. Ids and date-times are selected
    as text (`_as_text`): the drivers' own conversions (a UUID object per id; on PostgreSQL, the regex
    parser behind Django's date-time loader) cost more than the query. Ids come back canonical
    (PostgreSQL) or as 32 hex digits (SQLite); date-times in ISO form, with a UTC offset (PostgreSQL,
    whose session Django keeps in UTC) or naive in UTC (SQLite); JSON as text."""

    def __init__(self) -> None:
        native = connection.vendor == "postgresql"
        self.uuid: Callable[[str], str] = str if native else _hex_uuid
        self.text_id: Callable[[UUID], str] = str if native else (lambda pk: pk.hex)
        self.ids: dict[str, str] = {}  # repeated ids (qualifications, documents) decoded once

    @staticmethod
    def moment(value: str | None) -> dt.datetime | None:
        if value is None:
            return None
        moment = dt.datetime.fromisoformat(value)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)

    def id(self, value: Any) -> str:
        text = self.ids.get(value)
        if text is None:
            text = self.ids[value] = self.uuid(value)
        return text

    @staticmethod
    def json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value


def _uuid_param(value: UUID) -> Any:
    return _UUID_FIELD.get_db_prep_value(value, connection)


_UUID_FIELD = UUIDField()


def _table(model: type[Model], *fields: str) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), [quote(model._meta.get_field(name).column) for name in fields]


_GRANT, _SUSPENSION, _REVOCATION, _TRAINING = range(4)


def _as_text(column: str) -> str:
    return f"CAST({column} AS TEXT)"


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def facts_for(people: People, *, qualification_ids: Iterable[UUID | str] | None = None) -> dict[UUID, domain.PersonFacts]:
    """The grants, suspensions, revocations and document trainings of every person, keyed by employee id
    (each kind in no particular order; of the passed trainings on a document revision, only the first).

    `people`: employee ids or instances (one query for up to `IDS_PER_QUERY` people), or a queryset of
    employees (always two queries: the ids, then the facts with the queryset as a subquery). `qualification_ids`
    limits grants, suspensions and revocations to those qualifications, and document trainings to the
    documents they rest on.
    """
    # Who: one subquery for a queryset, id lists of bounded size otherwise.
    batches: list[tuple[str, list[Any]]]
    if isinstance(people, QuerySet):
        employee_ids = list(people.values_list("pk", flat=True))
        subquery, params = people.order_by().values("pk").query.sql_with_params()
        batches = [(subquery, list(params))] if employee_ids else []
    else:
        employee_ids = list(dict.fromkeys(p.pk if isinstance(p, Model) else UUID(str(p)) for p in people))
        batches = [
            (_marks(batch), [_uuid_param(pk) for pk in batch])
            for batch in (employee_ids[i:i + IDS_PER_QUERY] for i in range(0, len(employee_ids), IDS_PER_QUERY))
        ]
    facts = {pk: ([], [], [], []) for pk in employee_ids}
    if qualification_ids is not None:
        qualification_params = [_uuid_param(q) for q in _uuids(qualification_ids)]
        if not qualification_params:
            batches = []
    decode = _Columns()
    person = {decode.text_id(pk): facts[pk] for pk in employee_ids}  # employee id as selected -> fact lists

    # One statement per batch of people: the four kinds of fact as one UNION ALL, so a gate check costs one
    # round trip and one plan. Columns: kind, employee, id, qualification (or document), moment, end,
    # evidence, text (certificate number or reason), document revision.
    qualification_limit = f" AND {{}} IN ({_marks(qualification_params)})" if qualification_ids is not None else ""
    selects: list[tuple[str, list[Any]]] = []
    for kind, model, moments, others in (
        (_GRANT, QualificationGrant, ("valid_from", "valid_until"), ("evidence", "certificate_number")),
        (_SUSPENSION, QualificationSuspension, ("start", "end"), (None, "reason")),
        (_REVOCATION, QualificationRevocation, ("at", None), (None, "reason")),
    ):
        table, columns = _table(model, "employee", "id", "qualification")
        values = [*map(_as_text, columns)]
        values += [_as_text(_table(model, name)[1][0]) if name else "NULL" for name in moments]
        values += [_table(model, name)[1][0] if name else "NULL" for name in others]
        # Typed in the first branch, so PostgreSQL resolves the revision column as integer.
        values.append("CAST(NULL AS INTEGER)" if kind == _GRANT else "NULL")
        selects.append((
            f"SELECT {kind}, {', '.join(values)} FROM {table} WHERE {columns[0]} IN ({{}})"
            + qualification_limit.format(columns[2]),
            qualification_params if qualification_ids is not None else [],
        ))
    # Only passed trainings count as having been trained on a document revision.
    table, (employee, pk, document, completed_at, revision, passed) = _table(
        TrainingRecord, "employee", "id", "document_id", "completed_at", "document_revision", "passed"
    )
    training = (f"SELECT {_TRAINING}, {_as_text(employee)}, {_as_text(pk)}, {_as_text(document)}, "
                f"{_as_text(completed_at)}, NULL, NULL, NULL, {revision} "
                f"FROM {table} WHERE {employee} IN ({{}}) AND {passed} = %s AND {document} IS NOT NULL")
    training_params: list[Any] = [True]
    if qualification_ids is not None:
        links, (link_document, link_qualification) = _table(QualificationDocument, "document", "qualification")
        training += (f" AND {document} IN (SELECT {link_document} FROM {links} "
                     f"WHERE {link_qualification} IN ({_marks(qualification_params)}))")
        training_params += qualification_params
    selects.append((training, training_params))

    uuid, moment = decode.uuid, decode.moment
    # The status function only uses the first training on each revision (earliest, then lowest id): keep
    # those before decoding, as a long-serving person has many records on the same few revisions. The
    # texts compare as the moments and ids do (ISO date-times in one offset; ids of one form).
    first: dict[tuple[Any, Any, int], tuple[Any, Any]] = {}
    with connection.cursor() as cursor:
        for who, who_params in batches:
            cursor.execute(
                " UNION ALL ".join(sql.format(who) for sql, _ in selects),
                [value for _, params in selects for value in (*who_params, *params)],
            )
            for kind, employee_id, pk, ref, at, end, evidence, text, number in cursor.fetchall():
                if kind == _TRAINING:
                    key = (employee_id, ref, number)
                    seen = first.get(key)
                    if seen is None or (at, pk) < seen:
                        first[key] = (at, pk)
                elif kind == _GRANT:
                    person[employee_id][0].append(domain.Grant(
                        uuid(pk), decode.id(ref), moment(at), moment(end), grant_evidence(decode.json(evidence), text)
                    ))
                elif kind == _SUSPENSION:
                    person[employee_id][1].append(domain.Suspension(uuid(pk), decode.id(ref), moment(at), moment(end), text))
                else:
                    person[employee_id][2].append(domain.Revocation(uuid(pk), decode.id(ref), moment(at), text))
    for (employee_id, document_id, revision_number), (at, pk) in first.items():
        person[employee_id][3].append(domain.Training(decode.id(document_id), revision_number, moment(at), uuid(pk)))
    return {
        pk: domain.PersonFacts(str(pk), tuple(grants), tuple(suspensions), tuple(revocations), tuple(trainings))
        for pk, (grants, suspensions, revocations, trainings) in facts.items()
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
    """The qualifications the given targets require, as domain requirements (with the documents each
    qualification rests on), in one query.

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
    # One row per requirement and document its qualification rests on (the join repeats the requirement).
    rows = list(Requirement.objects.filter(q, qualification__is_active=True).values_list(
        "pk", "qualification_id", "qualification__renewal_lead_days", "mandatory", "grace_days",
        "qualification__documents",
    ))
    qualifications = _qualifications_from((qid, lead_days, document_id) for _, qid, lead_days, _, _, document_id in rows)
    settings = {pk: (qid, mandatory, grace_days) for pk, qid, _, mandatory, grace_days, _ in rows}
    return _merge(
        domain.Requirement(
            qualifications[qid],
            mandatory,
            assigned_at + dt.timedelta(days=grace_days) if assigned_at is not None and grace_days else None,
        )
        for qid, mandatory, grace_days in settings.values()
    )


def status_of(
    employee: Employee, qualification: Qualification, at: dt.datetime | None = None,
    *, revisions: Iterable[domain.DocumentRevision] | None = None,
) -> domain.QualificationStatus:
    """Where `employee` stands with `qualification` at `at` (default: now), with reasons and evidence.

    `revisions`: the document revisions to judge retraining by; None loads those of the qualification's
    documents (pass them when checking many people against the same qualification).
    """
    at = timezone.now() if at is None else at
    facts = facts_for([employee.pk], qualification_ids=[qualification.pk])[employee.pk]
    if revisions is None:
        revisions = revisions_for([qualification.pk])
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
    revisions: Iterable[domain.DocumentRevision] | None = None,
) -> domain.Verdict:
    """May `employee` do it at `at` (default: now)? The one check every gated action calls.

    `requirement_or_capability`: a capability code ("release_lot": refused when no qualification is
    attached to it), a Position (the grace period runs from the employee's assignment to it), or domain
    requirements (e.g. an operation's, resolved by the caller, with their qualifications' documents as
    `requirements_for` gives them). `revisions`: as for `status_of`; None loads them.
    """
    at = timezone.now() if at is None else at
    if isinstance(requirement_or_capability, str):
        requirements = requirements_for(capability=requirement_or_capability)
    elif isinstance(requirement_or_capability, Position):
        requirements = requirements_for(
            position_id=requirement_or_capability.pk,
            assigned_at=_position_assigned_at(employee, requirement_or_capability, at),
        )
    elif isinstance(requirement_or_capability, domain.Requirement):
        requirements = [requirement_or_capability]
    else:
        requirements = list(requirement_or_capability)
    qualification_ids = [r.qualification.id for r in requirements]
    facts = facts_for([employee.pk], qualification_ids=qualification_ids)[employee.pk]
    if revisions is None:
        revisions = revisions_for(qualification_ids) if any(r.qualification.document_ids for r in requirements) else ()
    if isinstance(requirement_or_capability, str):
        return domain.evaluate_capability(
            capability=requirement_or_capability, facts=facts, requirements=requirements, revisions=revisions, at=at
        )
    return domain.evaluate(facts=facts, requirements=requirements, revisions=revisions, at=at)
