"""Progress of a committing batch, readable while its one big transaction is still open.

The commit writes every row inside one transaction, so progress kept in that transaction would only show
once it is over. On PostgreSQL it goes through a second connection to the same database, committed at
once, into `ImportProgress`. On SQLite that second connection would wait for the commit's write lock, so
it goes into a small side database file of its own (WAL, its own lock) under the var directory.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

_SQLITE_SCHEMA = "CREATE TABLE IF NOT EXISTS progress (batch_id TEXT PRIMARY KEY, done INTEGER, total INTEGER)"


def _side_file() -> Path:
    return Path(settings.VAR_DIR) / "import-progress.sqlite3"


def _side() -> sqlite3.Connection:
    db = sqlite3.connect(_side_file(), timeout=5, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(_SQLITE_SCHEMA)
    return db


class Tracker:
    """Reports `done` of `total` for one batch; opened for the length of a commit."""

    def __init__(self, batch_id: Any, total: int) -> None:
        self.batch_id = str(batch_id)
        self.total = total
        self.postgres = connection.vendor == "postgresql"
        if self.postgres:
            self.db = connection.get_new_connection(connection.get_connection_params())
            self.db.autocommit = True
        else:
            self.db = _side()

    def __enter__(self) -> Tracker:
        self(0)
        return self

    def __exit__(self, *exc: object) -> None:
        # The batch row holds the final count once its transaction is over; the live row is no longer needed.
        try:
            if self.postgres:
                with self.db.cursor() as cursor:
                    cursor.execute("DELETE FROM imports_importprogress WHERE batch_id = %s", [self.batch_id])
            else:
                self.db.execute("DELETE FROM progress WHERE batch_id = ?", [self.batch_id])
        finally:
            self.db.close()

    def __call__(self, done: int) -> None:
        if self.postgres:
            with self.db.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO imports_importprogress (batch_id, done, total) VALUES (%s, %s, %s) "
                    "ON CONFLICT (batch_id) DO UPDATE SET done = EXCLUDED.done, total = EXCLUDED.total",
                    [self.batch_id, done, self.total],
                )
        else:
            self.db.execute("INSERT OR REPLACE INTO progress (batch_id, done, total) VALUES (?, ?, ?)",
                            [self.batch_id, done, self.total])


def read(batch_id: Any) -> tuple[int, int] | None:
    """(done, total) of a batch being committed, as its commit last reported it."""
    if connection.vendor == "postgresql":
        from .models import ImportProgress

        row = ImportProgress.objects.filter(batch_id=batch_id).values_list("done", "total").first()
        return tuple(row) if row else None
    with closing(_side()) as db:
        row = db.execute("SELECT done, total FROM progress WHERE batch_id = ?", [str(batch_id)]).fetchone()
    return tuple(row) if row else None
