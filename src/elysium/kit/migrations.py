"""Helpers for Alembic revisions."""

from __future__ import annotations

from alembic import op
from sqlalchemy.util import await_only


def execute_script(sql: str) -> None:
    """Run a multi-statement SQL script on the raw asyncpg connection (no bind parsing)."""
    driver_connection = op.get_bind().connection.driver_connection
    assert driver_connection is not None
    await_only(driver_connection.execute(sql))


def create_append_only_trigger(table: str) -> None:
    """Make `table` append-only: a trigger refuses UPDATE and DELETE (TRUNCATE still works)."""
    execute_script(
        f"""
        CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{table} is append-only';
        END $$;
        CREATE TRIGGER {table}_no_update_delete
            BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
        """
    )


def drop_append_only_trigger(table: str) -> None:
    """Undo create_append_only_trigger."""
    execute_script(
        f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};"
        f"DROP FUNCTION IF EXISTS {table}_append_only();"
    )
