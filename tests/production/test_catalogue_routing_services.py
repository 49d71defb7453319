"""Catalogue services: products, routing versions (create, copy, approve with an e-signature, retire), the
operations of drafts with their required qualifications and inspection points, and which version is in
effect when. Refusals write nothing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from qualiflow.accounts.models import ESignature
from qualiflow.accounts.roles import Role
from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.documents import services as document_services
from qualiflow.integration.models import OutboxEvent
from qualiflow.org import services as org_services
from qualiflow.production.models import Operation, Routing
from qualiflow.production.selectors import catalogue as selectors
from qualiflow.production.services import catalogue
from qualiflow.training.models import Requirement, TargetKind
from qualiflow.training.services import catalogue as training_catalogue
from qualiflow.training.services.catalogue import RequirementItem
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in English, whatever language an earlier request left active."""
    with translation.override("en"):
        yield


def _written() -> tuple[int, ...]:
    return (AuditEntry.objects.count(), OutboxEvent.objects.count(), ESignature.objects.count(),
            Routing.objects.count(), Operation.objects.count(), Requirement.objects.count())


def _events(kind: str) -> list[dict]:
    return [event.data for event in OutboxEvent.objects.filter(type=kind).order_by("time", "id")]


def _operation(work_center, **data) -> dict:
    return {"sequence": 10, "name": "装配", "work_center": work_center, "standard_minutes": Decimal("2.00"), **data}


def _refused(exc_info, code: str) -> dict:
    assert exc_info.value.code == code
    return {name: [str(m) for m in messages] for name, messages in exc_info.value.details["fields"].items()}


# ---- products ----------------------------------------------------------------------------------------


def test_product_create_and_update_audit_and_announce(product, production_supervisor):
    created = AuditEntry.objects.get(object_type="production.product", object_id=str(product.pk))
    assert (created.action, created.reason) == ("create", "catalogue set-up")
    assert _events("production.product.created") == [{
        "code": "IS-20", "name": "一次性使用输液器", "model": "IS-20-L", "device_class": "II",
        "udi_di": "06901234567892", "is_active": True}]

    before = _written()
    catalogue.product_update(product=product, data={"model": "IS-20-L"}, by=production_supervisor, reason="same")
    assert _written() == before

    catalogue.product_update(product=product, data={"model": " IS-20-XL ", "udi_di": ""}, by=production_supervisor,
                             reason="Model renamed by RA")
    product.refresh_from_db()
    assert (product.model, product.udi_di) == ("IS-20-XL", "")
    entry = AuditEntry.objects.get(object_id=str(product.pk), action="update")
    assert json.loads(entry.changes) == {"model": ["IS-20-L", "IS-20-XL"], "udi_di": ["06901234567892", ""]}
    assert entry.reason == "Model renamed by RA"
    assert _events("production.product.updated")[0]["fields"] == ["model", "udi_di"]


def test_product_code_and_udi_di_are_unique(product):
    before = _written()
    with pytest.raises(ValidationFailed) as exc:
        catalogue.product_create(data={"code": "IS-20", "name": "x", "device_class": "I"}, reason="dup")
    assert _refused(exc, "production.code_taken") == {"code": ["The code IS-20 is already used."]}
    with pytest.raises(ValidationFailed) as exc:
        catalogue.product_create(data={"code": "IS-30", "name": "x", "device_class": "I", "udi_di": "06901234567892"},
                                 reason="dup")
    assert _refused(exc, "production.code_taken") == {
        "udi_di": ["The UDI-DI 06901234567892 is already used by another product."]}
    # Products without a UDI-DI are many.
    catalogue.product_create(data={"code": "IS-30", "name": "x", "device_class": "I"}, reason="new")
    catalogue.product_create(data={"code": "IS-31", "name": "y", "device_class": "III"}, reason="new")
    assert _written()[1] == before[1] + 2


