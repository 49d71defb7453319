"""Writes for the production catalogue: products, versioned routings and their operations.

A routing is drafted, edited while it is a draft, then approved with the approver's e-signature (meaning
"approved") from an effective date on; an approved routing never changes again. Engineers revise one by
copying it into the next draft version. Approved versions stay approved side by side: the one in effect at
a moment is the approved version with the latest effective date up to then (`selectors.catalogue
.routing_in_effect`), so a newer version takes over by itself on its effective date and the older one
still explains what was made before. Retiring a version withdraws it from use altogether.

Like every regulated write: a reason is required, `by` must hold `production.manage` (None is the system:
seed, import), the model layer audits each row and each change emits its event in the same transaction.
An operation's required qualifications are training requirements targeting it; they are set through the
training catalogue after this module's own authorisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn
from uuid import UUID

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.models import SignatureMeaning, User
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.accounts.services import esignature_sign
from qualiflow.core import context
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.core.validation import assign, full_clean, require_reason
from qualiflow.documents.models import Document
from qualiflow.equipment.models import EquipmentClass
from qualiflow.integration import events
from qualiflow.org.models import WorkCenter
from qualiflow.training.models import Requirement, TargetKind
from qualiflow.training.services.catalogue import RequirementItem, requirements_replace

from ..errors import ProductionErrorCode
from ..models import Operation, Product, Routing, RoutingStatus

PRODUCT_FIELDS = ("code", "name", "name_en", "model", "device_class", "udi_di", "is_active", "external_refs")
ROUTING_FIELDS = ("notes", "external_refs")
OPERATION_FIELDS = (
    "sequence", "name", "name_en", "work_center", "standard_minutes", "equipment_class", "work_instruction",
    "inspection_points", "external_refs",
)
INSPECTION_POINT_KEYS = ("code", "characteristic", "unit", "lower", "upper")
INSPECTION_CODE_MAX_LENGTH = 40
INSPECTION_TEXT_MAX_LENGTH = 200
# A form filled in at "now" reaches the server a little later; an effective date this close counts as now.
EFFECTIVE_FROM_TOLERANCE = timedelta(minutes=1)


def _authorize(by) -> None:
    if by is not None and not has_perm(by, Perm.PRODUCTION_MANAGE):
        raise PermissionDenied(ProductionErrorCode.OUT_OF_SCOPE, _("You are not allowed to manage the production catalogue."))


def _refuse(field: str, message, code: ProductionErrorCode) -> NoReturn:
    raise ValidationFailed(message, fields={field: [message]}, code=code)


def _apply(instance, data: dict[str, Any], allowed: Sequence[str]) -> list[str]:
    """Set `data` on `instance`; the names of the fields whose value actually changed."""
    before = {name: getattr(instance, name) for name in data if name in allowed}
    assign(instance, data, allowed)
    return sorted(name for name, old in before.items() if getattr(instance, name) != old)


# ---- products ----------------------------------------------------------------------------------------


def _product_payload(product: Product) -> dict[str, Any]:
    return {"code": product.code, "name": product.name, "model": product.model, "device_class": product.device_class,
            "udi_di": product.udi_di, "is_active": product.is_active}


def _refuse_product_taken(product: Product, changed: Sequence[str]) -> None:
    others = Product.objects.exclude(pk=product.pk)
    if "code" in changed and others.filter(code=product.code).exists():
        _refuse("code", _("The code %(code)s is already used.") % {"code": product.code}, ProductionErrorCode.CODE_TAKEN)
    # A UDI-DI identifies one device model: two products cannot share it.
    if "udi_di" in changed and product.udi_di and others.filter(udi_di=product.udi_di).exists():
        _refuse("udi_di", _("The UDI-DI %(udi_di)s is already used by another product.") % {"udi_di": product.udi_di},
                ProductionErrorCode.CODE_TAKEN)


def _clean_product_text(product: Product) -> None:
    for name in ("code", "name", "name_en", "model", "udi_di"):
        value = getattr(product, name)
        if isinstance(value, str):
            setattr(product, name, value.strip())


@transaction.atomic
def product_create(*, data: dict[str, Any], by=None, reason: str = "") -> Product:
    reason = require_reason(Product, reason)
    _authorize(by)
    product = Product()
    assign(product, data, PRODUCT_FIELDS)
    _clean_product_text(product)
    _refuse_product_taken(product, ("code", "udi_di"))
    full_clean(product)
    with context.acting(reason=reason):
        product.save()
        events.emit("production.product.created", f"production/product/{product.pk}", _product_payload(product))
    return product


@transaction.atomic
def product_update(*, product: Product, data: dict[str, Any], by=None, reason: str = "") -> Product:
    """Change the fields in `data`; unchanged values write nothing. Routings and work orders keep pointing
    at the product: an inactive product makes no new routings or work orders."""
    reason = require_reason(Product, reason)
    _authorize(by)
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = {name: getattr(product, name) for name in data if name in PRODUCT_FIELDS}
    assign(product, data, PRODUCT_FIELDS)
    _clean_product_text(product)
    changed = sorted(name for name, old in before.items() if getattr(product, name) != old)
    if not changed:
        return product
    _refuse_product_taken(product, changed)
    full_clean(product)
    with context.acting(reason=reason):
        product.save()
        events.emit("production.product.updated", f"production/product/{product.pk}",
                    {**_product_payload(product), "fields": changed})
    return product


# ---- routings ----------------------------------------------------------------------------------------


def _routing_payload(routing: Routing) -> dict[str, Any]:
    return {"product_id": routing.product_id, "product_code": routing.product.code, "version": routing.version,
            "status": routing.status, "effective_from": routing.effective_from, "approved_at": routing.approved_at}


def _lock_routing(routing: Routing) -> Routing:
    return Routing.objects.select_for_update().select_related("product").get(pk=routing.pk)


def refuse_not_draft(routing: Routing) -> None:
    """Refuse (ROUTING_NOT_DRAFT) any change to an approved or retired routing: they never change again."""
    if routing.status == RoutingStatus.APPROVED:
        message = _("Version %(version)s is approved and can no longer be changed; copy it into a new version.")
    elif routing.status == RoutingStatus.RETIRED:
        message = _("Version %(version)s is retired and can no longer be changed; copy it into a new version.")
    else:
        return
    _refuse("__all__", message % {"version": routing.version}, ProductionErrorCode.ROUTING_NOT_DRAFT)


def operation_requirements_lock(operation_id: UUID) -> str | None:
    """Why the qualifications an operation requires may not change through training now (registered with
    training as the guard of operation targets): they are part of the routing and change with it."""
    row = Operation.objects.filter(pk=operation_id).values("routing__status", "routing__version",
                                                            "routing__product__code").first()
    if row is None:
        return str(_("This operation does not exist."))
    if row["routing__status"] == RoutingStatus.DRAFT:
        return None
    return str(_("The operation belongs to version %(version)s of the routing of %(product)s, which is %(status)s: "
                 "change its requirements in a new version of the routing.") % {
        "version": row["routing__version"], "product": row["routing__product__code"],
        "status": RoutingStatus(row["routing__status"]).label})


def _new_version(product: Product, notes: str) -> Routing:
    """The next draft version of `product` (the caller holds the product's lock, which serialises numbering)."""
    if not product.is_active:
        _refuse("__all__", _("The product %(code)s is no longer in use.") % {"code": product.code},
                ProductionErrorCode.PRODUCT_INACTIVE)
    last = Routing.objects.filter(product=product).aggregate(last=Max("version"))["last"] or 0
    routing = Routing(product=product, version=last + 1, status=RoutingStatus.DRAFT, notes=(notes or "").strip())
    full_clean(routing)
    return routing


@transaction.atomic
def routing_create(*, product: Product, notes: str = "", by=None, reason: str = "") -> Routing:
    """A new, empty draft: the product's next routing version."""
    reason = require_reason(Routing, reason)
    _authorize(by)
    product = Product.objects.select_for_update().get(pk=product.pk)
    routing = _new_version(product, notes)
    with context.acting(reason=reason):
        routing.save()
        events.emit("production.routing.created", f"production/routing/{routing.pk}",
                    {**_routing_payload(routing), "copied_from": None})
    return routing


@transaction.atomic
def routing_update(*, routing: Routing, data: dict[str, Any], by=None, reason: str = "") -> Routing:
    """Change a draft's notes or external references; unchanged values write nothing."""
    reason = require_reason(Routing, reason)
    _authorize(by)
    routing = _lock_routing(routing)
    refuse_not_draft(routing)
    changed = _apply(routing, data, ROUTING_FIELDS)
    if not changed:
        return routing
    full_clean(routing)
    with context.acting(reason=reason):
        routing.save()
        events.emit("production.routing.updated", f"production/routing/{routing.pk}",
                    {**_routing_payload(routing), "fields": changed})
    return routing


@transaction.atomic
def routing_copy(*, routing: Routing, notes: str | None = None, by=None, reason: str = "") -> Routing:
    """The next draft version of the routing's product, with copies of `routing`'s operations and their
    required qualifications: how a routing is revised. Operations are copied as they are (an inactive
    work center or document included, which approval then refuses) so nothing is silently lost; only a
    requirement on a qualification no longer in use cannot be made again and is left out: the event and the
    returned routing's `dropped_requirements` ([{"sequence", "qualification_code"}]) list those."""
    reason = require_reason(Routing, reason)
    _authorize(by)
    source = Routing.objects.select_related("product").get(pk=routing.pk)
    product = Product.objects.select_for_update().get(pk=source.product_id)
    copy = _new_version(product, source.notes if notes is None else notes)
    operations = list(Operation.objects.filter(routing=source).order_by("sequence")
                      .select_related("work_center", "equipment_class", "work_instruction"))
    requirements = Requirement.objects.filter(
        target_kind=TargetKind.OPERATION, target_id__in=[op.pk for op in operations]
    ).select_related("qualification").order_by("qualification__code")
    by_operation: dict[Any, list[Requirement]] = {}
    for requirement in requirements:
        by_operation.setdefault(requirement.target_id, []).append(requirement)
    dropped: list[dict[str, Any]] = []
    with context.acting(reason=reason):
        copy.save()
        for source_op in operations:
            operation = Operation(
                routing=copy, **{name: getattr(source_op, name) for name in OPERATION_FIELDS if name != "external_refs"}
            )
            operation.inspection_points = [dict(point) for point in source_op.inspection_points]
            operation.save()
            items = []
            for requirement in by_operation.get(source_op.pk, []):
                if requirement.qualification.is_active:
                    items.append(RequirementItem(requirement.qualification, requirement.mandatory, requirement.grace_days))
                else:
                    dropped.append({"sequence": operation.sequence, "qualification_code": requirement.qualification.code})
            if items:
                _set_requirements(operation, items, reason)
            events.emit("production.operation.created", f"production/operation/{operation.pk}",
                        _operation_payload(operation, [item.qualification.code for item in items]))
        events.emit("production.routing.created", f"production/routing/{copy.pk}",
                    {**_routing_payload(copy), "copied_from": source.pk, "copied_from_version": source.version,
                     "dropped_requirements": dropped})
    copy.dropped_requirements = dropped
    return copy


def _refuse_unusable(operations: Sequence[Operation]) -> None:
    """Approval needs a complete routing whose every reference is still in use."""
    problems = []
    if not operations:
        problems.append(_("A routing needs at least one operation."))
    for operation in operations:
        names = {"sequence": operation.sequence}
        if not operation.work_center.is_active:
            problems.append(_("Operation %(sequence)s: its work center is no longer in use.") % names)
        if operation.equipment_class_id and not operation.equipment_class.is_active:
            problems.append(_("Operation %(sequence)s: its equipment class is no longer in use.") % names)
        if operation.work_instruction_id and not operation.work_instruction.is_active:
            problems.append(_("Operation %(sequence)s: its work instruction is no longer in use.") % names)
    if problems:
        raise ValidationFailed(_("This routing cannot be approved yet."), fields={"__all__": problems},
                               code=ProductionErrorCode.ROUTING_INVALID)


@transaction.atomic
def routing_approve(
    *, routing: Routing, signer: User, password: str, effective_from: datetime | None = None, reason: str = ""
) -> Routing:
    """Approve a draft with the signer's e-signature (meaning "approved", password re-entered), in effect
    from `effective_from` (None: now), which may not lie in the past nor before another approved version's.

    The signature binds the routing as approved; a wrong password is refused and nothing is written."""
    reason = require_reason(Routing, reason)
    if not has_perm(signer, Perm.PRODUCTION_MANAGE):
        raise PermissionDenied(ProductionErrorCode.OUT_OF_SCOPE, _("You are not allowed to approve routings."))
    now = timezone.now()
    effective_from = now if effective_from is None else effective_from
    if not isinstance(effective_from, datetime) or timezone.is_naive(effective_from):
        _refuse("effective_from", _("Enter a date and time with its time zone."), ProductionErrorCode.ROUTING_INVALID)
    if effective_from < now - EFFECTIVE_FROM_TOLERANCE:
        _refuse("effective_from", _("The effective date cannot lie in the past."), ProductionErrorCode.ROUTING_INVALID)
    routing = _lock_routing(routing)
    # The product's lock serialises approvals, so two versions never get the same place in time.
    product = Product.objects.select_for_update().get(pk=routing.product_id)
    refuse_not_draft(routing)
    if not product.is_active:
        _refuse("__all__", _("The product %(code)s is no longer in use.") % {"code": product.code},
                ProductionErrorCode.PRODUCT_INACTIVE)
    operations = list(
        Operation.objects.filter(routing=routing).select_related("work_center", "equipment_class", "work_instruction")
    )
    _refuse_unusable(operations)
    latest = (Routing.objects.filter(product=product, status=RoutingStatus.APPROVED)
              .order_by("-effective_from").first())
    if latest is not None and effective_from <= latest.effective_from:
        _refuse(
            "effective_from",
            _("Version %(version)s is effective from %(date)s; a new version must become effective after it.") % {
                "version": latest.version,
                "date": timezone.localtime(latest.effective_from).strftime("%Y-%m-%d %H:%M")},
            ProductionErrorCode.ROUTING_INVALID,
        )
    routing.status = RoutingStatus.APPROVED
    routing.approved_at = now
    routing.effective_from = effective_from
    full_clean(routing)
    with context.acting(reason=reason):
        routing.save()
        signature = esignature_sign(signer=signer, password=password or "", record=routing,
                                    meaning=SignatureMeaning.APPROVED, reason=reason)
        events.emit("production.routing.approved", f"production/routing/{routing.pk}",
                    {**_routing_payload(routing), "signature_id": signature.pk, "signer": signer.username,
                     "operations": len(operations)})
    return routing


@transaction.atomic
def routing_retire(*, routing: Routing, by=None, reason: str = "") -> Routing:
    """Withdraw an approved version: it makes no more work orders; those already made keep it."""
    reason = require_reason(Routing, reason)
    _authorize(by)
    routing = _lock_routing(routing)
    if routing.status != RoutingStatus.APPROVED:
        _refuse("__all__", _("Only an approved routing can be retired."), ProductionErrorCode.ROUTING_NOT_APPROVED)
    routing.status = RoutingStatus.RETIRED
    with context.acting(reason=reason):
        routing.save()
        events.emit("production.routing.retired", f"production/routing/{routing.pk}", _routing_payload(routing))
    return routing


# ---- operations --------------------------------------------------------------------------------------


def _operation_payload(operation: Operation, qualification_codes: Sequence[str] | None = None) -> dict[str, Any]:
    payload = {
        "routing_id": operation.routing_id, "sequence": operation.sequence, "name": operation.name,
        "work_center_id": operation.work_center_id, "standard_minutes": operation.standard_minutes,
        "equipment_class_id": operation.equipment_class_id, "work_instruction_id": operation.work_instruction_id,
        "inspection_points": operation.inspection_points,
    }
    if qualification_codes is not None:
        payload["qualification_codes"] = sorted(qualification_codes)
    return payload


def _number(value: Any) -> int | float | None:
    """A limit as JSON holds it, or None for a value that is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    return value if math.isfinite(value) else None


def clean_inspection_points(points: Any) -> list[dict[str, Any]]:
    """Inspection points as stored: each {"code", "characteristic", "unit", "lower", "upper"}, codes unique,
    limits numbers (either may be missing; none at all is a pass / fail check) and lower <= upper.
    Refusals name the point by its position (1-based) so a form can show them row by row."""
    if not isinstance(points, list | tuple):
        _refuse("inspection_points", _("Inspection points are a list."), ProductionErrorCode.OPERATION_INVALID)
    cleaned, problems, seen = [], [], set()
    for number, point in enumerate(points, start=1):
        names = {"number": number}
        if not isinstance(point, dict):
            problems.append(_("Point %(number)s: give code, characteristic, unit, lower and upper.") % names)
            continue
        unknown = sorted(set(point) - set(INSPECTION_POINT_KEYS))
        if unknown:
            problems.append(_("Point %(number)s: unknown fields %(fields)s.") % {**names, "fields": ", ".join(map(str, unknown))})
            continue
        texts = {}
        for key in ("code", "characteristic", "unit"):
            value = point.get(key) or ""
            texts[key] = value.strip() if isinstance(value, str) else None
        lower, upper = (_number(point.get(key)) for key in ("lower", "upper"))
        code = texts["code"]
        if not code:
            problems.append(_("Point %(number)s: the code is required.") % names)
        elif len(code) > INSPECTION_CODE_MAX_LENGTH:
            problems.append(_("Point %(number)s: a code has at most %(max)s characters.") % {
                **names, "max": INSPECTION_CODE_MAX_LENGTH})
        elif code in seen:
            problems.append(_("Point %(number)s: the code %(code)s is used twice.") % {**names, "code": code})
        if not texts["characteristic"]:
            problems.append(_("Point %(number)s: say what is checked (the characteristic).") % names)
        if texts["unit"] is None or any(len(texts[key] or "") > INSPECTION_TEXT_MAX_LENGTH
                                        for key in ("characteristic", "unit")):
            problems.append(_("Point %(number)s: characteristic and unit are texts of at most %(max)s characters.") % {
                **names, "max": INSPECTION_TEXT_MAX_LENGTH})
        for key, value in (("lower", lower), ("upper", upper)):
            if value is None and point.get(key) is not None:
                problems.append(_("Point %(number)s: the %(limit)s limit must be a number.") % {
                    **names, "limit": _("lower") if key == "lower" else _("upper")})
        if lower is not None and upper is not None and lower > upper:
            problems.append(_("Point %(number)s: the lower limit is above the upper limit.") % names)
        seen.add(code)
        cleaned.append({"code": code, "characteristic": texts["characteristic"], "unit": texts["unit"] or "",
                        "lower": lower, "upper": upper})
    if problems:
        raise ValidationFailed(_("Please correct the inspection points."), fields={"inspection_points": problems},
                               code=ProductionErrorCode.OPERATION_INVALID)
    return cleaned


def _refuse_bad_operation(operation: Operation, changed: Sequence[str]) -> None:
    """What the model cannot check: a free sequence and references still in use (checked when set, so an
    edit of other fields is not blocked by a reference that went out of use since; approval checks all).
    Whether a reference is in use is read from the database, not from the instance the caller holds."""
    code = ProductionErrorCode.OPERATION_INVALID
    if "sequence" in changed and isinstance(operation.sequence, int) and Operation.objects.filter(
            routing_id=operation.routing_id, sequence=operation.sequence).exclude(pk=operation.pk).exists():
        _refuse("sequence", _("This routing already has an operation %(sequence)s.") % {"sequence": operation.sequence},
                code)
    references = (
        ("work_center", WorkCenter, _("The work center %(code)s is no longer in use.")),
        ("equipment_class", EquipmentClass, _("The equipment class %(code)s is no longer in use.")),
        ("work_instruction", Document, _("The document %(code)s is no longer in use.")),
    )
    for name, model, message in references:
        pk = getattr(operation, f"{name}_id")
        if name in changed and pk is not None:
            row = model.objects.filter(pk=pk).values("code", "is_active").first()
            if row is not None and not row["is_active"]:
                _refuse(name, message % {"code": row["code"]}, code)


def _set_requirements(operation: Operation, items: Sequence[RequirementItem], reason: str) -> list[Requirement]:
    # by=None: production.manage was checked by the caller; the engineer need not hold training.manage.
    # The audit trail still names the signed-in actor, taken from the request context.
    return requirements_replace(target_kind=TargetKind.OPERATION, target_id=operation.pk, items=items, by=None,
                                reason=reason)


def _requirement_state(operation: Operation) -> set[tuple[Any, bool, int]]:
    return set(Requirement.objects.filter(target_kind=TargetKind.OPERATION, target_id=operation.pk)
               .values_list("qualification_id", "mandatory", "grace_days"))


@transaction.atomic
def operation_create(
    *, routing: Routing, data: dict[str, Any], requirements: Sequence[RequirementItem] = (), by=None, reason: str = ""
) -> Operation:
    """Add an operation to a draft routing, with the qualifications it requires."""
    reason = require_reason(Operation, reason)
    _authorize(by)
    routing = _lock_routing(routing)
    refuse_not_draft(routing)
    operation = Operation(routing=routing)
    assign(operation, data, OPERATION_FIELDS)
    operation.inspection_points = clean_inspection_points(operation.inspection_points)
    _refuse_bad_operation(operation, OPERATION_FIELDS)
    full_clean(operation)
    with context.acting(reason=reason):
        operation.save()
        kept = _set_requirements(operation, requirements, reason)
        events.emit("production.operation.created", f"production/operation/{operation.pk}",
                    _operation_payload(operation, [r.qualification.code for r in kept]))
    return operation


@transaction.atomic
def operation_update(
    *, operation: Operation, data: dict[str, Any], requirements: Sequence[RequirementItem] | None = None, by=None,
    reason: str = "",
) -> Operation:
    """Change a draft routing's operation and, when `requirements` is given, exactly what it requires.
    Unchanged values write nothing."""
    reason = require_reason(Operation, reason)
    _authorize(by)
    refuse_not_draft(_lock_routing(operation.routing))
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if "inspection_points" in data:
        data = {**data, "inspection_points": clean_inspection_points(data["inspection_points"])}
    changed = _apply(operation, data, OPERATION_FIELDS)
    before = _requirement_state(operation) if requirements is not None else set()
    if changed:
        _refuse_bad_operation(operation, changed)
        full_clean(operation)
    with context.acting(reason=reason):
        if changed:
            operation.save()
        if requirements is not None:
            kept = _set_requirements(operation, requirements, reason)
            if _requirement_state(operation) != before:
                changed = [*changed, "requirements"]
        if changed:
            codes = None if requirements is None else [r.qualification.code for r in kept]
            events.emit("production.operation.updated", f"production/operation/{operation.pk}",
                        {**_operation_payload(operation, codes), "fields": changed})
    return operation


@transaction.atomic
def operation_requirements_set(
    *, operation: Operation, items: Sequence[RequirementItem], by=None, reason: str = ""
) -> list[Requirement]:
    """The operation of a draft routing requires exactly `items` from now on."""
    operation_update(operation=operation, data={}, requirements=items, by=by, reason=reason)
    return list(Requirement.objects.filter(target_kind=TargetKind.OPERATION, target_id=operation.pk)
                .select_related("qualification").order_by("qualification__code"))


@transaction.atomic
def operation_remove(*, operation: Operation, by=None, reason: str = "") -> None:
    """Take an operation out of a draft routing, with its requirements."""
    reason = require_reason(Operation, reason)
    _authorize(by)
    refuse_not_draft(_lock_routing(operation.routing))
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    subject, payload = f"production/operation/{operation.pk}", _operation_payload(operation)
    with context.acting(reason=reason):
        _set_requirements(operation, (), reason)
        operation.delete()
        events.emit("production.operation.removed", subject, payload)
