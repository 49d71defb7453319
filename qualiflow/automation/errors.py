from enum import StrEnum


class AutomationErrorCode(StrEnum):
    CONDITION_INVALID = "automation.condition_invalid"
    ACTIONS_INVALID = "automation.actions_invalid"
    TRIGGERS_INVALID = "automation.triggers_invalid"
    RULE_INVALID = "automation.rule_invalid"
    NAME_TAKEN = "automation.name_taken"
    SIGNATURE_REQUIRED = "automation.signature_required"
    NOT_ALLOWED = "automation.not_allowed"