def test_catalogue_writes_need_production_manage_and_a_reason(product, make_user):
    operator = make_user(Role.OPERATOR)
    before = _written()
    with pytest.raises(PermissionDenied) as exc:
        catalogue.product_update(product=product, data={"name": "x"}, by=operator, reason="try")
    assert exc.value.code == "production.out_of_scope"
    with pytest.raises(PermissionDenied):
        catalogue.routing_create(product=product, by=operator, reason="try")
    with pytest.raises(ValidationFailed) as exc:
        catalogue.routing_create(product=product, reason="  ")
    assert exc.value.code == "core.reason_required"
    assert _written() == before


# ---- routing versions --------------------------------------------------------------------------------


def test_routing_versions_are_numbered_per_product_and_start_as_drafts(product, production_supervisor):
    first = catalogue.routing_create(product=product, notes=" 首版 ", by=production_supervisor, reason="new")
    second = catalogue.routing_create(product=product, by=production_supervisor, reason="alternative")
    other = catalogue.product_create(data={"code": "EX-1", "name": "延长管", "device_class": "I"}, reason="new")
    assert [(r.version, r.status, r.notes) for r in (first, second)] == [(1, "draft", "首版"), (2, "draft", "")]
    assert catalogue.routing_create(product=other, reason="new").version == 1
    assert _events("production.routing.created")[0] == {
        "product_id": str(product.pk), "product_code": "IS-20", "version": 1, "status": "draft",
        "effective_from": None, "approved_at": None, "copied_from": None}

    catalogue.product_update(product=other, data={"is_active": False}, reason="discontinued")
    before = _written()
    with pytest.raises(ValidationFailed) as exc:
        catalogue.routing_create(product=other, reason="new")
    assert _refused(exc, "production.product_inactive") == {"__all__": ["The product EX-1 is no longer in use."]}
    assert _written() == before


def test_copy_makes_the_next_draft_with_the_operations_and_their_requirements(routing_approved,
                                                                            operation_qualifications):
    copy = catalogue.routing_copy(routing=routing_approved, reason="Faster sealing")
    assert (copy.version, copy.status, copy.notes, copy.effective_from) == (2, "draft", "首版工艺", None)
    fields = ("sequence", "name", "name_en", "work_center_id", "standard_minutes", "equipment_class_id",
              "work_instruction_id", "inspection_points")
    assert (list(copy.operations.order_by("sequence").values_list(*fields))
            == list(routing_approved.operations.order_by("sequence").values_list(*fields)))
    required = selectors.operation_requirements(copy.operations.values_list("pk", flat=True))
    by_sequence = {copy.operations.get(pk=pk).sequence: [r.qualification.code for r in rows] for pk, rows in required.items()}
    assert by_sequence == {10: ["Q-ASM"], 20: ["Q-EO"], 30: ["Q-PK"]}
    # The approved version is untouched and still the one in effect.
    assert selectors.routing_in_effect(routing_approved.product) == routing_approved
    assert routing_approved.operations.count() == 3
    event = _events("production.routing.created")[-1]
    assert (event["version"], event["copied_from_version"], event["dropped_requirements"]) == (2, 1, [])
    assert AuditEntry.objects.get(object_id=str(copy.pk), action="create").reason == "Faster sealing"


def test_copy_leaves_out_requirements_on_qualifications_no_longer_in_use(routing_approved, operation_qualifications):
    training_catalogue.qualification_deactivate(qualification=operation_qualifications[20], reason="merged into Q-ASM")
    copy = catalogue.routing_copy(routing=routing_approved, notes="v2", reason="revision")
    assert copy.notes == "v2"
    assert copy.dropped_requirements == [{"sequence": 20, "qualification_code": "Q-EO"}]
    operation = copy.operations.get(sequence=20)
    assert selectors.operation_requirements([operation.pk]) == {operation.pk: []}


