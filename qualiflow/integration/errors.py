from enum import StrEnum


class IntegrationErrorCode(StrEnum):
    NOT_ALLOWED = "integration.not_allowed"
    WEBHOOK_INVALID = "integration.webhook_invalid"
    DELIVERY_PENDING = "integration.delivery_pending"
