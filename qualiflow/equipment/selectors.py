"""Reads of equipment: classes, assets (always limited to the sites and lines the reader may see), plans,
records, and whether an asset may be used at a given moment.

`availability_for` answers for any number of assets in three queries (assets, plans, records), so one
track-in and a plant-wide list take the same path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.permissions import Scope, scope_for
from qualiflow.accounts.roles import Perm
from qualiflow.core.errors import CoreErrorCode, NotFound

from .domain import status as domain
from .models import Equipment, EquipmentClass, EquipmentPlan, EquipmentRecord, PlanKind, RecordResult

ORDERINGS = (
    "asset_number", "-asset_number", "name", "-name", "equipment_class__code", "-equipment_class__code",
    "site__code", "-site__code", "line__code", "-line__code", "status", "-status",
)
CLASS_ORDERINGS = ("code", "-code", "name", "-name")

# Any plan, for `last_passing_calibration`.
ANY_PLAN: Any = object()

EquipmentIds = QuerySet[Equipment] | Iterable[UUID | str | Equipment]


@dataclass(frozen=True)
class Placement:
    """Where an asset stands in the organisation, as `Scope.covers` reads it: its department is its line's."""

    site_id: UUID | None
    department_id: UUID | None
    line_id: UUID | None


def placement(equipment: Equipment) -> Placement:
    return Placement(equipment.site_id, equipment.line.department_id if equipment.line_id else None, equipment.line_id)


def scope_q(scope: Scope, prefix: str = "") -> Q:
    """The assets inside `scope` (prefix reaches the asset through a relation, e.g. "equipment__")."""
    if scope.everywhere:
        return Q()
    q = Q(pk__in=[])
    if scope.site_ids:
        q |= Q(**{f"{prefix}site_id__in": scope.site_ids})
    if scope.department_ids:
        q |= Q(**{f"{prefix}line__department_id__in": scope.department_ids})
    if scope.line_ids:
        q |= Q(**{f"{prefix}line_id__in": scope.line_ids})
    return q


def equipment_visible(user, perm: str = Perm.EQUIPMENT_VIEW) -> QuerySet[Equipment]:
    """Assets `user` may see with `perm`; `user` None is the system, which sees everything."""
    if user is None:
        return Equipment.objects.all()
    return Equipment.objects.filter(scope_q(scope_for(user, perm)))


# ---- availability -------------------------------------------------------------------------------------


def _ids(equipment: EquipmentIds) -> QuerySet[Equipment] | list[UUID]:
    if isinstance(equipment, QuerySet):
        return equipment.order_by().values("pk")
    return list(dict.fromkeys(e.pk if isinstance(e, Model) else UUID(str(e)) for e in equipment))


def assets_for(equipment: EquipmentIds, at: dt.datetime) -> dict[UUID, domain.Asset]:
    """The domain facts of each asset known at `at` (records started later are left out), in three queries."""
    ids = _ids(equipment)
    statuses = dict(Equipment.objects.filter(pk__in=ids).values_list("pk", "status"))
    plans: dict[UUID, list[domain.Plan]] = {pk: [] for pk in statuses}
    records: dict[UUID, list[domain.Record]] = {pk: [] for pk in statuses}
    if not statuses:
        return {}
    for pk, equipment_id, kind, interval, first_due, active in EquipmentPlan.objects.filter(
        equipment_id__in=ids
    ).values_list("pk", "equipment_id", "kind", "interval_days", "first_due", "is_active"):
        plans[equipment_id].append(domain.Plan(str(pk), kind, dt.timedelta(days=interval), first_due, active))
    for pk, equipment_id, plan_id, kind, started, completed, result, number in EquipmentRecord.objects.filter(
        equipment_id__in=ids, started_at__lte=at
    ).values_list("pk", "equipment_id", "plan_id", "kind", "started_at", "completed_at", "result", "certificate_number"):
        records[equipment_id].append(domain.Record(
            str(pk), str(plan_id) if plan_id else None, kind, started, completed, result, number
        ))
    return {
        pk: domain.Asset(str(pk), status, tuple(plans[pk]), tuple(records[pk])) for pk, status in statuses.items()
    }


