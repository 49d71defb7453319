"""API for the audit trail: the entries, filtered, and a verification of the hash chain.

The audit app sits below accounts, so the permission these operations need (`audit.view`) is attached
where the router is mounted (`qualiflow.api`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ninja import Field, Query, Router, Schema

from qualiflow.core.api import PageParams, error_responses, page_schema, paginate

from . import selectors
from .models import AuditAction

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    seq: int
    recorded_at: dt.datetime
    actor_kind: str = Field(..., description="user, integration, system or shell")
    actor_id: str
    actor_name: str
    action: str
    object_type: str = Field(..., description="`app.model`, e.g. `people.employee`")
    object_id: str
    object_repr: str
    changes: dict[str, Any] = Field(..., description="{field: [old, new]}")
    reason: str
    request_id: str
    prev_hash: str
    hash: str

    @staticmethod
    def resolve_changes(obj) -> dict[str, Any]:
        return json.loads(obj.changes or "{}")


class AuditFilters(PageParams):
    object_type: str = ""
    object_id: str = ""
    actor: str = Field("", description="Part of the actor's name.")
    action: AuditAction | None = None
    since: dt.datetime | None = Field(None, alias="from", description="Recorded at or after (ISO 8601).")
    until: dt.datetime | None = Field(None, alias="to", description="Recorded before (ISO 8601).")


class ChainBreakOut(Schema):
    seq: int
    problem: str = Field(..., description="edited, missing or inserted")
    detail: str


class ChainReportOut(Schema):
    intact: bool
    checked: int = Field(..., description="Entries verified before the first break (all of them when intact).")
    first_break: ChainBreakOut | None


@router.get("/entries", response={200: page_schema(AuditEntryOut), **error_responses(403, 422)},
            operation_id="audit_entry_list")
def audit_entry_list(request, filters: Query[AuditFilters]):
    """Audit entries, newest first."""
    entries = selectors.entry_list(
        selectors.EntryFilters(
            object_type=filters.object_type, object_id=filters.object_id, actor=filters.actor,
            action=filters.action or "", since=filters.since, until=filters.until,
        )
    )
    return paginate(entries, filters)


@router.get("/verify", response={200: ChainReportOut, **error_responses(403)}, operation_id="audit_verify")
def audit_verify(request):
    """Re-hash the whole chain and report the first edited, missing or inserted entry."""
    return selectors.chain_verify()
