from enum import StrEnum


class ImportsErrorCode(StrEnum):
    SOURCE_UNKNOWN = "imports.source_unknown"
    SOURCE_CODE_TAKEN = "imports.source_code_taken"
    MAPPING_INVALID = "imports.mapping_invalid"
    FILE_UNREADABLE = "imports.file_unreadable"
    KIND_UNKNOWN = "imports.kind_unknown"
    NOT_VALIDATED = "imports.not_validated"
    HAS_ERRORS = "imports.has_errors"
    WRONG_STATUS = "imports.wrong_status"
    ROLLBACK_REFUSED = "imports.rollback_refused"
