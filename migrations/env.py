"""Alembic environment: async engine, the URL every `elysium` command uses."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

import elysium.models  # noqa: F401  (registers every table)
from elysium.config import get_settings
from elysium.db import Base, create_engine, direct_database_url, resolve_database_url

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Ignore tables that are not ours (procrastinate's own schema)."""
    return not (type_ == "table" and reflected and compare_to is None)


def _database_url() -> str:
    """The URL given, else DATABASE_DIRECT_URL (a migration wants a session of its own, not a
    pooler in transaction mode), else DATABASE_URL."""
    given = config.attributes.get("database_url")
    return given or direct_database_url(get_settings(), resolve_database_url(get_settings()))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        compare_server_default=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    # a migration may rewrite a large table: no statement timeout (lock_timeout still applies)
    settings = get_settings().model_copy(
        update={"db_statement_timeout_ms": 0, "db_pgbouncer": False}
    )
    engine = create_engine(settings, _database_url(), application_name="elysium-migrate")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
