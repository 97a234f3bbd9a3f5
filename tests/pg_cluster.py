"""Throwaway PostgreSQL clusters and a PgBouncer for tests, run with the machine's binaries
(Debian: /usr/lib/postgresql/<version>/bin, package `pgbouncer`); tests skip when absent.

As root, the servers run as the `postgres` system user (PostgreSQL and PgBouncer refuse root);
their folders are made by `tempfile.mkdtemp` and handed to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

RUN_AS = "postgres"


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin with initdb, pg_ctl and pg_basebackup, else None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name or 0))
    for folder in reversed(found):
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return folder
    return None


def _user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        pytest.skip(f"running as root and there is no {RUN_AS!r} user to run PostgreSQL as")
    return RUN_AS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _folder(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    user = _user()
    if user is not None:
        shutil.chown(folder, user)
    folder.chmod(0o700)
    return folder


@contextmanager
def server_folder(prefix: str) -> Iterator[Path]:
    """A new temporary folder (0700) of the user the servers run as; deleted afterwards."""
    folder = _folder(prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_dirs(*paths: Path) -> None:
    """Folders inside a server_folder, made for the user the servers run as."""
    user = _user()
    for path in paths:
        path.mkdir(mode=0o700)
        if user is not None:
            shutil.chown(path, user)


def give_to_server_user(*paths: Path) -> None:
    """Hand files and whole trees (made by this process) to the user the servers run as."""
    user = _user()
    if user is None:
        return
    for path in paths:
        shutil.chown(path, user)
        for inner in path.rglob("*") if path.is_dir() else ():
            shutil.chown(inner, user)


def run_as_server_user(*argv: str | Path, env: dict[str, str] | None = None) -> str:
    """Run a command as the servers' user; its stdout, or a failure showing what it said."""
    done = subprocess.run(
        [str(a) for a in argv],
        user=_user(),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{argv[0]} exited {done.returncode}: {done.stdout}{done.stderr}")
    return done.stdout


def _run(*argv: str | Path) -> None:
    run_as_server_user(*argv)


@dataclass
class Cluster:
    """One running PostgreSQL server on 127.0.0.1:`port`."""

    bin: Path
    data: Path
    port: int
    sockets: Path | None = None  # the Unix socket folder; the data directory when None

    def init(self, settings: str = "") -> None:
        """initdb (trust authentication, user postgres) and `settings` for postgresql.conf."""
        _run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-N")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets or self.data} -c listen_addresses=127.0.0.1"
        log = self.data.parent / f"postgres-{self.port}.log"  # beside the data, never copied
        try:
            _run(self.bin / "pg_ctl", "-D", self.data, "-w", "-t", "60", "-o", options,
                 "-l", log, "start")  # fmt: skip
        except AssertionError as failed:
            raise AssertionError(f"{failed}\n{log.read_text()[-2000:]}") from None

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            _run(self.bin / "pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop")

    def query(self, sql: str, database: str = "postgres") -> list[tuple[object, ...]]:
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(sql.encode())
            return list(cursor.fetchall()) if cursor.description else []


def _wait_for(cluster: Cluster, database: str = "postgres") -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            cluster.query("SELECT 1", database)
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wait_promoted(cluster: Cluster, within: float = 60) -> None:
    """Wait until a recovering cluster has replayed to its target and become a primary."""
    deadline = time.monotonic() + within
    while cluster.query("SELECT pg_is_in_recovery()") != [(False,)]:
        assert time.monotonic() < deadline, "the restored cluster did not finish recovery"
        time.sleep(0.2)


@contextmanager
def primary_and_standby() -> Iterator[tuple[Cluster, Cluster]]:
    """A fresh primary (WAL for replication) and a hot standby streaming from it, made with
    `pg_basebackup -R`; both stopped and deleted afterwards."""
    binaries = postgres_bin()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    folders = [_folder("elysium-primary-"), _folder("elysium-standby-")]
    primary = Cluster(binaries, folders[0] / "data", free_port())
    standby = Cluster(binaries, folders[1] / "data", free_port())
    try:
        primary.init(
            "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n"
            "full_page_writes = off\nmax_connections = 60\n"
        )
        primary.start()
        _run(
            binaries / "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            standby.data,
            "-R",
            "-X",
            "stream",
        )
        standby.start()
        _wait_for(standby)
        yield primary, standby
    finally:
        standby.stop()
        primary.stop()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def pgbouncer(upstream_port: int, pool_size: int = 4, connect_query: str = "") -> Iterator[int]:
    """PgBouncer in transaction pooling mode in front of 127.0.0.1:`upstream_port` (trust
    auth, every database); yields its port. Skips when `pgbouncer` is not installed."""
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if binary is None:
        pytest.skip("pgbouncer is not installed (Debian package `pgbouncer`; .ci/run adds it)")
    folder = _folder("elysium-pgbouncer-")
    port = free_port()
    query = f" connect_query='{connect_query}'" if connect_query else ""
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host=127.0.0.1 port={upstream_port}{query}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 500\n"
        "admin_users = postgres\nignore_startup_parameters = extra_float_digits\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
    )
    user = _user()
    if user is not None:
        for path in folder.iterdir():
            shutil.chown(path, user)
    process = subprocess.Popen(
        [binary, str(folder / "pgbouncer.ini")],
        user=user,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = folder / "pgbouncer.log"
                    raise RuntimeError(
                        f"pgbouncer did not start: {log.read_text() if log.exists() else ''}"
                    ) from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
