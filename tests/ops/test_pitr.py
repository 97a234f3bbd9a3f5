"""Point-in-time recovery with deploy/pitr: a throwaway cluster archives its WAL (archive-wal.sh),
takes a base backup (base-backup.sh), changes data; restore-to-time.sh brings back the data of
a chosen moment and nothing later. Uses the machine's PostgreSQL binaries."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from elysium.migrate import PROJECT_ROOT
from pg_cluster import (
    Cluster,
    free_port,
    give_to_server_user,
    make_dirs,
    postgres_bin,
    run_as_server_user,
    server_folder,
    wait_promoted,
)

pytestmark = pytest.mark.slow  # two PostgreSQL clusters started and stopped

PITR = PROJECT_ROOT / "deploy" / "pitr"


@pytest.fixture
def folder() -> Iterator[Path]:
    with server_folder("elysium-pitr-") as path:
        yield path


def test_restore_to_a_chosen_time_finds_that_moment(folder: Path) -> None:
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    archive, base = folder / "wal", folder / "base"
    make_dirs(archive, base)
    # The clusters' user must reach the scripts: a checkout under a private folder (a CI clone
    # in a 0700 temporary directory) is out of its reach, so the scripts are copied beside it.
    scripts = folder / "pitr"
    shutil.copytree(PITR, scripts)
    give_to_server_user(scripts)
    primary = Cluster(bindir, folder / "data", free_port(), sockets=folder)
    twin = Cluster(bindir, folder / "restored", free_port(), sockets=folder)
    primary.init(
        "wal_level = replica\narchive_mode = on\n"
        f"archive_command = '{scripts / 'archive-wal.sh'} %p %f {archive}'\n"
    )
    primary.start()
    try:
        primary.query("CREATE TABLE sales (n int PRIMARY KEY)")
        primary.query("INSERT INTO sales VALUES (1)")
        conninfo = f"host=127.0.0.1 port={primary.port} user=postgres dbname=postgres"
        run_as_server_user(scripts / "base-backup.sh", conninfo, base / "b1",
                           env=os.environ | {"PG_BIN_DIR": str(bindir)})  # fmt: skip
        primary.query("INSERT INTO sales VALUES (2)")
        target = str(primary.query("SELECT clock_timestamp()::text")[0][0])
        primary.query("INSERT INTO sales VALUES (3)")
        segment = str(primary.query("SELECT pg_walfile_name(pg_switch_wal())")[0][0])
        _wait_archived(archive, segment)
        primary.stop()

        make_dirs(twin.data)
        run_as_server_user(scripts / "restore-to-time.sh", base / "b1", archive, twin.data, target)
        twin.start()
        wait_promoted(twin)
        assert twin.query("SELECT n FROM sales ORDER BY n") == [(1,), (2,)]  # not the later one
    finally:
        twin.stop()
        primary.stop()


def _wait_archived(archive: Path, segment: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not (archive / segment).exists():
        assert time.monotonic() < deadline, f"{segment} was not archived"
        time.sleep(0.2)
