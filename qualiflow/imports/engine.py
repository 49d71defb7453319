"""The import engine: one streamed pass over a file that validates every row against the kind's rules and
the data already in Qualiflow, and, when committing, writes in chunks inside the caller's transaction.

A row identifies its record by the external key of its source system (kept in `external_refs`), else by
its natural key (employee number; course + person + completion time; ...), and for employees also by name
and birth date. A row whose values are already what the record holds is skipped, which makes importing
the same file twice change nothing. Every chunk written leaves a ledger entry (`ImportChange`) listing the
rows created and the values of the rows updated before the change, from which the batch is rolled back.
Creates and updates go through the audited bulk paths, so each row still gets its audit entry.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.db import connection, models

from qualiflow.audit.tracking import json_value
from qualiflow.integration import events
from qualiflow.org.models import Department, Position, ProductionLine, Site
from qualiflow.people.models import Employee
from qualiflow.training.models import (
    Certificate,
    Course,
    GrantSource,
    Qualification,
    QualificationGrant,
    TrainingRecord,
)

from . import fast, messages, reading
from .domain.rows import Issue, Ref, missing_columns, read_row, text_of
from .kinds import EXTERNAL_KEY, SPECS
from .models import ChangeAction, ImportChange, ImportKind

CHUNK = 5000
MAX_STORED_ERRORS = 10_000


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str
    code: str
    message: str


@dataclass
class Job:
    """What to read and how: the kind, the source system's code, the file, and the mappings in force."""

    kind: str
    source: str
    path: Path
    file_name: str
    columns: Mapping[str, str] = field(default_factory=dict)  # Qualiflow field -> source header
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # field -> legacy -> Qualiflow value


