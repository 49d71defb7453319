"""Reads of quality events, always limited to what the reader may see.

Quality events belong to a site. A reader holding `quality.view` company-wide sees every event; one scoped
to sites sees the events of those sites; events without a site (company-wide) and department or line scopes
reveal nothing beyond that — deny by default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import scope_for
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.selectors import SignatureView, signatures_for
from qualiflow.core.errors import CoreErrorCode, NotFound

from .models import QualityEvent

ORDERINGS = (
    "number", "-number", "opened_at", "-opened_at", "title", "-title", "kind", "-kind", "status", "-status",
    "closed_at", "-closed_at",
)
DEFAULT_ORDERING = "-opened_at"


def events_visible(user, perm: str = Perm.QUALITY_VIEW) -> QuerySet[QualityEvent]:
    scope = scope_for(user, perm)
    if scope.everywhere:
        return QualityEvent.objects.all()
    return QualityEvent.objects.filter(site_id__in=scope.site_ids) if scope.site_ids else QualityEvent.objects.none()


def event_list(
    *, user, search: str = "", kind: str = "", status: str = "", site_id: Any = None, source_type: str = "",
    source_id: str = "", ordering: str = DEFAULT_ORDERING,
) -> QuerySet[QualityEvent]:
    """The events `user` may see, filtered; `search` matches part of the number or title."""
    qs = events_visible(user).select_related("site", "opened_by")
    term = search.strip()
    if term:
        qs = qs.filter(Q(number__icontains=term) | Q(title__icontains=term))
    for field, value in (("kind", kind), ("status", status), ("site_id", site_id), ("source_type", source_type),
                         ("source_id", str(source_id or ""))):
        if value:
            qs = qs.filter(**{field: value})
    primary = ordering if ordering in ORDERINGS else DEFAULT_ORDERING
    # The number is unique: a stable order, so pages neither repeat nor skip rows.
    return qs.order_by(primary, "number")


def event_get(*, user, event_id: Any) -> QualityEvent:
    event = events_visible(user).select_related("site", "opened_by").filter(pk=event_id).first()
    if event is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Quality event not found."))
    return event


@dataclass(frozen=True)
class EventDetail:
    event: QualityEvent
    # Each with `matches`: False once the event changed after it was signed.
    signatures: list[SignatureView]


def event_detail(*, event: QualityEvent) -> EventDetail:
    return EventDetail(event=event, signatures=signatures_for(event))


def events_for_source(
    source_type: str, source_ids: Iterable[Any], *, user=None
) -> dict[str, list[QualityEvent]]:
    """The events that arose from each of `source_ids` (every id a key, oldest event first), in one query.

    `user` None reads all of them, for a caller that has already decided what its reader may see;
    otherwise only the events `user` may see.
    """
    keys = list(dict.fromkeys(str(source_id) for source_id in source_ids))
    found: dict[str, list[QualityEvent]] = {key: [] for key in keys}
    if not keys:
        return found
    qs = QualityEvent.objects.all() if user is None else events_visible(user)
    for event in qs.filter(source_type=source_type, source_id__in=keys).order_by("opened_at", "number"):
        found[event.source_id].append(event)
    return found
