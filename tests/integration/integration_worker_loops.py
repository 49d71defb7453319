"""Loop functions for the worker tests."""

from __future__ import annotations

from django.db import OperationalError

calls: list[str] = []


def counting() -> int:
    calls.append("counting")
    return 0


def failing() -> int:
    calls.append("failing")
    raise RuntimeError("this loop is broken")


def database_gone() -> int:
    calls.append("database_gone")
    raise OperationalError("server closed the connection unexpectedly")
