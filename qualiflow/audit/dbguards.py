"""Database-level guards that hold even when the application is bypassed.

* Both engines: UPDATE and DELETE on the audit tables are refused by triggers.
* PostgreSQL: every row change to a regulated table made outside the application (no audit entry in the
  same transaction) is copied, old and new row, into `audit_databasechange`. The trace trigger is
  deferred to commit time, so the application's own writes, which add their audit entry after the row
  change, are recognised by then.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connections

IMMUTABLE_TABLES = ("audit_auditentry", "audit_databasechange", "accounts_esignature")

_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION qualiflow_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'qualiflow: % on % is refused: audit records are immutable', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION qualiflow_trace_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
BEGIN
    IF current_setting('qualiflow.audited', true) IS NOT DISTINCT FROM 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
    INSERT INTO audit_databasechange
        (occurred_at, table_name, operation, row_id, old_row, new_row, database_user, client_address, application_name)
    VALUES (clock_timestamp(), TG_TABLE_NAME, TG_OP, COALESCE(new_row ->> 'id', old_row ->> 'id', ''),
            old_row, new_row, session_user, COALESCE(host(inet_client_addr()), 'local socket'),
            COALESCE(current_setting('application_name', true), ''));
    RETURN NULL;
END $$;
"""


def regulated_tables() -> list[str]:
    from .tracking import AuditedModel

    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if issubclass(m, AuditedModel) and not m._meta.proxy and m._meta.managed
    )


def install_db_guards(*, using: str = "default", **_: object) -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for table in IMMUTABLE_TABLES:
                for op in ("UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_refuse_{op.lower()} BEFORE {op} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, 'qualiflow: {op} on {table} is refused: audit records are immutable'); END"
                    )
        elif connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTIONS)
            for table in IMMUTABLE_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS qualiflow_immutable ON {table}")
                cursor.execute(
                    f"CREATE TRIGGER qualiflow_immutable BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION qualiflow_refuse_change()"
                )
            for table in regulated_tables():
                cursor.execute(f"DROP TRIGGER IF EXISTS qualiflow_trace ON {table}")
                cursor.execute(
                    f"CREATE CONSTRAINT TRIGGER qualiflow_trace AFTER INSERT OR UPDATE OR DELETE ON {table} "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION qualiflow_trace_change()"
                )
