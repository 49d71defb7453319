"""Fixtures for the training tests: a qualification with a one-year validity and a training coordinator."""

from __future__ import annotations

import pytest

from qualiflow.accounts.roles import Role
from qualiflow.training import services


@pytest.fixture
def eo_operator(db):
    return services.qualification_create(
        data={"code": "Q-EO-OP", "name": "环氧乙烷灭菌操作资质", "name_en": "EO steriliser operator",
              "validity_days": 365, "renewal_lead_days": 30},
        reason="qualification catalogue set-up",
    )


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.TRAINING_COORDINATOR)
