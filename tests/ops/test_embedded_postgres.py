"""The embedded cluster `make run` uses when DATABASE_URL is unset: it starts, serves, stops."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from elysium.kit.embedded_pg import ensure_database, start_embedded_postgres, stop_embedded_postgres

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Path]]:
    """A cluster (and its data folder) in a folder of its own, all removed afterwards.

    Not under pytest's `tmp_path`: as root the cluster runs as another user, who must traverse
    every parent folder, and any other pytest run starting on the machine sets
    /tmp/pytest-of-<user> back to 0700, locking the cluster out of its data mid-test.
    The library's lock and sockets go to XDG_RUNTIME_DIR, here inside the folder too.
    """
    folder = Path(tempfile.mkdtemp(prefix="elysium-embedded-pg-test-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder / "run"))  # restored afterwards
    data_dir = folder / "data"
    # Throwaway: `cleanup()` below then stops it if need be, deletes its data and drops the
    # library's exit hook, which would otherwise write its lock file into the removed folder.
    server = start_embedded_postgres(data_dir, throwaway=True)
    try:
        yield server, data_dir
    finally:
        stop_embedded_postgres(data_dir)
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_embedded_cluster_serves_and_stop_db_stops_it(cluster: tuple[Any, Path]) -> None:
    server, data_dir = cluster
    url = ensure_database(server).replace("postgresql+asyncpg://", "postgresql://")
    with psycopg.connect(url, connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)

    assert stop_embedded_postgres(data_dir) is True

    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    assert stop_embedded_postgres(data_dir) is False  # nothing left to stop
