from __future__ import annotations

import pytest
from django.db import connection

from qualiflow.audit.dbguards import IMMUTABLE_TABLES, install_db_guards


@pytest.fixture
def audit_rows_cleared_at_teardown(transactional_db):
    """A transactional test ends with a flush; SQLite flushes with DELETE, which the audit tables'
    immutability triggers refuse, so their rows are cleared here first with the triggers briefly lifted.
    (PostgreSQL flushes with TRUNCATE, which row triggers do not see.)"""
    yield
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for table in IMMUTABLE_TABLES:
            for op in ("update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_{op}")
        for table in reversed(IMMUTABLE_TABLES):
            cursor.execute(f"DELETE FROM {table}")
    install_db_guards()
