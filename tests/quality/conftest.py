"""Fixtures for the quality tests: QA users (company-wide and scoped to one site) and an open deviation."""

from __future__ import annotations

import pytest
from quality_helpers import T0

from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.quality import services


@pytest.fixture
def qa(make_user):
    return make_user(Role.QA, username="qa.li")


@pytest.fixture
def qa_site_b(make_user, plant):
    return make_user(Role.QA, username="qa.zhou", scope_kind=ScopeKind.SITE, scope_id=plant.site_b.pk)


@pytest.fixture
def deviation(plant, qa):
    return services.quality_event_open(
        kind="deviation", title="灭菌柜温度记录缺失", description="Chart recorder paper ran out during cycle 42.",
        site=plant.site_a, by=qa, reason="found at batch review", at=T0,
    )
