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
    REQUIREMENT_TARGET_LOCKED = "training.requirement_target_locked"
    SIGNATURE_INCOMPLETE = "training.signature_incomplete"
    OUT_OF_SCOPE = "training.out_of_scope"
    DOCUMENT_INACTIVE = "training.document_inactive"
    COURSE_INACTIVE = "training.course_inactive"
    # The training loop
    ASSIGNMENT_INVALID = "training.assignment_invalid"
    ASSIGNMENT_CLOSED = "training.assignment_closed"
    SESSION_DATES_INVALID = "training.session_dates_invalid"
    SESSION_FULL = "training.session_full"
    SESSION_CLOSED = "training.session_closed"
    TRAINER_NOT_QUALIFIED = "training.trainer_not_qualified"
    SCORE_OUT_OF_RANGE = "training.score_out_of_range"
    NOT_ENROLLED = "training.not_enrolled"
    LOOP_INCOMPLETE = "training.loop_incomplete"
    EFFECTIVENESS_INVALID = "training.effectiveness_invalid"
    # Certificates
    CERTIFICATE_INVALID = "training.certificate_invalid"
    CERTIFICATE_FILE_TYPE = "training.certificate_file_type"
    CERTIFICATE_FILE_TOO_LARGE = "training.certificate_file_too_large"
    CERTIFICATE_DUPLICATE = "training.certificate_duplicate"
    # Reports and jobs
    REPORT_FILTER_INVALID = "training.report_filter_invalid"
