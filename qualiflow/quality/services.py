"""Writes for quality events: open, update, close.

Quality events are regulated records: every write states a reason, is audited by the model layer and emits
its event in the same transaction. `by` None is the system — another service (e.g. the production gate's
controlled override, after its own checks and signatures) or an import; a user must hold `quality.manage`
over the event's site. Closing is QA's decision and is e-signed.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import SignatureMeaning, User
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.services import esignature_sign
from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.core.validation import full_clean, require_reason
from qualiflow.integration import events
from qualiflow.org.models import Site

from .errors import QualityErrorCode
from .models import QualityEvent, QualityEventKind, QualityEventSequence, QualityEventStatus

NUMBER_PREFIXES = {
    QualityEventKind.DEVIATION: "DEV",
    QualityEventKind.NONCONFORMANCE: "NCR",
    QualityEventKind.COMPLAINT: "CMP",
    QualityEventKind.AUDIT_FINDING: "AUD",
}


@dataclass(frozen=True)
class Place:
    """Where an event sits in the organisation, as `has_perm` reads it: quality events belong to a site."""

    site_id: UUID | None
    department_id: UUID | None = None
    line_id: UUID | None = None


def place(event: QualityEvent) -> Place:
    return Place(site_id=event.site_id)


def _refuse(field: str, message, code: QualityErrorCode = QualityErrorCode.EVENT_INVALID) -> NoReturn:
    raise ValidationFailed(message, fields={field: [message]}, code=code)


def _authorize(by, event: QualityEvent) -> None:
    if by is not None and not has_perm(by, Perm.QUALITY_MANAGE, place(event)):
        raise PermissionDenied(QualityErrorCode.OUT_OF_SCOPE, _("You are not allowed to manage this quality event."))


def _refuse_closed(event: QualityEvent) -> None:
    if event.status == QualityEventStatus.CLOSED:
        raise ValidationFailed(
            _("Quality event %(number)s is closed.") % {"number": event.number},
            fields={"__all__": [_("A closed quality event cannot be changed.")]},
            code=QualityErrorCode.EVENT_CLOSED,
        )


def _payload(event: QualityEvent) -> dict[str, Any]:
    return {
        "number": event.number, "kind": event.kind, "title": event.title, "status": event.status,
        "site_id": event.site_id, "source_type": event.source_type, "source_id": event.source_id,
    }


def _year(at: datetime, site: Site | None) -> int:
    """The year in the site's time zone: a deviation at 00:30 on 1 January in Suzhou belongs to the new year."""
    zone = zoneinfo.ZoneInfo(site.time_zone) if site is not None else timezone.get_default_timezone()
    return at.astimezone(zone).year


def _last_used(prefix: str, year: int) -> int:
    """The highest number already given, for a sequence that starts after events were opened (imported)."""
    stem = f"{prefix}-{year}-"
    # Longest first, then highest: "DEV-2026-10000" follows "DEV-2026-9999".
    last = (
        QualityEvent.objects.filter(number__startswith=stem)
        .order_by(Length("number").desc(), "-number").values_list("number", flat=True).first()
    )
    tail = last.removeprefix(stem) if last else ""
    return int(tail) if tail.isdigit() else 0