def test_training_cannot_change_what_an_approved_routings_operation_requires(routing_approved,
                                                                             operation_qualifications):
    """The requirements are part of the signed routing: training's own paths (the requirement editor and
    `PUT /training/requirements/operation/{id}`) refuse them, and write nothing."""
    sealing = routing_approved.operations.get(sequence=30)
    requirement = Requirement.objects.get(target_kind=TargetKind.OPERATION, target_id=sealing.pk)
    before = _written()
    message = ("The operation belongs to version 1 of the routing of IS-20, which is Approved: "
               "change its requirements in a new version of the routing.")
    with pytest.raises(ValidationFailed) as exc:
        training_catalogue.requirements_replace(
            target_kind=TargetKind.OPERATION, target_id=sealing.pk,
            items=[RequirementItem(operation_qualifications[10])], reason="add assembly")
    assert _refused(exc, "training.requirement_target_locked") == {"target_id": [message]}
    with pytest.raises(ValidationFailed) as exc:
        training_catalogue.requirement_remove(requirement=requirement, reason="not needed")
    assert _refused(exc, "training.requirement_target_locked") == {"target_id": [message]}
    assert _written() == before
    # Asking for what is already required changes nothing and is not refused.
    kept = training_catalogue.requirements_replace(
        target_kind=TargetKind.OPERATION, target_id=sealing.pk,
        items=[RequirementItem(operation_qualifications[30])], reason="confirm")
    assert kept == [requirement]
    assert _written() == before


def test_training_may_change_what_a_draft_routings_operation_requires(routing_approved, operation_qualifications):
    draft = catalogue.routing_copy(routing=routing_approved, reason="revision")
    sealing = draft.operations.get(sequence=30)
    training_catalogue.requirements_replace(
        target_kind=TargetKind.OPERATION, target_id=sealing.pk,
        items=[RequirementItem(operation_qualifications[10])], reason="assembly too")
    assert list(Requirement.objects.filter(target_kind=TargetKind.OPERATION, target_id=sealing.pk)
                .values_list("qualification__code", flat=True)) == ["Q-ASM"]


# ---- operations --------------------------------------------------------------------------------------


def test_operation_create_stores_cleaned_points_and_requirements(product, work_centers, equipment_class,
                                                                 work_instruction, operation_qualifications,
                                                                 production_supervisor):
    routing = catalogue.routing_create(product=product, reason="new")
    operation = catalogue.operation_create(
        routing=routing,
        data=_operation(work_centers[0], equipment_class=equipment_class, work_instruction=work_instruction,
                        inspection_points=[{"code": " FLOW ", "characteristic": "Flow rate", "unit": "mL/min",
                                            "lower": Decimal("19.5"), "upper": 21},
                                           {"code": "VIS", "characteristic": "Visual", "lower": None, "upper": None}]),
        requirements=[RequirementItem(operation_qualifications[10]),
                      RequirementItem(operation_qualifications[20], mandatory=False, grace_days=14)],
        by=production_supervisor, reason="Assembly step",
    )
    assert operation.inspection_points == [
        {"code": "FLOW", "characteristic": "Flow rate", "unit": "mL/min", "lower": 19.5, "upper": 21},
        {"code": "VIS", "characteristic": "Visual", "unit": "", "lower": None, "upper": None},
    ]
    rows = Requirement.objects.filter(target_kind=TargetKind.OPERATION, target_id=operation.pk).order_by(
        "qualification__code")
    assert [(r.qualification.code, r.mandatory, r.grace_days) for r in rows] == [("Q-ASM", True, 0), ("Q-EO", False, 14)]
    assert {e.reason for e in AuditEntry.objects.filter(object_type="training.requirement")} == {"Assembly step"}
    event = _events("production.operation.created")[0]
    assert (event["sequence"], event["standard_minutes"], event["qualification_codes"]) == (10, "2.00", ["Q-ASM", "Q-EO"])


