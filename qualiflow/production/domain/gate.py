"""The production gate: may this operator track in at this operation, on this equipment, right now?

Pure: the caller loads the facts (the operator's qualification verdict from `training.domain`, the
equipment's availability, the work instruction trainings and revisions, the state of the previous
operation) and stores the decision with the run or the refusal. The decision carries every reason, not just
the first, so the operator sees at once all that stands in the way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from qualiflow.training.domain import status as training


class GateReason(StrEnum):
    OPERATOR_INACTIVE = "operator_inactive"
    PREVIOUS_OPERATION_OPEN = "previous_operation_open"
    QUALIFICATION = "qualification"  # a required qualification is not held (the training finding says why)
    WORK_INSTRUCTION_NOT_TRAINED = "work_instruction_not_trained"
    EQUIPMENT_REQUIRED = "equipment_required"
    EQUIPMENT_WRONG_CLASS = "equipment_wrong_class"
    EQUIPMENT_BLOCKED = "equipment_blocked"  # the equipment finding says why


@dataclass(frozen=True)
class Reason:
    code: GateReason
    detail: str = ""  # the training or equipment finding code, when there is one
    params: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict:
        return {"code": str(self.code), "detail": self.detail, "params": dict(self.params)}


@dataclass(frozen=True)
class WorkInstruction:
    """The work instruction an operation follows: its revisions (any order) and the operator's trainings on it."""

    document_id: str
    code: str
    revisions: tuple[training.DocumentRevision, ...]
    trainings: tuple[training.Training, ...]


@dataclass(frozen=True)
class WorkInstructionStatus:
    trained: bool
    revision: training.DocumentRevision | None  # in effect at the moment asked
    trained_revision: int | None
    record_id: str = ""
    in_grace_until: datetime | None = None  # trained on an older revision, still inside the new one's grace


def work_instruction_status(instruction: WorkInstruction, at: datetime) -> WorkInstructionStatus:
    """Trained on the revision in effect at `at` (or a later one), or still inside its retraining grace?"""
    effective = [r for r in instruction.revisions if r.effective_from <= at]
    if not effective:
        # Nothing in effect yet: nothing to be trained on.
        return WorkInstructionStatus(True, None, None)
    current = max(effective, key=lambda r: (r.revision, r.effective_from))
    done = [t for t in instruction.trainings if t.at <= at]
    best = max((t.revision for t in done), default=None)
    if best is not None and best >= current.revision:
        record = min((t for t in done if t.revision == best), key=lambda t: (t.at, t.record_id))
        return WorkInstructionStatus(True, current, best, record.record_id)
    due = current.effective_from + current.retraining_grace
    if best is not None and at < due:
        record = min((t for t in done if t.revision == best), key=lambda t: (t.at, t.record_id))
        return WorkInstructionStatus(True, current, best, record.record_id, due)
    return WorkInstructionStatus(False, current, best)


@dataclass(frozen=True)
class EquipmentState:
    """What the gate needs of the scanned equipment; `findings` are (code, params) from equipment's domain."""

    id: str
    class_id: str
    available: bool
    findings: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True)
class GateInput:
    operator_active: bool
    previous_done: bool  # True for the first operation
    previous_sequence: int | None
    verdict: training.Verdict  # the operator against the operation's required qualifications
    work_instruction: WorkInstruction | None
    required_equipment_class: str | None
    equipment: EquipmentState | None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...]
    verdict: training.Verdict
    work_instruction: WorkInstructionStatus | None


def _params(pairs: Iterable[tuple[str, str]], **extra: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({**dict(pairs), **extra}.items()))


def decide(gate: GateInput, at: datetime) -> Decision:
    reasons: list[Reason] = []
    if not gate.operator_active:
        reasons.append(Reason(GateReason.OPERATOR_INACTIVE))
    if not gate.previous_done:
        reasons.append(Reason(GateReason.PREVIOUS_OPERATION_OPEN, params=_params((), sequence=str(gate.previous_sequence))))
    if not gate.verdict.allowed:
        for finding in gate.verdict.reasons:
            if finding.code == training.Reason.REQUIREMENT_IN_GRACE:
                continue
            reasons.append(Reason(GateReason.QUALIFICATION, str(finding.code),
                                  _params(finding.params, qualification=finding.qualification_id)))
    instruction = None
    if gate.work_instruction is not None:
        instruction = work_instruction_status(gate.work_instruction, at)
        if not instruction.trained:
            reasons.append(Reason(GateReason.WORK_INSTRUCTION_NOT_TRAINED, params=_params(
                (), document=gate.work_instruction.document_id, code=gate.work_instruction.code,
                revision=instruction.revision.label if instruction.revision else "",
            )))
    if gate.required_equipment_class is not None:
        if gate.equipment is None:
            reasons.append(Reason(GateReason.EQUIPMENT_REQUIRED))
        elif gate.equipment.class_id != gate.required_equipment_class:
            reasons.append(Reason(GateReason.EQUIPMENT_WRONG_CLASS, params=_params((), equipment=gate.equipment.id)))
    if gate.equipment is not None and not gate.equipment.available:
        for code, params in gate.equipment.findings or (("blocked", ()),):
            reasons.append(Reason(GateReason.EQUIPMENT_BLOCKED, code, _params(params, equipment=gate.equipment.id)))
    return Decision(not reasons, tuple(reasons), gate.verdict, instruction)
