from enum import StrEnum


class EquipmentErrorCode(StrEnum):
    OUT_OF_SCOPE = "equipment.out_of_scope"
    CODE_TAKEN = "equipment.code_taken"
    PLAN_INVALID = "equipment.plan_invalid"
    RECORD_INVALID = "equipment.record_invalid"
    RECORD_NOT_OPEN = "equipment.record_not_open"
    TECHNICIAN_NOT_QUALIFIED = "equipment.technician_not_qualified"
    CERTIFICATE_INVALID = "equipment.certificate_invalid"
