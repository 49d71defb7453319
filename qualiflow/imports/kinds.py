"""What each kind of import reads: its fields (the targets of a column mapping) and their checks."""

from __future__ import annotations

from qualiflow.people.models import EmployeeStatus, EmploymentType

from .domain.rows import (
    BOOL,
    CHOICE,
    DATE,
    DECIMAL,
    EMAIL,
    MOMENT,
    REF,
    FieldSpec,
    KindSpec,
    after,
    different,
    same_site,
)
from .models import ImportKind

EXTERNAL_KEY = "external_key"
_KEY = FieldSpec(EXTERNAL_KEY, max_length=200)

SPECS: dict[str, KindSpec] = {
    ImportKind.EMPLOYEES: KindSpec(ImportKind.EMPLOYEES, (
        _KEY,
        FieldSpec("employee_number", required=True, max_length=40),
        FieldSpec("family_name", required=True, max_length=60),
        FieldSpec("given_name", required=True, max_length=60),
        FieldSpec("latin_name", max_length=120),
        FieldSpec("employment_type", CHOICE, choices=tuple(EmploymentType.values)),
        FieldSpec("status", CHOICE, choices=tuple(EmployeeStatus.values)),
        FieldSpec("hire_date", DATE, required=True),
        FieldSpec("termination_date", DATE),
        FieldSpec("birth_date", DATE),
        FieldSpec("site", REF, required=True, ref="site"),
        FieldSpec("department", REF, required=True, ref="department"),
        FieldSpec("line", REF, ref="line"),
        FieldSpec("position", REF, ref="position"),
        FieldSpec("email", EMAIL, max_length=254),
        FieldSpec("phone", max_length=40),
    ), checks=(after("termination_date", "hire_date", strictly=False), same_site("department", "site"),
               same_site("line", "site"))),
    ImportKind.POSITIONS: KindSpec(ImportKind.POSITIONS, (
        _KEY,
        FieldSpec("code", required=True, max_length=40),
        FieldSpec("name", required=True, max_length=200),
        FieldSpec("name_en", max_length=200),
        FieldSpec("department", REF, ref="department"),
        FieldSpec("description"),
    )),
    ImportKind.TRAINING_RECORDS: KindSpec(ImportKind.TRAINING_RECORDS, (
        _KEY,
        FieldSpec("employee_number", REF, required=True, ref="employee"),
        FieldSpec("course", REF, required=True, ref="course"),
        FieldSpec("completed_at", MOMENT, required=True),
        FieldSpec("passed", BOOL, required=True),
        FieldSpec("score", DECIMAL, digits=7, places=2),
        FieldSpec("trainer", REF, ref="employee"),
        FieldSpec("notes"),
    ), checks=(different("trainer", "employee_number"),)),
    ImportKind.CERTIFICATES: KindSpec(ImportKind.CERTIFICATES, (
        _KEY,
        FieldSpec("employee_number", REF, required=True, ref="employee"),
        FieldSpec("qualification", REF, required=True, ref="qualification"),
        FieldSpec("number", required=True, max_length=100),
        FieldSpec("issuer", required=True, max_length=200),
        FieldSpec("issued_on", DATE, required=True),
        FieldSpec("expires_on", DATE),
    ), checks=(after("expires_on", "issued_on", strictly=True),)),
    ImportKind.QUALIFICATION_GRANTS: KindSpec(ImportKind.QUALIFICATION_GRANTS, (
        _KEY,
        FieldSpec("employee_number", REF, required=True, ref="employee"),
        FieldSpec("qualification", REF, required=True, ref="qualification"),
        FieldSpec("valid_from", MOMENT, required=True),
        FieldSpec("valid_until", MOMENT),
        FieldSpec("certificate_number", max_length=100),
        FieldSpec("issuer", max_length=200),
    ), checks=(after("valid_until", "valid_from", strictly=True),)),
}
