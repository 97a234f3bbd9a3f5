"""Point-in-time recovery with deploy/pitr: a throwaway cluster archives its WAL (archive-wal.sh),
takes a base backup (base-backup.sh), changes data; restore-to-time.sh brings back the data of
a chosen moment and nothing later. Uses the machine's PostgreSQL binaries."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from elysium.migrate import PROJECT_ROOT
from live_server import free_port

pytestmark = pytest.mark.slow  # two PostgreSQL clusters started and stopped

PITR = PROJECT_ROOT / "deploy" / "pitr"


def _bin_dir() -> Path | None:
    needed = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if all((folder / name).exists() for name in needed):
            return folder
    return None


def _run_as() -> str | None:
    """initdb refuses root: as root, run the clusters as `postgres`."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no `postgres` user for the test cluster")
    return "postgres"


class Cluster:
    def __init__(self, bindir: Path, data: Path, folder: Path, user: str | None) -> None:
        self.bindir, self.data, self.folder, self.user = bindir, data, folder, user
        self.port = free_port()

    def run(self, *argv: str, env: dict[str, str] | None = None) -> None:
        subprocess.run(argv, check=True, user=self.user, env=env, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=''"
        log = str(self.folder / f"pg-{self.port}.log")
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log,
                 "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            user=self.user, capture_output=True, check=False,
        )  # fmt: skip

    @property
    def conninfo(self) -> str:
        return f"host={self.folder} port={self.port} user=postgres dbname=postgres"

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.conninfo, autocommit=True)


@pytest.fixture
def folder() -> Iterator[Path]:
    # Not under pytest's 0700 tmp folder: the clusters run as another user who must enter it.
    path = Path(tempfile.mkdtemp(prefix="elysium-pitr-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_restore_to_a_chosen_time_finds_that_moment(folder: Path) -> None:
    bindir = _bin_dir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    user = _run_as()
    archive, base, data, restored = (folder / n for n in ("wal", "base", "data", "restored"))
    for path in (archive, base):
        path.mkdir()
    # The clusters' user must reach the scripts: a checkout under a private folder (a CI clone
    # in a 0700 temporary directory) is out of its reach, so the scripts are copied beside it.
    scripts = folder / "pitr"
    shutil.copytree(PITR, scripts)
    if user:
        for path in (folder, archive, base, scripts):
            shutil.chown(path, user)
    primary = Cluster(bindir, data, folder, user)
    primary.run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            "wal_level = replica\narchive_mode = on\n"
            f"archive_command = '{scripts / 'archive-wal.sh'} %p %f {archive}'\n"
        )
    primary.start()
    twin: Cluster | None = None
    try:
        with primary.connect() as conn:
            conn.execute("CREATE TABLE sales (n int PRIMARY KEY)")
            conn.execute("INSERT INTO sales VALUES (1)")
        primary.run(str(scripts / "base-backup.sh"), primary.conninfo, str(base / "b1"),
                    env=os.environ | {"PG_BIN_DIR": str(bindir)})  # fmt: skip
        with primary.connect() as conn:
            conn.execute("INSERT INTO sales VALUES (2)")
            time.sleep(1.1)
            row = conn.execute("SELECT now()").fetchone()
            assert row is not None
            target: datetime = row[0]  # type: ignore[assignment]
            time.sleep(1.1)
            conn.execute("INSERT INTO sales VALUES (3)")
            segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
            assert segment is not None
            _wait_archived(archive, str(segment[0]))
        primary.stop()

        restored.mkdir()
        if user:
            shutil.chown(restored, user)
        primary.run(str(scripts / "restore-to-time.sh"), str(base / "b1"), str(archive),
                    str(restored), target.isoformat())  # fmt: skip
        twin = Cluster(bindir, restored, folder, user)
        twin.start()
        rows = _rows_once_promoted(twin)
        assert rows == [1, 2]  # that moment's sales, and not the later one
    finally:
        primary.stop()
        if twin is not None:
            twin.stop()


def _wait_archived(archive: Path, segment: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not (archive / segment).exists():
        assert time.monotonic() < deadline, f"{segment} was not archived"
        time.sleep(0.2)


def _rows_once_promoted(cluster: Cluster, within: float = 60) -> list[int]:
    deadline = time.monotonic() + within
    while True:
        with cluster.connect() as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row is not None and not row[0]:
                return [int(r[0]) for r in conn.execute("SELECT n FROM sales ORDER BY n")]  # type: ignore[call-overload]
        assert time.monotonic() < deadline, "the restored cluster did not finish recovery"
        time.sleep(0.3)
