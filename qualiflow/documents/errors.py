from enum import StrEnum


class DocumentErrorCode(StrEnum):
    CODE_TAKEN = "documents.code_taken"
    REVISION_INVALID = "documents.revision_invalid"
    REVISION_TAKEN = "documents.revision_taken"
    OUT_OF_SCOPE = "documents.out_of_scope"
