"""Filter translation and the SCIM <-> state mapping, without HTTP."""

from __future__ import annotations

import pytest
from scim2_models import Context

from qualiflow.scim import selectors
from qualiflow.scim.domain.mapping import ContactRefused, display_name, user_state
from qualiflow.scim.errors import ScimError
from qualiflow.scim.resources import ENTERPRISE_SCHEMA, USER_SCHEMA, UserModel


def _user(**extra):
    body = {"schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA], "userName": " bjensen ", "active": True,
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            ENTERPRISE_SCHEMA: {"employeeNumber": "701984", "department": "SZ-ASM", "manager": {"value": "m-1"}}}
    body.update(extra)
    return UserModel.model_validate(body, scim_ctx=Context.RESOURCE_CREATION_REQUEST)


def test_user_state_reads_core_and_enterprise_attributes():
    state = user_state(_user(emails=[{"value": "b@example.com", "type": "work", "primary": True}], externalId="e1"))

    assert (state.user_name, state.family_name, state.given_name, state.active) == ("bjensen", "Jensen", "Barbara", True)
    assert (state.email, state.email_primary, state.phone, state.external_id) == ("b@example.com", True, "", "e1")
    assert (state.employee_number, state.department, state.manager_id) == ("701984", "SZ-ASM", "m-1")


@pytest.mark.parametrize("emails", [
    [{"value": "a@example.com", "type": "work"}, {"value": "b@example.com", "type": "work"}],
    [{"value": "a@example.com", "type": "home"}],
])
def test_more_than_one_or_a_home_address_is_refused(emails):
    with pytest.raises(ContactRefused) as refused:
        user_state(_user(emails=emails))
    assert refused.value.attribute == "emails"


def test_display_name_follows_the_script():
    assert display_name(family_name="王", given_name="芳") == "王芳"
    assert display_name(family_name="Jensen", given_name="Barbara") == "Barbara Jensen"
    assert display_name(family_name="王", given_name="芳", latin_name="Wang Fang") == "Wang Fang"


def _sql(expression: str) -> str:
    return str(selectors.scim_users().filter(selectors.filter_condition(
        expression, fields=selectors.USER_FIELDS, core_prefix=selectors.USER_SCHEMA_PREFIX)).query)


@pytest.mark.django_db
def test_filter_translation_names_the_stored_fields():
    assert 'LIKE' in _sql('userName co "jen"')
    assert '"people_employee"."family_name"' in _sql('name.familyName eq "王"')
    assert '"people_employee"."employee_number"' in _sql(f'{ENTERPRISE_SCHEMA}:employeeNumber eq "1"')
    assert '"people_employee"."email"' in _sql('emails[type eq "work" and value ew "@example.com"]')
    assert '"people_employee"."family_name"' in _sql('urn:ietf:params:scim:schemas:core:2.0:User:name.familyName pr')


@pytest.mark.django_db
@pytest.mark.parametrize("expression, detail", [
    ('nickName eq "x"', "Cannot filter on nickName."),
    ('userName gt 3', 'This comparison is not supported: userName gt 3'),
    ('active eq "yes"', 'This comparison is not supported: active eq "yes"'),
])
def test_filter_refusals_name_the_problem(expression, detail):
    with pytest.raises(ScimError) as refused:
        _sql(expression)
    assert (refused.value.status, str(refused.value.scim_type), str(refused.value.detail)) == (
        400, "invalidFilter", detail)
