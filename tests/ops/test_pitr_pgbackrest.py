"""Point-in-time recovery with pgBackRest through deploy/pitr's scripts: a throwaway cluster
archives its WAL with `pgbackrest archive-push` into an encrypted repository in a temporary
folder (pgbackrest-setup.sh writes the stanza, runs stanza-create and check),
pgbackrest-backup.sh takes a full then an automatic (differential) backup, and
pgbackrest-restore-to-time.sh brings back the data of a chosen moment, and nothing later, into
a new data directory. Uses the machine's PostgreSQL binaries and pgbackrest (Debian packages;
.ci/run installs pgbackrest) and says so when they are absent."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
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

pytestmark = pytest.mark.slow  # two PostgreSQL clusters, two pgBackRest backups and a restore

PITR = PROJECT_ROOT / "deploy" / "pitr"
STANZA = "elysium"


def _postgres_and_pgbackrest() -> Path:
    binaries = postgres_bin()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    if shutil.which("pgbackrest") is None:
        pytest.skip("pgbackrest is not installed (Debian package `pgbackrest`; .ci/run adds it)")
    return binaries


@pytest.fixture
def folder() -> Iterator[Path]:
    with server_folder("elysium-pgbackrest-") as path:
        yield path


def _repository(folder: Path) -> tuple[Path, Path]:
    """deploy/pitr copied beside the cluster (a checkout in a private folder is out of the
    servers' user's reach) and a pgBackRest configuration whose every path is in `folder`."""
    scripts, config = folder / "pitr", folder / "pgbackrest.conf"
    shutil.copytree(PITR, scripts)
    make_dirs(*(folder / name for name in ("repo", "log", "lock", "spool")))
    config.write_text(
        "[global]\n"
        f"repo1-path={folder / 'repo'}\nrepo1-retention-full=2\n"
        f"repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass={secrets.token_hex(16)}\n"
        f"log-path={folder / 'log'}\nlock-path={folder / 'lock'}\n"
        f"spool-path={folder / 'spool'}\narchive-async=y\n"
        "compress-type=zst\nstart-fast=y\nlog-level-file=detail\n"
    )
    config.chmod(0o600)
    give_to_server_user(scripts, config)
    return scripts, config


def test_restore_to_a_chosen_time_finds_that_moment(folder: Path) -> None:
    binaries = _postgres_and_pgbackrest()
    scripts, config = _repository(folder)
    env = os.environ | {"PGBACKREST_CONFIG": str(config), "PGUSER": "postgres"}
    primary = Cluster(binaries, folder / "data", free_port(), sockets=folder)
    restored = Cluster(binaries, folder / "restored", free_port(), sockets=folder)
    primary.init(
        "wal_level = replica\narchive_mode = on\n"
        f"archive_command = 'pgbackrest --config={config} --stanza={STANZA} archive-push %p'\n"
    )
    primary.start()
    try:
        where = {"PGDATA": str(primary.data), "PGPORT": str(primary.port), "PGHOST": str(folder)}
        run_as_server_user(scripts / "pgbackrest-setup.sh", STANZA, env=env | where)
        run_as_server_user(scripts / "pgbackrest-backup.sh", STANZA, "full", env=env)
        primary.query("CREATE TABLE sales (n int PRIMARY KEY)")
        primary.query("INSERT INTO sales VALUES (1)")
        run_as_server_user(scripts / "pgbackrest-backup.sh", STANZA, env=env)  # auto
        assert _backup_types(config, env) == ["full", "diff"]  # a fresh full: only the changes

        primary.query("INSERT INTO sales VALUES (2)")  # replayed from the archived WAL
        target = str(primary.query("SELECT clock_timestamp()::text")[0][0])
        primary.query("INSERT INTO sales VALUES (3)")  # after the chosen moment
        segment = str(primary.query("SELECT pg_walfile_name(pg_switch_wal())")[0][0])
        _wait_archived(primary, segment)

        run_as_server_user(
            scripts / "pgbackrest-restore-to-time.sh", STANZA, target, restored.data, env=env
        )
        restored.start()
        wait_promoted(restored)
        assert restored.query("SELECT n FROM sales ORDER BY n") == [(1,), (2,)]
        assert restored.query("SHOW archive_mode") == [("off",)]  # never into the primary's repo
    finally:
        restored.stop()
        primary.stop()


def test_the_restore_refuses_a_directory_that_holds_anything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / ".keep").write_text("a file of the live database\n")
    done = subprocess.run(
        [PITR / "pgbackrest-restore-to-time.sh", STANZA, "2026-12-01 18:30:00+00", data],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"PGBACKREST_CONFIG": str(tmp_path / "pgbackrest.conf")},
    )
    assert done.returncode == 1
    assert f"{data} is not an empty directory" in done.stderr
    assert [path.name for path in data.iterdir()] == [".keep"]


def _backup_types(config: Path, env: dict[str, str]) -> list[str]:
    out = run_as_server_user(
        "pgbackrest", f"--config={config}", f"--stanza={STANZA}", "--output=json", "info", env=env
    )
    return [backup["type"] for backup in json.loads(out)[0]["backup"]]


def _wait_archived(cluster: Cluster, segment: str, within: float = 60) -> None:
    """Wait until PostgreSQL reports `segment` archived (archive-push said it is in the repo)."""
    deadline = time.monotonic() + within
    query = "SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver"
    while True:
        last, failed = cluster.query(query)[0]
        if str(last) >= segment:
            return
        assert time.monotonic() < deadline, f"{segment} not archived ({failed} failures)"
        time.sleep(0.2)
