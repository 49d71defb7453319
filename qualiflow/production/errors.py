from enum import StrEnum


class ProductionErrorCode(StrEnum):
    OUT_OF_SCOPE = "production.out_of_scope"
    CODE_TAKEN = "production.code_taken"
    PRODUCT_INACTIVE = "production.product_inactive"
    ROUTING_NOT_DRAFT = "production.routing_not_draft"
    ROUTING_NOT_APPROVED = "production.routing_not_approved"
    ROUTING_INVALID = "production.routing_invalid"
    OPERATION_INVALID = "production.operation_invalid"
    WORK_ORDER_INVALID = "production.work_order_invalid"
    WORK_ORDER_STATE = "production.work_order_state"
    UNKNOWN_BADGE = "production.unknown_badge"
    UNKNOWN_WORK_ORDER = "production.unknown_work_order"
    UNKNOWN_OPERATION = "production.unknown_operation"
    UNKNOWN_EQUIPMENT = "production.unknown_equipment"
    GATE_REFUSED = "production.gate_refused"
    ALREADY_TRACKED_IN = "production.already_tracked_in"
    NOT_TRACKED_IN = "production.not_tracked_in"
    QUANTITY_EXCEEDED = "production.quantity_exceeded"
    INSPECTION_INVALID = "production.inspection_invalid"
    OVERRIDE_INVALID = "production.override_invalid"
    DHR_INVALID = "production.dhr_invalid"