def _next_number(prefix: str, year: int) -> str:
    """Take the next number of `prefix` and `year`, holding its sequence row locked until commit: a
    concurrent opening waits here and then reads the number this one took (PostgreSQL; SQLite starts every
    write transaction with the write lock, BEGIN IMMEDIATE, so there they queue anyway)."""
    sequences = QualityEventSequence.objects.select_for_update()
    sequence = sequences.filter(prefix=prefix, year=year).first()
    if sequence is None:
        try:
            with transaction.atomic():
                sequence = QualityEventSequence.objects.create(
                    prefix=prefix, year=year, last=_last_used(prefix, year)
                )
        except IntegrityError:
            # A concurrent opening created the row first: wait for it like for any other.
            sequence = sequences.get(prefix=prefix, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{prefix}-{year}-{sequence.last:04d}"


@transaction.atomic
def quality_event_open(
    *,
    kind: str,
    title: str,
    description: str = "",
    site: Site | None = None,
    source_type: str = "",
    source_id: str = "",
    by: User | None = None,
    reason: str,
    at: datetime | None = None,
) -> QualityEvent:
    """Open a quality event numbered per kind and year, e.g. "DEV-2026-0001", at `at` (default: now).

    `source_type` / `source_id` name the record it arose from, e.g. "production.operationrun" and the
    run's id; both or neither.
    """
    reason = require_reason(QualityEvent, reason)
    at = timezone.now() if at is None else at
    if not isinstance(at, datetime) or timezone.is_naive(at):
        _refuse("opened_at", _("Enter a date and time with its time zone."))
    at = at.astimezone(UTC)  # as stored, so the returned event reads the same as one loaded later
    if kind not in NUMBER_PREFIXES:
        _refuse("kind", _("Select a valid kind of quality event."))
    source_type, source_id = (source_type or "").strip(), str(source_id or "").strip()
    if bool(source_type) != bool(source_id):
        _refuse("source_id" if source_type else "source_type",
                _("Give both the type and the id of the record the event arose from, or neither."))
    if site is not None and not site.is_active:
        _refuse("site", _("The site %(code)s is no longer in use.") % {"code": site.code})
    event = QualityEvent(
        kind=kind, title=(title or "").strip(), description=(description or "").strip(), site=site,
        source_type=source_type, source_id=source_id, opened_at=at, opened_by=by,
        status=QualityEventStatus.OPEN,
    )
    _authorize(by, event)
    full_clean(event, exclude=["number"])
    with context.acting(reason=reason):
        event.number = _next_number(NUMBER_PREFIXES[kind], _year(at, site))
        event.save()
        events.emit("quality.event.opened", f"quality/event/{event.pk}", _payload(event))
    return event


@transaction.atomic
def quality_event_update(
    *,
    event: QualityEvent,
    title: str | None = None,
    description: str | None = None,
    by: User | None = None,
    reason: str,
) -> QualityEvent:
    """Change the title and / or description (None: unchanged) of an open event; unchanged values write nothing."""
    reason = require_reason(QualityEvent, reason)
    event = QualityEvent.objects.select_for_update().get(pk=event.pk)
    _authorize(by, event)
    _refuse_closed(event)
    wanted = {"title": title, "description": description}
    changed = sorted(
        name for name, value in wanted.items()
        if value is not None and value.strip() != getattr(event, name)
    )
    if not changed:
        return event
    for name in changed:
        setattr(event, name, wanted[name].strip())
    full_clean(event)
    with context.acting(reason=reason):
        event.save()
        events.emit("quality.event.updated", f"quality/event/{event.pk}", {**_payload(event), "fields": changed})
    return event


@transaction.atomic
def quality_event_close(
    *, event: QualityEvent, signer: User, password: str, summary: str, reason: str
) -> QualityEvent:
    """QA closes the event with `summary` and signs the closed record ("approved"); the signature is bound
    to the content including the summary. A wrong password refuses the signature and undoes the closure."""
    reason = require_reason(QualityEvent, reason)
    event = QualityEvent.objects.select_for_update().get(pk=event.pk)
    if not has_perm(signer, Perm.QUALITY_APPROVE, place(event)):
        raise PermissionDenied(QualityErrorCode.OUT_OF_SCOPE, _("You are not allowed to close this quality event."))
    _refuse_closed(event)
    summary = (summary or "").strip()
    if not summary:
        _refuse("summary", _("Summarise what was found and done before closing."))
    event.status = QualityEventStatus.CLOSED
    event.closed_at = timezone.now()
    event.closure_summary = summary
    full_clean(event)
    with context.acting(reason=reason):
        event.save()
        signature = esignature_sign(
            signer=signer, password=password or "", record=event, meaning=SignatureMeaning.APPROVED, reason=reason
        )
        events.emit("quality.event.closed", f"quality/event/{event.pk}", {
            **_payload(event), "closed_at": event.closed_at, "signature_id": signature.pk,
            "signer": signer.get_username(),
        })
    return event