def test_operation_rules_are_refused_with_field_messages(product, work_centers, work_instruction, equipment_class):
    routing = catalogue.routing_create(product=product, reason="new")
    catalogue.operation_create(routing=routing, data=_operation(work_centers[0]), reason="first")
    org_services.org_unit_deactivate(unit=work_centers[1], reason="moved")
    document_services.document_update(document=work_instruction, data={"is_active": False}, reason="withdrawn")
    cases = (
        (_operation(work_centers[2]), {"sequence": ["This routing already has an operation 10."]}),
        (_operation(work_centers[1], sequence=20), {"work_center": ["The work center WC-A2 is no longer in use."]}),
        (_operation(work_centers[2], sequence=20, work_instruction=work_instruction),
         {"work_instruction": ["The document WI-PK-001 is no longer in use."]}),
        (_operation(work_centers[2], sequence=20, standard_minutes=Decimal("-1")),
         {"__all__": ["The standard time cannot be negative."]}),
    )
    before = _written()
    for data, fields in cases:
        with pytest.raises(ValidationFailed) as exc:
            catalogue.operation_create(routing=routing, data=data, reason="try")
        assert {k: [str(m) for m in v] for k, v in exc.value.fields.items()} == fields
    assert _written() == before


@pytest.mark.parametrize(("points", "messages"), [
    ([{"code": "A", "characteristic": "Length", "unit": "mm", "lower": 5, "upper": 4}],
     ["Point 1: the lower limit is above the upper limit."]),
    ([{"code": "A", "characteristic": "Length"}, {"code": "A", "characteristic": "Width"}],
     ["Point 2: the code A is used twice."]),
    ([{"code": "", "characteristic": "", "lower": "five", "upper": True}],
     ["Point 1: the code is required.", "Point 1: say what is checked (the characteristic).",
      "Point 1: the lower limit must be a number.", "Point 1: the upper limit must be a number."]),
    ([{"code": "A", "characteristic": "x", "limit": 1}, "A"],
     ["Point 1: unknown fields limit.", "Point 2: give code, characteristic, unit, lower and upper."]),
    ([{"code": "A", "characteristic": "x", "lower": float("nan")}], ["Point 1: the lower limit must be a number."]),
    ({"code": "A"}, ["Inspection points are a list."]),
])
def test_inspection_points_are_validated_point_by_point(points, messages):
    with pytest.raises(ValidationFailed) as exc:
        catalogue.clean_inspection_points(points)
    assert exc.value.code == "production.operation_invalid"
    assert [str(m) for m in exc.value.fields["inspection_points"]] == messages


def test_one_sided_limits_are_allowed():
    assert catalogue.clean_inspection_points([{"code": "PULL", "characteristic": "Pull force", "unit": "N",
                                               "lower": 15}]) == [
        {"code": "PULL", "characteristic": "Pull force", "unit": "N", "lower": 15, "upper": None}]


def test_operation_update_and_requirements_on_a_draft(product, work_centers, operation_qualifications,
                                                      production_supervisor):
    routing = catalogue.routing_create(product=product, reason="new")
    operation = catalogue.operation_create(routing=routing, data=_operation(work_centers[0]),
                                           requirements=[RequirementItem(operation_qualifications[10])], reason="first")
    before = _written()
    catalogue.operation_update(operation=operation, data={"name": "装配"},
                               requirements=[RequirementItem(operation_qualifications[10])], reason="same")
    assert _written() == before

    catalogue.operation_update(operation=operation, data={"sequence": 15, "standard_minutes": Decimal("2.5")},
                               by=production_supervisor, reason="Re-timed")
    rows = catalogue.operation_requirements_set(
        operation=operation, items=[RequirementItem(operation_qualifications[30])], by=production_supervisor,
        reason="Packaging now done here",
    )
    assert [r.qualification.code for r in rows] == ["Q-PK"]
    operation.refresh_from_db()
    assert (operation.sequence, operation.standard_minutes) == (15, Decimal("2.50"))
    assert [e["fields"] for e in _events("production.operation.updated")] == [
        ["sequence", "standard_minutes"], ["requirements"]]
    assert [e.action for e in AuditEntry.objects.filter(object_type="training.requirement").order_by("seq")] == [
        "create", "create", "delete"]


