"""Report API under /api/v1/training: the training matrix, a person's qualification status, the
traceability query and the training passport (PDF). All need `training.view` and answer only about people
in the caller's scope; a person outside it is refused with 403."""

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import InputSchema, PageParams, error_responses, page_schema, paginate

from ..selectors import reports as selectors
from ..views.reports import passport_response

router = Router(tags=["training"])

_view = requires(Perm.TRAINING_VIEW)


class ReasonOut(Schema):
    code: str = Field(..., description="Stable reason code, e.g. `expired`, `newer_revision`, `requirement_in_grace`.")
    message: str = Field(..., description="The reason in the caller's language.")
    params: dict[str, str] = Field(default_factory=dict, description="The values the message is made of.")


def _reasons(cell: selectors.Cell) -> list[dict[str, Any]]:
    return [{"code": r.code, "message": r.message, "params": dict(r.params)} for r in cell.reasons]


class CellOut(Schema):
    qualification_id: UUID
    state: str = Field(..., description=f"One of: {', '.join(selectors.CELL_STATES)}.")
    required: bool = Field(..., description="A mandatory requirement of the person's position.")
    requested: bool = Field(..., description="Required by the position, mandatory or not.")
    valid_until: dt.datetime | None
    in_grace_until: dt.datetime | None = Field(None, description="Not yet enforced: the grace period after assignment.")
    reasons: list[ReasonOut]
    evidence: list[str] = Field(..., description="What the status rests on: grants, records, certificates, suspensions.")


def _cell(cell: selectors.Cell) -> dict[str, Any]:
    return {
        "qualification_id": cell.qualification_id, "state": cell.state, "required": cell.required,
        "requested": cell.requested, "valid_until": cell.valid_until, "in_grace_until": cell.in_grace_until,
        "reasons": _reasons(cell), "evidence": list(cell.evidence),
    }


class ColumnOut(Schema):
    id: UUID
    code: str
    name: str
    name_en: str


class MatrixRowOut(Schema):
    employee_id: UUID
    employee_number: str
    full_name: str
    position_id: UUID | None
    cells: list[CellOut] = Field(..., description="One per column, in the order of `columns`.")


class MatrixOut(Schema):
    at: dt.datetime = Field(..., description="The moment the statuses are computed for (UTC).")
    day: dt.date
    time_zone: str
    columns: list[ColumnOut]
    count: int = Field(..., description="People matching, over every page.")
    items: list[MatrixRowOut]


class MatrixFilters(PageParams):
    # The end of 9999-12-31 in a zone behind UTC is past the last representable moment.
    day: dt.date | None = Field(None, le=dt.date(9999, 12, 30), description="Status at the end of this day; default: now.")
    site_id: UUID | None = None
    department_id: UUID | None = None
    line_id: UUID | None = None
    position_id: UUID | None = Field(None, description="People holding this position on the day.")
    qualification_id: list[UUID] = Field(
        default_factory=list, description="Columns to show (repeatable); default: those the positions require."
    )


@router.get("/matrix", response={200: MatrixOut, **error_responses(403, 422)}, auth=_view, summary="Training matrix",
            operation_id="training_matrix")
def training_matrix(request, filters: Query[MatrixFilters]):
    """People by qualifications, each cell the computed status at the chosen day."""
    result = selectors.training_matrix(
        user=request.user,
        filters=selectors.MatrixFilters(
            day=filters.day, site_id=filters.site_id, department_id=filters.department_id, line_id=filters.line_id,
            position_id=filters.position_id, qualification_ids=tuple(filters.qualification_id),
        ),
        limit=filters.limit, offset=filters.offset,
    )
    return {
        "at": result.at.astimezone(dt.UTC), "day": result.day, "time_zone": str(result.zone), "count": result.total,
        "columns": [{"id": q.pk, "code": q.code, "name": q.name, "name_en": q.name_en} for q in result.columns],
        "items": [
            {"employee_id": row.employee.pk, "employee_number": row.employee.employee_number,
             "full_name": row.employee.full_name, "position_id": row.position.pk if row.position else None,
             "cells": [_cell(c) for c in row.cells]}
            for row in result.rows
        ],
    }


class QualificationStatusOut(CellOut):
    code: str
    name: str


class EmployeeStatusOut(Schema):
    employee_id: UUID
    employee_number: str
    at: dt.datetime
    time_zone: str
    position_id: UUID | None
    allowed: bool = Field(..., description="Every mandatory requirement of the position is met or in its grace period.")
    qualifications: list[QualificationStatusOut]


class StatusParams(InputSchema):
    at: dt.datetime | None = Field(None, description="The moment to compute the status for; default: now.")


