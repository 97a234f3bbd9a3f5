"""`alembic check` on a scratch database: models and migrations must not drift.

Uses TEST_DATABASE_URL's server when set, else a throwaway embedded cluster.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
from alembic import command
from sqlalchemy.engine import make_url

from elysium.db import async_url, libpq_url
from elysium.migrate import alembic_config, upgrade_to_head


def main() -> int:
    server = None
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        from elysium.kit.embedded_pg import start_embedded_postgres

        server = start_embedded_postgres(
            Path(tempfile.mkdtemp(prefix="elysium-check-")), throwaway=True
        )
        base = server.get_uri("postgres")
    admin = libpq_url(base)
    name = f"elysium_check_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(async_url(base)).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        command.check(alembic_config(url))
        command.downgrade(alembic_config(url), "base")
        upgrade_to_head(url)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()
    sys.stdout.write("migrations: upgrade, check, downgrade and re-upgrade OK\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