def test_approved_routings_are_immutable(routing_approved, work_centers, operation_qualifications):
    operation = routing_approved.operations.get(sequence=10)
    before = _written()
    attempts = (
        lambda: catalogue.operation_create(routing=routing_approved, data=_operation(work_centers[0], sequence=40),
                                           reason="try"),
        lambda: catalogue.operation_update(operation=operation, data={"name": "x"}, reason="try"),
        lambda: catalogue.operation_requirements_set(operation=operation, items=[], reason="try"),
        lambda: catalogue.operation_remove(operation=operation, reason="try"),
        lambda: catalogue.routing_update(routing=routing_approved, data={"notes": "x"}, reason="try"),
    )
    for attempt in attempts:
        with pytest.raises(ValidationFailed) as exc:
            attempt()
        assert _refused(exc, "production.routing_not_draft") == {
            "__all__": ["Version 1 is approved and can no longer be changed; copy it into a new version."]}
    assert _written() == before


def test_operation_remove_takes_its_requirements_along(product, work_centers, operation_qualifications):
    routing = catalogue.routing_create(product=product, reason="new")
    operation = catalogue.operation_create(routing=routing, data=_operation(work_centers[0]),
                                           requirements=[RequirementItem(operation_qualifications[10])], reason="first")
    catalogue.operation_remove(operation=operation, reason="Merged into 20")
    assert not Operation.objects.filter(pk=operation.pk).exists()
    assert not Requirement.objects.filter(target_kind=TargetKind.OPERATION, target_id=operation.pk).exists()
    assert AuditEntry.objects.get(object_id=str(operation.pk), action="delete").reason == "Merged into 20"
    assert _events("production.operation.removed")[0]["sequence"] == 10


# ---- approval ----------------------------------------------------------------------------------------


def test_approval_signs_and_puts_the_version_in_effect(routing_approved, production_supervisor):
    assert (routing_approved.status, routing_approved.approved_at is not None) == ("approved", True)
    signature = ESignature.objects.get(object_type="production.routing", object_id=str(routing_approved.pk))
    assert (signature.signer, signature.meaning, signature.reason) == (production_supervisor, "approved",
                                                                       "Process validated")
    detail = selectors.routing_detail(routing=routing_approved)
    assert [s.matches for s in detail.signatures] == [True] and detail.in_effect
    event = _events("production.routing.approved")[0]
    assert (event["version"], event["signer"], event["operations"], event["signature_id"]) == (
        1, production_supervisor.username, 3, str(signature.pk))


def test_a_wrong_password_approves_nothing_and_writes_nothing(product, work_centers, production_supervisor):
    routing = catalogue.routing_create(product=product, reason="new")
    catalogue.operation_create(routing=routing, data=_operation(work_centers[0]), reason="first")
    before = _written()
    with pytest.raises(PermissionDenied) as exc:
        catalogue.routing_approve(routing=routing, signer=production_supervisor, password="wrong", reason="ok")
    assert exc.value.code == "accounts.signature_password_invalid"
    assert _written() == before
    routing.refresh_from_db()
    assert (routing.status, routing.approved_at, routing.effective_from) == ("draft", None, None)


def test_approval_refusals(product, work_centers, production_supervisor, make_user):
    routing = catalogue.routing_create(product=product, reason="new")
    before = _written()
    with pytest.raises(ValidationFailed) as exc:
        catalogue.routing_approve(routing=routing, signer=production_supervisor, password=PASSWORD, reason="ok")
    assert _refused(exc, "production.routing_invalid") == {"__all__": ["A routing needs at least one operation."]}

    catalogue.operation_create(routing=routing, data=_operation(work_centers[0]), reason="first")
    org_services.org_unit_deactivate(unit=work_centers[0], reason="moved")
    with pytest.raises(ValidationFailed) as exc:
        catalogue.routing_approve(routing=routing, signer=production_supervisor, password=PASSWORD, reason="ok")
    assert _refused(exc, "production.routing_invalid") == {
        "__all__": ["Operation 10: its work center is no longer in use."]}

    past = timezone.now() - dt.timedelta(hours=1)
    with pytest.raises(ValidationFailed) as exc:
        catalogue.routing_approve(routing=routing, signer=production_supervisor, password=PASSWORD,
                                  effective_from=past, reason="ok")
    assert _refused(exc, "production.routing_invalid") == {"effective_from": ["The effective date cannot lie in the past."]}

    qa = make_user(Role.QA)  # signs records, but does not manage production
    with pytest.raises(PermissionDenied) as exc:
        catalogue.routing_approve(routing=routing, signer=qa, password=PASSWORD, reason="ok")
    assert exc.value.code == "production.out_of_scope"
    routing.refresh_from_db()
    assert routing.status == "draft"
    assert _written()[2:] == (before[2], before[3], before[4] + 1, before[5])