@router.get(
    "/employees/{employee_id}/status", response={200: EmployeeStatusOut, **error_responses(403, 404, 422)},
    auth=requires(), summary="Qualification status of an employee", operation_id="training_employee_status",
)
def employee_status(request, employee_id: UUID, params: Query[StatusParams]):
    """Every qualification the employee's position requires, with state, reasons and evidence."""
    status = selectors.employee_status(user=request.user, employee_id=employee_id, at=params.at)
    return {
        "employee_id": status.employee.pk, "employee_number": status.employee.employee_number, "at": status.at,
        "time_zone": str(status.zone), "position_id": status.position.pk if status.position else None,
        "allowed": status.allowed,
        "qualifications": [
            {**_cell(line.cell), "code": line.qualification.code, "name": line.qualification.name}
            for line in status.lines
        ],
    }


class TraceSignatureOut(Schema):
    printed_name: str
    meaning: str
    signed_at: dt.datetime


class TrainingTraceOut(Schema):
    id: UUID
    employee_id: UUID
    employee_number: str = Field(..., alias="employee.employee_number")
    employee_name: str = Field(..., alias="employee.full_name")
    course_id: UUID
    course_code: str = Field(..., alias="course.code")
    course_name: str = Field(..., alias="course.name")
    course_kind: str = Field(..., alias="course.kind")
    completed_at: dt.datetime
    passed: bool
    score: Decimal | None
    trainer_id: UUID | None
    trainer_name: str | None
    external_trainer: str
    line_id: UUID | None = Field(..., description="The line trained for: the record's, else its session's.")
    line_code: str | None
    document_id: UUID | None
    document_code: str | None
    document_revision: int | None
    document_revision_label: str
    session_id: UUID | None
    session_place: str
    signatures: list[TraceSignatureOut]

    @staticmethod
    def resolve_trainer_name(obj) -> str | None:
        return obj.trainer.full_name if obj.trainer_id else None

    @staticmethod
    def resolve_external_trainer(obj) -> str:
        return obj.session.external_trainer if obj.session_id else ""

    @staticmethod
    def _line(obj):
        return obj.line if obj.line_id else (obj.session.line if obj.session_id else None)

    @staticmethod
    def resolve_line_id(obj) -> UUID | None:
        line = TrainingTraceOut._line(obj)
        return line.pk if line else None

    @staticmethod
    def resolve_line_code(obj) -> str | None:
        line = TrainingTraceOut._line(obj)
        return line.code if line else None

    @staticmethod
    def resolve_session_place(obj) -> str:
        return obj.session.place if obj.session_id else ""

    @staticmethod
    def resolve_signatures(obj) -> list:
        return getattr(obj, "trace_signatures", [])


class TraceFilters(PageParams):
    employee_id: UUID | None = None
    employee: str = Field("", description="Part of the trainee's number or name.")
    course_id: UUID | None = None
    qualification_id: UUID | None = Field(None, description="Records of courses that confer this qualification.")
    trainer_id: UUID | None = None
    trainer: str = Field("", description="Part of the trainer's number or name.")
    line_id: UUID | None = None
    document_id: UUID | None = None
    date_from: dt.date | None = Field(None, description="Completed on or after this day.")
    date_to: dt.date | None = Field(None, description="Completed on or before this day.")
    passed: bool | None = None


@router.get(
    "/traceability", response={200: page_schema(TrainingTraceOut), **error_responses(403, 422)}, auth=_view,
    summary="Traceability of training", operation_id="training_traceability",
)
def traceability(request, filters: Query[TraceFilters]):
    """Who was trained when, how, by whom, for which line, on what (course, document revision); newest first."""
    records = selectors.traceability(
        user=request.user,
        filters=selectors.TraceFilters(
            employee_id=filters.employee_id, employee=filters.employee, course_id=filters.course_id,
            qualification_id=filters.qualification_id, trainer_id=filters.trainer_id, trainer=filters.trainer,
            line_id=filters.line_id, document_id=filters.document_id, date_from=filters.date_from,
            date_to=filters.date_to, passed=filters.passed,
        ),
    )
    page = paginate(records, filters)
    signatures = selectors.trace_signatures(page["items"])
    for record in page["items"]:
        record.trace_signatures = signatures.get(str(record.pk), [])
    return page


@router.get(
    "/employees/{employee_id}/passport.pdf", response={200: None, **error_responses(403, 404)}, auth=requires(),
    summary="Training passport (PDF)", operation_id="training_passport",
    openapi_extra={"responses": {200: {"description": "The passport as a PDF.",
                                       "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}},
)
def passport(request, employee_id: UUID) -> HttpResponse:
    """The employee's training passport: positions, qualifications with status, training records with their
    e-signatures, certificates; generation time (UTC) and a content hash in the footer."""
    return passport_response(request, employee_id)