@dataclass
class Outcome:
    encoding: str = ""
    headers: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)

    def fail(self, row: int | None, column: str, code: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(RowError(row, column, code, message))

    def summary(self) -> dict[str, Any]:
        return {"rows": self.rows, "create": self.created, "update": self.updated, "skip": self.skipped,
                "errors": self.error_count, "encoding": self.encoding, "columns": self.columns}


@dataclass
class Writer:
    """Where a committing pass writes its ledger; `None` in a dry run."""

    batch_id: Any

    def record(self, model: type[models.Model], action: str, object_ids: list, previous: dict | None = None) -> None:
        if object_ids:
            ImportChange.objects.create(
                batch_id=self.batch_id, model=model._meta.label_lower, action=action,
                object_ids=[str(pk) for pk in object_ids], previous=previous or {},
            )


@cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def _moment(value: dt.date | dt.datetime | None, zone: str) -> dt.datetime | None:
    """A legacy date is midnight in the plant's calendar; a legacy time is the plant's wall-clock time."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.min)
    return value.replace(tzinfo=_zone(zone or "UTC"))


def _codes(model: type[models.Model], *, site: bool = False) -> dict[str, Ref]:
    queryset = model.objects.all()
    if site:
        return {code: Ref(pk, site_id) for pk, code, site_id in queryset.values_list("pk", "code", "site_id")}
    return {code: Ref(pk) for pk, code in queryset.values_list("pk", "code")}


def _employees() -> dict[str, Ref]:
    rows = Employee.objects.values_list("pk", "employee_number", "site_id", "site__time_zone")
    return {number: Ref(pk, site_id, zone) for pk, number, site_id, zone in rows}


class Handler:
    """How one kind of row becomes a record: its lookups, its identity, creation and events."""

    model: type[models.Model]
    natural_fields: tuple[str, ...] = ()

    def __init__(self, source: str) -> None:
        self.source = source

    def refs(self) -> dict[str, dict[str, Ref]]:
        return {}

    def attrs(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Model attribute values (attnames) for the parsed values the row carries."""
        raise NotImplementedError

    def identities(self, attrs: Mapping[str, Any]) -> list[tuple]:
        """Keys that identify the record, most specific first; each key is (name, *values)."""
        key = tuple(attrs.get(a) for a in self.natural_fields)
        return [("natural", *key)] if None not in key else []

    def lookups(self) -> list[tuple[str, tuple[str, ...]]]:
        return [("natural", self.natural_fields)]

    def build(self, attrs: Mapping[str, Any]) -> models.Model:
        return self.model(**attrs)

    def create(self, rows: list[dict[str, Any]], writer: Writer) -> None:
        objs = [self.build(attrs) for attrs in rows]
        self.model.objects.bulk_create(objs, batch_size=1000)
        writer.record(self.model, ChangeAction.CREATED, [o.pk for o in objs])
        self.created(objs)

    def created(self, objs: list[models.Model]) -> None:
        """Events for created records; bulk kinds report only the batch."""

    def updated(self, objs: list[models.Model], fields: dict[Any, list[str]]) -> None:
        """Events for updated records."""

    def find(self, rows: list[dict[str, Any]]) -> dict[tuple, models.Model]:
        """Existing records for any identity of `rows`, by identity key: one query per lookup."""
        wanted: dict[str, set[tuple]] = {}
        for attrs in rows:
            for key in self.identities(attrs):
                wanted.setdefault(key[0], set()).add(key[1:])
        lookups = dict(self.lookups())
        pks = {pk for name, keys in wanted.items() for pk in _lookup(self.model, lookups[name], keys)}
        found: dict[tuple, models.Model] = {}
        for obj in self.model.objects.in_bulk(pks).values():
            for name, attnames in lookups.items():
                key = tuple(getattr(obj, a) for a in attnames)
                if key in wanted.get(name, ()):
                    found[(name, *key)] = obj
        return found


def _lookup(model: type[models.Model], attnames: tuple[str, ...], wanted: set[tuple]) -> set:
    """Keys of the rows whose `attnames` equal one of the `wanted` tuples: the wanted keys as a VALUES list
    joined to the table, which both databases answer by probing the index once per key."""
    fields = [model._meta.get_field(a) for a in attnames]
    keys = [[f.get_db_prep_value(v, connection, prepared=False) for f, v in zip(fields, key, strict=True)]
            for key in wanted]
    names = [f"k{i}" for i in range(len(fields))]
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    match = " AND ".join(f"t.{connection.ops.quote_name(f.column)} = k.{n}" for f, n in zip(fields, names, strict=True))
    row = f"({', '.join(['%s'] * len(fields))})"
    per = max(1, 10_000 // len(fields))
    found = set()
    with connection.cursor() as cursor:
        for start in range(0, len(keys), per):
            part = keys[start : start + per]
            # CROSS JOIN keeps SQLite from scanning the table once per key; PostgreSQL plans it as it likes.
            sql = (f"WITH k ({', '.join(names)}) AS (VALUES {', '.join([row] * len(part))}) "
                   f"SELECT t.{pk} FROM k CROSS JOIN {table} t WHERE {match}")
            cursor.execute(sql, [v for key in part for v in key])
            found.update(model._meta.pk.to_python(r[0]) for r in cursor.fetchall())
    return found


class EmployeeHandler(Handler):
    model = Employee
    natural_fields = ("employee_number",)

    def refs(self):
        return {"site": _codes(Site), "department": _codes(Department, site=True),
                "line": _codes(ProductionLine, site=True), "position": _codes(Position)}

    def attrs(self, values):
        out = {}
        for name, value in values.items():
            if name in ("site", "department", "line", "position"):
                out[f"{name}_id"] = value.id if value is not None else None
            elif name == "employment_type" or name == "status":
                if value is not None:
                    out[name] = value
            elif name != EXTERNAL_KEY:
                out[name] = value
        return out

    def identities(self, attrs):
        keys = super().identities(attrs)
        person = (attrs.get("family_name"), attrs.get("given_name"), attrs.get("birth_date"))
        if None not in person:
            keys.append(("person", *person))
        return keys

    def lookups(self):
        return [("natural", ("employee_number",)), ("person", ("family_name", "given_name", "birth_date"))]

    def created(self, objs):
        for e in objs:
            events.emit("people.employee.created", f"people/employee/{e.pk}", _employee_payload(e))

    def updated(self, objs, fields):
        for e in objs:
            events.emit("people.employee.updated", f"people/employee/{e.pk}",
                        {**_employee_payload(e), "fields": sorted(fields[e.pk])})


def _employee_payload(e: Employee) -> dict[str, Any]:
    return {"employee_number": e.employee_number, "name": e.full_name, "status": e.status, "site_id": e.site_id,
            "department_id": e.department_id, "line_id": e.line_id, "position_id": e.position_id}


class PositionHandler(Handler):
    model = Position
    natural_fields = ("code",)

    def refs(self):
        return {"department": _codes(Department, site=True)}

    def attrs(self, values):
        out = {}
        for name, value in values.items():
            if name == "department":
                out["department_id"] = value.id if value is not None else None
            elif name != EXTERNAL_KEY:
                out[name] = value
        return out


class TrainingRecordHandler(Handler):
    model = TrainingRecord
    natural_fields = ("employee_id", "course_id", "completed_at")

    def refs(self):
        return {"employee": _employees(), "course": _codes(Course)}

    def attrs(self, values):
        employee = values["employee_number"]
        out = {"employee_id": employee.id, "course_id": values["course"].id,
               "completed_at": _moment(values["completed_at"], employee.zone), "passed": values["passed"]}
        if "score" in values:
            out["score"] = values["score"]
        if "trainer" in values:
            out["trainer_id"] = values["trainer"].id if values["trainer"] is not None else None
        if "notes" in values:
            out["notes"] = values["notes"]
        return out

    def create(self, rows, writer):
        """Training records come by the hundred thousand: inserted as plain rows (COPY on PostgreSQL), each
        with the audit entry the model layer would write, since building model instances costs more than
        the insert itself."""
        pks = fast.insert(TrainingRecord, rows)
        writer.record(TrainingRecord, ChangeAction.CREATED, pks)


class GrantHandler(Handler):
    model = QualificationGrant
    natural_fields = ("employee_id", "qualification_id", "valid_from")

    def refs(self):
        qualifications, self._validity = _qualifications()
        return {"employee": _employees(), "qualification": qualifications}

    def attrs(self, values):
        employee = values["employee_number"]
        out = {"employee_id": employee.id, "qualification_id": values["qualification"].id,
               "valid_from": _moment(values["valid_from"], employee.zone)}
        if "valid_until" in values:
            out["valid_until"] = _moment(values["valid_until"], employee.zone)
        for name in ("certificate_number", "issuer"):
            if name in values:
                out[name] = values[name]
        return out

    def build(self, attrs):
        grant = QualificationGrant(source=GrantSource.IMPORT, evidence={"import_source": self.source}, **attrs)
        if "valid_until" not in attrs:
            grant.valid_until = _until(grant.valid_from, self._validity[attrs["qualification_id"]])
        return grant

    def created(self, objs):
        for g in objs:
            _granted(g)


def _until(valid_from: dt.datetime, days: int | None) -> dt.datetime | None:
    """Without an end date a grant lasts the qualification's validity, as a grant made by hand does."""
    return valid_from + dt.timedelta(days=days) if days is not None else None


def _qualifications() -> tuple[dict[str, Ref], dict[Any, int | None]]:
    rows = Qualification.objects.filter(is_active=True).values_list("pk", "code", "validity_days")
    return {code: Ref(pk) for pk, code, _days in rows}, {pk: days for pk, _code, days in rows}


def _granted(g: QualificationGrant) -> None:
    events.emit("training.qualification.granted", f"training/grant/{g.pk}", {
        "employee_id": g.employee_id, "qualification_id": g.qualification_id, "grant_id": g.pk,
        "valid_from": g.valid_from, "valid_until": g.valid_until, "source": g.source,
        "certificate_number": g.certificate_number,
    })


class CertificateHandler(Handler):
    model = Certificate
    natural_fields = ("issuer", "number")

    def refs(self):
        employees = _employees()
        self._zones = {ref.id: ref.zone for ref in employees.values()}
        qualifications, self._validity = _qualifications()
        return {"employee": employees, "qualification": qualifications}

    def attrs(self, values):
        out = {"employee_id": values["employee_number"].id, "qualification_id": values["qualification"].id,
               "number": values["number"], "issuer": values["issuer"], "issued_on": values["issued_on"]}
        if "expires_on" in values:
            out["expires_on"] = values["expires_on"]
        return out

    def create(self, rows, writer):
        """Each certificate grants its qualification from the issue date until the expiry date, as recording
        one by hand does."""
        objs = [self.build(attrs) for attrs in rows]
        grants = []
        for cert in objs:
            zone = self._zones[cert.employee_id]
            start = _moment(cert.issued_on, zone)
            until = _moment(cert.expires_on, zone) if cert.expires_on else _until(start, self._validity[cert.qualification_id])
            cert.grant = QualificationGrant(
                employee_id=cert.employee_id, qualification_id=cert.qualification_id, valid_from=start,
                valid_until=until, source=GrantSource.CERTIFICATE, evidence={"certificate_id": str(cert.pk)},
                certificate_number=cert.number, issuer=cert.issuer,
            )
            grants.append(cert.grant)
        QualificationGrant.objects.bulk_create(grants, batch_size=1000)
        writer.record(QualificationGrant, ChangeAction.CREATED, [g.pk for g in grants])
        Certificate.objects.bulk_create(objs, batch_size=1000)
        writer.record(Certificate, ChangeAction.CREATED, [o.pk for o in objs])
        self.created(objs)

    def created(self, objs):
        for cert in objs:
            _granted(cert.grant)
            events.emit("training.certificate.recorded", f"training/certificate/{cert.pk}", {
                "employee_id": cert.employee_id, "certificate_id": cert.pk, "qualification_id": cert.qualification_id,
                "number": cert.number, "issuer": cert.issuer, "issued_on": cert.issued_on,
                "expires_on": cert.expires_on, "grant_id": cert.grant_id,
            })


HANDLERS: dict[str, type[Handler]] = {
    ImportKind.EMPLOYEES: EmployeeHandler,
    ImportKind.POSITIONS: PositionHandler,
    ImportKind.TRAINING_RECORDS: TrainingRecordHandler,
    ImportKind.CERTIFICATES: CertificateHandler,
    ImportKind.QUALIFICATION_GRANTS: GrantHandler,
}


def _external_index(model: type[models.Model], source: str) -> dict[str, Any]:
    """Every record of `model` already carrying a key of `source`: read once per pass."""
    rows = model.objects.filter(external_refs__has_key=source).values_list("pk", f"external_refs__{source}")
    return {str(key): pk for pk, key in rows}


def run(job: Job, *, writer: Writer | None = None, progress: Callable[[int], None] | None = None) -> Outcome:
    """Validate (and with a `writer`, write) every row of the job's file. Writing stops at the first error
    but validation goes on, so the report lists every problem; the caller rolls its transaction back when
    `error_count` is not zero."""
    outcome = Outcome()
    try:
        _run(job, outcome, writer, progress)
    except reading.FileProblem as problem:
        outcome.fail(None, "", problem.code, problem.message)
    return outcome


def _run(job: Job, outcome: Outcome, writer: Writer | None, progress: Callable[[int], None] | None) -> None:
    spec = SPECS[job.kind]
    handler = HANDLERS[job.kind](job.source)
    with reading.open_table(job.path, job.file_name) as table:
        outcome.encoding = table.encoding
        outcome.headers = table.headers
        wanted = {name: job.columns.get(name) or name for name in spec.names}
        missing = missing_columns(spec, wanted, table.headers)
        if missing:
            outcome.fail(None, ", ".join(missing), "missing_columns",
                         messages.render("missing_columns", columns=", ".join(missing)))
            return
        position = {header: i for i, header in reversed(list(enumerate(table.headers)))}
        index = {name: position[header] for name, header in wanted.items() if header in position}
        outcome.columns = {name: wanted[name] for name in index}
        refs = handler.refs()
        value_maps = {name: dict(mapping) for name, mapping in job.values.items() if name in index}
        external = _external_index(handler.model, job.source) if EXTERNAL_KEY in index else {}
        seen: dict[int, int] = {}
        chunk: list[tuple[int, dict[str, Any], str]] = []
        for number, cells in table.rows:
            outcome.rows += 1
            row = {name: (cells[i] if i < len(cells) else "") for name, i in index.items()}
            for name, mapping in value_maps.items():
                legacy = text_of(row[name])
                if legacy in mapping:
                    row[name] = mapping[legacy]
            values, issues = read_row(spec, row, refs)
            if issues:
                for issue in issues:
                    _issue(outcome, number, issue, outcome.columns)
                continue
            attrs = handler.attrs(values)
            key = values.get(EXTERNAL_KEY) or ""
            if _duplicate(outcome, seen, number, key, handler.identities(attrs)):
                continue
            chunk.append((number, attrs, key))
            if len(chunk) >= CHUNK:
                _decide(handler, chunk, external, outcome, writer)
                chunk = []
                if progress is not None:
                    progress(outcome.rows)
        _decide(handler, chunk, external, outcome, writer)
        if progress is not None:
            progress(outcome.rows)


def _issue(outcome: Outcome, number: int, issue: Issue, columns: dict[str, str]) -> None:
    column = columns.get(issue.field, issue.field)
    outcome.fail(number, column, issue.code, messages.issue_text(issue, column, columns))


def _duplicate(outcome: Outcome, seen: dict[int, int], number: int, key: str, identities: list[tuple]) -> bool:
    keys = ([("external_key", key)] if key else []) + identities
    # Hashes, not the keys: a million rows' keys would take hundreds of megabytes.
    hashes = [hash(k) for k in keys]
    for k, h in zip(keys, hashes, strict=True):
        if h in seen:
            outcome.fail(number, "", "duplicate", messages.render(
                "duplicate", row=seen[h], key=messages.KEY_NAMES[k[0]]))
            return True
    for h in hashes:
        seen[h] = number
    return False


def _decide(handler: Handler, chunk: list[tuple[int, dict[str, Any], str]], external: dict[str, Any],
            outcome: Outcome, writer: Writer | None) -> None:
    if not chunk:
        return
    found = handler.find([attrs for _, attrs, _ in chunk])
    by_key = handler.model.objects.in_bulk({external[k] for _, _, k in chunk if k in external})
    creates: list[dict[str, Any]] = []
    updates: list[tuple[models.Model, dict[str, Any]]] = []
    source = handler.source
    for number, attrs, key in chunk:
        matches = [found[i] for i in handler.identities(attrs) if i in found]
        target = by_key.get(external.get(key)) if key else None
        candidates = ([target] if target is not None else []) + matches
        distinct = {obj.pk: obj for obj in candidates}
        if len(distinct) > 1:
            first, second = list(distinct.values())[:2]
            outcome.fail(number, "", "conflict", messages.render("conflict", first=str(first), second=str(second)))
            continue
        obj = candidates[0] if candidates else None
        if obj is None:
            creates.append({**attrs, "external_refs": {source: key}} if key else attrs)
            continue
        changed = {a: v for a, v in attrs.items() if getattr(obj, a) != v}
        if key and obj.external_refs.get(source) != key:
            changed["external_refs"] = {**obj.external_refs, source: key}
        if changed:
            updates.append((obj, changed))
        else:
            outcome.skipped += 1
    outcome.created += len(creates)
    outcome.updated += len(updates)
    if writer is None or outcome.error_count:
        return
    if creates:
        handler.create(creates, writer)
    if updates:
        _update(handler, updates, writer)


def _update(handler: Handler, updates: list[tuple[models.Model, dict[str, Any]]], writer: Writer) -> None:
    model = handler.model
    names = {f.attname: f.name for f in model._meta.concrete_fields}
    previous: dict[str, dict[str, Any]] = {}
    touched: set[str] = set()
    changed_fields: dict[Any, list[str]] = {}
    for obj, changed in updates:
        previous[str(obj.pk)] = {a: json_value(getattr(obj, a)) for a in changed}
        for a, v in changed.items():
            setattr(obj, a, v)
        touched.update(changed)
        changed_fields[obj.pk] = [names[a] for a in changed]
    objs = [obj for obj, _ in updates]
    model.objects.bulk_update(objs, sorted(names[a] for a in touched), batch_size=1000)
    writer.record(model, ChangeAction.UPDATED, [o.pk for o in objs], previous)
    handler.updated(objs, changed_fields)
