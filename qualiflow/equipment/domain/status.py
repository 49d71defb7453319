"""Whether an asset may be used at a given moment — computed, never stored.

An asset is blocked while it is out of service or retired, while a calibration plan of it is overdue,
while the latest calibration of a plan (or the latest unplanned one) failed, and while maintenance on it
is open. An overdue maintenance plan only warns; so does a calibration falling due within the lead time.

Pure: plain frozen dataclasses in, plain frozen dataclasses out; no Django, no clock, no I/O. Only facts
at or before the moment asked count, and the answer never depends on the order the facts are given in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAINTENANCE = "maintenance"
CALIBRATION = "calibration"
PASS = "pass"
FAIL = "fail"
OUT_OF_SERVICE = "out_of_service"
RETIRED = "retired"


class Block(StrEnum):
    OUT_OF_SERVICE = "out_of_service"
    RETIRED = "retired"
    CALIBRATION_OVERDUE = "calibration_overdue"
    CALIBRATION_FAILED = "calibration_failed"
    MAINTENANCE_OPEN = "maintenance_open"


class Warning(StrEnum):  # shadows the builtin inside this module only; import it by name
    MAINTENANCE_OVERDUE = "maintenance_overdue"
    CALIBRATION_DUE_SOON = "calibration_due_soon"


@dataclass(frozen=True)
class Plan:
    id: str
    kind: str  # MAINTENANCE or CALIBRATION
    interval: timedelta
    first_due: datetime
    active: bool = True


@dataclass(frozen=True)
class Record:
    id: str
    plan_id: str | None
    kind: str
    started_at: datetime
    completed_at: datetime | None
    result: str  # PASS, FAIL, or "" while open
    certificate_number: str = ""


@dataclass(frozen=True)
class Asset:
    id: str
    status: str
    plans: tuple[Plan, ...] = ()
    records: tuple[Record, ...] = ()


@dataclass(frozen=True)
class Finding:
    code: str  # a Block or Warning value
    params: tuple[tuple[str, str], ...] = ()  # for the message in the reader's language

    def param(self, name: str) -> str | None:
        return dict(self.params).get(name)


@dataclass(frozen=True)
class Availability:
    equipment_id: str
    available: bool
    reasons: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    # The latest passing calibration at the moment asked: what a gated action cites as evidence.
    calibration_record_id: str | None
    calibration_certificate: str
    calibrated_at: datetime | None
    calibration_due: datetime | None  # the earliest due moment of the active calibration plans
    evidence: tuple[str, ...]


def _finding(code: str, **params: str) -> Finding:
    return Finding(code, tuple(sorted(params.items())))


def _completed(record: Record, at: datetime) -> bool:
    return record.completed_at is not None and record.completed_at <= at


def _latest(records: Iterable[Record]) -> Record | None:
    """The last completed record; at the same moment a failure outranks a pass (never clear a block on a
    tie), then the id decides, so the answer does not depend on fact order."""
    return max(records, key=lambda r: (r.completed_at, r.result == FAIL, r.started_at, r.id), default=None)


def due_at(plan: Plan, records: Iterable[Record], at: datetime) -> datetime:
    """When `plan` falls due as seen at `at`: its first due moment until a passing record completes by
    `at`, then the last passing completion plus the interval."""
    passed = [r.completed_at for r in records
              if r.plan_id == plan.id and r.kind == plan.kind and r.result == PASS and _completed(r, at)]
    return max(passed) + plan.interval if passed else plan.first_due


def availability(asset: Asset, at: datetime, lead: timedelta = timedelta(days=7)) -> Availability:
    """May `asset` be used at `at`, why not, and which calibration is the evidence."""
    known = [r for r in asset.records if r.started_at <= at]
    calibrations = [r for r in known if r.kind == CALIBRATION and _completed(r, at)]
    plans = sorted((p for p in asset.plans if p.active), key=lambda p: p.id)
    reasons: list[Finding] = []
    warnings: list[Finding] = []

    if asset.status in (OUT_OF_SERVICE, RETIRED):
        reasons.append(_finding(Block(asset.status)))

    dues: list[datetime] = []
    for plan in plans:
        due = due_at(plan, known, at)
        if plan.kind == CALIBRATION:
            dues.append(due)
            if at >= due:
                reasons.append(_finding(Block.CALIBRATION_OVERDUE, plan=plan.id, due=due.isoformat()))
            elif at >= due - lead:
                warnings.append(_finding(Warning.CALIBRATION_DUE_SOON, plan=plan.id, due=due.isoformat()))
        elif at >= due:
            warnings.append(_finding(Warning.MAINTENANCE_OVERDUE, plan=plan.id, due=due.isoformat()))

    # Calibrations are judged per active plan, and unplanned ones together: a passing pressure calibration
    # does not clear a failed temperature one.
    groups: list[list[Record]] = [[r for r in calibrations if r.plan_id == plan.id] for plan in plans
                                  if plan.kind == CALIBRATION]
    groups.append([r for r in calibrations if r.plan_id is None])
    passes: list[Record] = []
    for group in groups:
        latest = _latest(group)
        if latest is not None and latest.result == FAIL:
            reasons.append(_finding(Block.CALIBRATION_FAILED, record=latest.id, plan=latest.plan_id or "",
                                    at=latest.completed_at.isoformat()))
        last_pass = _latest(r for r in group if r.result == PASS)
        if last_pass is not None:
            passes.append(last_pass)

    for record in known:
        if record.kind == MAINTENANCE and not _completed(record, at):
            reasons.append(_finding(Block.MAINTENANCE_OPEN, record=record.id, since=record.started_at.isoformat()))

    passes.sort(key=lambda r: (r.completed_at, r.id))
    evidence: list[str] = []
    for record in passes:
        evidence.append(f"calibration:{record.id}")
        if record.certificate_number:
            evidence.append(f"certificate:{record.certificate_number}")
    newest = passes[-1] if passes else None
    # Blocks in the order of their enum (the asset's own status first), then by their facts.
    rank = {code: i for i, code in enumerate((*Block, *Warning))}
    order = lambda f: (rank[f.code], f.params)  # noqa: E731
    return Availability(
        equipment_id=asset.id,
        available=not reasons,
        reasons=tuple(sorted(reasons, key=order)),
        warnings=tuple(sorted(warnings, key=order)),
        calibration_record_id=newest.id if newest else None,
        calibration_certificate=newest.certificate_number if newest else "",
        calibrated_at=newest.completed_at if newest else None,
        calibration_due=min(dues) if dues else None,
        evidence=tuple(evidence),
    )
