from enum import StrEnum


class PeopleErrorCode(StrEnum):
    EMPLOYEE_NUMBER_TAKEN = "people.employee_number_taken"
    EXTERNAL_REF_TAKEN = "people.external_ref_taken"
    ORG_MISMATCH = "people.org_mismatch"
    MANAGER_INVALID = "people.manager_invalid"
    NOT_ACTIVE = "people.not_active"
    POSITION_DATE_INVALID = "people.position_date_invalid"
    OUT_OF_SCOPE = "people.out_of_scope"
