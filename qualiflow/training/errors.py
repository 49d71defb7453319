from enum import StrEnum


class TrainingErrorCode(StrEnum):
    CODE_TAKEN = "training.code_taken"
    QUALIFICATION_INACTIVE = "training.qualification_inactive"
    GRANT_DATES_INVALID = "training.grant_dates_invalid"
    GRANT_EVIDENCE_INVALID = "training.grant_evidence_invalid"
    SUSPENSION_DATES_INVALID = "training.suspension_dates_invalid"
    REVOCATION_DATE_INVALID = "training.revocation_date_invalid"
    COURSE_INVALID = "training.course_invalid"
    NOT_HELD = "training.not_held"
    REQUIREMENT_TARGET_INVALID = "training.requirement_target_invalid"
    SIGNATURE_INCOMPLETE = "training.signature_incomplete"
    OUT_OF_SCOPE = "training.out_of_scope"
