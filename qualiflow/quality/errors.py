from enum import StrEnum


class QualityErrorCode(StrEnum):
    OUT_OF_SCOPE = "quality.out_of_scope"
    EVENT_INVALID = "quality.event_invalid"
    EVENT_CLOSED = "quality.event_closed"
