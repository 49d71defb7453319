"""Shared values of the quality tests."""

from __future__ import annotations

from datetime import UTC, datetime

PASSWORD = "Correct-Horse-42"  # every test user's password (tests/conftest.py)
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
