"""Seed the demo plant's training: the catalogue through the training services, then two years of history
(sessions, attendance, assessments, training records, grants, certificates, effectiveness checks) written
in bulk through the audited model managers, deterministic from the seed.

The history is planned per person from their current position: each qualification it requires (and a few
optional ones) has a chain of trainings or certificates, renewed some weeks before expiry — or not, so
some are expiring or expired. Controlled documents got newer revisions; most holders read them within the
grace period, a few did not yet (retraining required). One suspension and one revocation are on record.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from qualiflow.documents.models import Document, DocumentRevision
from qualiflow.people.models import Employee
from qualiflow.training import services as training_services
from qualiflow.training.models import (
    Assessment,
    Attendance,
    Certificate,
    Course,
    Curriculum,
    CurriculumCourse,
    EffectivenessCheck,
    EffectivenessStatus,
    Qualification,
    QualificationDocument,
    QualificationGrant,
    TrainingAssignment,
    TrainingRecord,
    TrainingSession,
)

from . import plan
from . import training_plan as catalogue
from .training_plan import CourseSpec

if TYPE_CHECKING:
    from .seeding import _Org

# Above this head count only the catalogue and the requirements are seeded: the history of a very large
# plant would take minutes and is not needed to benchmark people and organisation.
HISTORY_LIMIT = 5_000
HISTORY_DAYS = 730
BATCH_SIZE = 2000
SITE_ZONE = {s.code: ZoneInfo(s.time_zone) for s in plan.SITES}
LINE_SITE = {line.code: next(d.site for d in plan.DEPARTMENTS if d.code == line.department) for line in plan.LINES}
QUALIFICATION_SPECS = {q.code: q for q in catalogue.QUALIFICATIONS}
COURSE_SPECS = {c.code: c for c in catalogue.COURSES}
DOCUMENT_SPECS = {d.code: d for d in catalogue.DOCUMENTS}
CERTIFIED_KINDS = ("external_certificate", "health_certificate")


@dataclass(frozen=True)
class Catalogue:
    documents: dict[str, Document]
    revisions: dict[str, list[DocumentRevision]]  # by document code, oldest first
    qualifications: dict[str, Qualification]
    courses: dict[str, Course]


@dataclass
class _Holder:
    """One person in the history: who, where, and the dates of each chain (by course or qualification)."""

    employee: Employee
    planned: plan.PlannedEmployee
    site: str
    since: dt.date  # in the current position
    held: list[str]
    chains: dict[str, list[dt.date]] = field(default_factory=dict)  # course code or certificate qualification
    skip_rereads: set[str] = field(default_factory=set)  # document codes whose newest revision they did not read


@dataclass
class _Writes:
    sessions: list[TrainingSession] = field(default_factory=list)
    records: list[TrainingRecord] = field(default_factory=list)
    attendances: list[Attendance] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)
    grants: list[QualificationGrant] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    checks: list[EffectivenessCheck] = field(default_factory=list)
    assignments: list[TrainingAssignment] = field(default_factory=list)


def seed_training(
    *, seed: int, people: list[plan.PlannedEmployee], employees: list[Employee], org: _Org, today: dt.date,
    reason: str, progress: Callable[[str], None],
) -> None:
    built = _create_catalogue(org, today, reason)
    progress(f"training catalogue: {len(built.documents)} documents, {len(built.qualifications)} qualifications, "
             f"{len(built.courses)} courses, {len(catalogue.CURRICULA)} curricula")
    if len(people) > HISTORY_LIMIT:
        progress(f"training history: skipped above {HISTORY_LIMIT:,} employees (catalogue and requirements only)")
        return
    history = _History(random.Random(f"training-{seed}"), built, today)
    writes = history.build([
        (p, e) for p, e in zip(people, employees, strict=True) if p.termination_date is None
    ])
    for model, rows in (
        (TrainingSession, writes.sessions), (TrainingRecord, writes.records), (Attendance, writes.attendances),
        (Assessment, writes.assessments), (QualificationGrant, writes.grants), (Certificate, writes.certificates),
        (EffectivenessCheck, writes.checks), (TrainingAssignment, writes.assignments),
    ):
        for start in range(0, len(rows), BATCH_SIZE):
            model.objects.bulk_create(rows[start:start + BATCH_SIZE])
    history.suspend_and_revoke(reason)
    progress(f"training history: {len(writes.sessions)} sessions, {len(writes.records)} training records, "
             f"{len(writes.grants)} grants, {len(writes.certificates)} certificates, "
             f"{len(writes.assignments)} open assignments")


def _create_catalogue(org: _Org, today: dt.date, reason: str) -> Catalogue:
    """Small and regulated: documents in bulk, the rest through the services (validated, with events)."""
    documents = {
        spec.code: Document(code=spec.code, kind=spec.kind, title=spec.title, title_en=spec.title_en)
        for spec in catalogue.DOCUMENTS
    }
    Document.objects.bulk_create(list(documents.values()))
    zone = SITE_ZONE["SZ"]
    revisions = {
        spec.code: [
            DocumentRevision(
                document=documents[spec.code], revision=number, label=r.label,
                effective_from=_moment(today - dt.timedelta(days=r.days_ago), 8, zone),
                training_required=r.training_required, retraining_grace_days=r.grace_days, summary=r.summary,
            )
            for number, r in enumerate(spec.revisions, start=1)
        ]
        for spec in catalogue.DOCUMENTS
    }
    DocumentRevision.objects.bulk_create([r for rows in revisions.values() for r in rows])
    qualifications = {
        spec.code: training_services.qualification_create(data={
            "code": spec.code, "name": spec.name, "name_en": spec.name_en, "kind": spec.kind,
            "validity_days": spec.validity_days, "renewal_lead_days": spec.lead_days,
            "requires_practical_signoff": spec.practical,
        }, reason=reason)
        for spec in catalogue.QUALIFICATIONS
    }
    QualificationDocument.objects.bulk_create([
        QualificationDocument(qualification=qualifications[spec.code], document=documents[code])
        for spec in catalogue.QUALIFICATIONS for code in spec.documents
    ])
    courses = {
        spec.code: training_services.course_create(data={
            "code": spec.code, "name": spec.name, "name_en": spec.name_en, "kind": spec.kind,
            "duration_hours": Decimal(spec.hours),
            "max_score": Decimal(100) if spec.pass_mark is not None else None,
            "pass_mark": Decimal(spec.pass_mark) if spec.pass_mark is not None else None,
            "e_learning_url": spec.url, "document": documents[spec.document] if spec.document else None,
            "trainer_qualification": qualifications[spec.trainer] if spec.trainer else None,
            "effectiveness_check_days": spec.effectiveness_days,
        }, confers=[qualifications[q] for q in spec.confers], reason=reason)
        for spec in catalogue.COURSES
    }
    curricula = [Curriculum(code=code, name=name, name_en=name_en) for code, name, name_en, _ in catalogue.CURRICULA]
    Curriculum.objects.bulk_create(curricula)
    CurriculumCourse.objects.bulk_create([
        CurriculumCourse(curriculum=curriculum, course=courses[code])
        for curriculum, (*_, codes) in zip(curricula, catalogue.CURRICULA, strict=True) for code in codes
    ])
    for position, required in catalogue.POSITION_REQUIREMENTS.items():
        for code, grace in required:
            training_services.requirement_set(
                qualification=qualifications[code], target_kind="position", target_id=org.positions[position].pk,
                grace_days=grace, reason=reason,
            )
    for capability, codes in catalogue.CAPABILITIES.items():
        for code in codes:
            training_services.requirement_set(
                qualification=qualifications[code], target_kind="capability", capability=capability, reason=reason,
            )
    return Catalogue(documents, revisions, qualifications, courses)


def _moment(day: dt.date, hour: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone)


class _History:
    def __init__(self, rng: random.Random, built: Catalogue, today: dt.date) -> None:
        self.rng = rng
        self.built = built
        self.today = today
        self.window_start = today - dt.timedelta(days=HISTORY_DAYS)
        self.writes = _Writes()
        self.holders: list[_Holder] = []
        self.sessions: dict[tuple[str, str, dt.date], TrainingSession] = {}
        self.certificate_numbers = 0
        self.enrolled: dict[int, int] = {}  # attendances per session (by object identity: ids come at insert)
        # (holder index, qualification code) -> the grants made, oldest first
        self.grants: dict[tuple[int, str], list[QualificationGrant]] = {}

    # ------------------------------------------------------------------ planning

    def build(self, people: list[tuple[plan.PlannedEmployee, Employee]]) -> _Writes:
        for planned, employee in people:
            self.holders.append(self._holder(planned, employee))
        self._showcase()
        trainers = self._trainer_cover()
        for index, holder in enumerate(self.holders):
            self._write_person(index, holder, trainers)
        return self.writes

    def _holder(self, planned: plan.PlannedEmployee, employee: Employee) -> _Holder:
        rng = self.rng
        since = planned.history[-1][1]
        held = [code for code, _ in catalogue.POSITION_REQUIREMENTS.get(planned.position, ())]
        for code, share in catalogue.OPTIONAL_BY_POSITION.get(planned.position, ()):
            if rng.random() < share and code not in held:
                held.append(code)
        if planned.line == "CZ-EO-1" and planned.position in ("TL", "SUP"):
            held.append("Q-TRAINER-EO")
        holder = _Holder(employee, planned, LINE_SITE.get(planned.line or "", planned.site), since, held)
        by_course: dict[str, list[str]] = {}
        for code in held:
            spec = QUALIFICATION_SPECS[code]
            key = code if spec.kind in CERTIFIED_KINDS else catalogue.EARNED_BY[code]
            by_course.setdefault(key, []).append(code)
        trainer = any(code in ("Q-TRAINER", "Q-TRAINER-EO") for code in held)
        for key, codes in by_course.items():
            validity = [QUALIFICATION_SPECS[c].validity_days for c in codes if QUALIFICATION_SPECS[c].validity_days]
            holder.chains[key] = self._chain(since, min(validity) if validity else None, lapse=not trainer)
        return holder

    def _chain(self, since: dt.date, validity: int | None, *, lapse: bool) -> list[dt.date]:
        """Training (or certificate) dates: first some days after taking up the position, then renewed 5 to
        40 days before expiry; one in twenty renewals is missed. Only the history window is kept, plus the
        date that covers its start."""
        rng = self.rng
        first = since + dt.timedelta(days=rng.randint(3, 25))
        if first >= self.today:
            return []
        dates = [first]
        while validity:
            following = dates[-1] + dt.timedelta(days=validity - rng.randint(5, 40))
            if following >= self.today:
                break
            dates.append(following)
        if lapse and len(dates) > 1 and rng.random() < 0.05:
            dates.pop()
        before = [d for d in dates if d < self.window_start]
        return before[-1:] + [d for d in dates if d >= self.window_start]

    def _showcase(self) -> None:
        """Make sure the matrix shows every state whatever the head count: an expired health certificate,
        an expiring GMP qualification, an assembler still missing her authorisation, people who have not
        read the new gowning and sterilisation SOPs. Suspension and revocation come after the history."""
        rng = self.rng
        days = dt.timedelta

        def pick(position: str, code: str) -> _Holder | None:
            found = [h for h in self.holders if h.planned.position == position and h.chains.get(code)]
            return rng.choice(found) if found else None

        for position in ("OP-ASM", "OP-IM"):
            holder = pick(position, "Q-HEALTH")
            if holder is not None:
                holder.chains["Q-HEALTH"] = [self.today - days(365 + rng.randint(10, 40))]
                break
        holder = pick("OP-PK", "C-GMP-101") or pick("OP-ASM", "C-GMP-101")
        if holder is not None:
            holder.chains["C-GMP-101"] = [self.today - days(365 - rng.randint(8, 20))]
        holder = pick("OP-ASM", "C-ASM-OJT")
        if holder is not None:
            holder.chains["C-ASM-OJT"] = []
        for position, course in (("OP-EO", "C-EO-101"), ("OP-ASM", "C-GOWN-OJT"), ("OP-IM", "C-GOWN-OJT")):
            document = COURSE_SPECS[course].document
            latest = self.built.revisions[document][-1].effective_from.date()
            found = [h for h in self.holders
                     if h.planned.position == position and h.chains.get(course) and h.chains[course][-1] < latest]
            if found:
                rng.choice(found).skip_rereads.add(document)
        for holder in self.holders:
            for document in ("SOP-EO-001", "SOP-GMP-001"):
                if rng.random() < 0.05:
                    holder.skip_rereads.add(document)

    def _trainer_cover(self) -> dict[str, list[tuple[int, dt.date, dt.date]]]:
        """Who may teach when: (holder index, from, until) per trainer qualification."""
        cover: dict[str, list[tuple[int, dt.date, dt.date]]] = {}
        for index, holder in enumerate(self.holders):
            for code in ("Q-TRAINER", "Q-TRAINER-EO"):
                if code not in holder.held:
                    continue
                dates = holder.chains[catalogue.EARNED_BY[code]]
                validity = dt.timedelta(days=QUALIFICATION_SPECS[code].validity_days)
                cover.setdefault(code, []).extend((index, d, d + validity) for d in dates)
        return cover

    # ------------------------------------------------------------------ writing one person

    def _write_person(self, index: int, holder: _Holder, trainers: dict) -> None:
        trained: dict[str, list[tuple[dt.date, int]]] = {}  # document -> (date, revision) of the records
        for key, dates in holder.chains.items():
            if key in QUALIFICATION_SPECS:
                for number, day in enumerate(dates):
                    self._certify(index, holder, key, day, first=number == 0)
                continue
            course = COURSE_SPECS[key]
            confers = [code for code in course.confers if code in holder.held]
            for day in dates:
                record = self._train(index, holder, course, day, trainers)
                if record.document_id is not None:
                    trained.setdefault(course.document, []).append((day, record.document_revision))
                self._grant(index, holder, confers, record)
                # A qualification resting on further documents: those are read on the same day.
                for code in confers:
                    for document in QUALIFICATION_SPECS[code].documents:
                        if document != course.document and document not in trained:
                            reread = self._reread(holder, document, day)
                            if reread is not None:
                                trained.setdefault(document, []).append((day, reread.document_revision))
        self._reread_revisions(holder, trained)
        self._open_assignments(index, holder)

    def _revision_at(self, document: str, day: dt.date) -> DocumentRevision | None:
        moment = _moment(day, 23, SITE_ZONE["SZ"])
        effective = [r for r in self.built.revisions[document] if r.effective_from <= moment and r.training_required]
        return effective[-1] if effective else None

    def _record(self, holder: _Holder, course: CourseSpec, completed_at: dt.datetime, *, passed: bool = True,
                score: int | None = None, trainer: Employee | None = None, session: TrainingSession | None = None,
                notes: str = "") -> TrainingRecord:
        revision = self._revision_at(course.document, completed_at.date()) if course.document else None
        record = TrainingRecord(
            employee=holder.employee, course=self.built.courses[course.code], completed_at=completed_at,
            passed=passed, score=Decimal(score) if score is not None else None, trainer=trainer, session=session,
            document_id=revision.document_id if revision else None,
            document_revision=revision.revision if revision else None,
            document_revision_label=revision.label if revision else "",
            line=holder.employee.line, notes=notes,
        )
        self.writes.records.append(record)
        return record

    def _train(self, index: int, holder: _Holder, course: CourseSpec, day: dt.date, trainers: dict) -> TrainingRecord:
        rng = self.rng
        zone = SITE_ZONE[holder.site]
        if course.trainer is None:
            notes = f"外部培训: {course.external_trainer}" if course.external_trainer else ""
            return self._record(holder, course, _moment(day, 15, zone), score=self._score(course, True), notes=notes)
        if course.pass_mark is not None and rng.random() < 0.03:
            retake = day - dt.timedelta(days=7)
            if retake > holder.since:
                self._attend(index, holder, course, retake, trainers, passed=False)
        return self._attend(index, holder, course, day, trainers, passed=True)

    def _score(self, course: CourseSpec, passed: bool) -> int | None:
        if course.pass_mark is None:
            return None
        mark = course.pass_mark
        return self.rng.randint(mark, 100) if passed else self.rng.randint(mark - 25, mark - 1)

    def _attend(self, index: int, holder: _Holder, course: CourseSpec, day: dt.date, trainers: dict, *,
                passed: bool) -> TrainingRecord:
        """Sessions run on Tuesdays: a trainee joins the one of the week they were trained in."""
        session_day = day - dt.timedelta(days=(day.weekday() - 1) % 7)
        if session_day <= holder.since:
            session_day = day
        session = self._session(index, holder, course, session_day, trainers)
        score = self._score(course, passed)
        trainer = session.trainer
        record = self._record(holder, course, session.ends_at, passed=passed, score=score, trainer=trainer,
                              session=session)
        practical = any(QUALIFICATION_SPECS[q].practical for q in course.confers)
        attendance = Attendance(session=session, employee=holder.employee, attended=True,
                                practical_signed_off=practical and passed, skill_level=3 if practical and passed else None,
                                record=record)
        self.writes.attendances.append(attendance)
        self.enrolled[id(session)] = enrolled = self.enrolled.get(id(session), 0) + 1
        session.capacity = max(session.capacity, enrolled)
        if score is not None:
            self.writes.assessments.append(Assessment(
                attendance=attendance, kind="practical" if course.kind == "on_the_job" else "written",
                score=Decimal(score), max_score=Decimal(100), pass_mark=Decimal(course.pass_mark), passed=passed,
                assessed_at=session.ends_at, assessor=trainer,
            ))
        if passed and course.effectiveness_days:
            due = session.ends_at.date() + dt.timedelta(days=course.effectiveness_days)
            done = due < self.today - dt.timedelta(days=14)
            self.writes.checks.append(EffectivenessCheck(
                record=record, due_on=due, evaluator=holder.employee.manager,
                status=(EffectivenessStatus.EFFECTIVE if self.rng.random() < 0.95 else EffectivenessStatus.NOT_EFFECTIVE)
                if done else EffectivenessStatus.PENDING,
                evaluated_at=_moment(due, 10, SITE_ZONE[holder.site]) if done else None,
                comment="上岗后操作符合要求" if done else "",
            ))
        return record

    def _session(self, index: int, holder: _Holder, course: CourseSpec, day: dt.date, trainers: dict) -> TrainingSession:
        """The course's session at the site that day, taught by someone holding the trainer qualification
        then (never the trainee; an external trainer when nobody in the plant may teach it yet)."""
        key = (course.code, holder.site, day)
        session = self.sessions.get(key)
        if session is not None and session.trainer != holder.employee:
            return session
        covering = [i for i, start, end in trainers.get(course.trainer, ()) if start < day < end and i != index]
        local = [i for i in covering if self.holders[i].site == holder.site]
        chosen = self.rng.choice(local or covering) if covering else None
        starts = _moment(day, 9, SITE_ZONE[holder.site])
        session = TrainingSession(
            course=self.built.courses[course.code], starts_at=starts,
            ends_at=starts + dt.timedelta(hours=min(8, float(course.hours))), place=f"{holder.site} 培训室",
            line=holder.employee.line, trainer=self.holders[chosen].employee if chosen is not None else None,
            external_trainer="" if chosen is not None else "外部讲师", capacity=12,
            document_revision=self._revision_at(course.document, day) if course.document else None,
            status="completed",
        )
        self.sessions.setdefault(key, session)
        self.writes.sessions.append(session)
        return session

    def _grant(self, index: int, holder: _Holder, codes: list[str], record: TrainingRecord) -> None:
        for code in codes:
            validity = QUALIFICATION_SPECS[code].validity_days
            evidence = {"training_record_ids": [str(record.pk)]}
            grant = QualificationGrant(
                employee=holder.employee, qualification=self.built.qualifications[code],
                valid_from=record.completed_at,
                valid_until=record.completed_at + dt.timedelta(days=validity) if validity else None,
                source="training_record", evidence=evidence,
            )
            self.writes.grants.append(grant)
            self.grants.setdefault((index, code), []).append(grant)

    def _certify(self, index: int, holder: _Holder, code: str, day: dt.date, *, first: bool) -> None:
        """An external or health certificate: the certificate, its grant and, for licences earned on a
        course, the record of that course the first time."""
        spec = QUALIFICATION_SPECS[code]
        zone = SITE_ZONE[holder.site]
        self.certificate_numbers += 1
        number = f"{spec.number_prefix}{day.year}{self.certificate_numbers:05d}"
        issuer = catalogue.HEALTH_ISSUER_BY_SITE[holder.site] if code == "Q-HEALTH" else spec.issuer
        expires = day + dt.timedelta(days=spec.validity_days) if spec.validity_days else None
        evidence: dict = {"certificate": {"number": number, "issuer": issuer}}
        course = catalogue.EARNED_BY.get(code)
        if course is not None and first:
            record = self._record(holder, COURSE_SPECS[course], _moment(day - dt.timedelta(days=3), 16, zone),
                                  notes=f"外部培训: {COURSE_SPECS[course].external_trainer}")
            evidence["training_record_ids"] = [str(record.pk)]
        grant = QualificationGrant(
            employee=holder.employee, qualification=self.built.qualifications[code], valid_from=_moment(day, 0, zone),
            valid_until=_moment(expires, 0, zone) if expires else None, source="certificate", evidence=evidence,
            certificate_number=number, issuer=issuer,
        )
        self.writes.grants.append(grant)
        self.grants.setdefault((index, code), []).append(grant)
        self.writes.certificates.append(Certificate(
            employee=holder.employee, qualification=self.built.qualifications[code], number=number, issuer=issuer,
            issued_on=day, expires_on=expires, grant=grant,
        ))

    def _reread(self, holder: _Holder, document: str, day: dt.date) -> TrainingRecord | None:
        course = catalogue.REREAD_BY.get(document)
        if course is None:
            return None
        return self._record(holder, COURSE_SPECS[course], _moment(day, 16, SITE_ZONE[holder.site]))

    def _reread_revisions(self, holder: _Holder, trained: dict[str, list[tuple[dt.date, int]]]) -> None:
        """Each newer revision that requires training, read within its grace period by those trained on an
        older one — except the few in `skip_rereads`, for the latest revision only."""
        for document, done in trained.items():
            first_day = min(day for day, _ in done)
            revisions = [r for r in self.built.revisions[document] if r.training_required]
            for revision in revisions:
                effective = revision.effective_from.date()
                if effective <= first_day or effective >= self.today:
                    continue
                if any(r >= revision.revision and effective <= day for day, r in done):
                    continue
                if revision is revisions[-1] and document in holder.skip_rereads:
                    continue
                day = effective + dt.timedelta(days=self.rng.randint(1, max(1, revision.retraining_grace_days - 1)))
                if day >= self.today:
                    continue
                record = self._reread(holder, document, day)
                if record is not None:
                    done.append((day, revision.revision))

    def _open_assignments(self, index: int, holder: _Holder) -> None:
        """Open work: onboarding not done yet, unread revisions, renewals coming due."""
        assignments = self.writes.assignments
        for key, dates in holder.chains.items():
            if dates or key in QUALIFICATION_SPECS:
                continue
            course = self.built.courses[key]
            assignments.append(TrainingAssignment(
                employee=holder.employee, course=course, reason="onboarding",
                qualification=self.built.qualifications[COURSE_SPECS[key].confers[0]],
                due_on=holder.since + dt.timedelta(days=30), source_key=f"onboarding:{key}",
            ))
        for document in sorted(holder.skip_rereads):
            if not any(document in QUALIFICATION_SPECS[q].documents for q in holder.held):
                continue
            revision = [r for r in self.built.revisions[document] if r.training_required][-1]
            assignments.append(TrainingAssignment(
                employee=holder.employee, course=self.built.courses[catalogue.REREAD_BY[document]],
                document_revision=revision, reason="document_revision",
                due_on=revision.effective_from.date() + dt.timedelta(days=revision.retraining_grace_days),
                source_key=f"revision:{document}:{revision.label}",
            ))
        for code in holder.held:
            grants = self.grants.get((index, code))
            if not grants or grants[-1].valid_until is None:
                continue
            until = grants[-1].valid_until.date()
            lead = dt.timedelta(days=QUALIFICATION_SPECS[code].lead_days)
            course = catalogue.EARNED_BY.get(code)
            if course and self.today < until <= self.today + lead:
                assignments.append(TrainingAssignment(
                    employee=holder.employee, course=self.built.courses[course], reason="renewal",
                    qualification=self.built.qualifications[code], due_on=until, source_key=f"renewal:{code}",
                ))

    # ------------------------------------------------------------------ suspension and revocation

    def suspend_and_revoke(self, reason: str) -> None:
        """Through the services (they check the grant is held): an EO operator suspended during a
        deviation investigation, an assembler's authorisation revoked after repeated failures."""
        zone = SITE_ZONE["SZ"]
        for position, code, days_ago in (("OP-EO", "Q-EO-OP", 10), ("OP-ASM", "Q-ASM-OP", 20)):
            moment = _moment(self.today - dt.timedelta(days=days_ago), 10, zone)
            candidates = [
                holder for index, holder in enumerate(self.holders)
                if holder.planned.position == position and self._held_now(index, code, moment)
            ]
            if not candidates:
                continue
            employee = self.rng.choice(candidates).employee
            qualification = self.built.qualifications[code]
            if code == "Q-EO-OP":
                training_services.qualification_suspend(
                    employee=employee, qualification=qualification, start=moment,
                    reason="灭菌批记录偏差 DEV-2025-017 调查期间暂停灭菌柜操作",
                )
            else:
                training_services.qualification_revoke(
                    employee=employee, qualification=qualification, at=moment,
                    reason="连续两批组装不合格, 经评估撤销上岗资质, 需重新培训考核",
                )

    def _held_now(self, index: int, code: str, moment: dt.datetime) -> bool:
        """Held at `moment`, and not granted again since (a revocation only withdraws earlier grants)."""
        grants = self.grants.get((index, code), [])
        return all(g.valid_from < moment for g in grants) and any(
            g.valid_until is None or g.valid_until > moment for g in grants
        )