def availability_for(
    equipment: EquipmentIds, at: dt.datetime | None = None, *, lead: dt.timedelta = dt.timedelta(days=7)
) -> dict[UUID, domain.Availability]:
    """Whether each asset may be used at `at` (default: now), with the reasons and the calibration evidence;
    keyed by asset id, unknown ids left out. Three queries however many assets: pass a queryset for very
    large sets (it becomes a subquery)."""
    at = timezone.now() if at is None else at
    return {pk: domain.availability(asset, at, lead) for pk, asset in assets_for(equipment, at).items()}


def availability_of(
    equipment: Equipment, at: dt.datetime | None = None, *, lead: dt.timedelta = dt.timedelta(days=7)
) -> domain.Availability:
    """`availability_for` one asset: what a track-in on it checks and stores as evidence."""
    return availability_for([equipment.pk], at, lead=lead)[equipment.pk]


# ---- classes ------------------------------------------------------------------------------------------


def equipment_class_list(*, search: str = "", active: bool | None = True, ordering: str = "code") -> QuerySet[EquipmentClass]:
    """Classes are plant-wide: whoever holds `equipment.view` sees them all."""
    qs = EquipmentClass.objects.all()
    term = search.strip()
    if term:
        qs = qs.filter(Q(code__icontains=term) | Q(name__icontains=term) | Q(name_en__icontains=term))
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by(ordering if ordering in CLASS_ORDERINGS else "code", "code")


def equipment_class_get(*, class_id: Any) -> EquipmentClass:
    found = EquipmentClass.objects.filter(pk=class_id).first()
    if found is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Equipment class not found."))
    return found


# ---- assets -------------------------------------------------------------------------------------------


def equipment_list(
    *,
    user,
    search: str = "",
    site_id: Any = None,
    line_id: Any = None,
    class_id: Any = None,
    status: str = "",
    blocked: bool | None = None,
    due_within_days: int | None = None,
    ordering: str = "asset_number",
    at: dt.datetime | None = None,
) -> QuerySet[Equipment]:
    """Assets `user` may see, filtered and sorted.

    `blocked`: only blocked (True) or only available (False) assets at `at` (default: now).
    `due_within_days`: only assets with a calibration due within that many days of `at`, overdue ones
    included. Both are computed (three more queries over the assets the other filters kept).
    """
    qs = equipment_visible(user).select_related("equipment_class", "site", "line", "work_center")
    term = search.strip()
    if term:
        qs = qs.filter(Q(asset_number__icontains=term) | Q(name__icontains=term) | Q(name_en__icontains=term)
                       | Q(serial_number__icontains=term))
    for field, value in (("site_id", site_id), ("line_id", line_id), ("equipment_class_id", class_id),
                         ("status", status)):
        if value:
            qs = qs.filter(**{field: value})
    if blocked is not None or due_within_days is not None:
        at = timezone.now() if at is None else at
        horizon = at + dt.timedelta(days=due_within_days or 0)
        kept = [
            pk for pk, state in availability_for(qs, at).items()
            if (blocked is None or state.available != blocked)
            and (due_within_days is None or (state.calibration_due is not None and state.calibration_due <= horizon))
        ]
        qs = qs.filter(pk__in=kept)
    return qs.order_by(ordering if ordering in ORDERINGS else "asset_number", "asset_number")


def equipment_get(*, user, equipment_id: Any, perm: str = Perm.EQUIPMENT_VIEW) -> Equipment:
    """The asset, if `user` may see it with `perm` (a hidden asset is not found, not forbidden)."""
    found = (
        equipment_visible(user, perm).select_related("equipment_class", "site", "line", "work_center")
        .filter(pk=equipment_id).first()
    )
    if found is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Equipment not found."))
    return found


# ---- plans and records --------------------------------------------------------------------------------


