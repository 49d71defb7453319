"""What every benchmark shares: a throwaway database that is never the installation's own, and running a
measurement in it with Django set up for that database."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _default_sqlite(name: str) -> Path:
    var_dir = Path(os.environ.get("QUALIFLOW_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
    return var_dir / "bench" / name


class ThrowawayDatabase:
    """A fresh database for the run: an SQLite file under var/bench/ (or the explicit sqlite:/// file), or on
    the PostgreSQL server of the explicit URL or of $DATABASE_URL, a database created and dropped."""

    def __init__(self, explicit_url: str, pg_name: str, *, sqlite_name: str) -> None:
        url = explicit_url or os.environ.get("DATABASE_URL", "")
        scheme = urlsplit(url).scheme if url else "sqlite"
        self.engine = "postgresql" if scheme.startswith("postgres") else "sqlite"
        if self.engine == "postgresql":
            parts = urlsplit(url)
            self.server_url = urlunsplit(parts._replace(path="/postgres"))
            self.name = pg_name
            self.url = urlunsplit(parts._replace(path=f"/{pg_name}"))
        else:
            # The installation's own SQLite file is never the throwaway one: only an explicit URL picks the file.
            self.path = (
                Path(urlsplit(explicit_url).path) if explicit_url.startswith("sqlite:///") else _default_sqlite(sqlite_name)
            )
            self.url = f"sqlite:///{self.path}"
            self.name = str(self.path)

    def create(self) -> None:
        if self.engine == "postgresql":
            self._pg(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._remove_sqlite()

    def drop(self) -> None:
        if self.engine == "postgresql":
            self._pg(f'DROP DATABASE IF EXISTS "{self.name}"')
        else:
            self._remove_sqlite()

    def _remove_sqlite(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _pg(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)


def run_isolated(
    *, name: str, database: ThrowawayDatabase, keep: bool, as_json: bool,
    run: Callable[[str], dict], table: Callable[[dict], str],
) -> int:
    """Set Django up on `database`, run the measurement, print its figures, drop the database."""
    from django.apps import apps

    if apps.ready:
        raise SystemExit(f"the {name} benchmark sets up its own database; run it as `qualiflow bench {name}`")
    database.create()
    os.environ["DATABASE_URL"] = database.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualiflow.settings")
    import django

    django.setup()
    from django.db import connections

    try:
        results = run(database.engine)
    finally:
        connections.close_all()
        if not keep:
            database.drop()
    results["database"] = database.name
    print(json.dumps(results, indent=2) if as_json else table(results))
    return 0
