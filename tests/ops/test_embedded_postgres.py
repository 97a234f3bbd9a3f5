"""The embedded cluster `make run` uses when DATABASE_URL is unset: it starts, serves, stops."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from elysium.kit.embedded_pg import ensure_database, start_embedded_postgres, stop_embedded_postgres


def test_the_embedded_cluster_serves_and_stop_db_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))  # restored afterwards
    data_dir = tmp_path / "data"
    server = start_embedded_postgres(data_dir)
    url = ensure_database(server).replace("postgresql+asyncpg://", "postgresql://")
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)

        assert stop_embedded_postgres(data_dir) is True

        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2)
        assert stop_embedded_postgres(data_dir) is False  # nothing left to stop
    finally:
        stop_embedded_postgres(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
