"""Reads of the production catalogue: products, their routing versions and a routing with everything an
operation asks of the people and equipment doing it.

The catalogue is plant-wide master data; reading it needs `production.view` (checked by views and API).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.accounts.selectors import SignatureView, signatures_for
from qualiflow.core.errors import CoreErrorCode, NotFound
from qualiflow.documents.models import DocumentRevision
from qualiflow.training.models import Requirement, TargetKind

from ..models import Operation, Product, Routing, RoutingStatus

PRODUCT_ORDERINGS = ("code", "-code", "name", "-name", "model", "-model", "device_class", "-device_class")


def _not_found(message) -> NotFound:
    return NotFound(CoreErrorCode.NOT_FOUND, message)


def _in_effect(at: dt.datetime) -> QuerySet[Routing]:
    """Routings usable at `at`, the one in effect first: approved (not retired), effective by then, the
    latest effective date winning (approval keeps effective dates strictly increasing per product)."""
    return Routing.objects.filter(status=RoutingStatus.APPROVED, effective_from__lte=at).order_by(
        "-effective_from", "-version")


def routing_in_effect(product: Product, at: dt.datetime | None = None) -> Routing | None:
    """The routing version work orders for `product` follow at `at` (default: now), or None."""
    return _in_effect(timezone.now() if at is None else at).filter(product=product).select_related("product").first()


def product_list(
    *, search: str = "", device_class: str = "", active: bool | None = True, ordering: str = "code",
    at: dt.datetime | None = None,
) -> QuerySet[Product]:
    """Products with their number of routing versions and the version in effect at `at` (default: now)."""
    at = timezone.now() if at is None else at
    qs = Product.objects.annotate(
        routing_count=Count("routings", distinct=True),
        version_in_effect=Subquery(_in_effect(at).filter(product=OuterRef("pk")).values("version")[:1]),
    )
    term = search.strip()
    if term:
        qs = qs.filter(Q(code__icontains=term) | Q(name__icontains=term) | Q(name_en__icontains=term)
                       | Q(model__icontains=term) | Q(udi_di__icontains=term))
    if device_class:
        qs = qs.filter(device_class=device_class)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by(ordering if ordering in PRODUCT_ORDERINGS else "code", "code")


def product_get(*, product_id: Any) -> Product:
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise _not_found(_("Product not found."))
    return product


def routing_list(*, product: Product) -> QuerySet[Routing]:
    """The product's routing versions, newest first, with their number of operations."""
    return (Routing.objects.filter(product=product).select_related("product")
            .annotate(operation_count=Count("operations")).order_by("-version"))


def routing_get(*, routing_id: Any) -> Routing:
    routing = Routing.objects.filter(pk=routing_id).select_related("product").first()
    if routing is None:
        raise _not_found(_("Routing not found."))
    return routing


def operation_get(*, operation_id: Any) -> Operation:
    operation = Operation.objects.filter(pk=operation_id).select_related("routing__product").first()
    if operation is None:
        raise _not_found(_("Operation not found."))
    return operation


def operation_requirements(operation_ids: Iterable[UUID]) -> dict[UUID, list[Requirement]]:
    """The qualifications each operation requires (by qualification code), in one query; every id asked
    for is a key, with an empty list when nothing is required."""
    ids = list(operation_ids)
    found: dict[UUID, list[Requirement]] = {pk: [] for pk in ids}
    for requirement in (Requirement.objects.filter(target_kind=TargetKind.OPERATION, target_id__in=ids)
                        .select_related("qualification").order_by("qualification__code")):
        found[requirement.target_id].append(requirement)
    return found


def _revisions_in_effect(document_ids: Iterable[UUID], at: dt.datetime) -> dict[UUID, DocumentRevision]:
    """Per document, the revision in effect at `at` (the highest revision number effective by then)."""
    current: dict[UUID, DocumentRevision] = {}
    for revision in DocumentRevision.objects.filter(document_id__in=set(document_ids), effective_from__lte=at):
        held = current.get(revision.document_id)
        if held is None or revision.revision > held.revision:
            current[revision.document_id] = revision
    return current


@dataclass(frozen=True)
class OperationRow:
    operation: Operation
    requirements: list[Requirement]
    # The work instruction's revision in effect at the time asked; None without one (or none effective yet).
    work_instruction_revision: DocumentRevision | None


@dataclass(frozen=True)
class RoutingDetail:
    routing: Routing
    operations: list[OperationRow]
    signatures: list[SignatureView]  # each says whether it still matches the routing's content
    in_effect: bool  # the version work orders follow at the time asked

    @property
    def total_standard_minutes(self) -> Any:
        return sum((row.operation.standard_minutes for row in self.operations), start=0)


def routing_detail(*, routing: Routing, at: dt.datetime | None = None) -> RoutingDetail:
    """The routing with its operations in sequence, each with its requirements, equipment class, work
    instruction revision in effect at `at` (default: now) and inspection points, and the routing's
    signatures. A fixed number of queries, however many operations."""
    at = timezone.now() if at is None else at
    operations = list(Operation.objects.filter(routing=routing)
                      .select_related("work_center__line", "equipment_class", "work_instruction").order_by("sequence"))
    requirements = operation_requirements(op.pk for op in operations)
    revisions = _revisions_in_effect((op.work_instruction_id for op in operations if op.work_instruction_id), at)
    current = routing_in_effect(routing.product, at)
    return RoutingDetail(
        routing=routing,
        operations=[OperationRow(op, requirements[op.pk], revisions.get(op.work_instruction_id)) for op in operations],
        signatures=signatures_for(routing),
        in_effect=current is not None and current.pk == routing.pk,
    )
