from enum import StrEnum


class OrgErrorCode(StrEnum):
    CODE_TAKEN = "org.code_taken"
    IN_USE = "org.in_use"
    SITE_MISMATCH = "org.site_mismatch"
