"""API for quality events, under /api/v1/quality.

Quality events are regulated records: every write states a reason, which the audit trail keeps. Closing
an event is QA's e-signature, given in the signer's own signed-in session on the event's page: an API token
identifies a program, not the person whose signature it would be, so there is no close operation here.
"""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qualiflow.accounts.api_auth import requires
from qualiflow.accounts.roles import Perm
from qualiflow.core.api import (
    PageParams,
    WriteSchema,
    api_field_names,
    error_responses,
    page_schema,
    paginate,
    patch_field,
)
from qualiflow.core.errors import NotFound, ValidationFailed
from qualiflow.org import selectors as org_selectors
from qualiflow.org.models import Site

from . import selectors, services
from .models import QualityEvent, QualityEventKind, QualityEventStatus

router = Router(tags=["quality"])

KindValue = Literal[tuple(QualityEventKind.values)]
StatusValue = Literal[tuple(QualityEventStatus.values)]
Ordering = Literal[selectors.ORDERINGS]

_view = requires(Perm.QUALITY_VIEW)
_manage = requires(Perm.QUALITY_MANAGE)
_API_NAMES = {"site": "site_id", "opened_at": "at"}


def _reason() -> Any:
    return Field(..., min_length=1, max_length=2000, description="Why the change is made (required; kept in the audit trail).")


class EventSignatureOut(Schema):
    id: UUID
    printed_name: str
    meaning: str
    signed_at: dt.datetime
    reason: str
    matches: bool = Field(..., description="False once the event changed after it was signed.")


class QualityEventOut(Schema):
    id: UUID
    number: str = Field(..., description='Per kind and year, e.g. "DEV-2026-0001".')
    kind: str
    title: str
    description: str
    status: str
    site_id: UUID | None
    source_type: str = Field(..., description='The kind of record the event arose from, e.g. "production.operationrun".')
    source_id: str
    opened_at: dt.datetime
    opened_by: str | None = Field(..., description="Username of who opened it; null when the system did.")
    closed_at: dt.datetime | None
    closure_summary: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_opened_by(event: QualityEvent) -> str | None:
        return event.opened_by.get_username() if event.opened_by_id else None


class QualityEventDetailOut(QualityEventOut):
    signatures: list[EventSignatureOut]


class QualityEventIn(WriteSchema):
    kind: KindValue
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    site_id: UUID | None = Field(None, description="The site concerned; null for the whole company.")
    source_type: str = Field("", max_length=100)
    source_id: str = Field("", max_length=64)
    at: dt.datetime | None = Field(None, description="When it was opened, with its time zone (default: now).")
    reason: str = _reason()


class QualityEventPatch(WriteSchema):
    """Only the fields sent are changed; a closed event cannot be changed."""

    title: str = patch_field(min_length=1, max_length=200)
    description: str = patch_field(max_length=20000)
    reason: str = _reason()


class QualityEventFilters(PageParams):
    search: str = Field("", description="Part of the number or title.")
    kind: KindValue | None = None
    status: StatusValue | None = None
    site_id: UUID | None = None
    source_type: str = Field("", max_length=100)
    source_id: str = Field("", max_length=64)
    ordering: Ordering = selectors.DEFAULT_ORDERING


def _detail(event: QualityEvent) -> QualityEvent:
    """The event, carrying its signatures for `QualityEventDetailOut`."""
    event.signatures = [
        {**{name: getattr(item.signature, name) for name in ("id", "printed_name", "meaning", "signed_at", "reason")},
         "matches": item.matches}
        for item in selectors.event_detail(event=event).signatures
    ]
    return event


def _site(site_id: UUID | None) -> Site | None:
    if site_id is None:
        return None
    try:
        return org_selectors.org_unit_get(model=Site, unit_id=site_id)
    except NotFound as exc:
        raise ValidationFailed(_("Please correct the errors below."), fields={"site_id": [_("No such record.")]}) from exc


@router.get("/events", response={200: page_schema(QualityEventOut), **error_responses(403, 422)}, auth=_view,
            operation_id="quality_event_list")
def quality_event_list(request, filters: Query[QualityEventFilters]):
    """Quality events the caller may see, filtered, sorted and paginated."""
    events = selectors.event_list(
        user=request.user, search=filters.search, kind=filters.kind or "", status=filters.status or "",
        site_id=filters.site_id, source_type=filters.source_type, source_id=filters.source_id,
        ordering=filters.ordering,
    )
    return paginate(events, filters)


@router.post("/events", response={201: QualityEventDetailOut, **error_responses(403, 422)}, auth=_manage,
             operation_id="quality_event_open")
def quality_event_open(request, payload: QualityEventIn):
    """Open a quality event; its number is given per kind and year."""
    with api_field_names(_API_NAMES):
        event = services.quality_event_open(
            kind=payload.kind, title=payload.title, description=payload.description, site=_site(payload.site_id),
            source_type=payload.source_type, source_id=payload.source_id, at=payload.at, by=request.user,
            reason=payload.reason,
        )
    return Status(201, _detail(event))


@router.get("/events/{event_id}", response={200: QualityEventDetailOut, **error_responses(403, 404, 422)},
            auth=_view, operation_id="quality_event_get")
def quality_event_get(request, event_id: UUID):
    """The event with its signatures and whether each still matches the event's content."""
    return _detail(selectors.event_get(user=request.user, event_id=event_id))


@router.patch("/events/{event_id}", response={200: QualityEventDetailOut, **error_responses(403, 404, 422)},
              auth=_manage, operation_id="quality_event_update")
def quality_event_update(request, event_id: UUID, payload: QualityEventPatch):
    event = selectors.event_get(user=request.user, event_id=event_id)
    event = services.quality_event_update(
        event=event, title=payload.title, description=payload.description, by=request.user, reason=payload.reason
    )
    return _detail(event)
