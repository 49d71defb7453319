"""Fixtures for the audit-trail tests."""

from __future__ import annotations

import pytest
from audit_helpers import Tamperer
from django.db import connection


@pytest.fixture
def tamper(db) -> Tamperer:
    return Tamperer()


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("database-level tracing of raw SQL writes exists only on PostgreSQL")