def test_routing_in_effect_follows_effective_dates(routing_approved, production_supervisor):
    product = routing_approved.product
    v1_from = routing_approved.effective_from
    assert selectors.routing_in_effect(product, v1_from - dt.timedelta(seconds=1)) is None
    assert selectors.routing_in_effect(product, v1_from) == routing_approved

    v2 = catalogue.routing_copy(routing=routing_approved, reason="revision")
    v2_from = timezone.now() + dt.timedelta(days=10)
    with pytest.raises(ValidationFailed) as exc:
        catalogue.routing_approve(routing=v2, signer=production_supervisor, password=PASSWORD,
                                  effective_from=v1_from, reason="ok")
    assert exc.value.code == "production.routing_invalid" and list(exc.value.fields) == ["effective_from"]
    catalogue.routing_approve(routing=v2, signer=production_supervisor, password=PASSWORD, effective_from=v2_from,
                              reason="Validated change")
    assert selectors.routing_in_effect(product) == routing_approved
    assert selectors.routing_in_effect(product, v2_from - dt.timedelta(seconds=1)) == routing_approved
    assert selectors.routing_in_effect(product, v2_from) == v2
    # Both stay approved: the older one still explains what was made before v2 took over.
    assert set(Routing.objects.filter(product=product).values_list("version", "status")) == {
        (1, "approved"), (2, "approved")}

    catalogue.routing_retire(routing=v2, by=production_supervisor, reason="Supplier issue")
    assert selectors.routing_in_effect(product, v2_from) == routing_approved
    assert _events("production.routing.retired")[0]["version"] == 2
    with pytest.raises(ValidationFailed) as exc:
        catalogue.routing_retire(routing=v2, reason="again")
    assert _refused(exc, "production.routing_not_approved") == {"__all__": ["Only an approved routing can be retired."]}


def test_routing_detail_reads_in_a_fixed_number_of_queries(routing_approved, django_assert_num_queries):
    routing = selectors.routing_get(routing_id=routing_approved.pk)
    # operations, requirements, work instruction revisions, the version in effect, signatures
    with django_assert_num_queries(5):
        detail = selectors.routing_detail(routing=routing)
        rows = [(row.operation.sequence, row.operation.work_center.code,
                 row.operation.equipment_class.code if row.operation.equipment_class else None,
                 row.work_instruction_revision.label if row.work_instruction_revision else None,
                 [r.qualification.code for r in row.requirements]) for row in detail.operations]
    assert rows == [(10, "WC-A1", None, None, ["Q-ASM"]), (20, "WC-A2", "EQ-EO", None, ["Q-EO"]),
                    (30, "WC-A3", None, "A", ["Q-PK"])]
    assert detail.total_standard_minutes == Decimal("2.50")
    with django_assert_num_queries(1):
        selectors.operation_requirements([row.operation.pk for row in detail.operations])


def test_product_list_filters_and_shows_the_version_in_effect(routing_approved):
    catalogue.product_create(data={"code": "EX-1", "name": "延长管", "name_en": "Extension line", "device_class": "I"},
                             reason="new")
    rows = {p.code: (p.routing_count, p.version_in_effect) for p in selectors.product_list()}
    assert rows == {"EX-1": (0, None), "IS-20": (1, 1)}
    assert [p.code for p in selectors.product_list(search="extension")] == ["EX-1"]
    assert [p.code for p in selectors.product_list(device_class="II")] == ["IS-20"]
    assert [p.code for p in selectors.product_list(ordering="-code")] == ["IS-20", "EX-1"]