def plans_for(equipment: Equipment) -> QuerySet[EquipmentPlan]:
    return EquipmentPlan.objects.filter(equipment=equipment).select_related("qualification").order_by(
        "-is_active", "kind", "title"
    )


def plan_get(*, equipment: Equipment, plan_id: Any) -> EquipmentPlan:
    found = plans_for(equipment).filter(pk=plan_id).first()
    if found is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Maintenance or calibration plan not found."))
    return found


def records_for(equipment: Equipment) -> QuerySet[EquipmentRecord]:
    """The asset's maintenance and calibration records, newest first."""
    return EquipmentRecord.objects.filter(equipment=equipment).select_related("plan", "performed_by").order_by(
        "-started_at", "-created_at"
    )


def record_get(*, user, record_id: Any, equipment: Equipment | None = None) -> EquipmentRecord:
    """A record of an asset `user` may see (of `equipment`, when given)."""
    qs = EquipmentRecord.objects.filter(
        pk=record_id, equipment__in=equipment_visible(user)
    ).select_related("equipment", "equipment__site", "equipment__line", "plan", "plan__qualification", "performed_by")
    if equipment is not None:
        qs = qs.filter(equipment=equipment)
    found = qs.first()
    if found is None:
        raise NotFound(CoreErrorCode.NOT_FOUND, _("Maintenance or calibration record not found."))
    return found


def last_passing_calibration(
    equipment: Equipment, before: dt.datetime, *, plan_id: Any = ANY_PLAN
) -> EquipmentRecord | None:
    """The latest calibration of `equipment` that passed, completed strictly before `before`: the start of
    the window an out-of-tolerance finding puts in doubt. `plan_id` limits it to one plan (None: unplanned
    calibrations only)."""
    qs = EquipmentRecord.objects.filter(
        equipment=equipment, kind=PlanKind.CALIBRATION, result=RecordResult.PASS, completed_at__lt=before
    )
    if plan_id is not ANY_PLAN:
        qs = qs.filter(plan_id=plan_id)
    return qs.order_by("-completed_at", "-pk").first()


# ---- presentation ---------------------------------------------------------------------------------------

AVAILABILITY_LABELS = {True: _("Available"), False: _("Blocked")}


def finding_text(finding: domain.Finding, *, zone: dt.tzinfo, plans: dict[str, str] | None = None) -> str:
    """One reason or warning of an asset's availability in the reader's language, times in `zone`;
    `plans` names plans by id."""
    plans = plans or {}
    param = finding.param

    def when(name: str) -> str:
        value = param(name)
        return dt.datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    plan = plans.get(param("plan") or "", "")
    code = finding.code
    if code == domain.Block.OUT_OF_SERVICE:
        return str(_("Out of service."))
    if code == domain.Block.RETIRED:
        return str(_("Retired."))
    if code == domain.Block.CALIBRATION_OVERDUE:
        return str(_("Calibration %(plan)s overdue since %(due)s.") % {"plan": plan, "due": when("due")})
    if code == domain.Block.CALIBRATION_FAILED:
        return str(_("Calibration %(plan)s failed on %(at)s; it must pass again before use.") % {
            "plan": plan, "at": when("at")})
    if code == domain.Block.MAINTENANCE_OPEN:
        return str(_("Maintenance in progress since %(since)s.") % {"since": when("since")})
    if code == domain.Warning.MAINTENANCE_OVERDUE:
        return str(_("Maintenance %(plan)s overdue since %(due)s.") % {"plan": plan, "due": when("due")})
    return str(_("Calibration %(plan)s due on %(due)s.") % {"plan": plan, "due": when("due")})


def plan_names(equipment_ids: Iterable[Any]) -> dict[str, str]:
    """Plan titles by plan id (as the availability findings name them), for the given assets, in one query."""
    return {str(pk): title for pk, title in
            EquipmentPlan.objects.filter(equipment_id__in=list(equipment_ids)).values_list("pk", "title")}
