"""Throwaway databases for tooling (benchmarks, the migration check).

On the server named by TEST_DATABASE_URL when set, else on a throwaway embedded cluster.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from elysium.db import async_url, libpq_url


@contextmanager
def scratch_database(prefix: str = "elysium_scratch") -> Iterator[str]:
    """Create an empty database, yield its asyncpg URL, drop it afterwards."""
    server = None
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        from elysium.kit.embedded_pg import start_embedded_postgres

        folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
        server = start_embedded_postgres(folder, throwaway=True)
        base = server.get_uri("postgres")
    admin = libpq_url(base)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(async_url(base)).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()
